// SPDX-License-Identifier: GPL-3.0-or-later
// Distributed sensitivity sweeps (issue 17, item 2): `qnn sweep --dist` / `qnn launch
// --nproc N sweep` spread the points over the ranks (point i on rank i mod N) and
// gather them on rank 0 through c10d (Gloo over the loopback interface).
//  - core: two ranks of analysis::run_sweep in two threads, gathering through an
//    in-memory exchange, evaluate exactly the points i mod 2 == rank and both return
//    the record of one process (SweepPoint ==, bit for bit); a cancel on one rank ends
//    both at the same point, as in one process;
//  - CLI: `qnn launch --nproc 2 sweep` writes the same sweep.csv (byte for byte) and
//    sweep.json points (exact doubles) as `qnn sweep` on one process, 1 thread per
//    rank in both; rank 1 of a torchrun-style run prints nothing; a mismatched project
//    is refused on every rank; a rank killed mid-sweep ends the launcher naming it.
#include <torch/torch.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/analysis/analysis.h"
#include "core/data/dataset.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/quant/quant_spec.h"
#include "core/train/checkpoint.h"
#include "core/train/trainer.h"

#include <QProcess>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/dist_run.h"

#include "tests/cli_run.h"

namespace fs = std::filesystem;
namespace an = qnn::analysis;

namespace {

qnn::LayerSpec layer(const std::string& id, qnn::LayerType type, const std::string& input) {
  qnn::LayerSpec l;
  l.id = id;
  l.type = type;
  if (!input.empty()) l.inputs = {input};
  return l;
}

/// Input [1, 28, 28] -> QuantIdentity (8 bit) -> Flatten -> QuantLinear 784->64 ->
/// QuantReLU (4 bit) -> QuantLinear 64->32 -> QuantReLU (4 bit) -> QuantLinear 32->10:
/// 3 weight slots (a weights sweep of 3 bit widths has 9 points: 5 on rank 0, 4 on
/// rank 1) and 3 activation slots.
qnn::Project mlp_project(double learning_rate) {
  qnn::Project p;
  p.name = "dist sweep MLP";
  p.input_shape = {1, 28, 28};
  p.dataset.pad = 0;
  p.layers.push_back(layer("input", qnn::LayerType::Input, ""));
  auto inp = layer("quant_inp", qnn::LayerType::QuantIdentity, "input");
  inp.act_quant = qnn::presets::Int8ActPerTensorFloat();
  inp.return_quant_tensor = true;
  p.layers.push_back(inp);
  p.layers.push_back(layer("flatten", qnn::LayerType::Flatten, "quant_inp"));
  auto fc1 = layer("fc1", qnn::LayerType::QuantLinear, "flatten");
  fc1.params = {{"in_features", 784.0}, {"out_features", 64.0}, {"bias", 1}};
  fc1.weight_quant = qnn::presets::Int8WeightPerTensorFloat();
  p.layers.push_back(fc1);
  auto relu1 = layer("relu1", qnn::LayerType::QuantReLU, "fc1");
  relu1.act_quant = qnn::presets::Uint8ActPerTensorFloat();
  relu1.act_quant->bit_width = 4;
  p.layers.push_back(relu1);
  auto fc2 = layer("fc2", qnn::LayerType::QuantLinear, "relu1");
  fc2.params = {{"in_features", 64.0}, {"out_features", 32.0}, {"bias", 1}};
  fc2.weight_quant = qnn::presets::Int8WeightPerTensorFloat();
  p.layers.push_back(fc2);
  auto relu2 = layer("relu2", qnn::LayerType::QuantReLU, "fc2");
  relu2.act_quant = qnn::presets::Uint8ActPerTensorFloat();
  relu2.act_quant->bit_width = 4;
  p.layers.push_back(relu2);
  auto fc3 = layer("fc3", qnn::LayerType::QuantLinear, "relu2");
  fc3.params = {{"in_features", 32.0}, {"out_features", 10.0}, {"bias", 1}};
  fc3.weight_quant = qnn::presets::Int8WeightPerTensorFloat();
  p.layers.push_back(fc3);
  p.layers.push_back(layer("output", qnn::LayerType::Output, "fc3"));
  p.training.threads = 1;
  p.training.batch_size = 64;
  p.training.learning_rate = learning_rate;
  p.training.seed = 5;
  return p;
}

using qnn_test::free_port;

std::string read_file(const QString& path) {
  std::ifstream in(path.toStdString(), std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// An all-gather of strings between the threads of a test (one call per rank per round).
class Exchange {
 public:
  explicit Exchange(int world) : m_world(world), m_slots(size_t(world)) {}
  std::vector<std::string> all_gather(int rank, const std::string& bytes) {
    std::unique_lock<std::mutex> lock(m_mutex);
    const int64_t round = m_round;
    m_slots[size_t(rank)] = bytes;
    if (++m_arrived == m_world) {
      m_result = m_slots;
      m_arrived = 0;
      ++m_round;
      m_cv.notify_all();
    } else {
      m_cv.wait(lock, [&] { return m_round != round; });
    }
    return m_result;
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_cv;
  int m_world;
  int m_arrived = 0;
  int64_t m_round = 0;
  std::vector<std::string> m_slots, m_result;
};

/// The sweep.json "sweep" member without its wall time.
nlohmann::json sweep_member(const QString& path) {
  nlohmann::json j = nlohmann::json::parse(read_file(path));
  nlohmann::json s = j.at("sweep");
  s.erase("seconds");
  return s;
}

/// stdout without the "wrote ... (12.3 s)" line (the wall time differs).
QString without_time(const QString& out) {
  QStringList kept;
  for (const QString& line : out.split('\n'))
    if (!line.startsWith("wrote ")) kept << line;
  return kept.join('\n');
}

}  // namespace

class TestDistSweep : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void twoRanksInProcessSplitThePointsAndMatchOneProcess();
  void cancelOnOneRankEndsBothAtThatPoint();
  void launchedSweepMatchesOneProcess();
  void torchrunStyleRanksRankOneIsQuiet();
  void differentProjectIsRefused();
  void killedRankEndsTheSweepNamingIt();
  void launchReadsTheCommandWord();

 private:
  QTemporaryDir m_dir;
  QString m_project, m_weights;
  qnn::Project m_p;
};

void TestDistSweep::initTestCase() {
  QVERIFY(m_dir.isValid());
  m_p = mlp_project(0.01);
  if (!fs::exists(m_p.dataset.path)) QFAIL("the Fashion-MNIST files are missing (scripts/install-deps)");
  m_project = m_dir.filePath("mlp.qnn.json");
  qnn::save_project(m_p, m_project.toStdString());
  // A briefly trained model (so the bit widths matter): 40 steps of 64 on 1 thread.
  m_weights = m_dir.filePath("mlp.pt");
  const qnn_test::CliRun t = qnn_test::runQnn(
      {"train", m_project, "--epochs", "1", "--train-limit", "2560", "--test-limit", "100", "--threads", "1",
       "--checkpoint", m_weights, "--no-autosave"},
      120000);
  QVERIFY2(t.code == 0, qPrintable(t.text()));
}

void TestDistSweep::twoRanksInProcessSplitThePointsAndMatchOneProcess() {
  torch::set_num_threads(1);
  const qnn::Dataset train = qnn::load_dataset(m_p, true, 512);
  const qnn::Dataset test = qnn::load_dataset(m_p, false, 300);
  an::SweepOptions o;
  o.min_bits = 2;
  o.max_bits = 4;
  o.what = an::QuantKind::Both;  // 6 slots x 3 bits = 18 points
  o.holdout = 300;
  o.calibration_batches = 2;
  auto model = [&] {
    qnn::QuantModel m = qnn::build_model(m_p);
    qnn::load_checkpoint(m, m_weights.toStdString());
    return m;
  };
  qnn::QuantModel single_model = model();
  const qnn::SweepRecord single = an::run_sweep(m_p, single_model, train, test, o);
  QVERIFY(single.complete);
  QCOMPARE(int(single.points.size()), 18);
  // The comparison means something: the points differ (2 bits loses accuracy somewhere).
  std::set<double> accuracies;
  for (const qnn::SweepPoint& p : single.points) accuracies.insert(p.accuracy);
  QVERIFY2(accuracies.size() > 3, "the sweep points are (nearly) all equal");

  Exchange exchange(2);
  std::vector<std::vector<int64_t>> evaluated(2);  // the point indices each rank sent as "ok"
  std::vector<std::vector<std::string>> progress(2);
  qnn::SweepRecord records[2];
  std::string errors[2];
  std::thread ranks[2];
  for (int r = 0; r < 2; ++r)
    ranks[r] = std::thread([&, r] {
      try {
        qnn::QuantModel m = model();
        an::SweepShard shard;
        shard.rank = r;
        shard.world_size = 2;
        shard.all_gather = [&, r](const std::string& bytes) {
          const nlohmann::json j = nlohmann::json::parse(bytes);
          if (j.at("status") == "ok") evaluated[size_t(r)].push_back(j.at("index").get<int64_t>());
          return exchange.all_gather(r, bytes);
        };
        records[r] = an::run_sweep(m_p, m, train, test, o,
                                   [&, r](const an::Progress& p) { progress[size_t(r)].push_back(p.what); }, nullptr,
                                   {}, &shard);
      } catch (const std::exception& e) {
        errors[r] = e.what();
      }
    });
  for (auto& t : ranks) t.join();
  for (int r = 0; r < 2; ++r) {
    QVERIFY2(errors[r].empty(), errors[r].c_str());
    // Rank r evaluated exactly the points i with i mod 2 == r.
    QCOMPARE(int(evaluated[size_t(r)].size()), 9);
    for (size_t k = 0; k < evaluated[size_t(r)].size(); ++k) QCOMPARE(evaluated[size_t(r)][k], int64_t(2 * k + r));
    // ...and returns one process's record, point for point, bit for bit.
    QVERIFY(records[r].complete);
    QCOMPARE(records[r].base_accuracy, single.base_accuracy);
    QCOMPARE(records[r].base_loss, single.base_loss);
    QCOMPARE(records[r].points.size(), single.points.size());
    for (size_t i = 0; i < single.points.size(); ++i) {
      const qnn::SweepPoint &a = records[r].points[i], &b = single.points[i];
      QVERIFY2(a == b, qPrintable(QString("rank %1 point %2 (%3 %4 at %5): accuracy %6 vs %7, loss %8 vs %9")
                                      .arg(r)
                                      .arg(i)
                                      .arg(QString::fromStdString(b.layer), QString::fromStdString(b.kind))
                                      .arg(b.bits)
                                      .arg(a.accuracy, 0, 'g', 17)
                                      .arg(b.accuracy, 0, 'g', 17)
                                      .arg(a.loss, 0, 'g', 17)
                                      .arg(b.loss, 0, 'g', 17)));
      // The loss is a mean over 300 images: bitwise equal doubles, not merely close.
      QCOMPARE(std::memcmp(&a.loss, &b.loss, sizeof(double)), 0);
    }
    // Progress: the base, then every point in order (when its round is gathered), then done.
    QCOMPARE(int(progress[size_t(r)].size()), 1 + 18 + 1);
    QCOMPARE(QString::fromStdString(progress[size_t(r)][1]), QString("quant_inp activations at 2 bits"));
    QCOMPARE(QString::fromStdString(progress[size_t(r)][2]), QString("quant_inp activations at 3 bits"));
  }
}

void TestDistSweep::cancelOnOneRankEndsBothAtThatPoint() {
  torch::set_num_threads(1);
  const qnn::Dataset train = qnn::load_dataset(m_p, true, 512);
  const qnn::Dataset test = qnn::load_dataset(m_p, false, 200);
  an::SweepOptions o;
  o.min_bits = 2;
  o.max_bits = 4;
  o.holdout = 200;  // weights: 3 slots x 3 bits = 9 points
  o.calibration_batches = 2;
  // Rank 1 is cancelled once the first round (points 0, 1) is gathered: in round 2 rank 0
  // evaluates point 2, rank 1 reports the cancel for point 3. One process cancelled
  // before point 3 keeps points 0..2; so must both ranks.
  Exchange exchange(2);
  std::atomic<bool> cancel[2] = {false, false};
  qnn::SweepRecord records[2];
  std::string errors[2];
  int rounds[2] = {0, 0};
  std::thread ranks[2];
  for (int r = 0; r < 2; ++r)
    ranks[r] = std::thread([&, r] {
      try {
        qnn::QuantModel m = qnn::build_model(m_p);
        qnn::load_checkpoint(m, m_weights.toStdString());
        an::SweepShard shard;
        shard.rank = r;
        shard.world_size = 2;
        shard.all_gather = [&, r](const std::string& bytes) {
          auto all = exchange.all_gather(r, bytes);
          if (++rounds[r] == 1 && r == 1) cancel[1] = true;
          return all;
        };
        records[r] = an::run_sweep(m_p, m, train, test, o, {}, &cancel[r], {}, &shard);
      } catch (const std::exception& e) {
        errors[r] = e.what();
      }
    });
  for (auto& t : ranks) t.join();
  qnn::QuantModel single_model = qnn::build_model(m_p);
  qnn::load_checkpoint(single_model, m_weights.toStdString());
  const qnn::SweepRecord full = an::run_sweep(m_p, single_model, train, test, o);
  QCOMPARE(int(full.points.size()), 9);
  for (int r = 0; r < 2; ++r) {
    QVERIFY2(errors[r].empty(), errors[r].c_str());
    QVERIFY(!records[r].complete);
    QCOMPARE(rounds[r], 2);  // nobody went on to round 3
    QCOMPARE(int(records[r].points.size()), 3);
    for (size_t i = 0; i < 3; ++i) QVERIFY(records[r].points[i] == full.points[i]);
  }
}

void TestDistSweep::launchedSweepMatchesOneProcess() {
  const QStringList options{"--weights", m_weights, "--bits", "2-4", "--what", "both", "--holdout", "500",
                            "--calibration-batches", "2", "--threads", "1"};
  const QString one = m_dir.filePath("one"), two = m_dir.filePath("two");
  const auto t0 = std::chrono::steady_clock::now();
  const qnn_test::CliRun single = qnn_test::runQnn(QStringList{"sweep", m_project, "--out", one} + options, 120000);
  const auto t1 = std::chrono::steady_clock::now();
  QVERIFY2(single.code == 0, qPrintable(single.text()));
  const qnn_test::CliRun dist =
      qnn_test::runQnn(QStringList{"launch", "--nproc", "2", "sweep", m_project, "--out", two} + options, 120000);
  const auto t2 = std::chrono::steady_clock::now();
  QVERIFY2(dist.code == 0, qPrintable(dist.text()));
  qInfo("18 points on 500 images: 1 process %.2f s, qnn launch --nproc 2 sweep %.2f s (wall, both with start-up)",
        std::chrono::duration<double>(t1 - t0).count(), std::chrono::duration<double>(t2 - t1).count());
  QVERIFY2(dist.err.contains("qnn launch: 2 ranks on 127.0.0.1"), qPrintable(dist.text()));
  QVERIFY2(dist.err.contains("dist: 2 ranks (Gloo over TCP"), qPrintable(dist.text()));
  QVERIFY2(dist.err.contains("sweep point 18/18"), qPrintable(dist.text()));
  // The same table and lines on stdout, the same CSV byte for byte, the same record
  // (every point's accuracy, loss, size and BitOps as exact doubles) but for the time.
  QCOMPARE(without_time(dist.out), without_time(single.out));
  const std::string csv = read_file(one + "/sweep.csv");
  QVERIFY(csv.size() > 100);
  QCOMPARE(read_file(two + "/sweep.csv"), csv);
  const nlohmann::json a = sweep_member(one + "/sweep.json"), b = sweep_member(two + "/sweep.json");
  QCOMPARE(a.at("points").size(), size_t(18));
  for (size_t i = 0; i < 18; ++i)
    for (const char* key : {"layer", "kind", "bits", "accuracy", "loss", "size_bytes", "bitops"})
      QVERIFY2(a["points"][i].at(key) == b["points"][i].at(key),
               qPrintable(QString("point %1 %2: %3 vs %4")
                              .arg(i)
                              .arg(key)
                              .arg(QString::fromStdString(a["points"][i][key].dump()),
                                   QString::fromStdString(b["points"][i][key].dump()))));
  QVERIFY2(a == b, qPrintable(QString::fromStdString(a.dump() + "\n" + b.dump())));
  for (const char* png : {"heatmap.png", "curves.png", "front.png"}) QVERIFY(fs::exists((two + "/" + png).toStdString()));
}

void TestDistSweep::torchrunStyleRanksRankOneIsQuiet() {
  // Two ranks started by hand with torchrun's variables (as on two machines): rank 0
  // writes what one process writes; rank 1 prints nothing and writes nothing. Weights
  // only: 9 points, 5 on rank 0 and 4 on rank 1.
  const int port = free_port();
  const QString one = m_dir.filePath("w_one"), two = m_dir.filePath("w_two"), other = m_dir.filePath("w_rank1");
  QProcess ranks[2];
  for (int r = 0; r < 2; ++r) {
    QProcessEnvironment env = qnn_test::torchrun_env(port, r);
    ranks[r].setProcessEnvironment(env);
    ranks[r].start(QStringLiteral(QNN_CLI_PATH),
                   QStringList{"sweep", m_project, "--dist", "--dist-timeout", "30", "--weights", m_weights, "--bits",
                               "2-4", "--holdout", "400", "--threads", "1", "--out", r == 0 ? two : other});
    QVERIFY(ranks[r].waitForStarted());
  }
  QString out[2], err[2];
  for (int r = 0; r < 2; ++r) {
    QVERIFY2(ranks[r].waitForFinished(90000), "a rank did not end");
    out[r] = QString::fromUtf8(ranks[r].readAllStandardOutput());
    err[r] = QString::fromUtf8(ranks[r].readAllStandardError());
    QVERIFY2(ranks[r].exitCode() == 0, qPrintable(QString("rank %1: %2%3").arg(r).arg(out[r], err[r])));
  }
  QVERIFY2(out[1].isEmpty() && err[1].isEmpty(), qPrintable(out[1] + err[1]));
  QVERIFY(!fs::exists(other.toStdString()));  // rank 1 writes nothing
  const qnn_test::CliRun single = qnn_test::runQnn(
      {"sweep", m_project, "--weights", m_weights, "--bits", "2-4", "--holdout", "400", "--threads", "1", "--out", one},
      120000);
  QVERIFY2(single.code == 0, qPrintable(single.text()));
  QCOMPARE(without_time(out[0]), without_time(single.out));
  QCOMPARE(read_file(two + "/sweep.csv"), read_file(one + "/sweep.csv"));
  const nlohmann::json a = sweep_member(one + "/sweep.json"), b = sweep_member(two + "/sweep.json");
  QCOMPARE(a.at("points").size(), size_t(9));
  QVERIFY2(a == b, qPrintable(QString::fromStdString(a.dump() + "\n" + b.dump())));
}

void TestDistSweep::differentProjectIsRefused() {
  const QString other = m_dir.filePath("other.qnn.json");
  qnn::save_project(mlp_project(0.02), other.toStdString());  // another learning rate: other bytes
  const int port = free_port();
  QProcess ranks[2];
  for (int r = 0; r < 2; ++r) {
    QProcessEnvironment env = qnn_test::torchrun_env(port, r);
    ranks[r].setProcessEnvironment(env);
    ranks[r].start(QStringLiteral(QNN_CLI_PATH),
                   QStringList{"sweep", r == 0 ? m_project : other, "--dist", "--dist-timeout", "20", "--weights",
                               m_weights, "--bits", "2-3", "--holdout", "100", "--threads", "1", "--out",
                               m_dir.filePath("refused")});
    QVERIFY(ranks[r].waitForStarted());
  }
  for (int r = 0; r < 2; ++r) {
    QVERIFY2(ranks[r].waitForFinished(60000), "a rank did not end");
    const QString err = QString::fromUtf8(ranks[r].readAllStandardError());
    const QString out = QString::fromUtf8(ranks[r].readAllStandardOutput());
    QVERIFY2(ranks[r].exitCode() == 1, qPrintable(QString("rank %1: %2").arg(r).arg(err)));
    QVERIFY2(err.contains("qnn sweep: error: rank 1 has a different project than rank 0"),
             qPrintable(QString("rank %1: %2").arg(r).arg(err)));
    QVERIFY2(!err.contains("sweep base model") && !out.contains("sweep of"), qPrintable(out + err));  // nothing swept
  }
  QVERIFY(!fs::exists(m_dir.filePath("refused/sweep.json").toStdString()));
}

void TestDistSweep::killedRankEndsTheSweepNamingIt() {
  // A long sweep (6 slots x 15 bit widths = 90 points on 5000 images); rank 1 is killed
  // once rank 0 has printed its first gathered point.
  QProcess launcher;
  launcher.start(QStringLiteral(QNN_CLI_PATH),
                 QStringList{"launch", "--nproc", "2", "sweep", m_project, "--weights", m_weights, "--bits", "2-16",
                             "--what", "both", "--holdout", "5000", "--threads", "1", "--dist-timeout", "20",
                             "--out", m_dir.filePath("killed")});
  QVERIFY(launcher.waitForStarted());
  QString err;
  qint64 rank1 = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while ((rank1 == 0 || !err.contains("sweep point 1/90")) && std::chrono::steady_clock::now() < deadline &&
         launcher.state() == QProcess::Running) {
    launcher.waitForReadyRead(100);
    err += QString::fromUtf8(launcher.readAllStandardError());
    const auto m = QRegularExpression("rank 1 pid (\\d+)").match(err);
    if (m.hasMatch()) rank1 = m.captured(1).toLongLong();
  }
  QVERIFY2(rank1 > 0 && err.contains("sweep point 1/90"), qPrintable(err));
  QVERIFY2(launcher.state() == QProcess::Running, "the sweep ended before rank 1 was killed");
  const auto killed_at = std::chrono::steady_clock::now();
  QCOMPARE(::kill(pid_t(rank1), SIGKILL), 0);
  QVERIFY2(launcher.waitForFinished(60000), "the launcher did not end after a rank was killed");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  err += QString::fromUtf8(launcher.readAllStandardError());
  qInfo("the launcher ended %.2f s after rank 1 was killed", seconds);
  QCOMPARE(launcher.exitCode(), 1);
  QVERIFY2(err.contains("qnn launch: the run failed: rank 1 was killed by signal 9"), qPrintable(err));
  QVERIFY2(!err.contains("sweep point 90/90"), qPrintable(err));
  QVERIFY2(seconds < 10.0, qPrintable(QString::number(seconds)));  // well within --dist-timeout 20
  QVERIFY(!fs::exists(m_dir.filePath("killed/sweep.json").toStdString()));
}

void TestDistSweep::launchReadsTheCommandWord() {
  // The command word after launch's own options (and their values) selects sweep's options.
  const qnn_test::CliRun train_option = qnn_test::runQnn(
      {"launch", "--nproc", "2", "--threads", "1", "sweep", m_project, "--weights", m_weights, "--epochs", "3"}, 30000);
  QCOMPARE(train_option.code, 2);
  QVERIFY2(train_option.err.contains("unknown option '--epochs' for 'qnn launch sweep'"), qPrintable(train_option.text()));
  QVERIFY2(!train_option.err.contains("rank 0 pid"), qPrintable(train_option.text()));  // refused before any rank
  const qnn_test::CliRun help = qnn_test::runQnn({"launch", "--nproc", "2", "sweep", "--help"}, 30000);
  QCOMPARE(help.code, 0);
  QVERIFY2(help.out.contains("qnn launch --nproc N sweep PROJECT [SWEEP OPTIONS]"), qPrintable(help.text()));
  const qnn_test::CliRun sweep_help = qnn_test::runQnn({"sweep", "--help"}, 30000);
  QVERIFY2(sweep_help.out.contains("--dist-timeout S"), qPrintable(sweep_help.text()));
  const qnn_test::CliRun no_dist = qnn_test::runQnn(
      {"sweep", m_project, "--weights", m_weights, "--bits", "2", "--out", m_dir.filePath("nodist"), "--dist-timeout",
       "3"},
      30000);
  QCOMPARE(no_dist.code, 2);
  QVERIFY2(no_dist.err.contains("--dist-timeout needs --dist"), qPrintable(no_dist.text()));
  // Without a command word, launch still trains (train's options are accepted).
  const qnn_test::CliRun train = qnn_test::runQnn(
      {"launch", "--nproc", "2", m_project, "--epochs", "1", "--max-batches", "2", "--train-limit", "512",
       "--test-limit", "50", "--threads", "1", "--no-autosave"},
      60000);
  QVERIFY2(train.code == 0, qPrintable(train.text()));
  QVERIFY2(train.out.contains("epoch 1/1"), qPrintable(train.text()));
}

QTEST_GUILESS_MAIN(TestDistSweep)
#include "test_dist_sweep.moc"

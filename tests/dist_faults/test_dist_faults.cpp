// SPDX-License-Identifier: GPL-3.0-or-later
// Data-parallel training (issue 17) on the loopback interface, through the `qnn` command
// line: the start-up and fault paths a user meets. GLOO_SOCKET_IFNAME picks the
// interface (lo works, an unknown one is named); a rank that does not join is named
// within --dist-timeout; a rank that loses its peer exits with status 3 in our words;
// --dist-timeout's range; `qnn launch` blames the rank by exit status (a rank's own
// error once, not the "Try" hint) and passes one SIGINT on to every rank.
#include <torch/torch.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include "core/graph/project.h"
#include "core/quant/quant_spec.h"
#include "core/train/checkpoint.h"
#include "core/train/resume.h"

#include <QProcess>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/dist_run.h"

#include "tests/cli_run.h"

namespace fs = std::filesystem;

namespace {

qnn::LayerSpec layer(const std::string& id, qnn::LayerType type, const std::string& input) {
  qnn::LayerSpec l;
  l.id = id;
  l.type = type;
  if (!input.empty()) l.inputs = {input};
  return l;
}

/// Input [1, 28, 28] -> QuantIdentity (8 bit) -> Flatten -> QuantLinear 784->32 ->
/// QuantReLU (4 bit) -> QuantLinear 32->10 (SGD, batch 32, seed 3, 1 thread).
qnn::Project mlp_project() {
  qnn::Project p;
  p.name = "dist faults MLP";
  p.input_shape = {1, 28, 28};
  p.dataset.pad = 0;
  p.layers.push_back(layer("input", qnn::LayerType::Input, ""));
  auto inp = layer("quant_inp", qnn::LayerType::QuantIdentity, "input");
  inp.act_quant = qnn::presets::Int8ActPerTensorFloat();
  inp.return_quant_tensor = true;
  p.layers.push_back(inp);
  p.layers.push_back(layer("flatten", qnn::LayerType::Flatten, "quant_inp"));
  auto fc1 = layer("fc1", qnn::LayerType::QuantLinear, "flatten");
  fc1.params = {{"in_features", 784.0}, {"out_features", 32.0}, {"bias", 1}};
  fc1.weight_quant = qnn::presets::Int8WeightPerTensorFloat();
  p.layers.push_back(fc1);
  auto relu = layer("relu1", qnn::LayerType::QuantReLU, "fc1");
  relu.act_quant = qnn::presets::Uint8ActPerTensorFloat();
  relu.act_quant->bit_width = 4;
  p.layers.push_back(relu);
  auto fc2 = layer("fc2", qnn::LayerType::QuantLinear, "relu1");
  fc2.params = {{"in_features", 32.0}, {"out_features", 10}, {"bias", 1}};
  fc2.weight_quant = qnn::presets::Int8WeightPerTensorFloat();
  p.layers.push_back(fc2);
  p.layers.push_back(layer("output", qnn::LayerType::Output, "fc2"));
  p.training.threads = 1;
  p.training.batch_size = 32;
  p.training.optimizer = "sgd";
  p.training.momentum = 0.9;
  p.training.learning_rate = 0.05;
  p.training.seed = 3;
  return p;
}

using qnn_test::free_port;

struct RankRun {
  int code = -1;
  QString out, err;
};

/// Two ranks of `qnn train PROJECT --dist` started by hand (torchrun's variables and
/// `extra` in the environment of both), each with its own arguments.
std::vector<RankRun> run_two_ranks(const QStringList& args0, const QStringList& args1,
                                   const QStringList& extra_env = {}) {
  const int port = free_port();
  QProcess ranks[2];
  for (int r = 0; r < 2; ++r) {
    QProcessEnvironment env = qnn_test::torchrun_env(port, r);
    for (const QString& kv : extra_env) env.insert(kv.section('=', 0, 0), kv.section('=', 1));
    ranks[r].setProcessEnvironment(env);
    ranks[r].start(QStringLiteral(QNN_CLI_PATH), r == 0 ? args0 : args1);
    if (!ranks[r].waitForStarted()) return {};
  }
  std::vector<RankRun> out(2);
  for (int r = 0; r < 2; ++r) {
    if (!ranks[r].waitForFinished(90000)) {
      ranks[r].kill();
      ranks[r].waitForFinished();
    }
    out[size_t(r)].code = ranks[r].exitStatus() == QProcess::NormalExit ? ranks[r].exitCode() : -1;
    out[size_t(r)].out = QString::fromUtf8(ranks[r].readAllStandardOutput());
    out[size_t(r)].err = QString::fromUtf8(ranks[r].readAllStandardError());
  }
  return out;
}

/// Rank `rank` of WORLD_SIZE 2 alone, at `addr`:`port` (MASTER_ADDR:MASTER_PORT).
QProcess* start_rank(QObject* parent, int rank, int port, const QStringList& args,
                     const QString& addr = QStringLiteral("127.0.0.1")) {
  auto* p = new QProcess(parent);
  QProcessEnvironment env = qnn_test::torchrun_env(port, rank, 2, addr);
  p->setProcessEnvironment(env);
  p->start(QStringLiteral(QNN_CLI_PATH), args);
  return p;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

/// Nothing of the libraries' own text: no glog line ("[W socket.cpp:...]"), no source
/// path of c10d or Gloo.
bool has_library_text(const QString& err) {
  return err.contains(QRegularExpression("\\[[WEI] [a-zA-Z_]+\\.(cpp|cc):")) || err.contains(".cc:") ||
         err.contains(".cpp:") || err.contains("gloo") || err.contains("socket.cpp");
}

bool alive(qint64 pid) { return ::kill(pid_t(pid), 0) == 0; }

}  // namespace

class TestDistFaults : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void socketInterfaceLoopbackWorks();
  void unknownSocketInterfaceIsNamed();
  void missingRankIsNamedWithinTheTimeout();
  void missingRankZeroIsNamedWithinTheTimeout();
  void distTimeoutRange();
  void wrongMasterAddrIsNamedAtOnce_data();
  void wrongMasterAddrIsNamedAtOnce();
  void portInUseIsNamedAndLaunchTakesAnother();
  void lostPeerExitsWithStatus3();
  void launcherBlamesTheRankWithItsOwnError();
  void launcherShowsAUsageErrorOnce();
  void launcherPassesOneSigintToEveryRank_data();
  void launcherPassesOneSigintToEveryRank();
  void earlySigintStopsRanksThatInheritedItIgnored();

 private:
  QStringList train(const QStringList& more) const {
    return QStringList{"train", m_project, "--dist", "--dist-timeout", "30", "--threads", "1", "--no-autosave",
                       "--test-limit", "64"} +
           more;
  }
  QTemporaryDir m_dir;
  QString m_project;
  qnn::Project m_p;
};

void TestDistFaults::initTestCase() {
  QVERIFY(m_dir.isValid());
  m_p = mlp_project();
  if (!fs::exists(m_p.dataset.path)) QFAIL("the Fashion-MNIST files are missing (scripts/install-deps)");
  m_project = m_dir.filePath("mlp.qnn.json");
  qnn::save_project(m_p, m_project.toStdString());
}

void TestDistFaults::socketInterfaceLoopbackWorks() {
  // GLOO_SOCKET_IFNAME=lo: Gloo binds the loopback interface's address; the run trains
  // 4 global batches of 2 x 32 and both ranks end with 0.
  const QString ckpt = m_dir.filePath("lo.pt");
  const auto r = run_two_ranks(train({"--epochs", "1", "--train-limit", "256", "--checkpoint", ckpt}),
                               train({"--epochs", "1", "--train-limit", "256"}), {"GLOO_SOCKET_IFNAME=lo"});
  QCOMPARE(int(r.size()), 2);
  for (int k = 0; k < 2; ++k) QVERIFY2(r[size_t(k)].code == 0, qPrintable(r[size_t(k)].err + r[size_t(k)].out));
  QVERIFY2(r[0].out.contains("epoch 1/1"), qPrintable(r[0].out));
  QVERIFY2(r[0].out.contains("dist: 2 ranks (Gloo over TCP, 127.0.0.1:"), qPrintable(r[0].out));
  QVERIFY2(fs::exists(ckpt.toStdString()), "rank 0 wrote no checkpoint");
  // 256 samples / (2 x 32): 4 optimizer steps.
  QVERIFY2(r[0].out.contains("saved checkpoint " + ckpt + " (4 optimizer steps)"), qPrintable(r[0].out));
  for (int k = 0; k < 2; ++k) QVERIFY2(!has_library_text(r[size_t(k)].err), qPrintable(r[size_t(k)].err));
}

void TestDistFaults::unknownSocketInterfaceIsNamed() {
  const auto r = run_two_ranks(train({"--epochs", "1", "--train-limit", "256"}),
                               train({"--epochs", "1", "--train-limit", "256"}), {"GLOO_SOCKET_IFNAME=nosuchif9"});
  QCOMPARE(int(r.size()), 2);
  for (int k = 0; k < 2; ++k) {
    QVERIFY2(r[size_t(k)].code == 1, qPrintable(r[size_t(k)].err));
    QVERIFY2(r[size_t(k)].err.contains("GLOO_SOCKET_IFNAME names the network interface 'nosuchif9', which this "
                                       "machine does not have"),
             qPrintable(r[size_t(k)].err));
    QVERIFY2(!has_library_text(r[size_t(k)].err), qPrintable(r[size_t(k)].err));
  }
  // A list with an unknown second name: that name.
  const auto two = run_two_ranks(train({"--epochs", "1", "--train-limit", "256"}),
                                 train({"--epochs", "1", "--train-limit", "256"}), {"GLOO_SOCKET_IFNAME=lo,nosuchif8"});
  QCOMPARE(int(two.size()), 2);
  QCOMPARE(two[0].code, 1);
  QVERIFY2(two[0].err.contains("the network interface 'nosuchif8'"), qPrintable(two[0].err));
}

void TestDistFaults::missingRankIsNamedWithinTheTimeout() {
  // Rank 0 of 2 alone, --dist-timeout 2: it names rank 1, 2 s after it started (plus
  // the process start-up), and exits with 3 (another rank's fault).
  const int port = free_port();
  const auto t0 = std::chrono::steady_clock::now();
  QProcess* p = start_rank(this, 0, port,
                           {"train", m_project, "--dist", "--dist-timeout", "2", "--epochs", "1", "--no-autosave"});
  QVERIFY(p->waitForFinished(30000));
  const double s = seconds_since(t0);
  const QString err = QString::fromUtf8(p->readAllStandardError());
  qInfo("rank 0 alone ended %.2f s after its start (--dist-timeout 2)", s);
  QCOMPARE(p->exitCode(), 3);
  QVERIFY2(err.contains(QString("qnn train: error: rank 1 of 2 did not join within --dist-timeout (2 s) at "
                                "127.0.0.1:%1")
                            .arg(port)),
           qPrintable(err));
  QVERIFY2(!has_library_text(err), qPrintable(err));
  QVERIFY2(s >= 2.0 && s < 2.0 + 5.0, qPrintable(QString::number(s)));
}

void TestDistFaults::missingRankZeroIsNamedWithinTheTimeout() {
  // Rank 1 of 2 alone: it cannot reach rank 0 and says where it looked.
  const int port = free_port();
  const auto t0 = std::chrono::steady_clock::now();
  QProcess* p = start_rank(this, 1, port,
                           {"train", m_project, "--dist", "--dist-timeout", "2", "--epochs", "1", "--no-autosave"});
  QVERIFY(p->waitForFinished(30000));
  const double s = seconds_since(t0);
  const QString err = QString::fromUtf8(p->readAllStandardError());
  qInfo("rank 1 alone ended %.2f s after its start (--dist-timeout 2)", s);
  QCOMPARE(p->exitCode(), 3);
  QVERIFY2(err.contains(QString("rank 1 of 2 could not reach rank 0 at MASTER_ADDR:MASTER_PORT 127.0.0.1:%1 within "
                                "--dist-timeout (2 s)")
                            .arg(port)),
           qPrintable(err));
  QVERIFY2(!has_library_text(err), qPrintable(err));
  // It waited (no immediate failure), though c10d's connect loop gives up when the time
  // left is shorter than its next back-off: measured 1.78-2.9 s.
  QVERIFY2(s >= 1.0 && s < 2.0 + 5.0, qPrintable(QString::number(s)));
}

void TestDistFaults::distTimeoutRange() {
  // 1e300 s overflowed the millisecond count; outside 0.1..1e6 is a usage error (2)
  // naming the option, before any rendezvous.
  for (const QString v : {"1e300", "1000001", "0.05", "0", "-3", "abc", "inf", "nan"}) {
    const qnn_test::CliRun r = qnn_test::runQnn({"train", m_project, "--dist", "--dist-timeout", v, "--epochs", "1"}, 30000);
    QVERIFY2(r.code == 2, qPrintable(v + ": " + r.text()));
    QVERIFY2(r.err.contains("--dist-timeout expects seconds from 0.1 to 1000000, got '" + v + "'"),
             qPrintable(r.text()));
  }
  // The ends of the range are accepted: the run goes on to read torchrun's variables.
  for (const QString v : {"0.1", "1000000"}) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove("MASTER_ADDR");
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(QNN_CLI_PATH), {"train", m_project, "--dist", "--dist-timeout", v, "--epochs", "1"});
    QVERIFY(p.waitForFinished(30000));
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QCOMPARE(p.exitCode(), 2);  // a missing torchrun variable is a bad command line
    QVERIFY2(err.contains("MASTER_ADDR") && err.contains(" not set"), qPrintable(err));
  }
}

void TestDistFaults::wrongMasterAddrIsNamedAtOnce_data() {
  QTest::addColumn<QString>("addr");
  QTest::addColumn<int>("rank");
  QTest::addColumn<QString>("expected");
  const QString not_here = "which is not an address of this machine; rank 0 listens at MASTER_ADDR:MASTER_PORT, so "
                           "MASTER_ADDR must name rank 0's own machine";
  const QString unknown = "a host name this machine cannot resolve (check its spelling, /etc/hosts or DNS); "
                          "MASTER_ADDR names rank 0's machine";
  // 192.0.2.1: TEST-NET-1 (RFC 5737), never an address of this machine.
  QTest::newRow("rank 0, TEST-NET address") << "192.0.2.1" << 0
                                            << "qnn train: error: rank 0 of 2: MASTER_ADDR is '192.0.2.1', " + not_here;
  // .invalid never resolves (RFC 2606).
  QTest::newRow("rank 0, unresolvable name")
      << "no-such-host.invalid" << 0 << "qnn train: error: rank 0 of 2: MASTER_ADDR is 'no-such-host.invalid', " + unknown;
  QTest::newRow("rank 1, unresolvable name")
      << "no-such-host.invalid" << 1 << "qnn train: error: rank 1 of 2: MASTER_ADDR is 'no-such-host.invalid', " + unknown;
}

void TestDistFaults::wrongMasterAddrIsNamedAtOnce() {
  // Rank 0's store listens on every interface, but its own client connects to
  // MASTER_ADDR: an address of another machine made it fail after --dist-timeout with
  // c10d's "client socket has timed out ... while trying to connect to". Now the rank
  // says so in our words at once (exit status 1: its own fault), well within the 5 s.
  QFETCH(QString, addr);
  QFETCH(int, rank);
  QFETCH(QString, expected);
  const int port = free_port();
  const auto t0 = std::chrono::steady_clock::now();
  QProcess* p = start_rank(this, rank, port,
                           {"train", m_project, "--dist", "--dist-timeout", "5", "--epochs", "1", "--no-autosave"}, addr);
  QVERIFY(p->waitForFinished(30000));
  const double s = seconds_since(t0);
  const QString err = QString::fromUtf8(p->readAllStandardError());
  qInfo("rank %d with MASTER_ADDR=%s ended %.2f s after its start (--dist-timeout 5)", rank, qPrintable(addr), s);
  QCOMPARE(p->exitStatus(), QProcess::NormalExit);
  QVERIFY2(p->exitCode() == 1, qPrintable(err));
  QVERIFY2(err.contains(expected), qPrintable(err));
  QCOMPARE(int(err.count("qnn train: error: ")), 1);
  QVERIFY2(!has_library_text(err) && !err.contains("client socket") && !err.contains("timed out") &&
               !err.contains("trying to connect"),
           qPrintable(err));
  QVERIFY2(s < 5.0, qPrintable(QString::number(s)));
}

void TestDistFaults::portInUseIsNamedAndLaunchTakesAnother() {
  // A port held by another program (this test, listening on 127.0.0.1:P).
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  QVERIFY(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  QVERIFY(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd, 4) == 0 &&
          ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  const int busy = ntohs(a.sin_port);
  // Rank 0 started by hand: our sentence, naming MASTER_PORT; exit status 1.
  QProcess* p = start_rank(this, 0, busy,
                           {"train", m_project, "--dist", "--dist-timeout", "5", "--epochs", "1", "--no-autosave"});
  QVERIFY(p->waitForFinished(30000));
  const QString err = QString::fromUtf8(p->readAllStandardError());
  QVERIFY2(p->exitCode() == 1, qPrintable(err));
  QVERIFY2(err.contains(QString("qnn train: error: rank 0 of 2: cannot listen at MASTER_ADDR:MASTER_PORT 127.0.0.1:%1: "
                                "the port is in use (another run or program); choose another MASTER_PORT")
                            .arg(busy)),
           qPrintable(err));
  QVERIFY2(!has_library_text(err) && !err.contains("errno"), qPrintable(err));
  // `qnn launch` whose free port was taken before rank 0 listened (QNN_LAUNCH_FIRST_PORT:
  // that port): it says so, starts both ranks again on another port, and the run succeeds.
  const QString ckpt = m_dir.filePath("retry.pt");
  QProcess launcher;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("QNN_LAUNCH_FIRST_PORT", QString::number(busy));
  launcher.setProcessEnvironment(env);
  launcher.start(QStringLiteral(QNN_CLI_PATH),
                 {"launch", "--nproc", "2", m_project, "--epochs", "1", "--train-limit", "256", "--test-limit", "64",
                  "--threads", "1", "--no-autosave", "--checkpoint", ckpt, "--dist-timeout", "20"});
  QVERIFY(launcher.waitForFinished(120000));
  ::close(fd);
  const QString lerr = QString::fromUtf8(launcher.readAllStandardError());
  const QString lout = QString::fromUtf8(launcher.readAllStandardOutput());
  QVERIFY2(launcher.exitCode() == 0, qPrintable(lerr + lout));
  const auto m = QRegularExpression(QString("qnn launch: port %1 of 127.0.0.1 was taken \\(by another program\\) "
                                            "before rank 0 could listen on it; starting the ranks again on port (\\d+)")
                                        .arg(busy))
                     .match(lerr);
  QVERIFY2(m.hasMatch(), qPrintable(lerr));
  const int again = m.captured(1).toInt();
  QVERIFY(again != busy && again > 0);
  QCOMPARE(int(lerr.count("qnn launch: 2 ranks on 127.0.0.1:")), 2);
  QVERIFY2(lerr.contains(QString("qnn launch: 2 ranks on 127.0.0.1:%1: rank 0 pid").arg(again)), qPrintable(lerr));
  // Rank 0's error of the first attempt is not shown: the launcher's line replaces it.
  QVERIFY2(!lerr.contains("cannot listen") && !lerr.contains("the run failed"), qPrintable(lerr));
  QVERIFY2(lout.contains("saved checkpoint " + ckpt + " (4 optimizer steps)"), qPrintable(lout));
  QVERIFY2(!has_library_text(lerr), qPrintable(lerr));
}

void TestDistFaults::lostPeerExitsWithStatus3() {
  // Two ranks by hand; rank 1 killed once rank 0 trains: rank 0 says it lost a rank, in
  // our words, and exits with 3 (not the cause).
  const int port = free_port();
  const QStringList args = train({"--epochs", "50", "--train-limit", "1280"});
  QProcess* r0 = start_rank(this, 0, port, args);
  QProcess* r1 = start_rank(this, 1, port, args);
  QVERIFY(r0->waitForStarted() && r1->waitForStarted());
  QString out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!out.contains("dist: 2 ranks") && std::chrono::steady_clock::now() < deadline &&
         r0->state() == QProcess::Running) {
    r0->waitForReadyRead(100);
    out += QString::fromUtf8(r0->readAllStandardOutput());
  }
  QVERIFY2(out.contains("dist: 2 ranks"), qPrintable(out + r0->readAllStandardError()));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto killed_at = std::chrono::steady_clock::now();
  QCOMPARE(::kill(pid_t(r1->processId()), SIGKILL), 0);
  QVERIFY(r0->waitForFinished(60000));
  const double s = seconds_since(killed_at);
  r1->waitForFinished(5000);
  const QString err = QString::fromUtf8(r0->readAllStandardError());
  qInfo("rank 0 ended %.2f s after rank 1 was killed (--dist-timeout 30)", s);
  QCOMPARE(r0->exitCode(), 3);
  QVERIFY2(err.contains("qnn train: error: rank 0 of 2 lost the connection to another rank in the "),
           qPrintable(err));
  QVERIFY2(!has_library_text(err), qPrintable(err));
  QVERIFY2(s < 10.0, qPrintable(QString::number(s)));
}

void TestDistFaults::launcherBlamesTheRankWithItsOwnError() {
  // Rank 0 alone writes the checkpoint: a folder that does not exist fails it after the
  // rendezvous (exit status 2); rank 1 then loses it (exit status 3). The launcher blames
  // rank 0 by the exit statuses, with its error in its one line (rank 0's own copy is
  // held back: shown once), and exits with rank 0's 2.
  const QString bad = m_dir.filePath("no-such-folder/x.pt");
  const qnn_test::CliRun r = qnn_test::runQnn({"launch", "--nproc", "2", m_project, "--epochs", "1", "--train-limit",
                                               "256", "--threads", "1", "--no-autosave", "--checkpoint", bad,
                                               "--dist-timeout", "20"},
                                              120000);
  QVERIFY2(r.code == 2, qPrintable(r.text()));
  QCOMPARE(int(r.err.count("cannot write checkpoint " + bad)), 1);
  QVERIFY2(r.err.contains("qnn launch: the run failed: rank 0 exited with status 2: qnn train: error: cannot write "
                          "checkpoint " + bad + ": the folder does not exist; the other ranks were stopped"),
           qPrintable(r.text()));
  QCOMPARE(int(r.err.count("qnn launch: the run failed")), 1);
  QVERIFY2(!has_library_text(r.err), qPrintable(r.err));
}

void TestDistFaults::launcherShowsAUsageErrorOnce() {
  // A bad option value fails every rank at once (exit status 2): the launcher shows the
  // error itself once (not the "Try 'qnn sweep --help'" hint alone, not once per rank)
  // and exits with 2.
  const qnn_test::CliRun r =
      qnn_test::runQnn({"launch", "--nproc", "2", "sweep", m_project, "--weights", m_dir.filePath("lo.pt"), "--bits",
                        "2-40", "--out", m_dir.filePath("sweep")},
                       60000);
  QVERIFY2(r.code == 2, qPrintable(r.text()));
  QCOMPARE(int(r.err.count("--bits 2-40: bit widths must be within 2..16 (40 is not)")), 1);
  QVERIFY2(r.err.contains(QRegularExpression("qnn launch: the run failed: rank [01] exited with status 2: qnn sweep: "
                                             "--bits 2-40: bit widths must be within 2..16 \\(40 is not\\); the other "
                                             "ranks were stopped")),
           qPrintable(r.err));
  QVERIFY2(!r.err.contains("qnn launch: the run failed: rank 0 exited with status 2: Try") &&
               !r.err.contains("qnn launch: the run failed: rank 1 exited with status 2: Try"),
           qPrintable(r.err));
  QVERIFY2(r.err.contains("qnn launch: 2 ranks on 127.0.0.1:"), qPrintable(r.err));
  // One rank: "1 rank".
  const qnn_test::CliRun one = qnn_test::runQnn({"launch", "--nproc", "1", "sweep", m_project, "--weights",
                                                 m_dir.filePath("lo.pt"), "--bits", "2-40", "--out",
                                                 m_dir.filePath("sweep")},
                                                60000);
  QVERIFY2(one.err.contains("qnn launch: 1 rank on 127.0.0.1:"), qPrintable(one.err));
}

void TestDistFaults::launcherPassesOneSigintToEveryRank_data() {
  QTest::addColumn<bool>("group");
  QTest::addColumn<bool>("twice");
  QTest::newRow("SIGINT to the launcher alone") << false << false;
  QTest::newRow("SIGINT to its process group (a terminal's Ctrl-C)") << true << false;
  QTest::newRow("two SIGINTs to the launcher (abort)") << false << true;
}

void TestDistFaults::launcherPassesOneSigintToEveryRank() {
  // `qnn launch --nproc 2` of 200 global steps per epoch; SIGINT to the launcher alone
  // (`kill -INT PID`), or to its whole process group as a terminal's Ctrl-C does (the
  // launcher then leads its own session): every rank gets one SIGINT, stops (rank 0
  // says so once), and the launcher exits with 130 within --dist-timeout (20 s).
  // Twice: the second SIGINT aborts every rank at once (SIGKILL 3 s later at the latest).
  QFETCH(bool, group);
  QFETCH(bool, twice);
  const QString autosave = m_dir.filePath(group ? "group.resume.pt" : twice ? "twice.resume.pt" : "int.resume.pt");
  // Each rank's whole stderr and its exit status (qnn launch's test aid).
  QTemporaryDir logs;
  QVERIFY(logs.isValid());
  QProcess launcher;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("QNN_LAUNCH_LOG_DIR", logs.path());
  launcher.setProcessEnvironment(env);
  if (group) launcher.setChildProcessModifier([] { ::setsid(); });
  launcher.start(QStringLiteral(QNN_CLI_PATH),
                 QStringList{"launch", "--nproc", "2", m_project, "--epochs", "5", "--train-limit", "12800",
                             "--test-limit", "200", "--threads", "1", "--autosave", autosave, "--autosave-minutes",
                             "0", "--dist-timeout", "20"});
  QVERIFY(launcher.waitForStarted());
  QString err, out;
  qint64 pids[2] = {0, 0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  // Until rank 0 autosaved a step (not only the autosave written before the first step):
  // both ranks are in the training loop.
  const auto autosaved_a_step = [&] {
    try {
      return qnn::is_training_checkpoint(autosave.toStdString()) &&
             qnn::read_training_checkpoint_info(autosave.toStdString()).global_step >= 1;
    } catch (const std::exception&) {
      return false;  // being replaced right now
    }
  };
  while ((pids[1] == 0 || !autosaved_a_step()) &&
         std::chrono::steady_clock::now() < deadline && launcher.state() == QProcess::Running) {
    launcher.waitForReadyRead(50);
    err += QString::fromUtf8(launcher.readAllStandardError());
    out += QString::fromUtf8(launcher.readAllStandardOutput());
    const auto m = QRegularExpression("rank 0 pid (\\d+); rank 1 pid (\\d+)").match(err);
    if (m.hasMatch()) pids[0] = m.captured(1).toLongLong(), pids[1] = m.captured(2).toLongLong();
  }
  QVERIFY2(pids[1] > 0 && autosaved_a_step(), qPrintable(err + out));
  QVERIFY2(launcher.state() == QProcess::Running, qPrintable(err + out));
  const auto sent_at = std::chrono::steady_clock::now();
  QCOMPARE(::kill(group ? -pid_t(launcher.processId()) : pid_t(launcher.processId()), SIGINT), 0);
  if (twice) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    QCOMPARE(::kill(pid_t(launcher.processId()), SIGINT), 0);
  }
  QVERIFY2(launcher.waitForFinished(60000), "the launcher did not end after SIGINT");
  const double s = seconds_since(sent_at);
  err += QString::fromUtf8(launcher.readAllStandardError());
  out += QString::fromUtf8(launcher.readAllStandardOutput());
  qInfo("the launcher ended %.2f s after SIGINT", s);
  QCOMPARE(launcher.exitStatus(), QProcess::NormalExit);
  QVERIFY2(launcher.exitCode() == 130, qPrintable(err + out));
  QVERIFY2(s < (twice ? 5.0 : 20.0), qPrintable(QString::number(s)));
  // Rank 0 (whose stderr is passed through) got exactly one interrupt.
  QCOMPARE(int(err.count("qnn: stopping after the current")), 1);
  // Every rank got exactly one: its first SIGINT prints "qnn: stopping after the current
  // batch" (at least one arrived) and resets SIGINT to its default action, so a second
  // one would have killed it by signal 2 instead of the exit status 130 (at most one).
  // Twice: one message each, then killed by the second SIGINT (or, had it already
  // finished its batch and saved, 130).
  for (int r = 0; r < 2; ++r) {
    QFile f(logs.filePath(QString("rank%1.stderr").arg(r)));
    QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(f.fileName()));
    const QString text = QString::fromUtf8(f.readAll());
    QVERIFY2(text.count("qnn: stopping after the current batch") == 1, qPrintable(text));
    const QString ended = QString("qnn launch: rank %1 exited with status 130\n").arg(r);
    if (twice)
      QVERIFY2(text.endsWith(QString("qnn launch: rank %1 was killed by signal %2\n").arg(r).arg(SIGINT)) ||
                   text.endsWith(ended),
               qPrintable(text));
    else
      QVERIFY2(text.endsWith(ended), qPrintable(text));
    qInfo("rank %d: %s", r, qPrintable(text.trimmed().section('\n', -1)));
  }
  QVERIFY2(err.contains("qnn launch: interrupted: Ctrl-C was passed on to every rank"), qPrintable(err));
  QVERIFY2(!err.contains("the run failed"), qPrintable(err));
  for (const qint64 pid : pids) QVERIFY2(!alive(pid), qPrintable(QString("rank pid %1 is still alive").arg(pid)));
  // Rank 0's autosave is complete.
  QVERIFY(qnn::read_training_checkpoint_info(autosave.toStdString()).global_step >= 1);
}

void TestDistFaults::earlySigintStopsRanksThatInheritedItIgnored() {
  // A launcher started in the background of a script inherits SIGINT ignored (POSIX
  // shells do that for `&` jobs), and so did its ranks: a `kill -INT` right after the
  // ranks started reached the launcher, which passed it on, but the ranks ignored it and
  // trained the whole epoch. Now the ranks start with SIGINT at its default: one that
  // comes before a rank's handler is in place ends it at once, a later one stops it
  // after its step; either way no rank finishes the epoch and the launcher exits 130.
  QTemporaryDir logs;
  QVERIFY(logs.isValid());
  QProcess launcher;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("QNN_LAUNCH_LOG_DIR", logs.path());
  launcher.setProcessEnvironment(env);
  launcher.setChildProcessModifier([] { std::signal(SIGINT, SIG_IGN); });  // as `cmd &` in a script
  const QString checkpoint = m_dir.filePath("early_int.pt");
  launcher.start(QStringLiteral(QNN_CLI_PATH),
                 QStringList{"launch", "--nproc", "2", m_project, "--epochs", "1", "--train-limit", "12800",
                             "--test-limit", "200", "--threads", "1", "--no-autosave", "--checkpoint", checkpoint,
                             "--dist-timeout", "20"});
  QVERIFY(launcher.waitForStarted());
  QString err;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!err.contains("rank 1 pid") && std::chrono::steady_clock::now() < deadline &&
         launcher.state() == QProcess::Running) {
    launcher.waitForReadyRead(10);
    err += QString::fromUtf8(launcher.readAllStandardError());
  }
  QVERIFY2(err.contains("rank 1 pid"), qPrintable(err));
  QCOMPARE(::kill(pid_t(launcher.processId()), SIGINT), 0);
  QVERIFY2(launcher.waitForFinished(60000), "the launcher did not end after SIGINT");
  err += QString::fromUtf8(launcher.readAllStandardError());
  const QString out = QString::fromUtf8(launcher.readAllStandardOutput());
  QVERIFY2(launcher.exitCode() == 130, qPrintable(err + out));
  QVERIFY2(!out.contains("epoch 1/1"), qPrintable(out));  // 200 steps per epoch: not reached
  for (int r = 0; r < 2; ++r) {
    QFile f(logs.filePath(QString("rank%1.stderr").arg(r)));
    QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(f.fileName()));
    const QString text = QString::fromUtf8(f.readAll());
    QVERIFY2(text.endsWith(QString("qnn launch: rank %1 was killed by signal %2\n").arg(r).arg(SIGINT)) ||
                 text.endsWith(QString("qnn launch: rank %1 exited with status 130\n").arg(r)),
             qPrintable(text));
  }
}

QTEST_GUILESS_MAIN(TestDistFaults)
#include "test_dist_faults.moc"

// SPDX-License-Identifier: GPL-3.0-or-later
// The bad-input table (issue 16): one row per way a save, export or read can meet a bad
// path, a full disk or a damaged file. Each row asserts the message (file name, place,
// reason), the exit status where the row runs the `qnn` command line (as a child
// process), and that nothing is lost: old files keep their bytes, no file that should
// not exist appears, and no temporary file (`.<name>.qnn-tmp-*`) is left behind.
//
// A full disk is simulated with QNN_TEST_FULL_DISK (core/io/atomic_file.h: the bytes
// go to /dev/full, so the kernel itself answers ENOSPC) and with a file size limit
// (RLIMIT_FSIZE set in the child before exec: every write past it fails with EFBIG).
#include "tests/badinput/badinput_support.h"

using namespace badinput;

namespace {

/// Every row: the save/export/read rows below, then input_rows.cpp's.
std::vector<Row> table() {
  const QString full = "QNN_TEST_FULL_DISK=";
  std::vector<Row> rows;
  // ---- 1. full disk while saving a checkpoint
  rows.push_back({"train --checkpoint on a full disk: old checkpoint intact, model kept in TMPDIR",
                  [](const QString& d) { old_file(d + "/run.pt"); },
                  [full](const QString& d) {
                    return run_qnn(quick_train(d + "/run.pt"), {full + d, "TMPDIR=" + g_rescue_dir});
                  },
                  2,
                  [](const QString& d) {
                    return QStringList{"cannot write checkpoint " + d + "/run.pt: the disk is full",
                                       "the trained model was saved to " + g_rescue_dir + "/qnn-unsaved-"};
                  },
                  {},
                  [](const QString&, const Outcome& o) {
                    QVERIFY2(o.out.contains("test_accuracy="), qPrintable(o.text()));
                    const QStringList kept = QDir(g_rescue_dir).entryList({"qnn-unsaved-*.qnnckpt"});
                    QCOMPARE(kept.size(), 1);
                    // the kept model is a whole, loadable checkpoint of the project
                    auto m = qnn::build_model(qnn::load_project(example("lenet_lowprec").toStdString()));
                    qnn::load_checkpoint(m, (g_rescue_dir + "/" + kept[0]).toStdString());
                    QVERIFY(QFile::remove(g_rescue_dir + "/" + kept[0]));
                  }});
  rows.push_back({"train --checkpoint past the file size limit: exit 2 (not 134), nothing left anywhere",
                  [](const QString& d) {
                    old_file(d + "/run.pt");
                    QDir().mkpath(d + "/cwd");
                    QDir().mkpath(d + "/tmp");
                  },
                  [](const QString& d) { return run_qnn(quick_train(d + "/run.pt"), {"TMPDIR=" + d + "/tmp"}, 4096, d + "/cwd"); },
                  2,
                  [](const QString& d) {
                    return QStringList{"cannot write checkpoint " + d + "/run.pt: the file is larger than this "
                                       "process may write (file size limit)",
                                       "cannot write checkpoint " + d + "/tmp/qnn-unsaved-",
                                       "the trained model could not be kept anywhere"};
                  },
                  {},
                  [](const QString& d, const Outcome&) {
                    QCOMPARE(QDir(d + "/cwd").entryList(QDir::NoDotAndDotDot | QDir::AllEntries | QDir::Hidden).size(), 0);
                    QCOMPARE(QDir(d + "/tmp").entryList(QDir::NoDotAndDotDot | QDir::AllEntries | QDir::Hidden).size(), 0);
                  }});
  rows.push_back({"export --format checkpoint on a full disk: checkpoint and project both old",
                  [](const QString& d) {
                    old_file(d + "/out.pt");
                    old_file(d + "/out.qnn.json");
                  },
                  [full](const QString& d) {
                    return run_qnn({"export", example("lenet_lowprec"), "--checkpoint", g_checkpoint, "--format",
                                "checkpoint", "--out", d + "/out.pt"},
                               {full + d});
                  },
                  1, [](const QString& d) { return QStringList{"cannot write checkpoint " + d + "/out.pt: the disk is full", "no file of the export was written"}; },
                  {}, nullptr});
  rows.push_back({"export --format checkpoint, new files, full disk: neither file created",
                  nullptr,
                  [full](const QString& d) {
                    return run_qnn({"export", example("lenet_lowprec"), "--checkpoint", g_checkpoint, "--format",
                                "checkpoint", "--out", d + "/new.pt"},
                               {full + d});
                  },
                  1, [](const QString& d) { return QStringList{"cannot write checkpoint " + d + "/new.pt: the disk is full"}; },
                  {"new.pt", "new.qnn.json"}, nullptr});
  rows.push_back({"export --format qonnx on a full disk: old model file intact",
                  [](const QString& d) { old_file(d + "/m.onnx"); },
                  [full](const QString& d) {
                    return run_qnn({"export", example("lenet_lowprec"), "--checkpoint", g_checkpoint, "--format", "qonnx",
                                "--out", d + "/m.onnx"},
                               {full + d});
                  },
                  1, [](const QString& d) { return QStringList{"cannot write QONNX model " + d + "/m.onnx: the disk is full"}; },
                  {}, nullptr});
  rows.push_back({"train --checkpoint /dev/null: refused before training, the device stays a device",
                  nullptr,
                  [](const QString&) { return run_qnn(quick_train("/dev/null")); },
                  2,
                  [](const QString&) {
                    return QStringList{"cannot write checkpoint /dev/null: it is not a regular file (a device, pipe or "
                                       "socket), and writing would replace it"};
                  },
                  {},
                  [](const QString&, const Outcome& o) {
                    QVERIFY2(!o.out.contains("test_accuracy="), qPrintable(o.text()));  // no run at all
                    struct stat st {};
                    QVERIFY(::stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
                  }});
  rows.push_back({"export --out /dev/null: refused, the device stays a device",
                  nullptr,
                  [](const QString&) {
                    return run_qnn({"export", example("lenet_lowprec"), "--checkpoint", g_checkpoint, "--format", "qonnx",
                                "--out", "/dev/null"});
                  },
                  1,
                  [](const QString&) {
                    return QStringList{"cannot write QONNX model /dev/null: it is not a regular file (a device, pipe or "
                                       "socket), and writing would replace it"};
                  },
                  {},
                  [](const QString&, const Outcome&) {
                    struct stat st {};
                    QVERIFY(::stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
                  }});
  rows.push_back({"train --checkpoint naming the PROJECT itself: usage error, project intact",
                  [](const QString& d) { QVERIFY(QFile::copy(example("lenet_lowprec"), d + "/p.qnn.json")); },
                  [](const QString& d) {
                    QStringList args = quick_train(d + "/./p.qnn.json");
                    args[1] = d + "/p.qnn.json";
                    return run_qnn(args);
                  },
                  2,
                  [](const QString& d) {
                    return QStringList{"--checkpoint would overwrite " + d + "/p.qnn.json; choose another file"};
                  },
                  {},
                  [](const QString& d, const Outcome&) {
                    QCOMPARE(bytes_of(d + "/p.qnn.json"), bytes_of(example("lenet_lowprec")));
                  }});
  rows.push_back({"export --format packed --c-header in a missing folder: no --out file left",
                  nullptr,
                  [](const QString& d) {
                    return run_qnn({"export", example("lenet_lowprec"), "--checkpoint", g_checkpoint, "--format", "packed",
                                "--out", d + "/m.qnnpack", "--c-header", d + "/no/such/folder/m.h"});
                  },
                  1,
                  [](const QString& d) {
                    return QStringList{"cannot write C header " + d + "/no/such/folder/m.h: the folder does not exist",
                                       "no file of the export was written"};
                  },
                  {"m.qnnpack"}, nullptr});
  rows.push_back({"export --format packed, --c-header on a full disk: old --out and old header intact",
                  [](const QString& d) {
                    QDir().mkpath(d + "/h");
                    old_file(d + "/m.qnnpack");
                    old_file(d + "/h/m.h");
                  },
                  [full](const QString& d) {
                    return run_qnn({"export", example("lenet_lowprec"), "--checkpoint", g_checkpoint, "--format", "packed",
                                "--out", d + "/m.qnnpack", "--c-header", d + "/h/m.h"},
                               {full + d + "/h"});
                  },
                  1, [](const QString& d) { return QStringList{"cannot write C header " + d + "/h/m.h: the disk is full"}; },
                  {}, nullptr});
  rows.push_back({"export --format brevitas on a full disk: old model.py intact, no model.pt",
                  [](const QString& d) {
                    QDir().mkpath(d + "/brev");
                    old_file(d + "/brev/model.py");
                  },
                  [full](const QString& d) {
                    return run_qnn({"export", example("lenet_lowprec"), "--checkpoint", g_checkpoint, "--format",
                                    "brevitas", "--out", d + "/brev"},
                                   {full + d + "/brev"});
                  },
                  1,
                  [](const QString& d) {
                    return QStringList{"cannot write state dict " + d + "/brev/model.pt: the disk is full",
                                       "no file of the export was written"};
                  },
                  {"brev/model.pt"}, nullptr});
  // ---- 2. project save, weights (state dict): in process, the core functions the GUI calls
  rows.push_back({"save_project on a full disk: old project intact",
                  [](const QString& d) { old_file(d + "/p.qnn.json"); },
                  [](const QString& d) {
                    FullDisk fd(d);
                    const auto p = qnn::load_project(example("lenet_lowprec").toStdString());
                    return in_process([&] { qnn::save_project(p, (d + "/p.qnn.json").toStdString()); });
                  },
                  -1, [](const QString& d) { return QStringList{"cannot write project file " + d + "/p.qnn.json: the disk is full"}; },
                  {}, nullptr});
  rows.push_back({"write_state_dict (weights) on a full disk: old file intact",
                  [](const QString& d) { old_file(d + "/w.pt"); },
                  [](const QString& d) {
                    FullDisk fd(d);
                    return in_process([&] {
                      qnn::write_state_dict((d + "/w.pt").toStdString(), {{"fc.weight", torch::ones({4, 4})}});
                    });
                  },
                  -1, [](const QString& d) { return QStringList{"cannot write state dict " + d + "/w.pt: the disk is full"}; },
                  {}, nullptr});
  rows.push_back({"save_checkpoint (GUI Save Checkpoint) on a full disk: old file intact",
                  [](const QString& d) { old_file(d + "/c.qnnckpt"); },
                  [](const QString& d) {
                    FullDisk fd(d);
                    auto m = qnn::build_model(qnn::load_project(example("lenet_lowprec").toStdString()));
                    return in_process([&] { qnn::save_checkpoint(m, (d + "/c.qnnckpt").toStdString()); });
                  },
                  -1, [](const QString& d) { return QStringList{"cannot write checkpoint " + d + "/c.qnnckpt: the disk is full"}; },
                  {}, nullptr});
  // ---- 3. empty output paths: usage errors before any work
  rows.push_back({"train --checkpoint '': refused before training",
                  nullptr, [](const QString&) { return run_qnn(quick_train("")); }, 2,
                  [](const QString&) { return QStringList{"qnn train: option --checkpoint needs a file name, got an empty string"}; },
                  {},
                  [](const QString&, const Outcome& o) { QVERIFY2(o.out.isEmpty(), qPrintable(o.text())); }});
  rows.push_back({"export --out '': usage error",
                  nullptr,
                  [](const QString&) {
                    return run_qnn({"export", example("lenet_lowprec"), "--checkpoint", g_checkpoint, "--format", "qonnx",
                                "--out", ""});
                  },
                  2, [](const QString&) { return QStringList{"option --out needs a file name, got an empty string"}; }, {},
                  nullptr});
  rows.push_back({"export --c-header=: usage error",
                  nullptr,
                  [](const QString& d) {
                    return run_qnn({"export", example("lenet_lowprec"), "--checkpoint", g_checkpoint, "--format", "packed",
                                "--out", d + "/m.qnnpack", "--c-header="});
                  },
                  2, [](const QString&) { return QStringList{"option --c-header needs a file name, got an empty string"}; },
                  {"m.qnnpack"}, nullptr});
  rows.push_back({"validate '': usage error", nullptr, [](const QString&) { return run_qnn({"validate", ""}); }, 2,
                  [](const QString&) { return QStringList{"'qnn validate' needs a PROJECT file name, got an empty string"}; },
                  {}, nullptr});
  // ---- 4. files that are no project file
  rows.push_back({"validate /dev/zero: refused at once", nullptr,
                  [](const QString&) { return run_qnn({"validate", "/dev/zero"}); }, 2,
                  [](const QString&) {
                    return QStringList{"cannot read project file '/dev/zero': it is not a regular file (a device, pipe or socket)"};
                  },
                  {}, nullptr});
  rows.push_back({"validate a folder", [](const QString& d) { QDir().mkpath(d + "/p.qnn.json"); },
                  [](const QString& d) { return run_qnn({"validate", d + "/p.qnn.json"}); }, 2,
                  [](const QString& d) { return QStringList{"cannot read project file '" + d + "/p.qnn.json': it is a folder, not a file"}; },
                  {}, nullptr});
  rows.push_back({"validate a 300 MB project file (sparse)",
                  [](const QString& d) {
                    QFile f(d + "/huge.qnn.json");
                    QVERIFY(f.open(QIODevice::WriteOnly));
                    QVERIFY(f.resize(qint64(300) << 20));
                  },
                  [](const QString& d) { return run_qnn({"validate", d + "/huge.qnn.json"}); }, 2,
                  [](const QString& d) {
                    return QStringList{"cannot read project file '" + d + "/huge.qnn.json': it is 300 MB, more than the 256 MB"};
                  },
                  {}, nullptr});
  rows.push_back({"eval --checkpoint /dev/zero", nullptr,
                  [](const QString&) { return run_qnn({"eval", example("lenet_lowprec"), "--checkpoint", "/dev/zero"}); }, 2,
                  [](const QString&) { return QStringList{"cannot read checkpoint /dev/zero: it is not a regular file"}; }, {},
                  nullptr});
  // ---- 5. a damaged checkpoint
  rows.push_back({"eval of a checkpoint with one flipped bit in conv1.weight",
                  [](const QString& d) {
                    QByteArray b = bytes_of(g_checkpoint);
                    auto m = qnn::build_model(qnn::load_project(example("lenet_lowprec").toStdString()));
                    qnn::load_checkpoint(m, g_checkpoint.toStdString());
                    torch::Tensor w;
                    for (const auto& kv : m->named_parameters(true))
                      if (kv.key() == "conv1.weight") w = kv.value().detach().contiguous();
                    QVERIFY(w.defined());
                    const QByteArray raw(static_cast<const char*>(w.data_ptr()), int(w.numel() * w.element_size()));
                    const int at = b.indexOf(raw);
                    QVERIFY(at > 0);
                    b[at + raw.size() / 2] = char(b[at + raw.size() / 2] ^ 0x10);
                    write_bytes(d + "/flipped.pt", b);
                  },
                  [](const QString& d) { return run_qnn({"eval", example("lenet_lowprec"), "--checkpoint", d + "/flipped.pt"}); },
                  2,
                  [](const QString& d) {
                    return QStringList{"checkpoint " + d + "/flipped.pt is damaged: tensor conv1.weight does not match its checksum"};
                  },
                  {},
                  [](const QString&, const Outcome& o) { QVERIFY(!o.out.contains("test_accuracy")); }});
  for (Row& r : input_rows()) rows.push_back(std::move(r));
  return rows;
}

}  // namespace

class TestBadInput : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void table_data();
  void table();
  void staleTemporariesAreRemoved();
  void savesKeepSymbolicLinksAndPermissions();
  void bitFlipsNeverLoadADifferentModel();
  void checkpointsWithoutChecksumsStillLoad();

 private:
  QTemporaryDir m_dir;
};

void TestBadInput::initTestCase() {
  QVERIFY(m_dir.isValid());
  g_checkpoint = m_dir.filePath("trained.pt");
  g_rescue_dir = m_dir.filePath("rescue");
  QVERIFY(QDir().mkpath(g_rescue_dir));
  const Outcome t = run_qnn(quick_train(g_checkpoint));
  QVERIFY2(t.code == 0, qPrintable(t.text()));
}

void TestBadInput::table_data() {
  QTest::addColumn<int>("row");
  const auto rows = ::table();
  for (size_t i = 0; i < rows.size(); ++i) QTest::addRow("%s", rows[i].name) << int(i);
}

void TestBadInput::table() {
  QFETCH(int, row);
  const Row r = ::table()[size_t(row)];
  const QString dir = m_dir.filePath("row" + QString::number(row));
  QVERIFY(QDir().mkpath(dir));
  if (r.setup) r.setup(dir);
  // what is there before: every file keeps its bytes
  std::map<QString, QByteArray> before;
  QDirIterator it(dir, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
  while (it.hasNext()) {
    const QString f = it.next();
    if (QFileInfo(f).size() < (1 << 20)) before[f] = bytes_of(f);
  }
  QElapsedTimer timer;
  timer.start();
  const Outcome o = r.run(dir);
  QCOMPARE(o.code, r.code);
  for (const QString& fragment : r.fragments(dir))
    QVERIFY2(o.message.contains(fragment), qPrintable("missing '" + fragment + "' in\n" + o.text()));
  QVERIFY2(!o.message.contains("c10::Error") && !o.message.contains("terminate called"), qPrintable(o.text()));
  for (const auto& [f, b] : before) QVERIFY2(bytes_of(f) == b, qPrintable(f + " changed"));
  for (const QString& a : r.absent) QVERIFY2(!QFileInfo::exists(dir + "/" + a), qPrintable(a + " was created"));
  QCOMPARE(temporaries(dir), QStringList());
  if (r.extra) r.extra(dir, o);
  qInfo("%s: %.2f s", r.name, timer.elapsed() / 1000.0);
}

void TestBadInput::staleTemporariesAreRemoved() {
  const QString dir = m_dir.filePath("stale");
  QVERIFY(QDir().mkpath(dir));
  const std::string target = (dir + "/p.qnn.json").toStdString();
  // a process that has ended (its pid is free) and this live one
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  QVERIFY(child > 0);
  int status = 0;
  ::waitpid(child, &status, 0);
  const QString prefix = QString::fromStdString(qnn::temporary_prefix(target));
  QCOMPARE(prefix, dir + "/.p.qnn.json.qnn-tmp-");
  const QString dead = prefix + QString::number(child) + "-0";
  const QString live = prefix + QString::number(::getpid()) + "-999";
  const QString other = dir + "/.other.qnn.json.qnn-tmp-" + QString::number(child) + "-0";  // another target's
  for (const QString& f : {dead, live, other}) write_bytes(f, "half a file");
  qnn::save_project(qnn::load_project(example("lenet_lowprec").toStdString()), target);
  QVERIFY2(!QFileInfo::exists(dead), "the dead process's temporary was not removed");
  QVERIFY2(QFileInfo::exists(live), "a live process's temporary was removed");
  QVERIFY(QFileInfo::exists(other));
  QCOMPARE(qnn::load_project(target).layers.size(), qnn::load_project(example("lenet_lowprec").toStdString()).layers.size());
  // The CLI's saves clean up the same way.
  const QString ckpt = dir + "/c.pt";
  const QString dead_ckpt = QString::fromStdString(qnn::temporary_prefix(ckpt.toStdString())) + QString::number(child) + "-3";
  write_bytes(dead_ckpt, "half a checkpoint");
  const Outcome o = run_qnn({"export", example("lenet_lowprec"), "--checkpoint", g_checkpoint, "--format", "checkpoint",
                         "--out", ckpt});
  QVERIFY2(o.code == 0, qPrintable(o.text()));
  QVERIFY(!QFileInfo::exists(dead_ckpt));
  QVERIFY(QFile::remove(live));
  QVERIFY(QFile::remove(other));
  QCOMPARE(temporaries(dir), QStringList());
}

void TestBadInput::savesKeepSymbolicLinksAndPermissions() {
  const QString dir = m_dir.filePath("links");
  QVERIFY(QDir().mkpath(dir + "/real"));
  const std::string real = (dir + "/real/p.qnn.json").toStdString();
  const std::string link = (dir + "/p.qnn.json").toStdString();
  qnn::Project project = qnn::load_project(example("lenet_lowprec").toStdString());
  qnn::save_project(project, real);
  QCOMPARE(::chmod(real.c_str(), 0640), 0);
  QCOMPARE(::symlink("real/p.qnn.json", link.c_str()), 0);  // relative, as users make them

  project.training.epochs = 7;  // a saved change
  qnn::save_project(project, link);
  QVERIFY2(QFileInfo(QString::fromStdString(link)).isSymLink(), "the save replaced the symbolic link by a file");
  QCOMPARE(qnn::load_project(real).training.epochs, 7);
  struct stat st {};
  QCOMPARE(::stat(real.c_str(), &st), 0);
  QCOMPARE(int(st.st_mode & 07777), 0640);
  QCOMPARE(temporaries(dir), QStringList());

  // A link whose file does not exist yet: the file is created where it points.
  const std::string dangling = (dir + "/new.qnn.json").toStdString();
  QCOMPARE(::symlink("real/new.qnn.json", dangling.c_str()), 0);
  qnn::save_project(project, dangling);
  QVERIFY(QFileInfo(QString::fromStdString(dangling)).isSymLink());
  QCOMPARE(qnn::load_project((dir + "/real/new.qnn.json").toStdString()).training.epochs, 7);
  QCOMPARE(temporaries(dir), QStringList());
}

void TestBadInput::bitFlipsNeverLoadADifferentModel() {
  const auto project = qnn::load_project(example("lenet_lowprec").toStdString());
  auto reference = qnn::build_model(project);
  qnn::load_checkpoint(reference, g_checkpoint.toStdString());
  std::vector<std::pair<std::string, torch::Tensor>> ref;
  for (const auto& kv : reference->named_parameters(true)) ref.emplace_back(kv.key(), kv.value().detach().clone());
  for (const auto& kv : reference->named_buffers(true)) ref.emplace_back(kv.key(), kv.value().detach().clone());
  const QByteArray good = bytes_of(g_checkpoint);
  QVERIFY(good.size() > 10000);
  const QString path = m_dir.filePath("flip.pt");
  // 200 flips spread over the whole file (headers, the pickle, the tensor data, the zip
  // directory), then 100 each in the first and last 3000 bytes, where the archive's
  // own records are.
  std::vector<int> places;
  for (int k = 0; k < 200; ++k) places.push_back(int(int64_t(good.size() - 1) * k / 199));
  for (int k = 0; k < 100; ++k) places.push_back(k * 30);
  for (int k = 0; k < 100; ++k) places.push_back(good.size() - 1 - k * 30);
  const int kFlips = int(places.size());
  int refused = 0, identical = 0, damaged = 0;
  for (int k = 0; k < kFlips; ++k) {
    const int at = places[size_t(k)];
    QByteArray b = good;
    b[at] = char(b[at] ^ (1 << (k % 8)));
    write_bytes(path, b);
    auto m = qnn::build_model(project);
    try {
      qnn::load_checkpoint(m, path.toStdString());
    } catch (const qnn::Error& e) {
      ++refused;
      const QString msg = e.what();
      QVERIFY2(msg.contains(path), qPrintable(QString("flip at %1: %2").arg(at).arg(msg)));
      if (msg.contains("is damaged:")) ++damaged;
      continue;
    } catch (const std::exception& e) {
      QFAIL(qPrintable(QString("flip at %1: not a qnn error: %2").arg(at).arg(e.what())));
    }
    // loaded: then every tensor must be bit for bit the saved one
    std::map<std::string, torch::Tensor> got;
    for (const auto& kv : m->named_parameters(true)) got[kv.key()] = kv.value().detach();
    for (const auto& kv : m->named_buffers(true)) got[kv.key()] = kv.value().detach();
    for (const auto& [name, t] : ref)
      QVERIFY2(torch::equal(got.at(name), t), qPrintable(QString("flip at %1 silently changed %2").arg(at).arg(name.c_str())));
    ++identical;
  }
  qInfo("%d bit flips over %d bytes: %d refused (%d as damaged), %d loaded the identical model", kFlips,
        int(good.size()), refused, damaged, identical);
  QCOMPARE(refused + identical, kFlips);
  QVERIFY(damaged >= 10);  // the checksums, not luck, catch the flips in the data
}

void TestBadInput::checkpointsWithoutChecksumsStillLoad() {
  // A checkpoint as builds before the checksums wrote it: the same entries, no qnn.checksums.
  const auto project = qnn::load_project(example("lenet_lowprec").toStdString());
  torch::manual_seed(3);
  auto m = qnn::build_model(project);
  torch::serialize::OutputArchive ar;
  ar.write("qnn.format", c10::IValue(std::string("qnn-studio-checkpoint")));
  ar.write("qnn.version", c10::IValue(int64_t(1)));
  ar.write("qnn.project", c10::IValue(qnn::project_to_json(project)));
  for (const auto& kv : m->named_parameters(true)) ar.write(kv.key(), kv.value().detach(), false);
  for (const auto& kv : m->named_buffers(true)) ar.write(kv.key(), kv.value().detach(), true);
  const QString old = m_dir.filePath("old_format.pt");
  ar.save_to(old.toStdString());
  auto loaded = qnn::build_model(project);
  qnn::load_checkpoint(loaded, old.toStdString());
  const auto a = m->named_parameters(true);
  const auto b = loaded->named_parameters(true);
  QCOMPARE(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) QVERIFY(torch::equal(a[i].value(), b[i].value()));
  // Their zip entries' own CRC-32s still catch a flipped bit in the tensor data.
  QByteArray file = bytes_of(old);
  const torch::Tensor w = a[0].value().detach().contiguous();
  const QByteArray raw(static_cast<const char*>(w.data_ptr()), int(w.numel() * w.element_size()));
  const int at = file.indexOf(raw);
  QVERIFY(at > 0);
  file[at + 3] = char(file[at + 3] ^ 0x01);
  const QString flipped = m_dir.filePath("old_format_flipped.pt");
  write_bytes(flipped, file);
  auto again = qnn::build_model(project);
  const QString msg = thrown_message<qnn::IoError>([&] { qnn::load_checkpoint(again, flipped.toStdString()); });
  QVERIFY2(msg.startsWith("checkpoint " + flipped + " is damaged: entry old_format/data/"), qPrintable(msg));
  // and the new ones record them: the same file with checksums is refused once damaged (table row above)
  const std::string bytes = qnn::checkpoint_bytes(m, -1, "x");
  QVERIFY(bytes.find("qnn.checksums") != std::string::npos);
}

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  TestBadInput t;
  return QTest::qExec(&t, argc, argv);
}
#include "test_badinput.moc"

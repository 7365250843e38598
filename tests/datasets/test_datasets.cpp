// SPDX-License-Identifier: GPL-3.0-or-later
// Dataset loading: IDX (raw and gzip), CIFAR-10 binary batches, padding and
// normalisation, every corrupt-file error, and the installed Fashion-MNIST. main() at
// the end also runs the image-folder class (test_image_folder.cpp).
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <zlib.h>

#include "core/data/dataset.h"
#include "core/errors.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/multi_test_main.h"
#include "tests/thrown_message.h"

using Bytes = std::vector<uint8_t>;

namespace {

void put_be32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
}

Bytes make_idx(uint32_t magic, const std::vector<uint32_t>& dims, const Bytes& data) {
  Bytes b;
  put_be32(b, magic);
  for (uint32_t d : dims) put_be32(b, d);
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

void write_raw(const std::string& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

void write_gz(const std::string& path, const Bytes& b) {
  gzFile f = gzopen(path.c_str(), "wb9");
  QVERIFY(f != nullptr);
  if (!b.empty()) QCOMPARE(gzwrite(f, b.data(), unsigned(b.size())), int(b.size()));
  gzclose(f);
}

Bytes read_raw(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

/// 3 images of 2 x 3 pixels with distinct values, and 3 labels.
Bytes pixels() {
  Bytes p;
  for (int i = 0; i < 3 * 2 * 3; ++i) p.push_back(uint8_t((i * 37 + 5) % 256));
  return p;
}
const Bytes kLabels{7, 0, 9};

}  // namespace

class TestDatasets : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void init() { QVERIFY(m_dir.isValid()); }
  void idxRawRoundTrip();
  void idxGzipRoundTrip();
  void idxConcatenatedGzip();
  void loadDatasetPadsAndNormalises();
  void loadDatasetWithoutNormalisationAndLimit();
  void badMagic();
  void truncatedHeader();
  void truncatedData();
  void imageLabelCountMismatch();
  void labelOutOfRange();
  void missingFile();
  void corruptGzip();
  void truncatedGzip();
  void cifar10RoundTrip();
  void cifar10TruncatedAndBadLabel();
  void unknownDatasetIsConfigError();
  void datasetStatistics();
  void realFashionMnist();

 private:
  std::string file(const char* name) const { return m_dir.filePath(name).toStdString(); }
  std::string subdir(const char* name) const {
    QDir(m_dir.path()).mkpath(name);
    return m_dir.filePath(name).toStdString();
  }
  QTemporaryDir m_dir;
};

void TestDatasets::idxRawRoundTrip() {
  const auto img = file("raw-images");
  const auto lab = file("raw-labels");
  write_raw(img, make_idx(0x803, {3, 2, 3}, pixels()));
  write_raw(lab, make_idx(0x801, {3}, kLabels));
  const auto images = qnn::read_idx_images(img);
  const auto labels = qnn::read_idx_labels(lab);
  QCOMPARE(images.scalar_type(), torch::kUInt8);
  QCOMPARE(images.sizes().vec(), (std::vector<int64_t>{3, 1, 2, 3}));
  const auto p = pixels();
  const auto flat = images.contiguous().view(-1);
  for (int i = 0; i < int(p.size()); ++i) QCOMPARE(flat[i].item<int>(), int(p[size_t(i)]));
  QCOMPARE(images[1][0][1][2].item<int>(), int(p[6 + 3 + 2]));  // image 1, row 1, col 2
  QCOMPARE(labels.scalar_type(), torch::kInt64);
  QCOMPARE(labels.sizes().vec(), (std::vector<int64_t>{3}));
  for (int i = 0; i < 3; ++i) QCOMPARE(labels[i].item<int64_t>(), int64_t(kLabels[size_t(i)]));
}

void TestDatasets::idxGzipRoundTrip() {
  // Deliberately not named .gz: the gzip magic decides, not the file name.
  const auto img = file("gz-images");
  const auto lab = file("gz-labels.gz");
  write_gz(img, make_idx(0x803, {3, 2, 3}, pixels()));
  write_gz(lab, make_idx(0x801, {3}, kLabels));
  QCOMPARE(read_raw(img)[0], uint8_t(0x1f));
  const auto images = qnn::read_idx_images(img);
  const Bytes p = pixels();
  const auto expected = torch::tensor(std::vector<int64_t>(p.begin(), p.end()))
                            .to(torch::kUInt8).view({3, 1, 2, 3});
  QVERIFY(torch::equal(images, expected));
  QVERIFY(torch::equal(qnn::read_idx_labels(lab), torch::tensor({7, 0, 9}, torch::kInt64)));

  // A larger file that needs several output buffer growths.
  Bytes big(1000 * 28 * 28);
  for (size_t i = 0; i < big.size(); ++i) big[i] = uint8_t((i * 2654435761u) >> 24);
  const auto big_path = file("big-images.gz");
  write_gz(big_path, make_idx(0x803, {1000, 28, 28}, big));
  const auto t = qnn::read_idx_images(big_path);
  QCOMPARE(t.sizes().vec(), (std::vector<int64_t>{1000, 1, 28, 28}));
  QVERIFY(std::memcmp(t.data_ptr<uint8_t>(), big.data(), big.size()) == 0);
}

void TestDatasets::idxConcatenatedGzip() {
  // `cat a.gz b.gz` is a valid gzip file holding a followed by b.
  const Bytes whole = make_idx(0x801, {3}, kLabels);
  const auto a = file("part-a.gz"), b = file("part-b.gz"), ab = file("concat-labels");
  write_gz(a, Bytes(whole.begin(), whole.begin() + 5));
  write_gz(b, Bytes(whole.begin() + 5, whole.end()));
  Bytes joined = read_raw(a);
  const Bytes second = read_raw(b);
  joined.insert(joined.end(), second.begin(), second.end());
  write_raw(ab, joined);
  QVERIFY(torch::equal(qnn::read_idx_labels(ab), torch::tensor({7, 0, 9}, torch::kInt64)));
}

void TestDatasets::loadDatasetPadsAndNormalises() {
  const std::string dir = subdir("mnist");
  // Train split gzip, test split raw: both forms are found.
  write_gz(dir + "/train-images-idx3-ubyte.gz", make_idx(0x803, {3, 2, 3}, pixels()));
  write_gz(dir + "/train-labels-idx1-ubyte.gz", make_idx(0x801, {3}, kLabels));
  write_raw(dir + "/t10k-images-idx3-ubyte", make_idx(0x803, {1, 2, 3}, Bytes{0, 255, 51, 102, 153, 204}));
  write_raw(dir + "/t10k-labels-idx1-ubyte", make_idx(0x801, {1}, Bytes{4}));

  qnn::DatasetSpec spec;
  spec.name = "mnist";
  spec.path = dir;
  spec.pad = 1;
  spec.normalize = true;
  const auto ds = qnn::load_dataset(spec, true);
  QCOMPARE(ds.size(), int64_t(3));
  QCOMPARE(ds.images.scalar_type(), torch::kFloat32);
  QCOMPARE(ds.images.sizes().vec(), (std::vector<int64_t>{3, 1, 4, 5}));
  QCOMPARE(ds.class_names.size(), size_t(10));
  QCOMPARE(ds.mean, std::vector<float>{0.1307f});
  QCOMPARE(ds.std, std::vector<float>{0.3081f});
  const auto p = pixels();
  const double pad_value = (0.0 - 0.1307) / 0.3081;
  for (int n = 0; n < 3; ++n) {
    for (int y = 0; y < 4; ++y) {
      for (int x = 0; x < 5; ++x) {
        const double got = ds.images[n][0][y][x].item<double>();
        const bool inside = y >= 1 && y <= 2 && x >= 1 && x <= 3;
        const double want =
            inside ? (p[size_t(n * 6 + (y - 1) * 3 + (x - 1))] / 255.0 - 0.1307) / 0.3081 : pad_value;
        QVERIFY2(std::abs(got - want) < 1e-5, qPrintable(QString("n%1 y%2 x%3: %4 vs %5")
                                                             .arg(n).arg(y).arg(x).arg(got).arg(want)));
      }
    }
  }
  QVERIFY(torch::equal(ds.labels, torch::tensor({7, 0, 9}, torch::kInt64)));

  const auto test = qnn::load_dataset(spec, false);
  QCOMPARE(test.images.sizes().vec(), (std::vector<int64_t>{1, 1, 4, 5}));
  QCOMPARE(test.images[0][0][1][2].item<float>(), float((1.0 - 0.1307) / 0.3081));
  QCOMPARE(test.labels[0].item<int64_t>(), int64_t(4));
}

void TestDatasets::loadDatasetWithoutNormalisationAndLimit() {
  const std::string dir = subdir("fm");
  write_raw(dir + "/train-images-idx3-ubyte", make_idx(0x803, {3, 2, 3}, pixels()));
  write_raw(dir + "/train-labels-idx1-ubyte", make_idx(0x801, {3}, kLabels));
  qnn::DatasetSpec spec;
  spec.name = "fashion-mnist";
  spec.path = dir;
  spec.pad = 0;
  spec.normalize = false;
  const auto ds = qnn::load_dataset(spec, true, 2);
  QCOMPARE(ds.size(), int64_t(2));
  QVERIFY(ds.mean.empty() && ds.std.empty());
  QCOMPARE(ds.images.sizes().vec(), (std::vector<int64_t>{2, 1, 2, 3}));
  const auto p = pixels();
  const auto flat = ds.images.contiguous().view(-1);
  for (int i = 0; i < 12; ++i) QCOMPARE(flat[i].item<float>(), float(p[size_t(i)]) / 255.0f);
  QVERIFY(torch::equal(ds.labels, torch::tensor({7, 0}, torch::kInt64)));
  QCOMPARE(ds.class_names.front(), std::string("T-shirt/top"));
  QCOMPARE(ds.class_names.back(), std::string("Ankle boot"));
}

void TestDatasets::badMagic() {
  const auto path = file("bad-magic");
  write_raw(path, make_idx(0x801, {3}, kLabels));  // a label file read as images
  const QString msg = thrown_message<qnn::DataError>([&] { qnn::read_idx_images(path); });
  QVERIFY2(msg.contains("bad-magic") && msg.contains("bad magic") && msg.contains("0x00000801"),
           qPrintable(msg));
}

void TestDatasets::truncatedHeader() {
  const auto path = file("short-header");
  write_raw(path, Bytes{0, 0, 8, 3, 0, 0, 0, 3, 0, 0});
  const QString msg = thrown_message<qnn::DataError>([&] { qnn::read_idx_images(path); });
  QVERIFY2(msg.contains("short-header") && msg.contains("expected 16 bytes, got 10"), qPrintable(msg));
}

void TestDatasets::truncatedData() {
  const auto path = file("short-data.gz");
  Bytes b = make_idx(0x803, {3, 2, 3}, pixels());
  b.resize(b.size() - 4);
  write_gz(path, b);
  const QString msg = thrown_message<qnn::DataError>([&] { qnn::read_idx_images(path); });
  QVERIFY2(msg.contains("short-data.gz") && msg.contains("truncated") &&
               msg.contains("expected 18 bytes") && msg.contains("got 14"),
           qPrintable(msg));
}

void TestDatasets::imageLabelCountMismatch() {
  const std::string dir = subdir("mismatch");
  write_raw(dir + "/train-images-idx3-ubyte", make_idx(0x803, {3, 2, 3}, pixels()));
  write_raw(dir + "/train-labels-idx1-ubyte", make_idx(0x801, {2}, Bytes{1, 2}));
  qnn::DatasetSpec spec;
  spec.name = "mnist";
  spec.path = dir;
  const QString msg = thrown_message<qnn::DataError>([&] { qnn::load_dataset(spec, true); });
  QVERIFY2(msg.contains("train-images-idx3-ubyte") && msg.contains("train-labels-idx1-ubyte") &&
               msg.contains("3 images") && msg.contains("2 labels"),
           qPrintable(msg));
}

void TestDatasets::labelOutOfRange() {
  const std::string dir = subdir("badlabel");
  write_raw(dir + "/t10k-images-idx3-ubyte", make_idx(0x803, {3, 2, 3}, pixels()));
  write_raw(dir + "/t10k-labels-idx1-ubyte", make_idx(0x801, {3}, Bytes{1, 12, 2}));
  qnn::DatasetSpec spec;
  spec.name = "fashion-mnist";
  spec.path = dir;
  const QString msg = thrown_message<qnn::DataError>([&] { qnn::load_dataset(spec, false); });
  QVERIFY2(msg.contains("t10k-labels-idx1-ubyte") && msg.contains("label 12") &&
               msg.contains("index 1") && msg.contains("[0, 10)"),
           qPrintable(msg));
}

void TestDatasets::missingFile() {
  const auto path = file("no-such-file");
  QString msg = thrown_message<qnn::IoError>([&] { qnn::read_idx_labels(path); });
  QVERIFY2(msg.contains("no-such-file") && msg.contains("not found"), qPrintable(msg));

  qnn::DatasetSpec spec;
  spec.name = "mnist";
  spec.path = subdir("empty");
  msg = thrown_message<qnn::IoError>([&] { qnn::load_dataset(spec, true); });
  QVERIFY2(msg.contains("train-images-idx3-ubyte") && msg.contains("not found"), qPrintable(msg));
  spec.name = "cifar10";
  msg = thrown_message<qnn::IoError>([&] { qnn::load_dataset(spec, false); });
  QVERIFY2(msg.contains("test_batch.bin") && msg.contains("not found"), qPrintable(msg));
}

void TestDatasets::corruptGzip() {
  Bytes data(5000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i % 7);
  const auto good = file("good.gz");
  write_gz(good, make_idx(0x803, {5, 25, 40}, data));
  Bytes gz = read_raw(good);
  QVERIFY(gz.size() > 30);
  for (size_t i = 10; i < gz.size() - 8; ++i) gz[i] = uint8_t(0xff - gz[i]);  // garble the deflate body
  const auto bad = file("garbled.gz");
  write_raw(bad, gz);
  const QString msg = thrown_message<qnn::DataError>([&] { qnn::read_idx_images(bad); });
  QVERIFY2(msg.contains("garbled.gz") && msg.contains("corrupt gzip"), qPrintable(msg));
}

void TestDatasets::truncatedGzip() {
  Bytes data(5000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t((i * 131) % 251);
  const auto good = file("whole.gz");
  write_gz(good, make_idx(0x803, {5, 25, 40}, data));
  Bytes gz = read_raw(good);
  gz.resize(gz.size() / 2);
  const auto cut = file("cut.gz");
  write_raw(cut, gz);
  const QString msg = thrown_message<qnn::DataError>([&] { qnn::read_idx_images(cut); });
  QVERIFY2(msg.contains("cut.gz") && msg.contains("corrupt gzip") && msg.contains("truncated"),
           qPrintable(msg));
}

void TestDatasets::cifar10RoundTrip() {
  const std::string dir = subdir("cifar");
  // Two records: label, then 3 x 32 x 32 bytes (R plane, G plane, B plane).
  Bytes b;
  for (int r = 0; r < 2; ++r) {
    b.push_back(uint8_t(r == 0 ? 3 : 9));
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 1024; ++i) b.push_back(uint8_t((r * 101 + c * 60 + i) % 256));
  }
  write_raw(dir + "/test_batch.bin", b);
  torch::Tensor images, labels;
  qnn::read_cifar10_batches({dir + "/test_batch.bin", dir + "/test_batch.bin"}, images, labels);
  QCOMPARE(images.sizes().vec(), (std::vector<int64_t>{4, 3, 32, 32}));
  QVERIFY(torch::equal(labels, torch::tensor({3, 9, 3, 9}, torch::kInt64)));
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 3; ++c)
      for (int i : {0, 1, 33, 1023}) {
        const int want = ((r % 2) * 101 + c * 60 + i) % 256;
        QCOMPARE(images[r][c][i / 32][i % 32].item<int>(), want);
      }

  qnn::DatasetSpec spec;
  spec.name = "cifar10";
  spec.path = dir;
  spec.pad = 0;
  const auto ds = qnn::load_dataset(spec, false);
  QCOMPARE(ds.images.sizes().vec(), (std::vector<int64_t>{2, 3, 32, 32}));
  QCOMPARE(ds.mean.size(), size_t(3));
  QCOMPARE(ds.class_names.size(), size_t(10));
  const double mean[3] = {0.4914, 0.4822, 0.4465}, sd[3] = {0.2470, 0.2435, 0.2616};
  for (int c = 0; c < 3; ++c) {
    const double want = ((101 + c * 60 + 5) % 256 / 255.0 - mean[c]) / sd[c];
    QVERIFY(std::abs(ds.images[1][c][0][5].item<double>() - want) < 1e-5);
  }
}

void TestDatasets::cifar10TruncatedAndBadLabel() {
  const auto cut = file("cut_batch.bin");
  write_raw(cut, Bytes(3073 + 100, 1));
  QString msg = thrown_message<qnn::DataError>([&] {
    torch::Tensor i, l;
    qnn::read_cifar10_batches({cut}, i, l);
  });
  QVERIFY2(msg.contains("cut_batch.bin") && msg.contains("expected 6146 bytes") &&
               msg.contains("got 3173"),
           qPrintable(msg));
  const auto bad = file("bad_batch.bin");
  Bytes rec(3073, 0);
  rec[0] = 10;
  write_raw(bad, rec);
  msg = thrown_message<qnn::DataError>([&] {
    torch::Tensor i, l;
    qnn::read_cifar10_batches({bad}, i, l);
  });
  QVERIFY2(msg.contains("bad_batch.bin") && msg.contains("label 10"), qPrintable(msg));
}

void TestDatasets::unknownDatasetIsConfigError() {
  qnn::DatasetSpec spec;
  spec.name = "imagenet";
  const QString msg = thrown_message<qnn::ConfigError>([&] { qnn::load_dataset(spec, true); });
  QVERIFY2(msg.contains("imagenet") && msg.contains("fashion-mnist"), qPrintable(msg));
}

void TestDatasets::datasetStatistics() {
  QCOMPARE(qnn::dataset_mean("fashion-mnist"), std::vector<float>{0.2860f});
  QCOMPARE(qnn::dataset_std("fashion-mnist"), std::vector<float>{0.3530f});
  QCOMPARE(qnn::dataset_mean("mnist"), std::vector<float>{0.1307f});
  QCOMPARE(qnn::dataset_std("mnist"), std::vector<float>{0.3081f});
  QCOMPARE(qnn::dataset_mean("cifar10"), (std::vector<float>{0.4914f, 0.4822f, 0.4465f}));
  QCOMPARE(qnn::dataset_std("cifar10"), (std::vector<float>{0.2470f, 0.2435f, 0.2616f}));
  const auto names = qnn::dataset_classes("fashion-mnist");
  const std::vector<std::string> want{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  QCOMPARE(names, want);
  QCOMPARE(qnn::dataset_classes("cifar10")[0], std::string("airplane"));
}

void TestDatasets::realFashionMnist() {
  qnn::DatasetSpec spec;  // defaults: the Debian package's folder, pad 2, normalised
  QCOMPARE(spec.name, std::string("fashion-mnist"));
  const auto t0 = std::chrono::steady_clock::now();
  const auto train = qnn::load_dataset(spec, true);
  const auto t1 = std::chrono::steady_clock::now();
  const auto test = qnn::load_dataset(spec, false);
  qInfo("Fashion-MNIST load: train %.3f s, test %.3f s",
        std::chrono::duration<double>(t1 - t0).count(),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count());

  QCOMPARE(train.images.sizes().vec(), (std::vector<int64_t>{60000, 1, 32, 32}));
  QCOMPARE(test.images.sizes().vec(), (std::vector<int64_t>{10000, 1, 32, 32}));
  QCOMPARE(train.labels.sizes().vec(), (std::vector<int64_t>{60000}));
  QCOMPARE(test.size(), int64_t(10000));
  QVERIFY(torch::equal(torch::bincount(train.labels), torch::full({10}, 6000, torch::kInt64)));
  QVERIFY(torch::equal(torch::bincount(test.labels), torch::full({10}, 1000, torch::kInt64)));

  const auto inner = train.images.narrow(2, 2, 28).narrow(3, 2, 28);
  const double mean = inner.mean().item<double>();
  const double sd = inner.std().item<double>();
  qInfo("normalised train pixels: mean %.5f, std %.5f", mean, sd);
  QVERIFY2(std::abs(mean) < 0.005, qPrintable(QString::number(mean)));
  QVERIFY2(std::abs(sd - 1.0) < 0.01, qPrintable(QString::number(sd)));
  const float pad_value = (0.0f - 0.2860f) / 0.3530f;
  QCOMPARE(train.images[123][0][0][17].item<float>(), pad_value);
  QCOMPARE(test.images[9999][0][31][31].item<float>(), pad_value);
  QCOMPARE(train.images.min().item<float>(), pad_value);
  QVERIFY(std::abs(train.images.max().item<float>() - (1.0f - 0.2860f) / 0.3530f) < 1e-5f);

  const auto limited = qnn::load_dataset(spec, false, 100);
  QCOMPARE(limited.size(), int64_t(100));
  QVERIFY(torch::equal(limited.images, test.images.narrow(0, 0, 100)));
  QVERIFY(torch::equal(limited.labels, test.labels.narrow(0, 0, 100)));
}

std::unique_ptr<QObject> make_image_folder_test();  // test_image_folder.cpp

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  return qnn_test::run_test_classes(
      argc, argv, {[] { return std::unique_ptr<QObject>(new TestDatasets); }, make_image_folder_test});
}

#include "test_datasets.moc"

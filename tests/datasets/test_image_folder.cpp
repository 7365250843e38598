// SPDX-License-Identifier: GPL-3.0-or-later
// The image-folder dataset: PNG and JPEG files written here with stb_image_write, then
// decoded pixel values, the class mapping, the split (recomputed from its documented
// rule), resize and pad (recomputed independently), the training-split statistics,
// the project file fields, and every bad file's error naming that file.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <stb/stb_image_write.h>

#include "core/data/dataset.h"
#include "core/data/image_folder.h"
#include "core/errors.h"
#include "core/graph/project.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/thrown_message.h"

namespace {

using Bytes = std::vector<uint8_t>;

void make_dir(const std::string& path) { QDir().mkpath(QString::fromStdString(path)); }

/// Writes an interleaved [h, w, comp] image as PNG.
void write_png(const std::string& path, int w, int h, int comp, const Bytes& px) {
  make_dir(QFileInfo(QString::fromStdString(path)).path().toStdString());
  QVERIFY(stbi_write_png(path.c_str(), w, h, comp, px.data(), w * comp) != 0);
}

void write_jpg(const std::string& path, int w, int h, int comp, const Bytes& px, int quality = 100) {
  make_dir(QFileInfo(QString::fromStdString(path)).path().toStdString());
  QVERIFY(stbi_write_jpg(path.c_str(), w, h, comp, px.data(), quality) != 0);
}

/// A w x h gray image of one value.
void write_gray(const std::string& path, int w, int h, uint8_t v) { write_png(path, w, h, 1, Bytes(size_t(w * h), v)); }

Bytes read_raw(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

void write_raw(const std::string& path, const Bytes& b) {
  make_dir(QFileInfo(QString::fromStdString(path)).path().toStdString());
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

/// FNV-1a 64, written again from its definition (the README's split rule).
uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

qnn::Project folder_project(const std::string& path, std::vector<int64_t> shape, const std::string& fit,
                            bool normalize = false) {
  qnn::Project p;
  p.input_shape = std::move(shape);
  p.dataset.name = "image-folder";
  p.dataset.path = path;
  p.dataset.pad = 0;
  p.dataset.fit = fit;
  p.dataset.normalize = normalize;
  return p;
}

/// stb_image_resize's triangle filter, recomputed: output pixel n of `out` samples the
/// source around centre (n + 0.5) * in / out - 0.5 with a tent of half-width
/// max(1, in / out) source pixels, edges clamped, weights normalised.
std::vector<double> tent_weights(int64_t in, int64_t out, int64_t n, int64_t& first) {
  const double scale = double(out) / double(in);  // < 1: shrinking
  const double support = scale < 1.0 ? 1.0 / scale : 1.0;
  const double centre = (double(n) + 0.5) / scale;
  first = int64_t(std::floor(centre - support)) - 1;
  const int64_t last = int64_t(std::ceil(centre + support)) + 1;
  std::vector<double> w;
  for (int64_t i = first; i <= last; ++i) {
    const double d = std::abs(double(i) + 0.5 - centre) * (scale < 1.0 ? scale : 1.0);
    w.push_back(std::max(0.0, 1.0 - d));
  }
  double sum = 0.0;
  for (double x : w) sum += x;
  for (double& x : w) x /= sum;
  return w;
}

/// Separable resize of one plane [h][w] (values 0..255) with tent_weights.
std::vector<double> reference_resize(const std::vector<double>& plane, int64_t h, int64_t w, int64_t oh, int64_t ow) {
  auto clamp = [](int64_t i, int64_t n) { return std::min(std::max<int64_t>(i, 0), n - 1); };
  std::vector<double> rows(size_t(h * ow));
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < ow; ++x) {
      int64_t first = 0;
      const auto wt = tent_weights(w, ow, x, first);
      double v = 0.0;
      for (size_t k = 0; k < wt.size(); ++k) v += wt[k] * plane[size_t(y * w + clamp(first + int64_t(k), w))];
      rows[size_t(y * ow + x)] = v;
    }
  std::vector<double> out(size_t(oh * ow));
  for (int64_t y = 0; y < oh; ++y) {
    int64_t first = 0;
    const auto wt = tent_weights(h, oh, y, first);
    for (int64_t x = 0; x < ow; ++x) {
      double v = 0.0;
      for (size_t k = 0; k < wt.size(); ++k) v += wt[k] * rows[size_t(clamp(first + int64_t(k), h) * ow + x)];
      out[size_t(y * ow + x)] = v;
    }
  }
  return out;
}

}  // namespace

class TestImageFolder : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void init() { QVERIFY(m_dir.isValid()); }
  void decodesPngPixels();
  void decodesJpegPixels();
  void classMappingAndDeterministicSplit();
  void trainTestFolders();
  void resizeMatchesTriangleFilter();
  void padCentresTheImage();
  void statisticsFromTheTrainingSplit();
  void grayscaleToRgbInput();
  void limitAndFilesFollowSampleOrder();
  void projectFileFields();
  void badFilesNameTheFile();
  void badFoldersAreReported();

 private:
  std::string dir(const std::string& name) const { return m_dir.filePath(QString::fromStdString(name)).toStdString(); }
  QTemporaryDir m_dir;
};

void TestImageFolder::decodesPngPixels() {
  // 3 x 2 RGB with distinct values.
  Bytes rgb;
  for (int i = 0; i < 2 * 3 * 3; ++i) rgb.push_back(uint8_t(i * 13 + 7));
  const std::string png = dir("px/rgb.png");
  write_png(png, 3, 2, 3, rgb);
  const auto t = qnn::decode_image(png, 3);
  QCOMPARE(t.sizes().vec(), (std::vector<int64_t>{3, 2, 3}));
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 3; ++c) QCOMPARE(t[c][y][x].item<int>(), int(rgb[size_t((y * 3 + x) * 3 + c)]));
  // RGB -> gray: stb_image's luma (77 R + 150 G + 29 B) >> 8.
  const auto g = qnn::decode_image(png, 1);
  QCOMPARE(g.sizes().vec(), (std::vector<int64_t>{1, 2, 3}));
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) {
      const uint8_t* p = &rgb[size_t((y * 3 + x) * 3)];
      QCOMPARE(g[0][y][x].item<int>(), (77 * p[0] + 150 * p[1] + 29 * p[2]) >> 8);
    }
  // RGBA: alpha dropped, colour kept.
  Bytes rgba{10, 20, 30, 0, 200, 100, 50, 255};
  write_png(dir("px/rgba.png"), 2, 1, 4, rgba);
  const auto a = qnn::decode_image(dir("px/rgba.png"), 3);
  QCOMPARE(a[0][0][0].item<int>(), 10);
  QCOMPARE(a[2][0][0].item<int>(), 30);
  QCOMPARE(a[1][0][1].item<int>(), 100);
  // The extension does not decide: a PNG named .jpg is read as PNG.
  write_png(dir("px/really_png.jpg"), 3, 2, 3, rgb);
  QVERIFY(torch::equal(qnn::decode_image(dir("px/really_png.jpg"), 3), t));
}

void TestImageFolder::decodesJpegPixels() {
  // 16 x 16 in four 8 x 8 blocks of one colour each: JPEG at quality 100 keeps a flat
  // block within a few steps.
  const uint8_t colours[4][3] = {{200, 30, 30}, {20, 180, 40}, {10, 20, 220}, {128, 128, 128}};
  Bytes px(16 * 16 * 3);
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x)
      for (int c = 0; c < 3; ++c) px[size_t((y * 16 + x) * 3 + c)] = colours[(y / 8) * 2 + x / 8][c];
  write_jpg(dir("jpg/blocks.jpeg"), 16, 16, 3, px);
  const auto t = qnn::decode_image(dir("jpg/blocks.jpeg"), 3);
  QCOMPARE(t.sizes().vec(), (std::vector<int64_t>{3, 16, 16}));
  for (int b = 0; b < 4; ++b)
    for (int c = 0; c < 3; ++c) {
      const int y = (b / 2) * 8 + 3, x = (b % 2) * 8 + 4;  // inside the block, away from its edges
      const int got = t[c][y][x].item<int>();
      QVERIFY2(std::abs(got - int(colours[b][c])) <= 6,
               qPrintable(QString("block %1 channel %2: %3 vs %4").arg(b).arg(c).arg(got).arg(colours[b][c])));
    }
}

void TestImageFolder::classMappingAndDeterministicSplit() {
  // Class folders sorted by byte value: "Bee" < "ant" < "zebra". Image k of a class is
  // a 4 x 4 gray image of value 10 * label + k, so each sample tells its file.
  const std::string root = dir("split");
  const std::vector<std::string> classes{"Bee", "ant", "zebra"};
  const std::map<std::string, int> counts{{"zebra", 7}, {"ant", 5}, {"Bee", 4}};
  std::map<std::string, uint8_t> value;  // "class/file" -> pixel value
  for (size_t c = 0; c < classes.size(); ++c)
    for (int k = 0; k < counts.at(classes[c]); ++k) {
      const std::string key = classes[c] + "/img" + std::to_string(k) + ".png";
      value[key] = uint8_t(10 * c + size_t(k));
      write_gray(root + "/" + key, 4, 4, value[key]);
    }
  write_raw(root + "/README.txt", Bytes{'h', 'i'});  // beside the class folders: ignored
  write_raw(root + "/ant/.DS_Store", Bytes{0, 1, 2});  // hidden: ignored

  qnn::Project p = folder_project(root, {1, 4, 4}, "none");
  p.dataset.test_fraction = 0.25;
  const auto train = qnn::load_dataset(p, true);
  const auto test = qnn::load_dataset(p, false);
  QCOMPARE(train.class_names, classes);
  QCOMPARE(test.class_names, classes);

  // The split recomputed from the documented rule: per class, the round(n * 0.25)
  // files of smallest (FNV-1a("class/file"), name) are the test set; each set in
  // (hash, name) order.
  std::vector<std::pair<uint64_t, std::string>> want_train, want_test;
  for (const std::string& c : classes) {
    std::vector<std::pair<uint64_t, std::string>> files;
    for (int k = 0; k < counts.at(c); ++k) {
      const std::string key = c + "/img" + std::to_string(k) + ".png";
      files.push_back({fnv1a(key), key});
    }
    std::sort(files.begin(), files.end());
    const size_t k = size_t(std::llround(double(files.size()) * 0.25));
    want_test.insert(want_test.end(), files.begin(), files.begin() + long(k));
    want_train.insert(want_train.end(), files.begin() + long(k), files.end());
  }
  std::sort(want_train.begin(), want_train.end());
  std::sort(want_test.begin(), want_test.end());
  QCOMPARE(train.size(), int64_t(want_train.size()));
  QCOMPARE(test.size(), int64_t(want_test.size()));
  QCOMPARE(test.size(), int64_t(1 + 1 + 2));  // round(4/4), round(5/4), round(7/4)
  auto check = [&](const qnn::Dataset& ds, const std::vector<std::pair<uint64_t, std::string>>& want) {
    for (int64_t i = 0; i < ds.size(); ++i) {
      const std::string& key = want[size_t(i)].second;
      QCOMPARE(ds.files[size_t(i)], key);
      const std::string cls = key.substr(0, key.find('/'));
      const auto label = ds.labels[i].item<int64_t>();
      QCOMPARE(ds.class_names[size_t(label)], cls);
      // Real decoded pixels: not normalised, so value / 255 everywhere.
      QVERIFY(torch::allclose(ds.images[i], torch::full({1, 4, 4}, value.at(key) / 255.0f)));
    }
  };
  check(train, want_train);
  check(test, want_test);

  // Stable: another load, and files written in another order with other dates, split the same.
  const auto again = qnn::load_dataset(p, false);
  QCOMPARE(again.files, test.files);
  const std::string copy = dir("split_copy");
  for (auto it = value.rbegin(); it != value.rend(); ++it) write_gray(copy + "/" + it->first, 4, 4, it->second);
  p.dataset.path = copy;
  QCOMPARE(qnn::load_dataset(p, false).files, test.files);
}

void TestImageFolder::trainTestFolders() {
  const std::string root = dir("tt");
  write_gray(root + "/train/cat/a.png", 2, 2, 1);
  write_gray(root + "/train/cat/b.png", 2, 2, 2);
  write_gray(root + "/train/dog/nested/c.png", 2, 2, 3);  // subfolders belong to the class
  write_gray(root + "/train/eel/d.png", 2, 2, 4);
  write_gray(root + "/test/dog/e.png", 2, 2, 5);  // test/ lacks cat and eel: allowed
  const auto layout = qnn::scan_image_folder(folder_project(root, {1, 2, 2}, "none").dataset);
  QVERIFY(layout.split_folders);
  QCOMPARE(layout.classes, (std::vector<std::string>{"cat", "dog", "eel"}));
  QCOMPARE(layout.train_files.size(), size_t(4));
  const qnn::Project p = folder_project(root, {1, 2, 2}, "none");
  const auto test = qnn::load_dataset(p, false);
  QCOMPARE(test.size(), int64_t(1));
  QCOMPARE(test.files[0], std::string("test/dog/e.png"));
  QCOMPARE(test.labels[0].item<int64_t>(), int64_t(1));  // dog is class 1 of train/'s classes
  QCOMPARE(test.images[0][0][0][0].item<float>(), 5.0f / 255.0f);
  const auto train = qnn::load_dataset(p, true);
  const auto pos = std::find(train.files.begin(), train.files.end(), "train/dog/nested/c.png") - train.files.begin();
  QVERIFY(pos < train.size());
  QCOMPARE(train.labels[pos].item<int64_t>(), int64_t(1));
}

void TestImageFolder::resizeMatchesTriangleFilter() {
  // Enlarging 3 x 2 -> 7 x 5 (bilinear) and shrinking 9 x 8 -> 4 x 3 (tent over the
  // source pixels), recomputed in doubles: at most one step of rounding apart.
  struct Case {
    int64_t h, w, oh, ow;
  };
  for (const Case& k : {Case{2, 3, 5, 7}, Case{8, 9, 3, 4}}) {
    std::vector<double> plane;
    auto img = torch::empty({1, k.h, k.w}, torch::kUInt8);
    for (int64_t i = 0; i < k.h * k.w; ++i) {
      const auto v = uint8_t((i * 71 + 13) % 256);
      plane.push_back(v);
      img.view(-1)[i] = v;
    }
    const auto got = qnn::fit_image(img, k.oh, k.ow, "resize", "x.png");
    QCOMPARE(got.sizes().vec(), (std::vector<int64_t>{1, k.oh, k.ow}));
    const auto want = reference_resize(plane, k.h, k.w, k.oh, k.ow);
    for (int64_t i = 0; i < k.oh * k.ow; ++i) {
      const int g = got.view(-1)[i].item<int>();
      QVERIFY2(std::abs(g - want[size_t(i)]) <= 1.0,
               qPrintable(QString("%1x%2 -> %3x%4 pixel %5: %6 vs %7")
                              .arg(k.w).arg(k.h).arg(k.ow).arg(k.oh).arg(i).arg(g).arg(want[size_t(i)])));
    }
  }
  // Through the dataset: a 6 x 4 PNG fitted to the 3 x 2 input with fit "resize".
  Bytes px;
  std::vector<double> plane;
  for (int i = 0; i < 24; ++i) {
    px.push_back(uint8_t(i * 10));
    plane.push_back(i * 10);
  }
  write_png(dir("rs/a/x.png"), 6, 4, 1, px);
  const auto ds = qnn::load_dataset(folder_project(dir("rs"), {1, 2, 3}, "resize"), true);
  const auto want = reference_resize(plane, 4, 6, 2, 3);
  for (int64_t i = 0; i < 6; ++i)
    QVERIFY(std::abs(ds.images.view(-1)[i].item<double>() * 255.0 - want[size_t(i)]) <= 1.0 + 1e-4);
}

void TestImageFolder::padCentresTheImage() {
  auto img = torch::arange(1, 7, torch::kUInt8).view({1, 2, 3});  // 1..6
  const auto out = qnn::fit_image(img, 5, 6, "pad", "x.png");
  // Offsets floor((5 - 2) / 2) = 1 and floor((6 - 3) / 2) = 1.
  auto want = torch::zeros({1, 5, 6}, torch::kUInt8);
  want.narrow(1, 1, 2).narrow(2, 1, 3).copy_(img);
  QVERIFY(torch::equal(out, want));
  QVERIFY(torch::equal(qnn::fit_image(img, 2, 3, "pad", "x.png"), img));
  QVERIFY(torch::equal(qnn::fit_image(img, 2, 3, "none", "x.png"), img));
}

void TestImageFolder::statisticsFromTheTrainingSplit() {
  // RGB images of one colour each, padded into a larger input: the mean/std are those
  // of the training images' own pixels (border excluded), and the test set uses them.
  const std::string root = dir("stats");
  std::map<std::string, std::array<uint8_t, 3>> colour;
  for (int c = 0; c < 2; ++c)
    for (int k = 0; k < 5; ++k) {
      const std::string key = std::string(c ? "b" : "a") + "/i" + std::to_string(k) + ".png";
      colour[key] = {uint8_t(20 + 40 * k + c), uint8_t(200 - 30 * k), uint8_t(7 * k * k)};
      Bytes px;
      for (int i = 0; i < 2 * 3; ++i) px.insert(px.end(), colour[key].begin(), colour[key].end());
      write_png(root + "/" + key, 3, 2, 3, px);
    }
  qnn::Project p = folder_project(root, {3, 4, 5}, "pad", true);
  p.dataset.test_fraction = 0.4;
  const auto train = qnn::load_dataset(p, true);
  const auto test = qnn::load_dataset(p, false);
  QCOMPARE(train.size(), int64_t(6));
  QCOMPARE(test.size(), int64_t(4));
  for (int ch = 0; ch < 3; ++ch) {
    double sum = 0.0, sq = 0.0;  // every image has 6 pixels: a plain mean over the files
    for (const std::string& f : train.files) {
      const double v = colour.at(f)[size_t(ch)] / 255.0;
      sum += v;
      sq += v * v;
    }
    const double mean = sum / 6.0, sd = std::sqrt(sq / 6.0 - mean * mean);
    QVERIFY(std::abs(train.mean[size_t(ch)] - mean) < 1e-6);
    QVERIFY(std::abs(train.std[size_t(ch)] - sd) < 1e-6);
    QCOMPARE(test.mean[size_t(ch)], train.mean[size_t(ch)]);
    QCOMPARE(test.std[size_t(ch)], train.std[size_t(ch)]);
    // A test pixel inside the image and one on the black border.
    const double v = colour.at(test.files[0])[size_t(ch)] / 255.0;
    QVERIFY(std::abs(test.images[0][ch][1][1].item<double>() - (v - mean) / sd) < 1e-4);
    QVERIFY(std::abs(test.images[0][ch][0][0].item<double>() - (0.0 - mean) / sd) < 1e-4);
  }
  // dataset_info gives the same classes and statistics (the export's preprocessing).
  const auto info = qnn::dataset_info(p);
  QCOMPARE(info.class_names, (std::vector<std::string>{"a", "b"}));
  QCOMPARE(info.mean, train.mean);
  QCOMPARE(info.std, train.std);
}

void TestImageFolder::grayscaleToRgbInput() {
  write_gray(dir("g2rgb/one/x.png"), 2, 2, 77);
  write_gray(dir("g2rgb/one/y.png"), 2, 2, 78);
  const auto ds = qnn::load_dataset(folder_project(dir("g2rgb"), {3, 2, 2}, "none"), true);
  QCOMPARE(ds.images.sizes().vec(), (std::vector<int64_t>{2, 3, 2, 2}));  // round(2 * 0.2) = 0 test images
  for (int64_t i = 0; i < 2; ++i) {
    const float v = (ds.files[size_t(i)] == "one/x.png" ? 77 : 78) / 255.0f;
    QVERIFY(torch::allclose(ds.images[i], torch::full({3, 2, 2}, v)));
  }
  // A 2-channel input is refused.
  const QString msg = thrown_message<qnn::ConfigError>(
      [&] { qnn::load_dataset(folder_project(dir("g2rgb"), {2, 2, 2}, "none"), true); });
  QVERIFY2(msg.contains("C = 1") && msg.contains("3"), qPrintable(msg));
}

void TestImageFolder::limitAndFilesFollowSampleOrder() {
  for (int k = 0; k < 6; ++k) write_gray(dir("lim/c" + std::to_string(k % 2) + "/f" + std::to_string(k) + ".png"), 2, 2, uint8_t(k));
  qnn::Project p = folder_project(dir("lim"), {1, 2, 2}, "none", true);
  const auto all = qnn::load_dataset(p, true);
  const auto some = qnn::load_dataset(p, true, 2);
  QCOMPARE(some.size(), int64_t(2));
  QCOMPARE(some.files, std::vector<std::string>(all.files.begin(), all.files.begin() + 2));
  QVERIFY(torch::equal(some.images, all.images.narrow(0, 0, 2)));
  QCOMPARE(some.mean, all.mean);  // statistics of the whole training split, not of the limit
}

void TestImageFolder::projectFileFields() {
  const std::string text = R"({"format": "qnn-studio-project", "version": 2, "input": {"shape": [3, 32, 32]},
    "dataset": {"name": "image-folder", "path": "photos", "fit": "pad", "test_fraction": 0.3},
    "layers": [{"id": "input", "type": "Input"}]})";
  const qnn::Project p = qnn::project_from_json(text, "p.json");
  QCOMPARE(p.dataset.fit, std::string("pad"));
  QCOMPARE(p.dataset.test_fraction, 0.3);
  QCOMPARE(p.dataset.pad, 0);  // the default of an image folder
  const std::string saved = qnn::project_to_json(p);
  QVERIFY(saved.find("\"fit\": \"pad\"") != std::string::npos);
  QVERIFY(saved.find("\"test_fraction\": 0.3") != std::string::npos);
  QVERIFY(qnn::project_from_json(saved, "saved") == p);
  // The other datasets' files do not grow the new keys.
  qnn::Project idx;
  const std::string plain = qnn::project_to_json(idx);
  QVERIFY(plain.find("fit") == std::string::npos && plain.find("test_fraction") == std::string::npos);
  // Bad values are refused at load, naming the field.
  QString msg = thrown_message<qnn::ConfigError>([&] {
    qnn::project_from_json(R"({"format": "qnn-studio-project", "version": 2, "input": {"shape": [1, 8, 8]},
      "dataset": {"name": "image-folder", "fit": "crop"}, "layers": []})", "p.json");
  });
  QVERIFY2(msg.contains("dataset.fit") && msg.contains("crop") && msg.contains("resize"), qPrintable(msg));
  msg = thrown_message<qnn::ConfigError>([&] {
    qnn::project_from_json(R"({"format": "qnn-studio-project", "version": 2, "input": {"shape": [1, 8, 8]},
      "dataset": {"name": "image-folder", "test_fraction": 1.0}, "layers": []})", "p.json");
  });
  QVERIFY2(msg.contains("dataset.test_fraction") && msg.contains("between 0 and 1"), qPrintable(msg));
}

void TestImageFolder::badFilesNameTheFile() {
  // Each case: a good class, a class holding one bad file; the DataError names the file.
  Bytes good_rgb(4 * 4 * 3, 90);
  write_png(dir("good.png"), 4, 4, 3, good_rgb);
  write_jpg(dir("good.jpg"), 16, 16, 3, Bytes(16 * 16 * 3, 120));
  const Bytes png = read_raw(dir("good.png"));
  const Bytes jpg = read_raw(dir("good.jpg"));
  QVERIFY(png.size() > 40 && jpg.size() > 100);
  struct Case {
    const char* name;
    Bytes content;  // empty with `size`: a gray image of that size instead
    int w, h;
    const char* fit;
    std::vector<const char*> expect;
  };
  const std::vector<Case> cases = {
      {"cut.png", Bytes(png.begin(), png.begin() + long(png.size() / 2)), 0, 0, "none",
       {"cannot decode this PNG image", "stb_image:", "corrupt or truncated"}},
      {"cut_header.png", Bytes(png.begin(), png.begin() + 20), 0, 0, "none", {"PNG", "stb_image:"}},
      {"cut.jpg", Bytes(jpg.begin(), jpg.begin() + long(jpg.size() * 2 / 3)), 0, 0, "none",
       {"truncated JPEG", "FF D9"}},
      {"garbage.png", Bytes(100, 0x42), 0, 0, "none", {"not a PNG or JPEG image", "42 42 42 42"}},
      {"bitmap.png", Bytes{'B', 'M', 0, 0, 0, 0, 0, 0}, 0, 0, "none", {"not a PNG or JPEG", "BMP"}},
      {"anim.gif", Bytes{'G', 'I', 'F', '8', '9', 'a', 0, 0}, 0, 0, "none", {"GIF", "only PNG and JPEG"}},
      {"notes.txt", Bytes{'h', 'e', 'l', 'l', 'o'}, 0, 0, "none", {"not a PNG or JPEG image"}},
      {"empty.png", Bytes{}, 0, 0, "none", {"empty file"}},
      {"big.png", Bytes{}, 5, 4, "none", {"is 5x4", "needs 4x4", "fit"}},
      {"huge.png", Bytes{}, 6, 3, "pad", {"is 6x3", "larger than the 4x4"}},
  };
  int n = 0;
  for (const Case& k : cases) {
    const std::string root = dir("bad" + std::to_string(n++));
    write_png(root + "/fine/ok.png", 4, 4, 3, good_rgb);
    if (k.w > 0)
      write_gray(root + "/broken/" + k.name, k.w, k.h, 50);
    else
      write_raw(root + "/broken/" + k.name, k.content);
    const qnn::Project p = folder_project(root, {3, 4, 4}, k.fit);
    // The bad file is in the training or the test split: loading both finds it.
    const QString msg = thrown_message<qnn::DataError>([&] {
      qnn::load_dataset(p, true);
      qnn::load_dataset(p, false);
    });
    const QString file = QString("broken/") + k.name;
    QVERIFY2(msg.contains(file), qPrintable(QString(k.name) + ": " + msg));
    for (const char* e : k.expect) QVERIFY2(msg.contains(e), qPrintable(QString(k.name) + ": " + msg));
  }
  // Two bad files: the first in sample order is named, the other counted.
  const std::string two = dir("two_bad");
  write_raw(two + "/a/x.png", Bytes(10, 1));
  write_raw(two + "/a/y.png", Bytes(10, 1));
  write_png(two + "/b/ok.png", 4, 4, 3, good_rgb);
  qnn::Project p = folder_project(two, {3, 4, 4}, "none");
  p.dataset.test_fraction = 0.01;  // both stay in the training split
  const QString msg = thrown_message<qnn::DataError>([&] { qnn::load_dataset(p, true); });
  QVERIFY2(msg.contains("and 1 more file of the training set"), qPrintable(msg));
}

void TestImageFolder::badFoldersAreReported() {
  struct Case {
    std::vector<std::string> files;  // created as 2 x 2 gray PNGs
    std::vector<std::string> dirs;   // created empty
    std::vector<const char*> expect;
  };
  const std::vector<Case> cases = {
      {{}, {}, {"no class folders"}},
      {{"cat/a.png"}, {"dog"}, {"dog", "has no images"}},
      {{"cat/a.png", "loose.png"}, {}, {"loose.png", "outside the class folders"}},
      {{"train/cat/a.png", "test/dog/b.png"}, {}, {"test/dog", "no folder in train/"}},
      {{"train/cat/a.png", "test/cat/b.png", "val/cat/c.png"}, {}, {"beside other folders", "val"}},
      {{"train/cat/a.png"}, {"test/cat"}, {"test/cat", "has no images"}},
  };
  int n = 0;
  for (const Case& k : cases) {
    const std::string root = dir("folders" + std::to_string(n++));
    make_dir(root);
    for (const std::string& f : k.files) write_gray(root + "/" + f, 2, 2, 9);
    for (const std::string& d : k.dirs) make_dir(root + "/" + d);
    const QString msg = thrown_message<qnn::DataError>(
        [&] { qnn::load_dataset(folder_project(root, {1, 2, 2}, "none"), true); });
    for (const char* e : k.expect) QVERIFY2(msg.contains(e), qPrintable(QString::number(n) + ": " + msg));
  }
  const QString missing = thrown_message<qnn::IoError>(
      [&] { qnn::load_dataset(folder_project(dir("nowhere"), {1, 2, 2}, "none"), true); });
  QVERIFY2(missing.contains("nowhere") && missing.contains("not found"), qPrintable(missing));
}

std::unique_ptr<QObject> make_image_folder_test() { return std::make_unique<TestImageFolder>(); }

#include "test_image_folder.moc"

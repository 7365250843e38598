// SPDX-License-Identifier: GPL-3.0-or-later
// Misclassified sample images (widgets/inspect/misclassified_images.h), shared by the
// training worker and `qnn inspect`: de-normalisation, rounding, grey vs RGB, and the
// set's labels (run from test_gui_inspect's main).
// Torch and core headers come before any Qt header (Qt's `slots` vs LibTorch).
#include <torch/torch.h>

#include "core/data/dataset.h"
#include "core/inspect/inspect.h"

#include <QtTest>
#include <memory>

#include "widgets/inspect/misclassified_images.h"

using namespace qnn;

class TestGuiInspectImages : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void greyAndRgbImagesUndoTheNormalisation();
};

void TestGuiInspectImages::greyAndRgbImagesUndoTheNormalisation() {
  // One channel, 2x3 pixels, mean 0.5, std 0.25: pixel = round(255 * clamp(x * 0.25 + 0.5)).
  Dataset grey;
  grey.images = torch::tensor({0.0f, 1.0f, -2.0f, 2.0f, -3.0f, 0.4f}).reshape({1, 1, 2, 3});
  grey.labels = torch::tensor({int64_t(3)});
  grey.class_names = {"a", "b", "c", "d"};
  grey.mean = {0.5f};
  grey.std = {0.25f};
  const QImage g = sampleImage(grey, 0);
  QCOMPARE(g.format(), QImage::Format_Grayscale8);
  QCOMPARE(g.size(), QSize(3, 2));
  // 0.5 -> 127.5 -> 128; 0.75 -> 191.25 -> 191; 0 -> 0; 1 -> 255; -0.25 -> 0; 0.6 -> 153.
  const int expected[2][3] = {{128, 191, 0}, {255, 0, 153}};
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) QCOMPARE(int(g.constScanLine(y)[x]), expected[y][x]);

  // Three channels, 1x1: each channel with its own mean / std.
  Dataset rgb;
  rgb.images = torch::tensor({2.0f, 0.0f, -0.5f}).reshape({1, 3, 1, 1});
  rgb.labels = torch::tensor({int64_t(0)});
  rgb.mean = {0.2f, 0.4f, 0.6f};
  rgb.std = {0.1f, 0.2f, 0.3f};
  const QImage c = sampleImage(rgb, 0);
  QCOMPARE(c.format(), QImage::Format_RGB888);
  QCOMPARE(c.pixelColor(0, 0), QColor(102, 102, 115));  // 0.4, 0.4, 0.45 of 255, rounded

  // The set: labels, classes, the test size and one image per sample.
  inspect::Misclassified m;
  m.index = 0;
  m.label = 3;
  m.predicted = 1;
  m.confidence = 0.75;
  const MisclassifiedSet set = misclassifiedSet(grey, {m});
  QCOMPARE(set.classNames, (QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c"), QStringLiteral("d")}));
  QCOMPARE(set.testSamples, qint64(1));
  QCOMPARE(set.samples.size(), 1);
  QCOMPARE(set.samples[0].label, 3);
  QCOMPARE(set.samples[0].predicted, 1);
  QCOMPARE(set.samples[0].confidence, 0.75);
  QCOMPARE(set.samples[0].image, g);
}

std::unique_ptr<QObject> makeGuiInspectImageTests() { return std::make_unique<TestGuiInspectImages>(); }

#include "test_gui_inspect_images.moc"

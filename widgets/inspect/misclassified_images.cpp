// SPDX-License-Identifier: GPL-3.0-or-later
#include <torch/torch.h>

#include "core/data/dataset.h"
#include "core/inspect/inspect.h"

#include "widgets/inspect/misclassified_images.h"

namespace qnn {

QImage sampleImage(const Dataset& data, int64_t index) {
  torch::Tensor x = data.images[index].to(torch::kFloat32).clone();  // [C, H, W]
  const int64_t c = x.size(0);
  for (int64_t ch = 0; ch < c; ++ch)
    if (size_t(ch) < data.std.size() && size_t(ch) < data.mean.size())
      x[ch].mul_(data.std[size_t(ch)]).add_(data.mean[size_t(ch)]);
  x = (x.clamp(0.0, 1.0) * 255.0).round().to(torch::kUInt8).contiguous();
  const int h = int(x.size(1)), w = int(x.size(2));
  const uint8_t* p = x.data_ptr<uint8_t>();
  QImage img(w, h, c == 1 ? QImage::Format_Grayscale8 : QImage::Format_RGB888);
  for (int y = 0; y < h; ++y) {
    uchar* line = img.scanLine(y);
    for (int xx = 0; xx < w; ++xx) {
      if (c == 1) {
        line[xx] = p[y * w + xx];
      } else {
        for (int ch = 0; ch < 3; ++ch) line[xx * 3 + ch] = p[(ch % c) * h * w + y * w + xx];
      }
    }
  }
  return img;
}

MisclassifiedSet misclassifiedSet(const Dataset& test, const std::vector<inspect::Misclassified>& found) {
  MisclassifiedSet set;
  for (const std::string& n : test.class_names) set.classNames << QString::fromStdString(n);
  set.testSamples = test.size();
  for (const inspect::Misclassified& m : found)
    set.samples.push_back({m.index, int(m.label), int(m.predicted), m.confidence, sampleImage(test, m.index)});
  return set;
}

}  // namespace qnn

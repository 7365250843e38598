// SPDX-License-Identifier: GPL-3.0-or-later
// Misclassified test samples as images, built one way for the GUI's training worker
// and `qnn inspect` (no LibTorch in this header).
#pragma once

#include <QImage>
#include <cstdint>
#include <vector>

#include "widgets/inspect/inspection_types.h"

namespace qnn {

struct Dataset;
namespace inspect {
struct Misclassified;
}

/// Sample `index` of `data` (images [N, C, H, W] float, normalised with data.mean /
/// data.std per channel) as an 8-bit image: x * std + mean, clamped to [0, 1], * 255,
/// rounded. One channel: Format_Grayscale8; otherwise Format_RGB888 from channels
/// 0, 1, 2 (repeated when there are fewer). Throws c10::Error for an index out of range.
QImage sampleImage(const Dataset& data, int64_t index);

/// The set shown by the Misclassified tab: `found` (inspect::misclassified on `test`)
/// with their images, the class names and the size of `test`.
MisclassifiedSet misclassifiedSet(const Dataset& test, const std::vector<inspect::Misclassified>& found);

}  // namespace qnn

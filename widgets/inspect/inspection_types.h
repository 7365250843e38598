// SPDX-License-Identifier: GPL-3.0-or-later
// Qt-side handles of the inspection data, small enough for queued signals. The report
// itself (core/inspect/inspect.h, LibTorch) is only forward-declared here: widgets pass
// an immutable shared report between threads and include the core header in .cpp files.
#pragma once

#include <memory>

#include <QImage>
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>

namespace qnn::inspect {
struct Report;
}

namespace qnn {

/// An inspection report shared read-only between the worker thread that computed it
/// and the views. Never null when sent by TrainingController::inspectionReport.
using InspectionReportPtr = std::shared_ptr<const inspect::Report>;

/// One misclassified test image (inspect::Misclassified plus its pixels).
struct MisclassifiedSample {
  qint64 index = 0;        ///< position in the test set
  int label = 0;           ///< true class
  int predicted = 0;       ///< predicted class
  double confidence = 0.0; ///< softmax probability of `predicted`, in [0, 1]
  QImage image;            ///< the test image, de-normalised to 8-bit (grey or RGB)
};

/// Up to 64 misclassified test images in dataset order.
struct MisclassifiedSet {
  QVector<MisclassifiedSample> samples;
  QStringList classNames;
  qint64 testSamples = 0;  ///< size of the test set that was searched
};

/// "18.3 dB", "∞ dB" (exact), "—" (NaN: nothing quantized).
QString dbText(double db, int decimals = 1);
/// A scale or MSE in 4 significant digits ("0.01234", "1.5e-05").
QString realText(double v);

/// Registers InspectionReportPtr and MisclassifiedSet for queued connections.
void registerInspectionMetaTypes();

}  // namespace qnn

Q_DECLARE_METATYPE(qnn::InspectionReportPtr)
Q_DECLARE_METATYPE(qnn::MisclassifiedSet)

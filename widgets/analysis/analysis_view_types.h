// SPDX-License-Identifier: GPL-3.0-or-later
// Qt-side handles of the analysis results (core/analysis/analysis.h, which includes
// LibTorch): only forward-declared here, so the views' headers stay free of torch.
// Include core/analysis/analysis.h in .cpp files that fill or read these.
#pragma once

#include <memory>
#include <vector>

namespace qnn::analysis {
struct AnalyzerReport;
struct MixedConfig;
enum class CostAxis;  // SizeBytes, BitOps (core/analysis/analysis.h)
}  // namespace qnn::analysis

namespace qnn {

/// An analyzer report shared read-only between the worker thread that computed it and
/// the view (AnalyzerView::setReport).
using AnalyzerReportPtr = std::shared_ptr<const analysis::AnalyzerReport>;
/// A Pareto front (analysis::pareto_front: sorted by cost, none dominated).
using ParetoFrontPtr = std::shared_ptr<const std::vector<analysis::MixedConfig>>;

}  // namespace qnn

// SPDX-License-Identifier: GPL-3.0-or-later
// `qnn export`: pre-flight, export, optional verification (core/export).
#include <iostream>
#include <string>

#include <torch/torch.h>

#include "app/cli/cli.h"
#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/export/export.h"
#include "core/export/verify.h"
#include "core/graph/fold_batch_norm.h"
#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/train/checkpoint.h"
#include "core/train/trainer.h"

namespace qnn::cli {

int run_export(const CommandArgs& args) {
  const std::string checkpoint = args.text("checkpoint");
  const std::string format_name = args.text("format");
  const std::string out = args.text("out");
  if (checkpoint.empty()) throw UsageError("'qnn export' needs --checkpoint CKPT");
  if (format_name.empty()) throw UsageError("'qnn export' needs --format qcdq|qonnx|packed|checkpoint|brevitas");
  if (out.empty()) throw UsageError("'qnn export' needs --out FILE (--out DIR for brevitas)");
  ExportFormat format;
  try {
    format = export_format_from_string(format_name);
  } catch (const ConfigError& e) {
    throw UsageError(e.what());
  }
  const bool verify = args.has("verify");
  const int64_t samples = args.integer("verify-samples", 1, 1000);
  if (verify && format != ExportFormat::Qcdq && format != ExportFormat::Packed)
    throw UsageError("--verify runs qcdq (in ONNX Runtime) and packed exports, not " + format_name);
  const std::string c_header = args.text("c-header");
  if (!c_header.empty() && format != ExportFormat::Packed) throw UsageError("--c-header needs --format packed");
  for (const std::string& input : {args.project, checkpoint}) {  // never write over what is read
    refuse_overwriting(input, out, "--out");
    if (!c_header.empty()) refuse_overwriting(input, c_header, "--c-header");
  }

  Project p = load_project_for_target(args);  // --target finn: FINN-flavoured QONNX
  p.training.threads = static_cast<int>(args.integer("threads", 0, p.training.threads));
  const bool fold_bn = args.has("fold-bn");

  // Pre-flight before anything heavy (and before any file is written), on the network
  // that will be written: the folded one with --fold-bn (ConfigError naming the
  // BatchNorm layer that cannot be folded).
  const std::vector<ExportIssue> issues = preflight(fold_bn ? fold_batch_norm_project(p) : p, format);
  bool refused = false;
  for (const ExportIssue& i : issues) {
    std::cerr << i.text() << "\n";
    refused = refused || i.error;
  }
  if (refused) {
    std::cerr << "qnn export: " << args.project << " cannot be exported as " << format_name
              << "; nothing was written" << std::endl;
    return kExitFailed;
  }

  QuantModel model = load_trained_model(p, args.project, checkpoint);
  const size_t folds = fold_bn ? batch_norm_layers(p).size() : 0;
  if (fold_bn && folds == 0) {
    std::cout << "fold-bn: nothing to fold (the network has no BatchNorm layer)" << std::endl;
  } else if (fold_bn) {
    QuantModel folded = fold_batch_norm(model);  // ConfigError when a BatchNorm has no running statistics
    std::cout << "fold-bn: folded " << folds << " BatchNorm layer(s) into the layer before each" << std::endl;
    // The weight quantizers now see other weights: say what that did to the predictions
    // (--verify then compares the file with the folded model).
    try {
      const FoldComparison c = compare_folded(model, folded, samples);
      std::cout << (c.changed() ? "warning: fold-bn: " : "fold-bn: ") << c.text() << std::endl;
    } catch (const DataError& e) {
      std::cout << "fold-bn: not compared with the unfolded model (" << e.what() << ")" << std::endl;
    }
    model = folded;
  }

  ExportOptions options;
  options.c_header = c_header;
  const ExportResult r = export_model(model, format, out, options);
  std::cout << r.summary << std::endl;
  if (!verify) return kExitOk;

  const Dataset test = load_dataset(p, false, samples);
  std::cout << "verify: " << test.size() << " test images of " << p.dataset.name << std::endl;
  const VerifyResult v = verify_export(model, format, out, test.images);
  std::cout << "verify (" << v.runtime << "): " << v.text() << std::endl;
  std::cout << "agreement=" << v.agreement << " strict_agreement=" << v.strict_agreement << " max_abs_diff=" << v.max_abs_diff
            << " max_steps=" << v.max_steps << std::endl;
  if (!v.passed)
    std::cerr << "qnn export: the exported file does not compute what the app computes "
              << "(needs >= 99.9% agreement and logits within one output-scale step)" << std::endl;
  return v.passed ? kExitOk : kExitFailed;
}

}  // namespace qnn::cli

// SPDX-License-Identifier: GPL-3.0-or-later
// `qnn inspect`: the inspection report of a trained checkpoint, headless. Computes
// qnn::inspect::Report on the first N test images, writes its CSV tables and a PNG of
// every view, rendered offscreen by the same widget classes as the GUI's Inspection
// dock, and prints the per-layer SQNR table with "worst_layer=<id> (<sqnr> dB)" last.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "app/cli/cli.h"
#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/graph/project.h"
#include "core/inspect/inspect.h"
#include "core/train/checkpoint_steps.h"
#include "core/train/trainer.h"

#include <QApplication>
#include <QtGlobal>
#include <QDir>
#include <QImage>

#include "widgets/inspect/inspection_types.h"
#include "widgets/inspect/misclassified_images.h"
#include "widgets/plots/activation_range_plot.h"
#include "widgets/plots/confusion_matrix_view.h"
#include "widgets/plots/misclassified_gallery.h"
#include "widgets/plots/plot_export.h"
#include "widgets/plots/quant_error_view.h"
#include "widgets/plots/scale_plot.h"
#include "widgets/plots/weight_histogram_plot.h"

namespace qnn::cli {
namespace {

constexpr int kWidth = 1000, kHeight = 700;

std::string db_text(double v) {
  if (std::isnan(v)) return "-";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::ostringstream o;
  o << std::fixed << std::setprecision(2) << v;
  return o.str();
}


class Writer {
 public:
  explicit Writer(const std::string& dir) : m_dir(QString::fromStdString(dir)) {}
  void png(QWidget* view, const QString& name) {
    const QString path = QDir(m_dir).filePath(name);
    view->resize(kWidth, kHeight);
    view->show();  // offscreen: lays out item views (the gallery) before rendering
    QApplication::processEvents();
    QString error;
    if (!saveViewPng(view, path, &error, kWidth, kHeight)) throw IoError(error.toStdString());
    m_written.push_back(path.toStdString());
  }
  const std::vector<std::string>& written() const { return m_written; }

 private:
  QString m_dir;
  std::vector<std::string> m_written;
};

MisclassifiedSet misclassified_set(QuantModel& model, const Dataset& test) {
  return misclassifiedSet(test, inspect::misclassified(model, test, 64));  // as the GUI builds them
}

}  // namespace

std::unique_ptr<QApplication> make_offscreen_app() {
  // Always offscreen: no window may appear, and no display is needed (ssh, CI).
  qputenv("QT_QPA_PLATFORM", "offscreen");
  // Qt's notes about the offscreen platform (category qt.qpa.*, e.g. "This plugin does
  // not support propagateSizeHints()") and the missing XDG_RUNTIME_DIR (QStandardPaths,
  // uncategorised) say nothing about the user's model: they are dropped; every other
  // message is printed as Qt would. A user's own QT_LOGGING_RULES stay in force.
  const QByteArray rules = qgetenv("QT_LOGGING_RULES");
  qputenv("QT_LOGGING_RULES", rules.isEmpty() ? QByteArray("qt.qpa.*=false") : rules + ";qt.qpa.*=false");
  qInstallMessageHandler([](QtMsgType type, const QMessageLogContext& context, const QString& message) {
    const bool qpa = context.category && std::strncmp(context.category, "qt.qpa", 6) == 0;
    // "This plugin does not support propagateSizeHints()": the offscreen platform's
    // uncategorised note when a view is shown.
    if (qpa || message.startsWith(QLatin1String("QStandardPaths: XDG_RUNTIME_DIR")) ||
        message.startsWith(QLatin1String("This plugin does not support")))
      return;
    std::fprintf(stderr, "%s\n", qPrintable(qFormatLogMessage(type, context, message)));
  });
  static int argc = 1;
  static char name[] = "qnn";
  static char* argv[] = {name, nullptr};
  return std::make_unique<QApplication>(argc, argv);
}

int run_inspect(const CommandArgs& args) {
  const std::string checkpoint = args.text("checkpoint");
  const std::string out = args.text("out");
  if (checkpoint.empty()) throw UsageError("'qnn inspect' needs --checkpoint CKPT");
  if (out.empty()) throw UsageError("'qnn inspect' needs --out DIR");
  const int64_t samples = args.integer("samples", 1, 256);
  const int64_t test_limit = args.integer("test-limit", 1, 0);
  Project p = load_project(args.project);
  p.training.threads = static_cast<int>(args.integer("threads", 0, p.training.threads));

  QuantModel model = load_trained_model(p, args.project, checkpoint);
  // The step of the scale history and the report: the optimizer steps the checkpoint
  // was trained for, as `qnn train` recorded them (-1: not recorded).
  const int64_t steps = read_checkpoint_optimizer_steps(checkpoint);
  if (steps >= 0)
    std::cout << "checkpoint " << checkpoint << ": trained for " << steps << " optimizer steps\n";
  else
    std::cout << "checkpoint " << checkpoint << ": optimizer steps not recorded (a loaded, imported or "
              << "folded model, or an older build): step -1 in scales.csv and summary.csv\n";
  // The calibration batch is the first --samples test images whatever --test-limit
  // says; --test-limit only narrows the evaluation (confusion matrix, gallery).
  const int64_t load_limit = test_limit > 0 ? std::max(test_limit, samples) : 0;
  Dataset test = load_dataset(p, false, load_limit);
  const torch::Tensor batch = inspect::calibration_batch(test, samples);
  if (test_limit > 0 && test.size() > test_limit) {
    test.images = test.images.narrow(0, 0, test_limit);
    test.labels = test.labels.narrow(0, 0, test_limit);
  }
  auto report = std::make_shared<inspect::Report>(inspect::inspect_model(model, batch, steps));
  const InspectionReportPtr shared = report;

  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec) throw IoError("cannot create the output folder " + out + ": " + ec.message());
  std::vector<std::string> written = inspect::write_report_csv(*report, out);

  // Views rendered by the GUI's own widgets, offscreen.
  const std::unique_ptr<QApplication> app = make_offscreen_app();
  Writer writer(out);
  {
    WeightHistogramPlot weights;
    for (const inspect::WeightStats& w : report->weights) {
      weights.setReport(shared, QString::fromStdString(w.layer));
      writer.png(&weights, QStringLiteral("weights_%1.png").arg(QString::fromStdString(w.layer)));
    }
    ScalePlot scales;
    scales.setReport(shared, QString());
    writer.png(&scales, QStringLiteral("scales.png"));
    ActivationRangePlot activation;
    for (const inspect::ActivationStats& a : report->activations) {
      activation.setReport(shared, QString::fromStdString(a.layer));
      activation.setQuantizer(QString::fromStdString(a.quantizer));
      const QString suffix = a.quantizer == "act" ? QString() : QStringLiteral("_") + QString::fromStdString(a.quantizer);
      writer.png(&activation, QStringLiteral("activation_%1%2.png").arg(QString::fromStdString(a.layer), suffix));
    }
    QuantErrorView errors;
    errors.setReport(shared);
    writer.png(&errors, QStringLiteral("layer_error.png"));

    const EvalResult eval = evaluate(model, test, 256);
    QVector<QVector<qint64>> counts;
    for (const auto& row : eval.confusion) {
      QVector<qint64> r;
      for (int64_t v : row) r.push_back(v);
      counts.push_back(r);
    }
    QStringList names;
    for (const std::string& n : test.class_names) names << QString::fromStdString(n);
    ConfusionMatrixView confusion;
    confusion.setMatrix(counts, names);
    writer.png(&confusion, QStringLiteral("confusion_matrix.png"));
    MisclassifiedGallery gallery;
    gallery.setSamples(misclassified_set(model, test));
    writer.png(&gallery, QStringLiteral("misclassified.png"));
    std::cout << "test samples=" << eval.samples << " accuracy=" << std::fixed << std::setprecision(4)
              << eval.accuracy << "\n";
  }
  written.insert(written.end(), writer.written().begin(), writer.written().end());

  // The per-layer table.
  size_t w_id = 5, w_type = 4;
  for (const inspect::LayerError& e : report->errors) {
    w_id = std::max(w_id, e.layer.size());
    w_type = std::max(w_type, e.type.size());
  }
  std::cout << "calibration samples=" << report->calibration_samples << "\n";
  std::cout << std::left << std::setw(int(w_id)) << "layer" << "  " << std::setw(int(w_type)) << "type" << std::right
            << "  " << std::setw(14) << "weight_sqnr_db" << "  " << std::setw(11) << "act_sqnr_db" << "  "
            << std::setw(14) << "output_sqnr_db" << "\n";
  for (const inspect::LayerError& e : report->errors)
    std::cout << std::left << std::setw(int(w_id)) << e.layer << "  " << std::setw(int(w_type)) << e.type
              << std::right << "  " << std::setw(14) << db_text(e.weight_sqnr_db) << "  " << std::setw(11)
              << db_text(e.act_sqnr_db) << "  " << std::setw(14) << db_text(e.output_sqnr_db) << "\n";
  for (const inspect::BiasStats& b : report->biases)
    if (b.clipped() > 0)
      std::cout << "warning: " << b.layer << ": " << b.warning() << "; " << b.codes_text() << "\n";
  std::cout << "logits_sqnr_db=" << db_text(report->logits_sqnr_db) << " top1_agreement=" << std::fixed
            << std::setprecision(4) << report->top1_agreement << "\n";
  std::cout << "wrote " << written.size() << " files to " << out << "\n";
  if (report->worst_layer.empty()) {
    std::cout << "worst_layer=none (nothing is quantized)" << std::endl;
  } else {
    double worst = std::nan("");
    for (const inspect::LayerError& e : report->errors)
      if (e.layer == report->worst_layer) worst = e.local_sqnr_db();
    std::cout << "worst_layer=" << report->worst_layer << " (" << db_text(worst) << " dB)" << std::endl;
  }
  return kExitOk;
}

}  // namespace qnn::cli

// SPDX-License-Identifier: GPL-3.0-or-later
// The Inspection dock (issue 4): level bars on the integer grid, the sortable error
// table with the worst layer, graph <-> views selection, PNG / SVG / CSV export, live
// reports while training, and `qnn inspect` on a briefly trained checkpoint.
// Torch and core headers come before any Qt header (Qt's `slots` vs LibTorch).
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "core/graph/model.h"
#include "core/graph/project.h"
#include "core/inspect/inspect.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QElapsedTimer>
#include <QGraphicsSimpleTextItem>
#include <QHeaderView>
#include <QImage>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QWindow>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include "tests/gui_gap_probe.h"
#include "tests/multi_test_main.h"
#include <memory>

#include "app/gui/main_window.h"
#include "widgets/document/project_document.h"
#include "widgets/inspect/inspection_link.h"
#include "widgets/inspect/inspection_panel.h"
#include "widgets/inspector/layer_inspector.h"
#include "widgets/node_editor/graph_scene.h"
#include "widgets/node_editor/graph_view.h"
#include "widgets/node_editor/node_item.h"
#include "widgets/plots/activation_range_plot.h"
#include "widgets/plots/confusion_matrix_view.h"
#include "widgets/plots/misclassified_gallery.h"
#include "widgets/plots/plot_export.h"
#include "widgets/plots/qcustomplot_include.h"
#include "widgets/plots/quant_error_view.h"
#include "widgets/plots/scale_plot.h"
#include "widgets/plots/weight_histogram_plot.h"
#include "widgets/training/training_controller.h"

using namespace qnn;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

QString examplePath(const char* name) {
  return QStringLiteral(QNN_SOURCE_DIR "/resources/examples/") + QLatin1String(name);
}

inspect::LevelHistogram levels(int64_t lo, int64_t hi, std::vector<int64_t> counts, int64_t satLow, int64_t satHigh) {
  inspect::LevelHistogram h;
  h.min_int = lo;
  h.max_int = hi;
  h.counts = std::move(counts);
  h.saturated_low = satLow;
  h.saturated_high = satHigh;
  return h;
}

inspect::LayerError layerError(const char* id, const char* type, double wSqnr, double aSqnr, double outSqnr) {
  inspect::LayerError e;
  e.layer = id;
  e.type = type;
  e.weight_sqnr_db = wSqnr;
  e.weight_mse = std::isnan(wSqnr) ? kNaN : 1e-3;
  e.act_sqnr_db = aSqnr;
  e.act_mse = std::isnan(aSqnr) ? kNaN : 2e-3;
  e.output_sqnr_db = outSqnr;
  e.output_mse = 3e-3;
  return e;
}

/// A hand-made report: conv1 with 3-bit signed weights on [-4, 3] (8 levels), code -4
/// saturated, codes -3 and 1 unused; fc1 per-channel with 2 channels; relu1 the worst.
InspectionReportPtr handReport() {
  auto r = std::make_shared<inspect::Report>();
  r->calibration_samples = 16;
  inspect::WeightStats conv1;
  conv1.layer = "conv1";
  conv1.type = "QuantConv2d";
  conv1.shape = {6, 1, 5, 5};
  conv1.grid = {3, true, false, -4, 3};
  conv1.scales = {0.125};
  conv1.zero_points = {0.0};
  conv1.levels = levels(-4, 3, {5, 0, 12, 30, 25, 0, 7, 9}, 2, 0);  // 88 weights
  conv1.float_histogram.lo = -0.6;
  conv1.float_histogram.hi = 0.4;
  conv1.float_histogram.counts = {5, 0, 12, 20, 10, 15, 10, 7, 9, 0};
  conv1.sqnr_db = 18.25;
  conv1.mse = 1e-3;
  inspect::WeightStats fc1;
  fc1.layer = "fc1";
  fc1.type = "QuantLinear";
  fc1.shape = {2, 4};
  fc1.grid = {2, true, true, -1, 1};
  fc1.per_channel = true;
  fc1.scales = {0.5, 0.25};
  fc1.zero_points = {0.0, 0.0};
  fc1.levels = levels(-1, 1, {3, 2, 3}, 0, 1);
  fc1.channel_levels = {levels(-1, 1, {1, 1, 2}, 0, 1), levels(-1, 1, {2, 1, 1}, 0, 0)};
  fc1.float_histogram.lo = -0.5;
  fc1.float_histogram.hi = 0.75;
  fc1.float_histogram.counts = {2, 1, 2, 3};
  fc1.sqnr_db = 9.5;
  r->weights = {conv1, fc1};
  inspect::ActivationStats relu1;
  relu1.layer = "relu1";
  relu1.type = "QuantReLU";
  relu1.grid = {4, false, false, 0, 15};
  relu1.scale = 0.1;
  relu1.range_lo = 0.0;
  relu1.range_hi = 1.5;
  relu1.input_min = 0.0;
  relu1.input_max = 2.0;
  relu1.input_histogram.lo = 0.0;
  relu1.input_histogram.hi = 2.0;
  relu1.input_histogram.counts = {40, 10, 8, 6, 4, 3, 2, 1};  // bin width 0.25; the last bin [1.75, 2) is clipped
  relu1.levels = levels(0, 15, std::vector<int64_t>(16, 4), 0, 1);
  relu1.clipped_share = 1.0 / 74.0;
  relu1.sqnr_db = 7.75;
  r->activations = {relu1};
  r->errors = {layerError("quant_inp", "QuantIdentity", kNaN, 25.0, 25.0),
               layerError("conv1", "QuantConv2d", 18.25, kNaN, 17.0),
               layerError("relu1", "QuantReLU", kNaN, 7.75, 9.0),
               layerError("pool1", "MaxPool2d", kNaN, kNaN, 9.0),
               layerError("fc1", "QuantLinear", 9.5, kNaN, 8.5)};
  r->scales.step = 40;
  r->scales.entries = {{"quant_inp", "act", {0.02}}, {"conv1", "weight", {0.125}}, {"relu1", "act", {0.1}},
                       {"fc1", "weight", {0.5, 0.25}}};
  r->logits_sqnr_db = 8.0;
  r->top1_agreement = 0.9375;
  r->worst_layer = "relu1";
  return r;
}

/// The low-precision LeNet with one LibTorch thread and its report on 32 random images.
InspectionReportPtr lenetReport(const Project& p) {
  torch::manual_seed(3);
  QuantModel model = build_model(p);
  const torch::Tensor batch = torch::rand({32, 1, 32, 32});
  return std::make_shared<inspect::Report>(inspect::inspect_model(model, batch, 7));
}

bool openQuickProject(MainWindow& w) {
  if (!w.openProject(examplePath("lenet_lowprec.qnn.json"))) return false;
  Project p = w.document()->project();
  p.training.threads = 1;
  w.document()->setProject(p, w.document()->filePath());
  return true;
}

void clickHeader(QTableView* table, int column) {
  QHeaderView* header = table->horizontalHeader();
  const QPoint at(header->sectionViewportPosition(column) + header->sectionSize(column) / 2, header->height() / 2);
  QTest::mouseClick(header->viewport(), Qt::LeftButton, {}, at);
}

QStringList sortedBy(const inspect::Report& r, double inspect::LayerError::*field, bool ascending) {
  std::vector<const inspect::LayerError*> rows;
  for (const auto& e : r.errors) rows.push_back(&e);
  std::stable_sort(rows.begin(), rows.end(), [&](const inspect::LayerError* a, const inspect::LayerError* b) {
    const double x = a->*field, y = b->*field;
    if (std::isnan(x) || std::isnan(y)) return ascending ? (!std::isnan(x) && std::isnan(y)) : (std::isnan(x) && !std::isnan(y));
    return ascending ? x < y : x > y;
  });
  QStringList out;
  for (const auto* e : rows) out << QString::fromStdString(e->layer);
  return out;
}

}  // namespace

class TestGuiInspect : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void levelBarsOfA3BitLayerMarkSaturatedAndUnused();
  void realLenetReportDrawsEveryLevel();
  void errorTableSortsOnHeaderClickAndHighlightsWorst();
  void errorViewWarnsOfClippedBiasCodes();
  void nodeLabelWarnsOfClippedBiasCodes();
  void clickingANodeSelectsItsLayerInTheViews();
  void savesPngSvgAndCopiesCsv();
  void rightClickOpensExportMenuOnEveryPlot();
  void liveTrainingDeliversReportsAndGallery();
  void cliInspectWritesCsvPngAndWorstLayer();
};

void TestGuiInspect::levelBarsOfA3BitLayerMarkSaturatedAndUnused() {
  InspectionPanel panel;
  panel.resize(1000, 700);
  panel.show();
  const InspectionReportPtr r = handReport();
  panel.setReport(r);
  WeightHistogramPlot* w = panel.weightPlot();
  QCOMPARE(panel.selectedLayer(), QStringLiteral("conv1"));  // the first weight layer by default
  QCOMPARE(w->levelBarCount(), 8);                            // 3 bits: 2^3 levels
  QCOMPARE(w->saturatedCodes(), QVector<int>({-4}));
  QCOMPARE(w->unusedCodes(), QVector<int>({-3, 1}));
  const qint64 expected[8] = {5, 0, 12, 30, 25, 0, 7, 9};
  for (int code = -4; code <= 3; ++code) QCOMPARE(w->levelCount(code), expected[code + 4]);
  QVERIFY2(w->title().contains(QStringLiteral("3-bit signed")), qPrintable(w->title()));
  QVERIFY2(w->title().contains(QStringLiteral("scale 0.125")), qPrintable(w->title()));
  QVERIFY2(w->title().contains(QStringLiteral("zero_point 0")), qPrintable(w->title()));
  QVERIFY2(w->title().contains(QStringLiteral("2 of 8 levels unused")), qPrintable(w->title()));
  QVERIFY2(w->title().contains(QStringLiteral("SQNR 18.2 dB")) || w->title().contains(QStringLiteral("SQNR 18.3 dB")),
           qPrintable(w->title()));
  // 2 saturated of 88 weights.
  QVERIFY2(w->title().contains(QStringLiteral("%1% saturated").arg(2.0 / 88.0 * 100.0, 0, 'f', 2)), qPrintable(w->title()));

  // Per-channel layer: the channel selector appears; channel 1 of fc1 has no saturation.
  panel.selectLayer(QStringLiteral("fc1"));
  auto* combo = w->findChild<QComboBox*>(QStringLiteral("channelCombo"));
  QVERIFY(combo && combo->isVisible());
  QCOMPARE(combo->count(), 3);  // whole tensor + 2 channels
  QCOMPARE(w->levelBarCount(), 3);
  QCOMPARE(w->saturatedCodes(), QVector<int>({1}));
  combo->setFocus();
  QTest::keyClick(combo, Qt::Key_Down);  // channel 0
  QTest::keyClick(combo, Qt::Key_Down);  // channel 1
  QCOMPARE(w->channel(), 1);
  QCOMPARE(w->saturatedCodes(), QVector<int>());
  QCOMPARE(w->levelCount(-1), qint64(2));
  QVERIFY2(w->title().contains(QStringLiteral("channel 1")) && w->title().contains(QStringLiteral("scale 0.25")),
           qPrintable(w->title()));

  // Activation range: [0, 1.5] shaded; only the last bin [1.75, 2) lies beyond 1.5 + s/2.
  panel.selectLayer(QStringLiteral("relu1"));
  ActivationRangePlot* a = panel.activationPlot();
  QCOMPARE(a->layer(), QStringLiteral("relu1"));
  QCOMPARE(a->rangeLo(), 0.0);
  QCOMPARE(a->rangeHi(), 1.5);
  QCOMPARE(a->binsOutside(), 1);
  QCOMPARE(a->binsInside(), 7);
  QVERIFY2(a->title().contains(QStringLiteral("clipped %1%").arg(100.0 / 74.0, 0, 'f', 3)), qPrintable(a->title()));

  // Scales: one bar per quantizer, fc1's bar is the mean of its two channel scales.
  ScalePlot* s = panel.scalePlot();
  QCOMPARE(s->barLabels(), QStringList({"quant_inp A", "conv1 W", "relu1 A", "fc1 W"}));
  const QVector<double> bars = s->barValues();
  QCOMPARE(bars.size(), 4);
  QVERIFY(std::abs(bars[3] - 0.375) < 1e-12);
  QVERIFY(std::abs(bars[1] - 0.125) < 1e-12);
  QCOMPARE(s->historySize(), 1);
}

void TestGuiInspect::realLenetReportDrawsEveryLevel() {
  const Project p = load_project(examplePath("lenet_lowprec.qnn.json").toStdString());
  const InspectionReportPtr r = lenetReport(p);
  InspectionPanel panel;
  panel.setReport(r);
  panel.selectLayer(QStringLiteral("conv1"));
  WeightHistogramPlot* w = panel.weightPlot();
  // conv1: 3-bit signed narrow-range weights -> codes -3..3, one bar each.
  QCOMPARE(w->levelBarCount(), 7);
  qint64 sum = 0;
  for (int code = -3; code <= 3; ++code) sum += std::max<qint64>(0, w->levelCount(code));
  QCOMPARE(sum, qint64(6 * 1 * 5 * 5));  // every weight of conv1 lands on one bar
  QCOMPARE(w->levelCount(-4), qint64(-1));
  QCOMPARE(w->levelCount(4), qint64(-1));
}

void TestGuiInspect::errorTableSortsOnHeaderClickAndHighlightsWorst() {
  InspectionPanel panel;
  panel.resize(1000, 700);
  panel.show();
  QVERIFY(QTest::qWaitForWindowExposed(&panel));
  const InspectionReportPtr r = handReport();
  panel.setReport(r);
  panel.tabs()->setCurrentIndex(InspectionPanel::ErrorTab);
  QuantErrorView* v = panel.errorView();
  QTableView* table = v->table();
  QTest::qWait(50);
  QCOMPARE(v->rowLayers(), QStringList({"quant_inp", "conv1", "relu1", "pool1", "fc1"}));  // execution order

  clickHeader(table, QuantErrorView::OutputSqnr);
  const QStringList ascending = sortedBy(*r, &inspect::LayerError::output_sqnr_db, true);
  QCOMPARE(v->rowLayers(), ascending);
  QCOMPARE(v->rowLayers().first(), QStringLiteral("fc1"));  // 8.5 dB
  clickHeader(table, QuantErrorView::OutputSqnr);
  QCOMPARE(v->rowLayers().first(), QStringLiteral("quant_inp"));  // 25 dB
  clickHeader(table, QuantErrorView::WeightSqnr);
  QCOMPARE(v->rowLayers(), sortedBy(*r, &inspect::LayerError::weight_sqnr_db, true));
  QCOMPARE(v->rowLayers().mid(0, 2), QStringList({"fc1", "conv1"}));  // layers without weights sort last

  // The worst layer (lowest own-quantizer SQNR: relu1, 7.75 dB) is highlighted and named.
  QCOMPARE(v->worstLayer(), QStringLiteral("relu1"));
  QVERIFY(v->isHighlighted(QStringLiteral("relu1")));
  for (const char* other : {"quant_inp", "conv1", "pool1", "fc1"}) QVERIFY(!v->isHighlighted(QLatin1String(other)));
  QCOMPARE(v->barLayers(), QStringList({"quant_inp", "conv1", "relu1", "fc1"}));  // pool1 quantizes nothing
  QCOMPARE(v->redBarLayer(), QStringLiteral("relu1"));
  QVERIFY2(v->chartTitle().contains(QStringLiteral("Worst layer: relu1")), qPrintable(v->chartTitle()));
  QVERIFY2(panel.summaryText().contains(QStringLiteral("worst layer relu1")), qPrintable(panel.summaryText()));

  // A live refresh keeps the user's sort order.
  panel.setReport(handReport());
  QCOMPARE(v->rowLayers(), sortedBy(*r, &inspect::LayerError::weight_sqnr_db, true));

  // Clicking a row selects the layer in the panel.
  QSignalSpy selected(&panel, &InspectionPanel::layerSelected);
  const int row = v->rowLayers().indexOf(QStringLiteral("fc1"));
  const QRect cell = table->visualRect(table->model()->index(row, 0));
  QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, cell.center());
  QCOMPARE(selected.count(), 1);
  QCOMPARE(panel.selectedLayer(), QStringLiteral("fc1"));
}

void TestGuiInspect::errorViewWarnsOfClippedBiasCodes() {
  auto r = std::make_shared<inspect::Report>(*handReport());
  inspect::BiasStats fc1;
  fc1.layer = "fc1";
  fc1.type = "QuantLinear";
  fc1.quantizer = "Int8Bias";
  fc1.grid.bit_width = 8;
  fc1.grid.min_int = -128;
  fc1.grid.max_int = 127;
  fc1.total = 6;
  fc1.levels.saturated_high = 2;
  fc1.min_code = -3;
  fc1.max_code = 127;
  inspect::BiasStats conv1 = fc1;  // a bias that fits: no warning
  conv1.layer = "conv1";
  conv1.levels.saturated_high = 0;
  r->biases = {conv1, fc1};
  QuantErrorView v;
  v.resize(900, 600);
  v.setReport(r);
  QCOMPARE(v.biasWarnings(), QStringList({"fc1: 2 of 6 bias codes clipped (Int8Bias)"}));
  QVERIFY2(v.chartTitle().contains(QStringLiteral("fc1: 2 of 6 bias codes clipped (Int8Bias)")), qPrintable(v.chartTitle()));
  const QAbstractItemModel* m = v.table()->model();
  for (int row = 0; row < m->rowCount(); ++row) {
    const QString layer = m->index(row, QuantErrorView::Layer).data().toString();
    const QString tip = m->index(row, QuantErrorView::Layer).data(Qt::ToolTipRole).toString();
    const bool icon = !m->index(row, QuantErrorView::Layer).data(Qt::DecorationRole).value<QIcon>().isNull();
    QCOMPARE(icon, layer == QLatin1String("fc1"));
    if (layer == QLatin1String("fc1"))
      QVERIFY2(tip.startsWith(QStringLiteral("2 of 6 bias codes clipped (Int8Bias, codes -3..127 on [-128, 127])")),
               qPrintable(tip));
  }
  // A report without clipping clears the warning.
  v.setReport(handReport());
  QVERIFY(v.biasWarnings().isEmpty());
  QVERIFY(!v.chartTitle().contains(QStringLiteral("bias codes clipped")));
}

void TestGuiInspect::nodeLabelWarnsOfClippedBiasCodes() {
  MainWindow w;
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  auto r = std::make_shared<inspect::Report>(*lenetReport(w.document()->project()));
  QVERIFY(!r->biases.empty());
  for (inspect::BiasStats& b : r->biases) {
    b.levels.saturated_low = b.levels.saturated_high = 0;  // nothing clipped ...
    if (b.layer == "fc2") {                                 // ... but fc2: 2 of its 84 codes
      b.levels.saturated_high = 1;
      b.levels.saturated_low = 1;
    }
  }
  Q_EMIT w.trainingController()->inspectionReport(r);
  double fc2_db = 0.0;
  for (const inspect::LayerError& e : r->errors)
    if (e.layer == "fc2") fc2_db = e.local_sqnr_db();
  QCOMPARE(w.inspectionLink()->annotation(QStringLiteral("fc2")),
           QStringLiteral("SQNR %1 · bias 2/84 clipped").arg(dbText(fc2_db)));
  QVERIFY(!w.inspectionLink()->annotation(QStringLiteral("fc1")).contains(QStringLiteral("bias")));
  QString tip;
  for (QGraphicsItem* child : w.graphView()->graphScene()->node(QStringLiteral("fc2"))->childItems())
    if (auto* t = dynamic_cast<QGraphicsSimpleTextItem*>(child); t && t->text().contains(QStringLiteral("bias")))
      tip = t->toolTip();
  QVERIFY2(tip.contains(QStringLiteral("Warning: 2 of 84 bias codes clipped (Int8Bias)")), qPrintable(tip));
  // The error view of the Inspection dock names it too.
  QCOMPARE(w.inspectionPanel()->errorView()->biasWarnings(),
           QStringList({QStringLiteral("fc2: 2 of 84 bias codes clipped (Int8Bias)")}));
  // So does the layer inspector's bias group, with scale, codes and the clipped share.
  double fc2_scale = 0.0;
  int64_t lo = 0, hi = 0;
  for (const inspect::BiasStats& b : r->biases)
    if (b.layer == "fc2") {
      fc2_scale = b.scales.at(0);
      lo = b.min_code;
      hi = b.max_code;
    }
  NodeItem* fc2 = w.graphView()->graphScene()->node(QStringLiteral("fc2"));
  QTest::mouseClick(w.graphView()->viewport(), Qt::LeftButton, {},
                    w.graphView()->mapFromScene(fc2->sceneBoundingRect().center()));
  QCOMPARE(w.inspector()->selection(), QStringList({QStringLiteral("fc2")}));
  auto* trained = w.inspector()->findChild<QLabel*>(QStringLiteral("bias_trained"));
  QVERIFY(trained);
  const QString expected = QStringLiteral("Int8Bias · 8 bit · scale %1 (per tensor) · codes %2..%3 on [-128, 127] · "
                                          "2 of 84 clipped (2.4 %)")
                               .arg(QString::number(fc2_scale, 'g', 3))
                               .arg(lo)
                               .arg(hi);
  QCOMPARE(trained->text(), expected);
  QVERIFY(trained->styleSheet().contains(QStringLiteral("color")));  // red: codes were clipped
  NodeItem* fc1 = w.graphView()->graphScene()->node(QStringLiteral("fc1"));
  QTest::mouseClick(w.graphView()->viewport(), Qt::LeftButton, {},
                    w.graphView()->mapFromScene(fc1->sceneBoundingRect().center()));
  trained = w.inspector()->findChild<QLabel*>(QStringLiteral("bias_trained"));
  QVERIFY2(trained->text().endsWith(QStringLiteral("0 of 120 clipped (0.0 %)")), qPrintable(trained->text()));
  QVERIFY(trained->styleSheet().isEmpty());  // nothing clipped: not red
  // Editing the network drops the (hand-made) model's numbers: no stale codes.
  Q_EMIT w.inspectionLink()->biasSummariesChanged({}, {});
  trained = w.inspector()->findChild<QLabel*>(QStringLiteral("bias_trained"));
  QVERIFY2(trained->text().startsWith(QStringLiteral("no trained model")), qPrintable(trained->text()));
}

void TestGuiInspect::clickingANodeSelectsItsLayerInTheViews() {
  MainWindow w;
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  const InspectionReportPtr r = lenetReport(w.document()->project());
  Q_EMIT w.trainingController()->inspectionReport(r);  // what the worker sends while training
  InspectionPanel* panel = w.inspectionPanel();
  QCOMPARE(panel->reportsReceived(), 1);
  panel->tabs()->setCurrentIndex(InspectionPanel::WeightsTab);

  GraphView* view = w.graphView();
  GraphScene* scene = view->graphScene();
  // Every node with a quantizer shows its own SQNR.
  for (const inspect::LayerError& e : r->errors) {
    const QString id = QString::fromStdString(e.layer);
    const QString text = w.inspectionLink()->annotation(id);
    if (std::isnan(e.local_sqnr_db())) {
      QVERIFY2(text.isEmpty(), qPrintable(id));
      continue;
    }
    QCOMPARE(text, QStringLiteral("SQNR %1").arg(dbText(e.local_sqnr_db())));
    NodeItem* node = scene->node(id);
    QVERIFY(node);
    bool drawn = false;
    for (QGraphicsItem* child : node->childItems())
      if (auto* t = dynamic_cast<QGraphicsSimpleTextItem*>(child)) drawn = drawn || t->text() == text;
    QVERIFY2(drawn, qPrintable(id));
  }
  // Moving a node (what a drag does on every mouse move) keeps its label item: it is
  // neither rebuilt nor duplicated.
  {
    const QString id = QStringLiteral("conv1");
    const QString text = w.inspectionLink()->annotation(id);
    QVERIFY(!text.isEmpty());
    auto labelsOf = [&] {
      QList<QGraphicsItem*> labels;
      for (QGraphicsItem* child : scene->node(id)->childItems())
        if (auto* t = dynamic_cast<QGraphicsSimpleTextItem*>(child); t && t->text() == text) labels << t;
      return labels;
    };
    const QList<QGraphicsItem*> before = labelsOf();
    QCOMPARE(before.size(), 1);
    const double x = w.document()->layer(id)->x, y = w.document()->layer(id)->y;
    for (int i = 1; i <= 3; ++i)
      QVERIFY(w.document()->moveLayers({{id.toStdString(), QPointF(x + 10.0 * i, y)}}, 77));
    QTest::qWait(20);  // the queued relabelling
    QCOMPARE(labelsOf(), before);
  }

  for (const char* id : {"relu1", "conv2"}) {
    NodeItem* node = scene->node(QLatin1String(id));
    QVERIFY(node);
    view->ensureVisible(node);
    QTest::qWait(20);
    const QPoint at = view->mapFromScene(node->mapToScene(QPointF(40, 12)));  // the header, left of the SQNR label
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, at);
    QTRY_COMPARE(panel->selectedLayer(), QLatin1String(id));
  }
  // conv2 has weights: the Weights tab shows it; relu1 switched the tab to Activations on the
  // way. The Activations tab shows the quantizer conv2's output meets (relu2) and says so.
  QCOMPARE(panel->weightPlot()->layer(), QStringLiteral("conv2"));
  QCOMPARE(panel->activationPlot()->layer(), QStringLiteral("relu2"));
  QVERIFY2(panel->activationPlot()->title().startsWith(QStringLiteral("Activations: input of QuantReLU relu2 (selected: conv2)")),
           qPrintable(panel->activationPlot()->title()));
  QCOMPARE(panel->tabs()->currentIndex(), int(InspectionPanel::WeightsTab));

  // And back: picking a layer in the panel selects its node.
  auto* combo = panel->findChild<QComboBox*>(QStringLiteral("layerCombo"));
  QVERIFY(combo);
  const int fc1 = combo->findData(QStringLiteral("fc1"));
  QVERIFY(fc1 >= 0);
  QSignalSpy sceneSelection(scene, &QGraphicsScene::selectionChanged);
  QSignalSpy layerSelection(scene, &GraphScene::layerSelectionChanged);
  Q_EMIT combo->activated(fc1);
  QCOMPARE(sceneSelection.count(), 1);  // one change, not "none" then "fc1"
  QCOMPARE(layerSelection.count(), 1);
  QCOMPARE(layerSelection.at(0).at(0).toStringList(), QStringList{QStringLiteral("fc1")});
  QVERIFY(scene->node(QStringLiteral("fc1"))->isSelected());
  QVERIFY(!scene->node(QStringLiteral("conv2"))->isSelected());
  // fc1 stays selected: ~MainWindow must tear the views down without signals
  // reaching freed objects (checked under valgrind).
}

void TestGuiInspect::savesPngSvgAndCopiesCsv() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  InspectionPanel panel;
  panel.resize(900, 650);
  panel.show();
  const InspectionReportPtr r = handReport();
  panel.setReport(r);
  ConfusionMatrixView confusion;
  confusion.setMatrix({{8, 2}, {1, 9}}, {"a", "b"});
  InspectionLink::installConfusionExport(&confusion);
  for (QWidget* view : {panel.view(InspectionPanel::WeightsTab), panel.view(InspectionPanel::ScalesTab),
                        panel.view(InspectionPanel::ActivationsTab), panel.view(InspectionPanel::ErrorTab),
                        static_cast<QWidget*>(&confusion)}) {
    const QString base = dir.filePath(view->objectName().isEmpty() ? QStringLiteral("confusion") : view->objectName());
    QString error;
    QVERIFY2(saveViewPng(view, base + ".png", &error, 800, 500), qPrintable(error));
    QImage png(base + ".png");
    QVERIFY2(!png.isNull(), qPrintable(base));
    QCOMPARE(png.size(), QSize(800, 500));
    // Not blank: more than one colour.
    QSet<QRgb> colours;
    for (int y = 0; y < png.height(); y += 7)
      for (int x = 0; x < png.width(); x += 7) colours.insert(png.pixel(x, y));
    QVERIFY2(colours.size() > 3, qPrintable(base));
    QVERIFY2(saveViewSvg(view, base + ".svg", &error), qPrintable(error));
    QFile svg(base + ".svg");
    QVERIFY(svg.open(QIODevice::ReadOnly));
    const QByteArray text = svg.readAll();
    QVERIFY2(text.startsWith("<?xml"), text.left(40).constData());
    QVERIFY(text.contains("<svg"));
    QVERIFY(text.size() > 1000);
    // Every view has the four actions.
    for (const char* name : {"savePngAction", "saveSvgAction", "copyDataAction", "exportCsvAction"})
      QVERIFY2(view->findChild<QAction*>(QLatin1String(name)), name);
  }
  // The PNG of a plot view is the plot (its vector SVG carries the title text).
  QFile weightsSvg(dir.filePath(QStringLiteral("weightHistogramPlot.svg")));
  QVERIFY(weightsSvg.open(QIODevice::ReadOnly));
  QVERIFY(weightsSvg.readAll().contains("conv1"));

  // Copy data: the error table's numbers are core's layer_error CSV.
  QApplication::clipboard()->clear();
  panel.view(InspectionPanel::ErrorTab)->findChild<QAction*>(QStringLiteral("copyDataAction"))->trigger();
  QCOMPARE(QApplication::clipboard()->text(), QString::fromStdString(inspect::table_csv(*r, "layer_error")));
  // The weights view copies the level counts of its layer only.
  panel.view(InspectionPanel::WeightsTab)->findChild<QAction*>(QStringLiteral("copyDataAction"))->trigger();
  const QStringList lines = QApplication::clipboard()->text().split('\n', Qt::SkipEmptyParts);
  const QStringList all = QString::fromStdString(inspect::table_csv(*r, "weight_levels")).split('\n', Qt::SkipEmptyParts);
  QCOMPARE(lines.first(), all.first());  // the header
  int conv1Rows = 0;
  for (const QString& l : all.mid(1)) conv1Rows += l.startsWith(QStringLiteral("conv1,")) ? 1 : 0;
  QCOMPARE(lines.size() - 1, conv1Rows);
  QVERIFY(conv1Rows >= 8);  // at least one row per level of the whole tensor
  for (const QString& l : lines.mid(1)) QVERIFY2(l.startsWith(QStringLiteral("conv1,")), qPrintable(l));
  // The confusion matrix: counts and per-class accuracy.
  confusion.findChild<QAction*>(QStringLiteral("copyDataAction"))->trigger();
  QCOMPARE(QApplication::clipboard()->text(),
           QStringLiteral("true\\predicted,0,1,accuracy\n0,8,2,0.800000\n1,1,9,0.900000\n"));
}

namespace {

/// Right-clicks `target` at `pos` the way a real mouse does (through the top-level
/// QWindow, so Qt itself turns the press into a QContextMenuEvent), and returns the
/// action texts of the popup menu that opened ({} when none did). The menu is closed.
QStringList rightClickMenu(QWidget* target, QPoint pos) {
  QStringList texts;
  bool seen = false;
  QElapsedTimer clock;
  clock.start();
  std::function<void()> poll = [&] {
    if (auto* menu = qobject_cast<QMenu*>(QApplication::activePopupWidget())) {
      seen = true;
      for (QAction* a : menu->actions())
        if (!a->isSeparator()) texts << a->text();
      menu->close();
      return;
    }
    if (clock.elapsed() < 1500) QTimer::singleShot(20, poll);
  };
  QTimer::singleShot(20, poll);
  QWindow* window = target->window()->windowHandle();
  const QPoint inWindow = window->mapFromGlobal(target->mapToGlobal(pos));
  QTest::mouseClick(window, Qt::RightButton, {}, inWindow);
  // exec() returned already when the menu opened; give the poll time when it did not.
  while (!seen && clock.elapsed() < 1500) QTest::qWait(20);
  if (auto* popup = QApplication::activePopupWidget()) popup->close();
  return texts;
}

}  // namespace

void TestGuiInspect::rightClickOpensExportMenuOnEveryPlot() {
  InspectionPanel panel;
  panel.resize(900, 650);
  panel.show();
  QVERIFY(QTest::qWaitForWindowExposed(&panel));
  panel.setReport(handReport());
  MisclassifiedSet set;
  set.testSamples = 10;
  set.classNames = {QStringLiteral("airplane"), QStringLiteral("automobile")};
  MisclassifiedSample sample;
  sample.index = 3;
  sample.label = 0;
  sample.predicted = 1;
  sample.confidence = 0.9;
  sample.image = QImage(28, 28, QImage::Format_Grayscale8);
  sample.image.fill(128);
  set.samples.push_back(sample);
  panel.setMisclassified(set);
  {
    // The caption "true: airplane / predicted: automobile (90.0 %)" fits the gallery's
    // grid cell (not cut off).
    auto* list = panel.view(InspectionPanel::MisclassifiedTab)->findChild<QListWidget*>();
    QVERIFY(list && list->count() == 1);
    const QStringList caption = list->item(0)->text().split('\n');
    QCOMPARE(caption, QStringList({QStringLiteral("true: airplane"), QStringLiteral("predicted: automobile (90.0 %)")}));
    QVERIFY(list->gridSize().width() > list->fontMetrics().horizontalAdvance(caption.last()));
    QVERIFY(list->gridSize().height() > list->iconSize().height() + 2 * list->fontMetrics().lineSpacing());
  }
  const QStringList expected{QStringLiteral("Save as PNG…"), QStringLiteral("Save as SVG…"), QStringLiteral("Copy data"),
                             QStringLiteral("Export CSV…")};
  auto* weights = qobject_cast<WeightHistogramPlot*>(panel.view(InspectionPanel::WeightsTab));
  auto* scales = qobject_cast<ScalePlot*>(panel.view(InspectionPanel::ScalesTab));
  auto* acts = qobject_cast<ActivationRangePlot*>(panel.view(InspectionPanel::ActivationsTab));
  auto* errors = qobject_cast<QuantErrorView*>(panel.view(InspectionPanel::ErrorTab));
  QVERIFY(weights && scales && acts && errors);
  QSignalSpy layerPicked(errors, &QuantErrorView::layerActivated);
  struct Target {
    InspectionPanel::Tab tab;
    QWidget* widget;
  };
  auto* table = errors->findChild<QTableView*>();
  auto* gallery = panel.view(InspectionPanel::MisclassifiedTab)->findChild<QListWidget*>();
  QVERIFY(table && gallery);
  const std::vector<Target> targets{{InspectionPanel::WeightsTab, weights->plot()},
                                    {InspectionPanel::ScalesTab, scales->plot()},
                                    {InspectionPanel::ActivationsTab, acts->plot()},
                                    {InspectionPanel::ErrorTab, errors->plot()},
                                    {InspectionPanel::ErrorTab, table->viewport()},
                                    {InspectionPanel::MisclassifiedTab, gallery->viewport()}};
  for (const Target& t : targets) {
    panel.tabs()->setCurrentIndex(int(t.tab));
    QTest::qWait(30);
    QVERIFY(t.widget->isVisible());
    const QSize s = t.widget->size();
    // Centre, over the data, and near the corners (axes, legend, margins).
    for (const QPoint pos : {QPoint(s.width() / 2, s.height() / 2), QPoint(s.width() / 3, s.height() * 2 / 3),
                             QPoint(8, 8), QPoint(s.width() - 8, 8), QPoint(8, s.height() - 8)}) {
      const QStringList texts = rightClickMenu(t.widget, pos);
      QVERIFY2(texts == expected, qPrintable(QStringLiteral("%1 at %2,%3: [%4]")
                                                 .arg(t.widget->objectName().isEmpty()
                                                          ? QString::fromLatin1(t.widget->metaObject()->className())
                                                          : t.widget->objectName())
                                                 .arg(pos.x())
                                                 .arg(pos.y())
                                                 .arg(texts.join(QStringLiteral("|")))));
    }
  }
  // A right click never selects a layer (that is the left button's job).
  QCOMPARE(layerPicked.count(), 0);
  // ... and a left click on a bar of the error chart still does.
  panel.tabs()->setCurrentIndex(int(InspectionPanel::ErrorTab));
  QCustomPlot* chart = errors->plot();
  QCPBars* bars = nullptr;
  for (int i = 0; i < chart->plottableCount() && !bars; ++i) {
    auto* b = qobject_cast<QCPBars*>(chart->plottable(i));
    if (b && !b->data()->isEmpty()) bars = b;
  }
  QVERIFY(bars);
  const auto bar = bars->data()->at(0);
  const QPoint onBar(int(bars->keyAxis()->coordToPixel(bar->key)), int(bars->valueAxis()->coordToPixel(bar->value / 2)));
  QWindow* window = chart->window()->windowHandle();
  QTest::mouseClick(window, Qt::LeftButton, {}, window->mapFromGlobal(chart->mapToGlobal(onBar)));
  QTRY_COMPARE(layerPicked.count(), 1);
  QVERIFY(!QApplication::activePopupWidget());

  // The confusion matrix (a painted widget) has the same menu.
  ConfusionMatrixView confusion;
  confusion.setMatrix({{8, 2}, {1, 9}}, {"a", "b"});
  InspectionLink::installConfusionExport(&confusion);
  confusion.resize(400, 300);
  confusion.show();
  QVERIFY(QTest::qWaitForWindowExposed(&confusion));
  QCOMPARE(rightClickMenu(&confusion, QPoint(200, 150)), expected);
}

void TestGuiInspect::liveTrainingDeliversReportsAndGallery() {
  MainWindow w;
  QVERIFY(openQuickProject(w));
  w.setRunLimits(4000, 300, 0);
  w.setEpochs(1);
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  TrainingController* controller = w.trainingController();
  InspectionPanel* panel = w.inspectionPanel();
  int whileRunning = 0;
  connect(controller, &TrainingController::inspectionReport, this, [&](const InspectionReportPtr& r) {
    QVERIFY(r);
    if (controller->isRunning()) ++whileRunning;
  });
  QSignalSpy gallerySpy(controller, &TrainingController::misclassifiedReady);

  qnn_test::GuiGapProbe probe;
  w.startTraining();
  QVERIFY(controller->isRunning());
  probe.start();
  QTRY_VERIFY_WITH_TIMEOUT(panel->reportsReceived() >= 1, 60000);
  QVERIFY2(controller->isRunning(), "the first report must arrive while training");
  QTRY_VERIFY_WITH_TIMEOUT(!controller->isRunning(), 120000);
  probe.stop();
  qInfo("live inspection: %d reports (%d while training), %d ticks, longest GUI gap %lld ms", panel->reportsReceived(),
        whileRunning, probe.ticks, probe.maxGapMs);
  QVERIFY(whileRunning >= 1);
  QVERIFY(panel->reportsReceived() >= 2);  // while training + after the final evaluation
  QVERIFY2(probe.maxGapMs < 1000, qPrintable(QStringLiteral("GUI thread blocked for %1 ms").arg(probe.maxGapMs)));
  const InspectionReportPtr lastReport = panel->report();
  QVERIFY(lastReport);
  QCOMPARE(lastReport->calibration_samples, qint64(256));
  QVERIFY(!lastReport->worst_layer.empty());
  QVERIFY(panel->scalePlot()->historySize() >= 2);
  const QVector<qint64> steps = panel->scalePlot()->historySteps();
  QVERIFY(std::is_sorted(steps.begin(), steps.end()));

  // The misclassified gallery: up to 64 images of the 300 test samples, captioned.
  QCOMPARE(gallerySpy.count(), 1);
  MisclassifiedGallery* g = panel->gallery();
  const TrainingSummary summary = controller->lastSummary();
  qint64 wrong = summary.testSamples;
  for (int c = 0; c < summary.confusion.size(); ++c) wrong -= summary.confusion[c][c];
  QCOMPARE(g->count(), int(std::min<qint64>(64, wrong)));
  QVERIFY(g->count() > 0);
  for (int i = 0; i < g->count(); ++i) {
    const MisclassifiedSample& s = g->samples().samples[i];
    QVERIFY(s.label != s.predicted);
    QCOMPARE(s.image.size(), QSize(32, 32));
    QVERIFY(g->caption(i).startsWith(QStringLiteral("true: ") + summary.classNames.value(s.label) +
                                     QStringLiteral("\npredicted: ") + summary.classNames.value(s.predicted)));
  }
}

void TestGuiInspect::cliInspectWritesCsvPngAndWorstLayer() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const QString ckpt = dir.filePath(QStringLiteral("lowprec.pt"));
  auto run = [](const QStringList& args) {
    QProcess p;
    p.start(QStringLiteral(QNN_CLI_PATH), args);
    if (!p.waitForFinished(180000)) p.kill();
    return std::make_tuple(p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()),
                           QString::fromUtf8(p.readAllStandardError()));
  };
  auto [trainCode, trainOut, trainErr] =
      run({"train", examplePath("lenet_lowprec.qnn.json"), "--epochs", "1", "--max-batches", "30", "--train-limit",
           "1920", "--test-limit", "200", "--threads", "1", "--checkpoint", ckpt});
  QVERIFY2(trainCode == 0, qPrintable(trainOut + trainErr));
  const QString out = dir.filePath(QStringLiteral("report"));
  auto [code, stdoutText, stderrText] = run({"inspect", examplePath("lenet_lowprec.qnn.json"), "--checkpoint", ckpt,
                                             "--out", out, "--samples", "64", "--test-limit", "200", "--threads", "1"});
  QVERIFY2(code == 0, qPrintable(stdoutText + stderrText));
  for (const char* f : {"layer_error.csv", "weights.csv", "weight_levels.csv", "weight_histogram.csv", "activations.csv",
                        "activation_histogram.csv", "activation_levels.csv", "scales.csv"})
    QVERIFY2(QFileInfo(QDir(out).filePath(QLatin1String(f))).size() > 20, f);
  for (const char* f : {"weights_conv1.png", "weights_fc3.png", "activation_relu1.png", "activation_quant_inp.png",
                        "scales.png", "layer_error.png", "confusion_matrix.png", "misclassified.png"}) {
    const QImage img(QDir(out).filePath(QLatin1String(f)));
    QVERIFY2(!img.isNull(), f);
    QVERIFY2(img.width() >= 400 && img.height() >= 300, f);
  }
  // The table: one line per layer; the worst layer is the lowest own-quantizer SQNR.
  const QStringList lines = stdoutText.split('\n', Qt::SkipEmptyParts);
  QVERIFY(!lines.isEmpty());
  const QRegularExpression worstRe(QStringLiteral("^worst_layer=(\\S+) \\((-?\\d+\\.\\d+) dB\\)$"));
  const QRegularExpressionMatch m = worstRe.match(lines.last());
  QVERIFY2(m.hasMatch(), qPrintable(stdoutText));
  const Project p = load_project(examplePath("lenet_lowprec.qnn.json").toStdString());
  QString minLayer;
  double minDb = std::numeric_limits<double>::infinity();
  int rows = 0;
  for (const QString& l : lines) {
    const QStringList f = l.split(' ', Qt::SkipEmptyParts);
    if (f.size() != 5 || !p.find(f[0].toStdString())) continue;
    ++rows;
    for (int i : {2, 3}) {
      bool ok = false;
      const double v = f[i].toDouble(&ok);
      if (ok && v < minDb) {
        minDb = v;
        minLayer = f[0];
      }
    }
  }
  QCOMPARE(rows, int(p.layers.size()) - 2);  // every layer but Input and Output
  QCOMPARE(m.captured(1), minLayer);
  QVERIFY(std::abs(m.captured(2).toDouble() - minDb) < 0.006);
}

std::unique_ptr<QObject> makeGuiInspectImageTests();  // test_gui_inspect_images.cpp
std::unique_ptr<QObject> makeGuiInspectHonestTests();  // test_gui_inspect_honest.cpp

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  return qnn_test::run_test_classes(
      argc, argv, {[] { return std::unique_ptr<QObject>(new TestGuiInspect); }, [] { return makeGuiInspectImageTests(); },
                   [] { return makeGuiInspectHonestTests(); }});
}
#include "test_gui_inspect.moc"

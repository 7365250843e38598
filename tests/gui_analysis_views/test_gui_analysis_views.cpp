// SPDX-License-Identifier: GPL-3.0-or-later
// The analysis views of issue 12 with hand-made results: heat map cells (drop in points,
// missing points hatched and NaN, never 0), curves with gaps, the Pareto front's
// selection by click and measured points, the analyzer's table, headline and bars; the
// stale banner and veil; the CSV behind each view.
// Torch and core headers come before any Qt header (Qt's `slots` vs LibTorch).
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "core/analysis/analysis.h"
#include "core/graph/sweep_record.h"

#include <QAction>
#include <QComboBox>
#include <QLabel>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include "widgets/analysis/analyzer_view.h"
#include "widgets/analysis/pareto_view.h"
#include "widgets/analysis/sweep_curves_view.h"
#include "widgets/analysis/sweep_heatmap_view.h"
#include "widgets/plots/plot_export.h"
#include "widgets/plots/qcustomplot_include.h"

using namespace qnn;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

SweepPoint point(const char* layer, const char* kind, int bits, double accuracy, int64_t size, double bitops) {
  SweepPoint p;
  p.layer = layer;
  p.kind = kind;
  p.bits = bits;
  p.accuracy = accuracy;
  p.size_bytes = size;
  p.bitops = bitops;
  return p;
}

/// Two slots at bits 2..4, base 90 %; relu1 A has a NaN point at 3 bits and none at 4
/// (a cancelled sweep): 4 of 6 points shown.
SweepRecord partialRecord() {
  SweepRecord r;
  r.what = "both";
  r.min_bits = 2;
  r.max_bits = 4;
  r.holdout = 500;
  r.base_accuracy = 0.90;
  r.base_size_bytes = 4000;
  r.base_bitops = 8e6;
  r.slots = {{"conv1", "weight", 8}, {"relu1", "act", 8}};
  r.points = {point("conv1", "weight", 2, 0.70, 1000, 2e6), point("conv1", "weight", 3, 0.85, 1500, 3e6),
              point("conv1", "weight", 4, 0.89, 2000, 4e6), point("relu1", "act", 2, 0.80, 4000, 2e6),
              point("relu1", "act", 3, kNaN, 4000, 3e6)};
  r.complete = false;
  return r;
}

analysis::MixedConfig config(std::vector<int> bits, double acc, int64_t size, double bitops) {
  analysis::MixedConfig c;
  c.bits = std::move(bits);
  c.predicted_accuracy = acc;
  c.size_bytes = size;
  c.bitops = bitops;
  return c;
}

QCPColorMap* colorMap(SweepHeatmapView& v) {
  for (int i = 0; i < v.plot()->plottableCount(); ++i)
    if (auto* m = qobject_cast<QCPColorMap*>(v.plot()->plottable(i))) return m;
  return nullptr;
}

int itemsNamed(QCustomPlot* plot, const QString& name) {
  int n = 0;
  for (int i = 0; i < plot->itemCount(); ++i) n += plot->item(i)->objectName() == name ? 1 : 0;
  return n;
}

}  // namespace

class TestGuiAnalysisViews : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void heatmapCellsAndMissingPoints();
  void staleBannerAndVeil();
  void curvesGapsAndCostAxis();
  void paretoClickSelectsAndMeasured();
  void analyzerTableHeadlineAndBars();
  void exportWritesFiles();
  void readableWhenDocked();
};

void TestGuiAnalysisViews::heatmapCellsAndMissingPoints() {
  SweepHeatmapView v;
  QVERIFY(!v.hasResult());
  QVERIFY(v.csv().isEmpty());
  v.setRecord(partialRecord());
  QVERIFY(v.hasResult());
  QCOMPARE(v.rowLabels(), QStringList({"conv1 W", "relu1 A"}));
  QCOMPARE(v.columnBits(), QList<int>({2, 3, 4}));
  QVERIFY(std::abs(v.cellDrop(0, 0) - 20.0) < 1e-9);
  QVERIFY(std::abs(v.cellDrop(0, 1) - 5.0) < 1e-9);
  QVERIFY(std::abs(v.cellDrop(0, 2) - 1.0) < 1e-9);
  QVERIFY(std::abs(v.cellDrop(1, 0) - 10.0) < 1e-9);
  QVERIFY(std::isnan(v.cellDrop(1, 1)));  // NaN accuracy: missing, not a value
  QVERIFY(std::isnan(v.cellDrop(1, 2)));  // never evaluated
  QVERIFY(std::isnan(v.cellDrop(5, 0)));
  QCOMPARE(v.cellText(0, 0), QStringLiteral("20.0"));
  QCOMPARE(v.cellText(1, 2), QString());
  QCOMPARE(v.missingCount(), 2);
  QVERIFY2(v.title().contains("partial: 4 of 6 points"), qPrintable(v.title()));
  // The colour map holds NaN (drawn transparent over a hatch), never 0, for the missing cells.
  QCPColorMap* map = colorMap(v);
  QVERIFY(map);
  QCOMPARE(map->data()->keySize(), 3);
  QCOMPARE(map->data()->valueSize(), 2);
  QVERIFY(std::abs(map->data()->cell(0, 0) - 20.0) < 1e-9);
  QVERIFY(std::isnan(map->data()->cell(1, 1)));
  QVERIFY(std::isnan(map->data()->cell(2, 1)));
  QCOMPARE(itemsNamed(v.plot(), "missingCell"), 2);
  QVERIFY(v.plot()->xAxis->label() == "bit_width");
  // The CSV: one row per slot, drops in points, empty for missing points.
  const QStringList lines = v.csv().split('\n', Qt::SkipEmptyParts);
  QCOMPARE(lines.size(), 3);
  QCOMPARE(lines[0], QStringLiteral("layer,kind,slot,bits_2,bits_3,bits_4"));
  QCOMPARE(lines[1], QStringLiteral("conv1,weight,conv1 W,20,5,1"));
  QCOMPARE(lines[2], QStringLiteral("relu1,act,relu1 A,10,,"));
  // A click on a cell names the slot and the bit width.
  v.resize(600, 300);
  v.show();
  QVERIFY(QTest::qWaitForWindowExposed(&v));
  v.plot()->replot(QCustomPlot::rpImmediateRefresh);
  QSignalSpy clicked(&v, &SweepHeatmapView::cellActivated);
  const QPoint at(int(v.plot()->xAxis->coordToPixel(3)), int(v.plot()->yAxis->coordToPixel(1)));
  QTest::mouseClick(v.plot(), Qt::LeftButton, {}, at);
  QCOMPARE(clicked.size(), 1);
  QCOMPARE(clicked[0][0].toString(), QStringLiteral("relu1"));
  QCOMPARE(clicked[0][1].toString(), QStringLiteral("act"));
  QCOMPARE(clicked[0][2].toInt(), 3);
  v.clear();
  QVERIFY(!v.hasResult());
  QVERIFY(v.rowLabels().isEmpty());
  QVERIFY(v.csv().isEmpty());
}

void TestGuiAnalysisViews::staleBannerAndVeil() {
  SweepHeatmapView v;
  v.resize(600, 300);
  v.show();
  v.setRecord(partialRecord());
  QVERIFY(!v.staleBanner()->isVisible());
  QCOMPARE(itemsNamed(v.plot(), "staleVeil"), 0);
  v.setStale(true, QStringLiteral("the network changed since this sweep"));
  QVERIFY(v.isStale());
  QVERIFY(v.staleBanner()->isVisible());
  QCOMPARE(v.staleText(), QStringLiteral("stale: the network changed since this sweep"));
  QCOMPARE(v.staleBanner()->text(), v.staleText());
  QVERIFY2(v.title().startsWith("STALE"), qPrintable(v.title()));
  QCOMPARE(itemsNamed(v.plot(), "staleVeil"), 1);
  // A new record keeps the mark until the host says it is current.
  v.setRecord(partialRecord());
  QVERIFY(v.staleBanner()->isVisible());
  QCOMPARE(itemsNamed(v.plot(), "staleVeil"), 1);
  v.setStale(false);
  QVERIFY(!v.staleBanner()->isVisible());
  QVERIFY(v.staleText().isEmpty());
  QVERIFY(!v.title().startsWith("STALE"));
  QCOMPARE(itemsNamed(v.plot(), "staleVeil"), 0);
  v.setStale(true);
  v.clear();  // clear() also drops the stale mark
  QVERIFY(!v.isStale());
  QVERIFY(!v.staleBanner()->isVisible());

  // The same banner on every view.
  AnalyzerView a;
  a.show();
  a.setStale(true, QStringLiteral("the weights changed"));
  QVERIFY(a.staleBanner()->isVisible());
  ParetoView p;
  p.show();
  p.setStale(true);
  QVERIFY(p.staleText().startsWith("stale: "));
}

void TestGuiAnalysisViews::curvesGapsAndCostAxis() {
  SweepCurvesView v;
  v.setRecord(partialRecord());
  QCOMPARE(v.seriesNames(), QStringList({"conv1 W", "relu1 A"}));
  QCOMPARE(v.seriesPoints(0), QList<QPointF>({{2, 70.0}, {3, 85.0}, {4, 89.0}}));
  QCOMPARE(v.seriesPoints(1), QList<QPointF>({{2, 80.0}}));  // NaN and missing points are gaps
  QCOMPARE(v.baseLine(), 90.0);
  QCOMPARE(v.costAxis(), analysis::CostAxis::SizeBytes);
  QCOMPARE(v.costPoints(0), QList<QPointF>({{2, 1000}, {3, 1500}, {4, 2000}}));
  QCOMPARE(v.plot()->yAxis2->label(), QStringLiteral("model size (bytes)"));
  QSignalSpy changed(&v, &SweepCurvesView::costAxisChanged);
  v.setCostAxis(analysis::CostAxis::BitOps);
  QCOMPARE(changed.size(), 1);
  QCOMPARE(v.costPoints(0), QList<QPointF>({{2, 2e6}, {3, 3e6}, {4, 4e6}}));
  QCOMPARE(v.plot()->yAxis2->label(), QStringLiteral("BitOps per sample"));
  // The accuracy graph of relu1 A holds a NaN at 3 and 4 bits (a gap), never 0.
  QCPGraph* relu = nullptr;
  for (int i = 0; i < v.plot()->graphCount(); ++i)
    if (v.plot()->graph(i)->name() == "relu1 A") relu = v.plot()->graph(i);
  QVERIFY(relu);
  QCOMPARE(relu->dataCount(), 3);
  QCOMPARE(relu->data()->at(0)->value, 80.0);
  QVERIFY(std::isnan(relu->data()->at(1)->value));
  QVERIFY(std::isnan(relu->data()->at(2)->value));
  const QStringList lines = v.csv().split('\n', Qt::SkipEmptyParts);
  QCOMPARE(lines.size(), 2 + 5);  // header, base, 5 points
  QCOMPARE(lines[0], QStringLiteral("layer,kind,bits,accuracy,accuracy_drop,size_bytes,bitops"));
  QCOMPARE(lines[1], QStringLiteral("(base),,,0.9,0,4000,8000000"));
  QCOMPARE(lines[2], QStringLiteral("conv1,weight,2,0.7,0.2,1000,2000000"));
  QCOMPARE(lines[6], QStringLiteral("relu1,act,3,,,4000,3000000"));  // NaN stays empty
}

void TestGuiAnalysisViews::paretoClickSelectsAndMeasured() {
  SweepRecord r = partialRecord();
  r.complete = true;
  const std::vector<analysis::MixedConfig> front{config({2, 2}, 0.60, 1000, 2e6), config({3, 2}, 0.75, 1500, 3e6),
                                                 config({4, 4}, 0.89, 2000, 4e6)};
  ParetoView v;
  QVERIFY(!v.hasResult());
  v.resize(700, 350);
  v.show();
  QVERIFY(QTest::qWaitForWindowExposed(&v));
  v.setFront(r, front, analysis::CostAxis::SizeBytes);
  QCOMPARE(v.pointCount(), 3);
  QCOMPARE(v.selectedIndex(), -1);
  QCOMPARE(v.pointPosition(1), QPointF(1500, 75.0));
  QVERIFY2(v.describe(1).startsWith("conv1 W3 · relu1 A2  → 75.0 %"), qPrintable(v.describe(1)));
  v.plot()->replot(QCustomPlot::rpImmediateRefresh);
  QSignalSpy selected(&v, &ParetoView::pointSelected);
  const QPointF p = v.pointPosition(1);
  QTest::mouseClick(v.plot(), Qt::LeftButton, {},
                    QPoint(int(v.plot()->xAxis->coordToPixel(p.x())) + 3, int(v.plot()->yAxis->coordToPixel(p.y())) - 2));
  QCOMPARE(selected.size(), 1);
  QCOMPARE(selected[0][0].toInt(), 1);
  QCOMPARE(v.selectedIndex(), 1);
  // A click far from every point selects nothing.
  QTest::mouseClick(v.plot(), Qt::LeftButton, {}, QPoint(v.plot()->width() - 5, 5));
  QCOMPARE(selected.size(), 1);
  v.setSelected(2);  // no signal
  QCOMPARE(selected.size(), 1);
  QCOMPARE(v.selectedIndex(), 2);
  v.setMeasured(1, 0.78);
  QCOMPARE(v.measured(1), 0.78);
  QVERIFY(std::isnan(v.measured(0)));
  const QStringList lines = v.csv().split('\n', Qt::SkipEmptyParts);
  QCOMPARE(lines.size(), 4);
  QCOMPARE(lines[0], QStringLiteral("index,size_bytes,bitops,predicted_accuracy,measured_accuracy,conv1 W,relu1 A"));
  QCOMPARE(lines[1], QStringLiteral("0,1000,2000000,0.6,,2,2"));
  QCOMPARE(lines[2], QStringLiteral("1,1500,3000000,0.75,0.78,3,2"));
  // BitOps on x: the same configurations at their BitOps.
  QSignalSpy axis(&v, &ParetoView::costAxisChanged);
  v.setCostAxis(analysis::CostAxis::BitOps);
  QCOMPARE(axis.size(), 1);
  QCOMPARE(v.pointPosition(0), QPointF(2e6, 60.0));
  v.clear();
  QVERIFY(!v.hasResult());
  QCOMPARE(v.pointCount(), 0);
}

void TestGuiAnalysisViews::analyzerTableHeadlineAndBars() {
  analysis::AnalyzerReport r;
  r.samples = 500;
  r.float_accuracy = 0.90;
  r.weights_only_accuracy = 0.88;
  r.activations_only_accuracy = 0.86;
  r.quantized_accuracy = 0.84;
  analysis::LayerSensitivity conv1{"conv1", "QuantConv2d", 0.89, 0.86, 21.5, 0.84};
  analysis::LayerSensitivity relu1{"relu1", "QuantReLU", 0.90, 0.842, std::numeric_limits<double>::infinity(), 0.84};
  analysis::LayerSensitivity fc1{"fc1", "QuantLinear", 0.85, 0.89, 15.24, 0.84};
  r.layers = {conv1, relu1, fc1};
  r.keep_higher = {"fc1", "conv1"};
  AnalyzerView v;
  v.setReport(r);
  QVERIFY(v.hasResult());
  QVERIFY2(v.headline().contains("float 90.0 % · weights only 88.0 % · activations only 86.0 % · quantized 84.0 %"),
           qPrintable(v.headline()));
  QCOMPARE(v.keepText(), QStringLiteral("keep at higher precision: fc1, conv1"));
  QCOMPARE(v.rowLayers(), QStringList({"conv1", "relu1", "fc1"}));
  QCOMPARE(v.barLayers(), QStringList({"conv1", "relu1", "fc1"}));
  const QList<double> gains = v.barGains();
  QCOMPARE(gains.size(), 3);
  QVERIFY(std::abs(gains[0] - 2.0) < 1e-9);
  QVERIFY(std::abs(gains[1] - 0.2) < 1e-9);
  QVERIFY(std::abs(gains[2] - 5.0) < 1e-9);
  auto* model = v.table()->model();
  QCOMPARE(model->index(0, AnalyzerView::OnlyThis).data().toString(), QStringLiteral("89.00"));
  QCOMPARE(model->index(0, AnalyzerView::Gain).data().toString(), QStringLiteral("+2.00"));
  QCOMPARE(model->index(1, AnalyzerView::OutputSqnr).data().toString(), QStringLiteral("∞"));
  QCOMPARE(model->index(2, AnalyzerView::OutputSqnr).data().toString(), QStringLiteral("15.2"));
  // Sorting by gain (descending) puts fc1 first.
  v.table()->sortByColumn(AnalyzerView::Gain, Qt::DescendingOrder);
  QCOMPARE(v.rowLayers().first(), QStringLiteral("fc1"));
  QCOMPARE(v.csv(), QString::fromStdString(analysis::analyzer_csv(r)));
  // No layer above the threshold.
  r.keep_higher.clear();
  v.setReport(r);
  QVERIFY(v.keepText().startsWith("no layer costs more than 0.5 points"));
  v.clear();
  QVERIFY(!v.hasResult());
  QVERIFY(v.csv().isEmpty());
  QVERIFY(v.rowLayers().isEmpty());
}

void TestGuiAnalysisViews::exportWritesFiles() {
  QTemporaryDir dir;
  SweepHeatmapView v;
  v.setRecord(partialRecord());
  for (const char* name : {"savePngAction", "saveSvgAction", "copyDataAction", "exportCsvAction"})
    QVERIFY2(v.findChild<QAction*>(name), name);
  QString error;
  QVERIFY2(saveViewPng(&v, dir.filePath("h.png"), &error, 500, 250), qPrintable(error));
  QVERIFY(QImage(dir.filePath("h.png")).size() == QSize(500, 250));
  QVERIFY2(saveViewSvg(&v, dir.filePath("h.svg"), &error, 500, 250), qPrintable(error));
  QFile svg(dir.filePath("h.svg"));
  QVERIFY(svg.open(QIODevice::ReadOnly));
  QVERIFY(svg.readAll().contains("<svg"));
}

/// At a docked size (420 x 250 on a 1366 x 768 screen; the analyzer, a table beside its
/// chart, 900 x 250) every plot keeps an axis rect
/// tall enough to read and its legend inside the plot. QNN_TEST_DUMP_DIR=DIR saves the
/// renders for a look.
void TestGuiAnalysisViews::readableWhenDocked() {
  SweepRecord r = partialRecord();
  SweepHeatmapView heatmap;
  heatmap.setRecord(r);
  SweepCurvesView curves;
  curves.setRecord(r);
  ParetoView pareto;
  r.complete = true;
  pareto.setFront(r, {config({2, 2}, 0.60, 1000, 2e6), config({3, 2}, 0.75, 1500, 3e6), config({4, 4}, 0.89, 2000, 4e6)},
                  analysis::CostAxis::SizeBytes);
  pareto.setSelected(1);
  AnalyzerView analyzer;
  analysis::AnalyzerReport a;
  a.samples = 500;
  a.float_accuracy = 0.9;
  a.quantized_accuracy = 0.8;
  a.layers = {{"conv1", "QuantConv2d", 0.89, 0.86, 21.5, 0.8}, {"fc1", "QuantLinear", 0.85, 0.89, 15.2, 0.8}};
  a.keep_higher = {"fc1", "conv1"};
  analyzer.setReport(a);
  const QByteArray dump = qgetenv("QNN_TEST_DUMP_DIR");
  const QList<std::pair<QWidget*, QCustomPlot*>> views{
      {&heatmap, heatmap.plot()}, {&curves, curves.plot()}, {&pareto, pareto.plot()}, {&analyzer, analyzer.plot()}};
  int i = 0;
  for (const auto& [view, plot] : views) {
    view->resize(view == &analyzer ? 900 : 420, 250);
    view->show();
    QVERIFY(QTest::qWaitForWindowExposed(view));
    plot->replot(QCustomPlot::rpImmediateRefresh);
    QVERIFY2(plot->axisRect()->height() >= 90, qPrintable(QString::number(i) + ": " + QString::number(plot->axisRect()->height())));
    QVERIFY2(plot->viewport().contains(plot->legend->outerRect()) || !plot->legend->visible(), qPrintable(QString::number(i)));
    if (!dump.isEmpty()) view->grab().save(QString::fromLocal8Bit(dump) + QStringLiteral("/view%1.png").arg(i));
    ++i;
  }
}

QTEST_MAIN(TestGuiAnalysisViews)
#include "test_gui_analysis_views.moc"

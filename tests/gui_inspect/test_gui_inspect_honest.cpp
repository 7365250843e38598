// SPDX-License-Identifier: GPL-3.0-or-later
// Issue 14, item 5 in the GUI ("honest views"): the activation histogram colours its
// bins by the band it draws; the Activations tab names the quantizer it shows when a
// layer without one is selected; misclassified captions are complete and not elided;
// the model summary marks a partial MACs total on an invalid graph; the Activations
// title follows the selection (the quantizer the selected layer's output meets); the
// summary says "steps not recorded"; reinspections (undo, Load Weights) do not raise the
// Inspection tab, an explicit request does. Run from test_gui_inspect's main.
// Torch and core headers come before any Qt header (Qt's `slots` vs LibTorch).
#include <torch/torch.h>

#include <cmath>
#include <memory>

#include "core/graph/project.h"
#include "core/graph/validate.h"
#include "core/inspect/inspect.h"

#include <QApplication>
#include <QDockWidget>
#include <QLabel>
#include <QFontMetrics>
#include <QListWidget>
#include <QStyle>
#include <QStyleOptionViewItem>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "app/gui/main_window.h"
#include "widgets/document/project_document.h"
#include "widgets/inspect/inspection_link.h"
#include "widgets/inspect/inspection_panel.h"
#include "widgets/inspector/model_summary_view.h"
#include "widgets/plots/activation_range_plot.h"
#include "widgets/plots/inspect_plot_style.h"
#include "widgets/plots/misclassified_gallery.h"
#include "widgets/plots/qcustomplot_include.h"
#include "widgets/training/training_controller.h"
#include "widgets/training/training_settings_panel.h"

using namespace qnn;

namespace {

/// An activation quantizer's stats: a `bits`-bit grid (unsigned or signed), `scale`,
/// `zeroPoint`, and an input histogram of `counts` over [lo, hi]. The range is set
/// the way core computes it.
inspect::ActivationStats activation(const char* layer, const char* type, int bits, bool isSigned, double scale,
                                    double zeroPoint, double lo, double hi, std::vector<int64_t> counts) {
  inspect::ActivationStats a;
  a.layer = layer;
  a.type = type;
  a.quantizer = "act";
  a.grid.bit_width = bits;
  a.grid.is_signed = isSigned;
  a.grid.min_int = isSigned ? -(int64_t(1) << (bits - 1)) : 0;
  a.grid.max_int = isSigned ? (int64_t(1) << (bits - 1)) - 1 : (int64_t(1) << bits) - 1;
  a.scale = scale;
  a.zero_point = zeroPoint;
  a.range_lo = (double(a.grid.min_int) - zeroPoint) * scale;
  a.range_hi = (double(a.grid.max_int) - zeroPoint) * scale;
  a.input_min = lo;
  a.input_max = hi;
  a.input_histogram.lo = lo;
  a.input_histogram.hi = hi;
  a.input_histogram.counts = std::move(counts);
  a.sqnr_db = 20.0;
  return a;
}

inspect::LayerError errorRow(const char* id, const char* type) {
  inspect::LayerError e;
  e.layer = id;
  e.type = type;
  return e;
}

/// The shaded band item of an activation plot (its only QCPItemRect).
QCPItemRect* bandItem(QCustomPlot* plot) {
  for (int i = 0; i < plot->itemCount(); ++i)
    if (auto* r = qobject_cast<QCPItemRect*>(plot->item(i))) return r;
  return nullptr;
}

/// The bars holding a bar at `key` (nullptr when none).
QCPBars* barsAt(QCustomPlot* plot, double key) {
  for (int i = 0; i < plot->plottableCount(); ++i)
    if (auto* bars = qobject_cast<QCPBars*>(plot->plottable(i)))
      for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it)
        if (std::abs(it->key - key) < 1e-9) return bars;
  return nullptr;
}

QStringList legendNames(QCustomPlot* plot) {
  QStringList names;
  for (int i = 0; i < plot->legend->itemCount(); ++i)
    if (auto* item = qobject_cast<QCPPlottableLegendItem*>(plot->legend->item(i)))
      names << item->plottable()->name();
  return names;
}

}  // namespace

class TestGuiInspectHonest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void histogramColoursBinsByTheBandItDraws();
  void activationsTitleNamesTheQuantizerOfAnotherLayer();
  void activationsTitleFollowsTheSelection();
  void summarySaysWhenStepsAreNotRecorded();
  void reinspectionDoesNotRaiseTheInspectionTab();
  void misclassifiedCaptionsAreCompleteAndNotElided();
  void summaryMarksPartialMacsOnAnInvalidGraph();
};

void TestGuiInspectHonest::histogramColoursBinsByTheBandItDraws() {
  // Two quantizers; for each, the band computed here from bit width, scale and zero
  // point: [(min_int − z)·s − s/2, (max_int − z)·s + s/2].
  struct Case {
    inspect::ActivationStats a;
    double bandLo, bandHi;
  };
  const std::vector<Case> cases = {
      // 4-bit unsigned, s 0.1, z 0: [0, 1.5], band [-0.05, 1.55]; 16 bins of 0.125 on
      // [0, 2]: [1.5, 1.625) crosses 1.55, [1.625, 2) are beyond it.
      {activation("relu1", "QuantReLU", 4, false, 0.1, 0.0, 0.0, 2.0,
                  {9, 8, 7, 6, 5, 4, 3, 2, 2, 2, 2, 2, 3, 1, 1, 1}),
       (0 - 0.0) * 0.1 - 0.05, (15 - 0.0) * 0.1 + 0.05},
      // 3-bit unsigned, s 0.25, z 2: [-0.5, 1.25], band [-0.625, 1.375]; 12 bins of 0.25
      // on [-1, 2]: [-1, -0.75) beyond, [-0.75, -0.5) across -0.625 (wholly below the
      // representable -0.5), [1.25, 1.5) across 1.375, [1.5, 2) beyond.
      {activation("act2", "QuantIdentity", 3, false, 0.25, 2.0, -1.0, 2.0, {1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2}),
       (0 - 2.0) * 0.25 - 0.125, (7 - 2.0) * 0.25 + 0.125},
  };
  for (const Case& c : cases) {
    auto report = std::make_shared<inspect::Report>();
    report->activations = {c.a};
    report->errors = {errorRow(c.a.layer.c_str(), c.a.type.c_str())};
    ActivationRangePlot plot;
    plot.resize(900, 600);
    plot.setReport(report, QString::fromStdString(c.a.layer));
    QCustomPlot* qcp = plot.plot();
    // The shaded band is the computed one (not [range_lo, range_hi]).
    QCPItemRect* band = bandItem(qcp);
    QVERIFY(band);
    const double drawnLo = band->topLeft->coords().x(), drawnHi = band->bottomRight->coords().x();
    QVERIFY2(std::abs(drawnLo - c.bandLo) < 1e-12 && std::abs(drawnHi - c.bandHi) < 1e-12,
             qPrintable(QStringLiteral("%1: band drawn [%2, %3], expected [%4, %5]")
                            .arg(QString::fromStdString(c.a.layer))
                            .arg(drawnLo)
                            .arg(drawnHi)
                            .arg(c.bandLo)
                            .arg(c.bandHi)));
    QCOMPARE(plot.bandLo(), c.bandLo);
    QCOMPARE(plot.bandHi(), c.bandHi);
    QCOMPARE(plot.rangeLo(), c.a.range_lo);
    QCOMPARE(plot.rangeHi(), c.a.range_hi);
    // Every bin: red exactly when it lies wholly beyond the drawn band, else blue.
    const inspect::Histogram& h = c.a.input_histogram;
    const double bw = (h.hi - h.lo) / double(h.counts.size());
    int red = 0;
    for (size_t i = 0; i < h.counts.size(); ++i) {
      const double lo = h.lo + double(i) * bw, hi = lo + bw;
      const bool beyond = hi <= drawnLo || lo >= drawnHi;
      QCPBars* bars = barsAt(qcp, lo + 0.5 * bw);
      QVERIFY2(bars, qPrintable(QStringLiteral("no bar for bin %1").arg(i)));
      const QColor expected = beyond ? kSaturatedColor : kFloatColor;
      QVERIFY2(bars->brush().color().rgb() == expected.rgb(),
               qPrintable(QStringLiteral("%1 bin [%2, %3) is %4, expected %5 (band [%6, %7])")
                              .arg(QString::fromStdString(c.a.layer))
                              .arg(lo)
                              .arg(hi)
                              .arg(bars->brush().color().name(), expected.name())
                              .arg(drawnLo)
                              .arg(drawnHi)));
      red += beyond ? 1 : 0;
    }
    QCOMPARE(plot.binsOutside(), red);
    QCOMPARE(plot.binsInside(), int(h.counts.size()) - red);
    // The legend says what the band and the lines are.
    const QStringList legend = legendNames(qcp);
    QVERIFY2(legend.contains(QStringLiteral("band [min − scale/2, max + scale/2]")), qPrintable(legend.join(" | ")));
    QVERIFY2(legend.contains(QStringLiteral("representable min, max (end levels)")), qPrintable(legend.join(" | ")));
    QVERIFY2(legend.contains(QStringLiteral("clipped (wholly beyond the band)")), qPrintable(legend.join(" | ")));
  }
}

void TestGuiInspectHonest::activationsTitleNamesTheQuantizerOfAnotherLayer() {
  auto report = std::make_shared<inspect::Report>();
  inspect::WeightStats conv1;
  conv1.layer = "conv1";
  conv1.type = "QuantConv2d";
  conv1.shape = {2, 1, 1, 1};
  conv1.grid = {4, true, false, -8, 7};
  conv1.scales = {0.1};
  conv1.zero_points = {0.0};
  conv1.levels.min_int = -8;
  conv1.levels.max_int = 7;
  conv1.levels.counts = std::vector<int64_t>(16, 1);
  report->weights = {conv1};
  report->activations = {activation("relu1", "QuantReLU", 4, false, 0.1, 0.0, 0.0, 2.0, {4, 3, 2, 1})};
  report->errors = {errorRow("conv1", "QuantConv2d"), errorRow("relu1", "QuantReLU"), errorRow("pool1", "MaxPool2d")};
  InspectionPanel panel;
  panel.resize(1000, 700);
  panel.show();
  panel.setReport(report);
  panel.selectLayer(QStringLiteral("relu1"));
  ActivationRangePlot* a = panel.activationPlot();
  QCOMPARE(panel.tabs()->currentIndex(), int(InspectionPanel::ActivationsTab));
  // Its own quantizer: no "selected" line.
  QVERIFY2(a->title().startsWith(QStringLiteral("relu1 · QuantReLU")), qPrintable(a->title()));
  // A layer without an activation quantizer and none after it: the last one before it,
  // named as what it is, with the selection.
  panel.selectLayer(QStringLiteral("pool1"));
  QCOMPARE(a->layer(), QStringLiteral("relu1"));
  QCOMPARE(a->selectedLayer(), QStringLiteral("pool1"));
  QVERIFY2(a->title().startsWith(QStringLiteral("Activations: input of QuantReLU relu1 (selected: pool1)\n"
                                                "relu1 · QuantReLU")),
           qPrintable(a->title()));
  panel.tabs()->setCurrentIndex(InspectionPanel::ActivationsTab);
  panel.selectLayer(QStringLiteral("conv1"));  // switches to the Weights tab; the Activations title follows
  QVERIFY2(a->title().startsWith(QStringLiteral("Activations: input of QuantReLU relu1 (selected: conv1)\n")),
           qPrintable(a->title()));
  panel.selectLayer(QStringLiteral("relu1"));
  QVERIFY2(a->title().startsWith(QStringLiteral("relu1 · QuantReLU")), qPrintable(a->title()));
}

void TestGuiInspectHonest::activationsTitleFollowsTheSelection() {
  // conv1 → relu1 → pool1 → conv2 → relu2 → fc: two activation quantizers.
  auto report = std::make_shared<inspect::Report>();
  report->activations = {activation("relu1", "QuantReLU", 4, false, 0.1, 0.0, 0.0, 2.0, {4, 3, 2, 1}),
                         activation("relu2", "QuantReLU", 4, false, 0.2, 0.0, 0.0, 3.0, {5, 3, 2, 1})};
  report->errors = {errorRow("conv1", "QuantConv2d"), errorRow("relu1", "QuantReLU"), errorRow("pool1", "MaxPool2d"),
                    errorRow("conv2", "QuantConv2d"), errorRow("relu2", "QuantReLU"), errorRow("fc", "QuantLinear")};
  ActivationRangePlot plot;
  plot.resize(900, 600);
  plot.setReport(report, QStringLiteral("relu2"));
  QVERIFY2(plot.title().startsWith(QStringLiteral("relu2 · QuantReLU")), qPrintable(plot.title()));
  // conv1 selected while relu2 is shown: the plot goes to the quantizer conv1's output
  // meets (relu1), not the one shown before, and its title names both.
  plot.setReport(report, QStringLiteral("conv1"));
  QCOMPARE(plot.layer(), QStringLiteral("relu1"));
  QVERIFY2(plot.title().startsWith(QStringLiteral("Activations: input of QuantReLU relu1 (selected: conv1)\nrelu1 · ")),
           qPrintable(plot.title()));
  // pool1 and conv2 feed relu2.
  for (const char* layer : {"pool1", "conv2"}) {
    plot.setReport(report, QLatin1String(layer));
    QCOMPARE(plot.layer(), QStringLiteral("relu2"));
    QVERIFY2(plot.title().startsWith(QStringLiteral("Activations: input of QuantReLU relu2 (selected: %1)\nrelu2 · ")
                                         .arg(QLatin1String(layer))),
             qPrintable(plot.title()));
  }
  // The output layer: nothing after it, the last quantizer before it.
  plot.setReport(report, QStringLiteral("fc"));
  QCOMPARE(plot.layer(), QStringLiteral("relu2"));
  QVERIFY2(plot.title().startsWith(QStringLiteral("Activations: input of QuantReLU relu2 (selected: fc)\n")),
           qPrintable(plot.title()));
  // Nothing selected: the quantizer stays, and no layer is named as selected.
  plot.setReport(report, QString());
  QCOMPARE(plot.layer(), QStringLiteral("relu2"));
  QVERIFY(plot.selectedLayer().isEmpty());
  QVERIFY2(plot.title().startsWith(QStringLiteral("relu2 · QuantReLU")), qPrintable(plot.title()));
  QVERIFY2(!plot.title().contains(QStringLiteral("selected")), qPrintable(plot.title()));

  // The panel: a layer selected before a report that does not have it (another project)
  // is not named as selected.
  InspectionPanel panel;
  panel.resize(1000, 700);
  panel.selectLayer(QStringLiteral("conv9"));
  inspect::WeightStats conv1;
  conv1.layer = "conv1";
  conv1.type = "QuantConv2d";
  conv1.shape = {2, 1, 1, 1};
  conv1.grid = {4, true, false, -8, 7};
  conv1.scales = {0.1};
  conv1.zero_points = {0.0};
  conv1.levels.min_int = -8;
  conv1.levels.max_int = 7;
  conv1.levels.counts = std::vector<int64_t>(16, 1);
  report->weights = {conv1};
  panel.setReport(report);
  QCOMPARE(panel.selectedLayer(), QStringLiteral("conv1"));
  QVERIFY2(!panel.activationPlot()->title().contains(QStringLiteral("conv9")), qPrintable(panel.activationPlot()->title()));
  QVERIFY2(panel.activationPlot()->title().startsWith(QStringLiteral("Activations: input of QuantReLU relu1 (selected: conv1)")),
           qPrintable(panel.activationPlot()->title()));
}

void TestGuiInspectHonest::summarySaysWhenStepsAreNotRecorded() {
  auto report = std::make_shared<inspect::Report>();
  report->activations = {activation("relu1", "QuantReLU", 4, false, 0.1, 0.0, 0.0, 2.0, {4, 3, 2, 1})};
  report->errors = {errorRow("relu1", "QuantReLU")};
  report->calibration_samples = 256;
  report->scales.step = 1200;
  InspectionPanel panel;
  panel.setReport(report);
  QVERIFY2(panel.summaryText().startsWith(QStringLiteral("step 1200 · 256 calibration samples · ")),
           qPrintable(panel.summaryText()));
  // Loaded weights, an import or a fold: the checkpoint has no step count (step -1).
  auto loaded = std::make_shared<inspect::Report>(*report);
  loaded->scales.step = -1;
  panel.setReport(loaded);
  QVERIFY2(panel.summaryText().startsWith(QStringLiteral("steps not recorded · 256 calibration samples · ")),
           qPrintable(panel.summaryText()));
  QVERIFY2(!panel.summaryText().contains(QStringLiteral("step -1")), qPrintable(panel.summaryText()));
  QCOMPARE(panel.findChild<QLabel*>(QStringLiteral("inspectionSummary"))->text(), panel.summaryText());
}

void TestGuiInspectHonest::misclassifiedCaptionsAreCompleteAndNotElided() {
  MisclassifiedSet set;
  set.classNames = {QStringLiteral("T-shirt/top"), QStringLiteral("Trouser"), QStringLiteral("Pullover"),
                    QStringLiteral("Dress"), QStringLiteral("Coat"), QStringLiteral("Sandal"), QStringLiteral("Shirt"),
                    QStringLiteral("Sneaker"), QStringLiteral("Bag"), QStringLiteral("Ankle boot"),
                    QStringLiteral("a_folder_class_with_a_rather_long_name_of_many_words_and_letters")};
  set.testSamples = 100;
  auto sample = [](qint64 index, int label, int predicted, double confidence) {
    MisclassifiedSample s;
    s.index = index;
    s.label = label;
    s.predicted = predicted;
    s.confidence = confidence;
    s.image = QImage(28, 28, QImage::Format_Grayscale8);
    s.image.fill(128);
    return s;
  };
  set.samples = {sample(3, 9, 7, 0.873), sample(8, 0, 6, 0.5049), sample(11, 10, 4, 0.9999),
                 sample(12, 3, 10, 0.31)};
  MisclassifiedGallery g;
  g.resize(900, 600);
  g.setSamples(set);
  g.show();
  QVERIFY(QTest::qWaitForWindowExposed(&g));
  QCOMPARE(g.caption(0), QStringLiteral("true: Ankle boot\npredicted: Sneaker (87.3 %)"));
  QCOMPARE(g.caption(1), QStringLiteral("true: T-shirt/top\npredicted: Shirt (50.5 %)"));
  QListWidget* list = g.list();
  QStyle* style = list->style();
  for (int i = 0; i < g.count(); ++i) {
    const MisclassifiedSample& s = set.samples[i];
    QListWidgetItem* item = list->item(i);
    const QString text = item->text();
    QVERIFY2(text.contains(QStringLiteral("true: ") + set.classNames[s.label]), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("predicted: ") + set.classNames[s.predicted]), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("(%1 %)").arg(s.confidence * 100.0, 0, 'f', 1)), qPrintable(text));
    // The text rectangle the style draws the caption in (icon on top): every line fits
    // its width, or wraps, and the wrapped caption fits its height: nothing is elided.
    QStyleOptionViewItem opt;
    opt.initFrom(list);
    opt.rect = list->visualItemRect(item);
    opt.text = QString(text).replace(QLatin1Char('\n'), QChar::LineSeparator);  // as QStyledItemDelegate does
    opt.features = QStyleOptionViewItem::HasDisplay | QStyleOptionViewItem::HasDecoration |
                   QStyleOptionViewItem::WrapText;
    opt.decorationPosition = QStyleOptionViewItem::Top;
    opt.decorationSize = list->iconSize();
    opt.icon = item->icon();
    opt.displayAlignment = Qt::AlignHCenter | Qt::AlignTop;
    opt.font = list->font();
    const QRect textRect = style->subElementRect(QStyle::SE_ItemViewItemText, &opt, list);
    const QFontMetrics fm(list->font());
    const int margin = style->pixelMetric(QStyle::PM_FocusFrameHMargin, nullptr, list) + 1;
    const int width = textRect.width() - 2 * margin;
    QVERIFY2(width > 0, qPrintable(QStringLiteral("item %1: text rect %2 px wide").arg(i).arg(textRect.width())));
    const QRect needed =
        fm.boundingRect(QRect(0, 0, width, 100000), Qt::AlignHCenter | Qt::TextWordWrap | Qt::TextWrapAnywhere, text);
    QVERIFY2(needed.height() <= textRect.height(),
             qPrintable(QStringLiteral("item %1: caption needs %2 px, the view gives %3 x %4 px: %5")
                            .arg(i)
                            .arg(needed.height())
                            .arg(textRect.width())
                            .arg(textRect.height())
                            .arg(text)));
    // The short captions fit on their lines without wrapping.
    if (i < 2)
      for (const QString& line : text.split('\n')) QVERIFY2(fm.horizontalAdvance(line) <= width, qPrintable(line));
    // The tooltip has it all too.
    QVERIFY2(item->toolTip().contains(set.classNames[s.label]) && item->toolTip().contains(set.classNames[s.predicted]),
             qPrintable(item->toolTip()));
  }
}

void TestGuiInspectHonest::summaryMarksPartialMacsOnAnInvalidGraph() {
  Project p = load_project(QNN_SOURCE_DIR "/resources/examples/lenet_lowprec.qnn.json");
  ProjectDocument doc;
  doc.setProject(p);
  ModelSummaryView view(&doc);
  view.resize(700, 500);
  view.show();
  QVERIFY2(view.totalsText().contains(QStringLiteral("MACs per sample")) &&
               !view.totalsText().contains(QStringLiteral("partial")) && !view.totalsText().contains(QStringLiteral("≥")),
           qPrintable(view.totalsText()));
  // conv2 told it gets 7 channels: conv2, fc1, fc2 and fc3 lose their shapes.
  p.find("conv2")->params["in_channels"] = 7;
  const ValidationResult v = validate(p);
  QVERIFY(!v.ok());
  int withoutShape = 0;
  for (const LayerSpec& l : p.layers)
    if ((l.type == LayerType::QuantConv2d || l.type == LayerType::QuantLinear) && !v.nodes.count(l.id)) ++withoutShape;
  QCOMPARE(withoutShape, 4);
  doc.setProject(p);
  const QString conv1Macs = QLocale::system().toString(qlonglong(6 * 28 * 28 * 25));
  QVERIFY2(view.totalsText().contains(QStringLiteral("<b>≥ %1</b> MACs per sample (partial: %2 layer(s) without shapes)")
                                          .arg(conv1Macs)
                                          .arg(withoutShape)),
           qPrintable(view.totalsText()));
}

void TestGuiInspectHonest::reinspectionDoesNotRaiseTheInspectionTab() {
  MainWindow w;
  w.resize(1366, 768);
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  QVERIFY(w.openProject(QStringLiteral(QNN_SOURCE_DIR "/resources/examples/lenet_lowprec.qnn.json")));
  Project p = w.document()->project();
  p.training.threads = 1;
  w.document()->setProject(p, w.document()->filePath());
  w.setRunLimits(1000, 200, 4);
  w.setEpochs(1);
  TrainingController* c = w.trainingController();
  w.startTraining();
  QVERIFY(c->isRunning());
  QTRY_VERIFY_WITH_TIMEOUT(!c->isRunning(), 120000);
  QVERIFY(c->hasModel());
  InspectionPanel* panel = w.inspectionPanel();
  QTRY_VERIFY_WITH_TIMEOUT(panel->reportsReceived() > 0, 30000);
  QDockWidget* inspection = w.docks().inspection;
  QDockWidget* curves = w.docks().curves;
  QVERIFY(w.tabifiedDockWidgets(inspection).contains(curves));  // one tab group: one of them shows
  curves->raise();
  QTRY_VERIFY(!curves->visibleRegion().isEmpty());
  QVERIFY(inspection->visibleRegion().isEmpty());

  // An edit sets the model aside, Ctrl+Z brings it back and reinspects it: the report
  // refreshes the Inspection tab where it is, behind the curves the user is reading.
  LayerSpec relu1 = *w.document()->project().find("relu1");
  relu1.act_quant->bit_width = 6;
  QVERIFY(w.document()->changeLayers({"relu1"}, {relu1}, QStringLiteral("bit_width"), 1));
  QVERIFY(!c->hasModel());
  w.document()->undoStack()->undo();
  QVERIFY(c->hasModel());
  QTRY_VERIFY_WITH_TIMEOUT(panel->reportsReceived() > 0, 30000);
  QTest::qWait(20);
  QVERIFY(!curves->visibleRegion().isEmpty());
  QVERIFY(inspection->visibleRegion().isEmpty());

  // Load Weights (here: the checkpoint of the run): the same.
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const QString checkpoint = dir.filePath(QStringLiteral("run.pt"));
  c->saveCheckpoint(checkpoint);
  w.loadWeights(checkpoint);
  QCOMPARE(panel->reportsReceived(), 0);  // cleared, reinspecting
  QTRY_VERIFY_WITH_TIMEOUT(panel->reportsReceived() > 0, 30000);
  QTest::qWait(20);
  QVERIFY(!curves->visibleRegion().isEmpty());
  QVERIFY(inspection->visibleRegion().isEmpty());

  // An explicit request: its report raises the tab.
  const int before = panel->reportsReceived();
  w.inspectionLink()->raiseOnNextReport();
  c->reinspect(w.findChild<TrainingSettingsPanel*>(QStringLiteral("trainingSettings"))->options());
  QTRY_VERIFY_WITH_TIMEOUT(panel->reportsReceived() > before, 30000);
  QTRY_VERIFY(!inspection->visibleRegion().isEmpty());
  QVERIFY(curves->visibleRegion().isEmpty());
}

std::unique_ptr<QObject> makeGuiInspectHonestTests() { return std::make_unique<TestGuiInspectHonest>(); }

#include "test_gui_inspect_honest.moc"

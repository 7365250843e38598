// SPDX-License-Identifier: GPL-3.0-or-later
// The Model Summary dock's hardware columns and totals (core/graph/finn_cost.h) for the
// low-precision LeNet-5, and the FINN tab's folding controls (PE, SIMD, clock): the
// figures are worked out by hand here and in tests/hw_cost.
#include <torch/torch.h>

#include "core/graph/finn_rules.h"
#include "core/graph/project.h"

#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QHeaderView>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableWidget>
#include <QtTest>

#include <cmath>

#include "app/gui/main_window.h"
#include "widgets/document/project_document.h"
#include "widgets/inspector/model_summary_view.h"

using namespace qnn;

class TestGuiHwCost : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void hardwareColumnsAndTotals();
  void foldingControlsChangeTheFigures();
  void foldingSurvivesARestart();
  void floatInputHasNoFinnEstimate();
};

namespace {

int rowOf(QTableWidget* t, const QString& id) {
  for (int r = 0; r < t->rowCount(); ++r)
    if (t->item(r, 0) && t->item(r, 0)->text() == id) return r;
  return -1;
}

/// Types `text` into a spin box as a user does: select all, type, Enter.
void typeInto(QAbstractSpinBox* box, const QString& text) {
  box->setFocus();
  QTest::keyClick(box, Qt::Key_A, Qt::ControlModifier);
  QTest::keyClicks(box, text);
  QTest::keyClick(box, Qt::Key_Return);
}

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

void TestGuiHwCost::initTestCase() {
  // QSettings go to a test location under a name of their own (never the user's).
  QStandardPaths::setTestModeEnabled(true);
  QCoreApplication::setOrganizationName(QStringLiteral("qnn-studio-hw-cost-test"));
  QCoreApplication::setApplicationName(QStringLiteral("test_gui_hw_cost"));
  QSettings().clear();
}

void TestGuiHwCost::hardwareColumnsAndTotals() {
  Project p = load_project(QNN_SOURCE_DIR "/resources/examples/lenet_lowprec.qnn.json");
  ProjectDocument doc;
  doc.setProject(p);
  ModelSummaryView view(&doc);
  QCOMPARE(view.table()->columnCount(), 7);  // the Size tab keeps its columns
  QTableWidget* t = view.hardwareTable();
  QCOMPARE(t->objectName(), QStringLiteral("hardwareTable"));
  QCOMPARE(t->columnCount(), 5);  // target none: no LUT / BRAM18 columns
  QCOMPARE(t->horizontalHeaderItem(2)->text(), QStringLiteral("BitOps"));
  int conv1 = -1;
  for (int r = 0; r < t->rowCount(); ++r)
    if (t->item(r, 0)->text() == QStringLiteral("conv1")) conv1 = r;
  QVERIFY(conv1 >= 0);
  const QLocale loc = QLocale::system();
  QCOMPARE(t->item(conv1, 1)->text(), QStringLiteral("4"));                          // A bits (quant_inp)
  QCOMPARE(t->item(conv1, 2)->text(), loc.toString(qlonglong(1411200)));             // 117600 * 3 * 4
  QCOMPARE(t->item(conv1, 3)->text(), QStringLiteral("450 bits"));                   // 150 weights * 3
  QCOMPARE(t->item(conv1, 4)->text(), QStringLiteral("12"));                         // 4 + 3 + ceil(log2 25)
  QVERIFY2(view.totalsText().contains(QStringLiteral("<b>%1</b> BitOps per sample").arg(loc.toString(qlonglong(4998240)))),
           qPrintable(view.totalsText()));
  QVERIFY2(!view.totalsText().contains(QStringLiteral("FINN")), qPrintable(view.totalsText()));
  // FINN: a FINN tab with the per-MVAU figures (conv1: 342 LUTs, 1 BRAM18) and the FINN
  // totals at the default folding; the Hardware tab keeps its five columns.
  auto* tabs = view.findChild<QTabWidget*>(QStringLiteral("summaryTabs"));
  QVERIFY(tabs);
  QVERIFY(!tabs->isTabVisible(2));
  QVERIFY(doc.setDeploymentTarget(DeploymentTarget::Finn));
  QVERIFY(tabs->isTabVisible(2));
  QCOMPARE(tabs->tabText(2), QStringLiteral("FINN"));
  QCOMPARE(t->columnCount(), 5);
  QTableWidget* f = view.finnTable();
  QCOMPARE(f->columnCount(), 6);
  QCOMPARE(f->horizontalHeaderItem(4)->text(), QStringLiteral("LUT"));
  const int fconv1 = rowOf(f, QStringLiteral("conv1"));
  QVERIFY(fconv1 >= 0);
  QCOMPARE(f->item(fconv1, 1)->text(), QStringLiteral("1"));  // PE
  QCOMPARE(f->item(fconv1, 2)->text(), QStringLiteral("1"));  // SIMD
  QCOMPARE(f->item(fconv1, 3)->text(), loc.toString(qlonglong(117600)));  // 6 * 25 * 784
  QCOMPARE(f->item(fconv1, 4)->text(), QStringLiteral("342"));
  QCOMPARE(f->item(fconv1, 5)->text(), QStringLiteral("1"));
  QVERIFY2(view.totalsText().contains(QStringLiteral("FINN at PE 1, SIMD 1 (requested; clamped per layer to divisors), "
                                                     "100 MHz: <b>%1</b> LUTs · <b>18</b> BRAM18 · 416.7 samples/s "
                                                     "(slowest: conv2")
                                          .arg(loc.toString(qlonglong(1729)))),
           qPrintable(view.totalsText()));
  QVERIFY2(!view.totalsText().contains(QStringLiteral("Not a FINN build")), qPrintable(view.totalsText()));
  // Back to None: the FINN tab goes away.
  doc.undoStack()->undo();
  QVERIFY(!tabs->isTabVisible(2));
  QVERIFY(doc.setDeploymentTarget(DeploymentTarget::Finn));
  // columnsWidth() covers the new columns: every one whole.
  int sum = 0;
  for (int c = 0; c < t->columnCount(); ++c)
    sum += std::max(t->horizontalHeader()->sectionSizeHint(c), static_cast<QAbstractItemView*>(t)->sizeHintForColumn(c));
  QVERIFY(view.columnsWidth() > sum);
  sum = 0;
  for (int c = 0; c < f->columnCount(); ++c)
    sum += std::max(f->horizontalHeader()->sectionSizeHint(c), static_cast<QAbstractItemView*>(f)->sizeHintForColumn(c));
  QVERIFY(view.columnsWidth() > sum);
}

// The user states the folding in the FINN tab: PE 4, SIMD 8 at 200 MHz, typed into the
// spin boxes. Each layer takes the largest divisor of its MH / MW not above the request
// (as `qnn summary --pe 4 --simd 8 --clock-mhz 200`); the totals line names the folding.
void TestGuiHwCost::foldingControlsChangeTheFigures() {
  Project p = load_project(QNN_SOURCE_DIR "/resources/examples/lenet_lowprec.qnn.json");
  p.deployment_target = DeploymentTarget::Finn;
  ProjectDocument doc;
  doc.setProject(p);
  ModelSummaryView view(&doc);
  view.resize(500, 500);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  auto* tabs = view.findChild<QTabWidget*>(QStringLiteral("summaryTabs"));
  tabs->setCurrentIndex(2);
  QCOMPARE(view.peSpinBox()->objectName(), QStringLiteral("foldingPe"));
  QCOMPARE(view.peSpinBox()->value(), 1);
  QCOMPARE(view.simdSpinBox()->value(), 1);
  QCOMPARE(view.clockSpinBox()->value(), 100.0);
  const int undoBefore = doc.undoStack()->count();
  typeInto(view.peSpinBox(), QStringLiteral("4"));
  typeInto(view.simdSpinBox(), QStringLiteral("8"));
  typeInto(view.clockSpinBox(), QStringLiteral("200"));
  QCOMPARE(view.peSpinBox()->value(), 4);
  QCOMPARE(view.simdSpinBox()->value(), 8);
  QCOMPARE(view.clockSpinBox()->value(), 200.0);
  QCOMPARE(view.folding().pe, int64_t(4));
  QCOMPARE(doc.undoStack()->count(), undoBefore);  // a view setting, not a document edit
  QVERIFY(!doc.isModified());

  // conv1 by hand: MH = 6 out channels, MW = 1 * 5 * 5 = 25, 28 x 28 = 784 output pixels,
  // W = 3 bits, A = 4 bits (quant_inp, signed). PE: largest divisor of 6 <= 4 = 3; SIMD:
  // largest divisor of 25 <= 8 = 5.
  const int64_t pe = 3, simd = 5, mh = 6, mw = 25, pixels = 784, w = 3, a = 4;
  const int64_t cycles = (mh / pe) * (mw / simd) * pixels;  // 2 * 5 * 784 = 7840
  // FINN accumulator: ceil(alpha + log2(1 + 2^-alpha) + 1), alpha = log2 25 + 3 + 4 - 1 - 1 (signed input).
  const double alpha = std::log2(25.0) + double(w + a) - 2.0;
  const int64_t acc = int64_t(std::ceil(alpha + std::log2(1.0 + std::pow(2.0, -alpha)) + 1.0));  // 11
  const int64_t mult = simd * (2 * ceilDiv(w + a, 6) - 1) * (w + a);  // 5 * 3 * 7 = 105
  const int64_t adder = (w + a) * (2 * simd - 1);                      // 63
  const int64_t luts = int64_t(std::floor(300.0 + 1.1 * double(pe) * double(mult + adder + acc)));  // 890
  // BRAM18: omega = 25 * 6 / (5 * 3) = 10 words of 5 * 3 * 3 = 45 bits: > 18, omega <= 512 ->
  // ceil(10 / 512) * ceil(45 / 36) = 2.
  const int64_t omega = mw * mh / (simd * pe), width = simd * w * pe;
  const int64_t bram = ceilDiv(omega, 512) * ceilDiv(width, 36);
  QCOMPARE(luts, int64_t(890));
  QCOMPARE(bram, int64_t(2));
  QTableWidget* f = view.finnTable();
  const int r = rowOf(f, QStringLiteral("conv1"));
  QVERIFY(r >= 0);
  const QLocale loc = QLocale::system();
  QCOMPARE(f->item(r, 1)->text(), QString::number(pe));
  QCOMPARE(f->item(r, 2)->text(), QString::number(simd));
  QCOMPARE(f->item(r, 3)->text(), loc.toString(qlonglong(cycles)));
  QCOMPARE(f->item(r, 4)->text(), loc.toString(qlonglong(luts)));
  QCOMPARE(f->item(r, 5)->text(), QString::number(bram));
  // conv2: MH 16, MW 6 * 25 = 150, 10 x 10 pixels: PE 4, SIMD 6 (largest divisor of 150 <= 8),
  // (16 / 4) * (150 / 6) * 100 = 10000 cycles, the slowest layer: 200 MHz / 10000 = 20000 samples/s.
  const int r2 = rowOf(f, QStringLiteral("conv2"));
  QCOMPARE(f->item(r2, 1)->text(), QStringLiteral("4"));
  QCOMPARE(f->item(r2, 2)->text(), QStringLiteral("6"));
  QCOMPARE(f->item(r2, 3)->text(), loc.toString(qlonglong(10000)));
  // The totals of README's `qnn summary --target finn --pe 4 --simd 8 --clock-mhz 200`
  // (hand-computed per layer in tests/hw_cost): 6136 LUTs, 21 BRAM18, 20000 samples/s.
  QVERIFY2(view.totalsText().contains(QStringLiteral("FINN at PE 4, SIMD 8 (requested; clamped per layer to divisors), "
                                                     "200 MHz: <b>%1</b> LUTs · <b>21</b> BRAM18 · 20000.0 samples/s "
                                                     "(slowest: conv2, %2 cycles per sample)")
                                          .arg(loc.toString(qlonglong(6136)), loc.toString(qlonglong(10000)))),
           qPrintable(view.totalsText()));
  // setFolding clamps to the controls' ranges and refreshes at once.
  Folding big;
  big.pe = 1 << 20;
  big.simd = 0;
  big.clock_mhz = 50.0;
  view.setFolding(big);
  QCOMPARE(view.folding().pe, int64_t(4096));
  QCOMPARE(view.folding().simd, int64_t(1));
  QCOMPARE(f->item(r, 1)->text(), QStringLiteral("6"));  // PE 4096 on MH 6: all 6
  QVERIFY2(view.totalsText().contains(QStringLiteral("FINN at PE 4096, SIMD 1 (requested; clamped per layer to "
                                                     "divisors), 50 MHz")),
           qPrintable(view.totalsText()));
}

// qnn-studio remembers the folding with the window layout (QSettings), not in the project.
void TestGuiHwCost::foldingSurvivesARestart() {
  QSettings().clear();
  {
    MainWindow w;
    w.restoreSavedLayout();  // remember on close, as qnn-studio does
    auto* summary = qobject_cast<ModelSummaryView*>(w.docks().summary->widget());
    QVERIFY(summary);
    Folding f;
    f.pe = 4;
    f.simd = 8;
    f.clock_mhz = 200.0;
    summary->setFolding(f);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(w.close());
  }
  QCOMPARE(QSettings().value(QStringLiteral("modelSummary/pe")).toLongLong(), qlonglong(4));
  {
    MainWindow w;
    auto* summary = qobject_cast<ModelSummaryView*>(w.docks().summary->widget());
    QCOMPARE(summary->folding().pe, int64_t(1));  // a window not asked to restore: the defaults
    w.restoreSavedLayout();
    QCOMPARE(summary->folding().pe, int64_t(4));
    QCOMPARE(summary->folding().simd, int64_t(8));
    QCOMPARE(summary->folding().clock_mhz, 200.0);
  }
}

// conv1 reading a float tensor (quant_inp hands on a plain tensor): FINN builds no MVAU
// for it, so its FINN row shows dashes with the reason, and the totals leave it out:
// 1729 - 342 = 1387 LUTs, 18 - 1 = 17 BRAM18 (the per-layer figures of tests/hw_cost).
void TestGuiHwCost::floatInputHasNoFinnEstimate() {
  Project p = load_project(QNN_SOURCE_DIR "/resources/examples/lenet_lowprec.qnn.json");
  p.deployment_target = DeploymentTarget::Finn;
  p.find("quant_inp")->return_quant_tensor = false;
  p.find("conv1")->bias_quant.reset();
  ProjectDocument doc;
  doc.setProject(p);
  ModelSummaryView view(&doc);
  view.setFolding(Folding{});
  QTableWidget* f = view.finnTable();
  const int r = rowOf(f, QStringLiteral("conv1"));
  QVERIFY(r >= 0);
  for (int col = 1; col < 6; ++col) QCOMPARE(f->item(r, col)->text(), QStringLiteral("—"));
  QVERIFY2(f->item(r, 4)->toolTip().startsWith(QStringLiteral("No FINN estimate: float input.")),
           qPrintable(f->item(r, 4)->toolTip()));
  QCOMPARE(f->item(rowOf(f, QStringLiteral("conv2")), 4)->text(), QStringLiteral("347"));
  const QLocale loc = QLocale::system();
  QVERIFY2(view.totalsText().contains(QStringLiteral("<b>%1</b> LUTs · <b>17</b> BRAM18 · 416.7 samples/s")
                                          .arg(loc.toString(qlonglong(1387)))) &&
               view.totalsText().contains(QStringLiteral("not in the FINN totals (no estimate): conv1 (float input)")),
           qPrintable(view.totalsText()));
  // quant_inp still quantizes conv1's input (FINN sees its Quant): no FINN rule is broken.
  QVERIFY2(!view.totalsText().contains(QStringLiteral("Not a FINN build")), qPrintable(view.totalsText()));
  // The classic LeNet-5 under FINN (pools floored as Edit > Deployment Target does): its
  // four Tanh nodes break finn-unsupported-op, and the totals say it is no FINN build.
  Project classic = load_project(QNN_SOURCE_DIR "/resources/examples/lenet5_classic.qnn.json");
  apply_deployment_target(classic, DeploymentTarget::Finn);
  doc.setProject(classic);
  QVERIFY2(view.totalsText().contains(QStringLiteral(
               "<br><b>Not a FINN build yet</b>: 4 FINN rule warning(s): tanh1 (finn-unsupported-op), tanh2 "
               "(finn-unsupported-op), tanh3 (finn-unsupported-op), tanh4 (finn-unsupported-op) (each is marked on "
               "its node; the QONNX export for FINN is refused until they are fixed)")),
           qPrintable(view.totalsText()));
}

QTEST_MAIN(TestGuiHwCost)
#include "test_gui_hw_cost.moc"

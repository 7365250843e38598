// SPDX-License-Identifier: GPL-3.0-or-later
// The Model Summary dock's hardware columns and totals (core/graph/finn_cost.h) for the
// low-precision LeNet-5; the figures are worked out by hand in tests/hw_cost.
#include "core/graph/project.h"
#include "widgets/document/project_document.h"
#include "widgets/inspector/model_summary_view.h"

#include <QHeaderView>
#include <QTableWidget>
#include <QtTest>

using namespace qnn;

class TestGuiHwCost : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void hardwareColumnsAndTotals();
};

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
  // FINN: LUT and BRAM18 columns (conv1: 342 LUTs, 1 BRAM18) and the FINN totals at the default folding.
  QVERIFY(doc.setDeploymentTarget(DeploymentTarget::Finn));
  QCOMPARE(t->columnCount(), 7);
  QCOMPARE(t->horizontalHeaderItem(5)->text(), QStringLiteral("LUT"));
  QCOMPARE(t->item(conv1, 5)->text(), QStringLiteral("342"));
  QCOMPARE(t->item(conv1, 6)->text(), QStringLiteral("1"));
  QVERIFY2(view.totalsText().contains(QStringLiteral("FINN at the default folding (PE 1, SIMD 1, 100 MHz): <b>%1</b> "
                                                     "LUTs · <b>18</b> BRAM18 · 416.7 samples/s (slowest: conv2")
                                          .arg(loc.toString(qlonglong(1729)))),
           qPrintable(view.totalsText()));
  // columnsWidth() covers the new columns: every one whole.
  int sum = 0;
  for (int c = 0; c < t->columnCount(); ++c)
    sum += std::max(t->horizontalHeader()->sectionSizeHint(c), static_cast<QAbstractItemView*>(t)->sizeHintForColumn(c));
  QVERIFY(view.columnsWidth() > sum);
}

QTEST_MAIN(TestGuiHwCost)
#include "test_gui_hw_cost.moc"

// SPDX-License-Identifier: GPL-3.0-or-later
// What a new user sees at 1366 x 768 (the window the app opens there: 1229 x 691, and
// maximised 1366 x 768) and 1920 x 1080 (issue 14's leftovers): the dataset/Input note
// readable without scrolling and the status line giving the reason Train is off; the
// Inspector, the Model Summary and the graph uncut in the Default, Design and Inspect
// layouts; the graph legend off the nodes after edits and scrolls; a palette
// double-click landing in view; the training-curve legends off the data; the first-show
// layout settling never undoing the user's dock moves; Import Model raising the
// Inspection dock it names.
// Torch and core headers come before any Qt header (Qt's `slots` vs LibTorch).
#include <torch/torch.h>

#include "core/graph/project.h"

#include <QAbstractScrollArea>
#include <QAbstractSpinBox>
#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDockWidget>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QScrollArea>
#include <QScrollBar>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTreeWidgetItem>
#include <QtTest>

#include <fstream>
#include <iterator>

#include "app/gui/main_window.h"
#include "app/gui/window_layouts.h"
#include "widgets/document/project_document.h"
#include "widgets/inspect/inspection_panel.h"
#include "widgets/inspector/layer_inspector.h"
#include "widgets/node_editor/graph_scene.h"
#include "widgets/node_editor/graph_view.h"
#include "widgets/node_editor/layer_palette.h"
#include "widgets/node_editor/node_item.h"
#include "widgets/plots/qcustomplot_include.h"
#include "widgets/plots/training_plot.h"
#include "widgets/training/training_settings_panel.h"
#include "tests/large_offscreen_screen.h"

using namespace qnn;

namespace {

// 1229 x 691: 90 % of a 1366 x 768 screen, the size the window opens at there.
const QList<QSize> kSizes = {QSize(1229, 691), QSize(1366, 768), QSize(1920, 1080)};

QString examplePath(const char* name) {
  return QStringLiteral(QNN_SOURCE_DIR "/resources/examples/") + QLatin1String(name);
}

QString sizeText(QSize s) { return QStringLiteral("%1x%2").arg(s.width()).arg(s.height()); }

/// Resizes, shows and waits until the window is laid out at `size`.
bool showAt(MainWindow& w, QSize size) {
  w.resize(size);
  w.show();
  if (!QTest::qWaitForWindowExposed(&w)) return false;
  QCoreApplication::processEvents();
  return w.size() == size;
}

/// The low-precision LeNet with the dataset's padding 0: 28 x 28 samples for a 32 x 32
/// Input (Train is off, the red note shows).
Project paddingMismatch() {
  Project p = load_project(examplePath("lenet_lowprec.qnn.json").toStdString());
  p.dataset.pad = 0;
  return p;
}

/// What of `inspector` is cut off: labels narrower than their text, fields narrower
/// than their minimum or ending past the dock's viewport. "" when nothing is (and the
/// new page is shown: its widgets appear from the event loop).
QString inspectorCuts(LayerInspector* inspector) {
  auto* scroll = inspector->findChild<QAbstractScrollArea*>();
  if (!scroll) return QStringLiteral("no scroll area");
  const QRect viewport = scroll->viewport()->rect();
  QStringList cuts;
  int labels = 0;
  for (QWidget* e : scroll->viewport()->findChildren<QWidget*>()) {
    if (!e->isVisible()) continue;
    if (auto* l = qobject_cast<QLabel*>(e); l && !l->text().isEmpty()) ++labels;
    const QRect r(e->mapTo(scroll->viewport(), QPoint(0, 0)), e->size());
    if (auto* l = qobject_cast<QLabel*>(e)) {
      if (l->text().isEmpty()) continue;
      if (!l->wordWrap() && l->width() < l->sizeHint().width())
        cuts << QStringLiteral("label '%1' %2 < %3").arg(l->text()).arg(l->width()).arg(l->sizeHint().width());
    } else if (!(qobject_cast<QAbstractSpinBox*>(e) || qobject_cast<QComboBox*>(e) || qobject_cast<QLineEdit*>(e) ||
                 qobject_cast<QCheckBox*>(e))) {
      continue;
    } else if (e->width() < e->minimumSizeHint().width()) {
      cuts << QStringLiteral("%1 %2 < %3").arg(e->objectName()).arg(e->width()).arg(e->minimumSizeHint().width());
    }
    if (r.right() > viewport.right())
      cuts << QStringLiteral("%1 '%2' ends at %3 of %4")
                  .arg(QLatin1String(e->metaObject()->className()), e->objectName())
                  .arg(r.right())
                  .arg(viewport.right());
  }
  if (labels < 5) cuts << QStringLiteral("the page is not shown yet (%1 labels)").arg(labels);
  return cuts.join(QStringLiteral("; "));
}

/// Whether the legend box of `plot` (after a replot) covers a data point of its graphs.
int pointsUnderLegend(QCustomPlot* plot) {
  const QRect box = plot->legend->outerRect();
  int n = 0;
  for (int i = 0; i < plot->graphCount(); ++i)
    for (auto it = plot->graph(i)->data()->constBegin(); it != plot->graph(i)->data()->constEnd(); ++it) {
      if (qIsNaN(it->value)) continue;
      const QPointF p(plot->xAxis->coordToPixel(it->key), plot->yAxis->coordToPixel(it->value));
      if (box.contains(p.toPoint())) ++n;
    }
  return n;
}

}  // namespace

class TestGuiFit : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void mismatchNoteReadableWithoutScrolling();
  void statusLineSaysWhyTrainIsOff();
  void inspectorSummaryAndGraphUncutInEveryLayout();
  void graphLegendMovesOffNodesAfterEditsAndScrolls();
  void paletteDoubleClickLandsInView();
  void curveLegendsCoverNoPoints();
  void settlingNeverUndoesTheUsersDockMove();
  void importRaisesTheInspectionDock();
};

// The project opens right after the window is shown (qnn-studio's order): the whole
// note is inside the Training Settings strip's viewport, nothing to scroll.
void TestGuiFit::mismatchNoteReadableWithoutScrolling() {
  QTemporaryDir dir;
  const QString path = dir.filePath(QStringLiteral("pad0.qnn.json"));
  save_project(paddingMismatch(), path.toStdString());
  for (QSize size : kSizes) {
    MainWindow w;
    w.resize(size);
    w.show();
    QVERIFY(w.openProject(path));
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QLabel* note = w.settingsPanel()->inputMismatchLabel();
    QTRY_VERIFY(note->isVisible());
    auto* area = w.findChild<QScrollArea*>(QStringLiteral("trainingSettingsScroll"));
    QVERIFY(area);
    QTest::qWait(30);  // the strip's fit runs from the event loop
    const QRect inViewport(note->mapTo(area->viewport(), QPoint(0, 0)), note->size());
    qInfo("%s: note %dx%d (%d px of text) in a %dx%d strip", qPrintable(sizeText(size)), note->width(),
          note->height(), note->heightForWidth(note->width()), area->viewport()->width(), area->viewport()->height());
    QVERIFY2(area->viewport()->rect().contains(inViewport),
             qPrintable(sizeText(size) + QStringLiteral(": note at %1..%2 of a %3 px viewport")
                                             .arg(inViewport.top())
                                             .arg(inViewport.bottom())
                                             .arg(area->viewport()->height())));
    QVERIFY2(note->height() >= note->heightForWidth(note->width()),
             qPrintable(sizeText(size) + QStringLiteral(": %1 < %2").arg(note->height()).arg(note->heightForWidth(note->width()))));
    QCOMPARE(area->verticalScrollBar()->maximum(), 0);
    // Brief in the strip, the whole explanation in its tooltip and in the Dataset tab.
    QVERIFY2(note->text().contains(QStringLiteral("1×28×28")) && note->text().contains(QStringLiteral("padding to 2")),
             qPrintable(note->text()));
    QCOMPARE(note->toolTip(), w.settingsPanel()->inputMismatch());
    QVERIFY(note->toolTip().contains(QStringLiteral("(28 + 2 x 2 = 32)")));
  }
}

void TestGuiFit::statusLineSaysWhyTrainIsOff() {
  MainWindow w;
  QVERIFY(showAt(w, kSizes[1]));
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  auto* status = w.findChild<QLabel*>(QStringLiteral("statusLabel"));
  QAction* train = w.findChild<QAction*>(QStringLiteral("trainAction"));
  QVERIFY(status && train);
  QVERIFY(train->isEnabled());
  QVERIFY2(status->text().endsWith(QStringLiteral("Press F5 to train.")), qPrintable(status->text()));
  // An edit that makes the dataset not fit: the status line gives the reason at once.
  Project p = w.document()->project();
  p.dataset.pad = 0;
  w.document()->changeDataset(p.dataset, QStringLiteral("padding"));
  QVERIFY(!train->isEnabled());
  QVERIFY2(!status->text().contains(QStringLiteral("F5")), qPrintable(status->text()));
  QVERIFY2(status->text().contains(QStringLiteral("Train is unavailable: Fashion-MNIST gives 1×28×28 samples, the "
                                                  "Input layer 'input' takes 1×32×32. Set the dataset padding to 2")),
           qPrintable(status->text()));
  w.document()->undoStack()->undo();
  QVERIFY(train->isEnabled());
  QVERIFY2(status->text().endsWith(QStringLiteral("Press F5 to train.")), qPrintable(status->text()));
}

// The Inspector on a QuantConv2d (the most fields) and the Model Summary's columns in
// every layout that shows them, at each size; the graph keeps a readable width.
void TestGuiFit::inspectorSummaryAndGraphUncutInEveryLayout() {
  for (QSize size : kSizes) {
    MainWindow w;
    QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
    QVERIFY(showAt(w, size));
    for (WindowLayout layout : {WindowLayout::Default, WindowLayout::Design, WindowLayout::Inspect}) {
      w.applyLayout(layout);
      const QString where = sizeText(size) + QStringLiteral(" layout %1").arg(int(layout));
      w.docks().inspector->raise();
      for (const QString& id : {QStringLiteral("conv1"), QStringLiteral("fc1"), QStringLiteral("relu1")}) {
        w.inspector()->setSelection({id});
        // Until the new page is laid out; fails when it never fits.
        QTRY_VERIFY2(inspectorCuts(w.inspector()).isEmpty(),
                     qPrintable(where + QLatin1Char(' ') + id + QStringLiteral(": ") + inspectorCuts(w.inspector())));
      }
      if (layout == WindowLayout::Design) {  // the summary's own column: every column whole, no scrolling
        auto* table = w.findChild<QTableWidget*>(QStringLiteral("summaryTable"));
        QVERIFY(table && table->isVisible());
        QHeaderView* header = table->horizontalHeader();
        QTRY_VERIFY(header->length() > 0);
        for (int c = 0; c < table->columnCount(); ++c)
          QVERIFY2(header->sectionSize(c) >= header->sectionSizeHint(c),
                   qPrintable(where + QStringLiteral(": column %1 elided").arg(c)));
        QVERIFY2(header->length() <= table->viewport()->width(),
                 qPrintable(where + QStringLiteral(": columns %1 px in %2 px").arg(header->length()).arg(table->viewport()->width())));
        // The Hardware tab, and under FINN the FINN tab: its table and its folding
        // controls (PE, SIMD, clock) whole.
        w.document()->setDeploymentTarget(DeploymentTarget::Finn);
        auto* tabs = w.findChild<QTabWidget*>(QStringLiteral("summaryTabs"));
        auto* hw = w.findChild<QTableWidget*>(QStringLiteral("hardwareTable"));
        auto* finnPage = w.findChild<QWidget*>(QStringLiteral("finnPage"));
        auto* finn = w.findChild<QTableWidget*>(QStringLiteral("finnTable"));
        QVERIFY(tabs && hw && finnPage && finn);
        for (QWidget* page : {static_cast<QWidget*>(hw), finnPage}) {
          tabs->setCurrentWidget(page);
          QTableWidget* t = page == finnPage ? finn : hw;
          const int columns = page == finnPage ? 6 : 5;
          QTRY_VERIFY(t->isVisible() && t->horizontalHeader()->length() > 0 && t->columnCount() == columns);
          for (int c = 0; c < t->columnCount(); ++c)
            QVERIFY2(t->horizontalHeader()->sectionSize(c) >= t->horizontalHeader()->sectionSizeHint(c),
                     qPrintable(where + QStringLiteral(": %1 column %2 elided").arg(t->objectName()).arg(c)));
          QVERIFY2(t->horizontalHeader()->length() <= t->viewport()->width(),
                   qPrintable(where + QStringLiteral(": %1 columns %2 px in %3 px")
                                          .arg(t->objectName())
                                          .arg(t->horizontalHeader()->length())
                                          .arg(t->viewport()->width())));
        }
        for (const char* name : {"foldingPe", "foldingSimd", "foldingClock"}) {
          auto* box = w.findChild<QAbstractSpinBox*>(QLatin1String(name));
          QVERIFY(box && box->isVisible());
          const QRect r(box->mapTo(finnPage, QPoint(0, 0)), box->size());
          QVERIFY2(box->width() >= box->minimumSizeHint().width() && r.right() <= finnPage->rect().right(),
                   qPrintable(where + QStringLiteral(": %1 %2 px wide, ends at %3 of %4")
                                          .arg(QLatin1String(name))
                                          .arg(box->width())
                                          .arg(r.right())
                                          .arg(finnPage->rect().right())));
        }
        tabs->setCurrentWidget(table);
        w.document()->undoStack()->undo();
      }
      const int graph = w.graphView()->width();
      qInfo("%s: inspector %d px, graph %d px", qPrintable(where), w.docks().inspector->width(), graph);
      QVERIFY2(graph >= 260, qPrintable(where + QStringLiteral(": graph %1 px").arg(graph)));
      QCOMPARE(w.size(), size);
    }
  }
}

// The legend takes a corner free of nodes whenever one is free: after a node is added
// in the corner it sat in, and after the view scrolls.
void TestGuiFit::graphLegendMovesOffNodesAfterEditsAndScrolls() {
  MainWindow w;
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  QVERIFY(showAt(w, kSizes[2]));
  GraphView* view = w.graphView();
  view->fitToView();
  QCoreApplication::processEvents();
  const QRect before = view->legendRect();
  // A node where the legend is: it moves to another corner.
  const QPointF at = view->mapToScene(before.center());
  w.document()->addLayer(LayerType::ReLU, at - QPointF(NodeItem::kWidth / 2, 10));
  QCoreApplication::processEvents();
  auto covers = [view](const QRect& r) {
    for (const LayerSpec& l : view->graphScene()->document()->project().layers)
      if (NodeItem* n = view->graphScene()->node(QString::fromStdString(l.id)))
        if (view->mapFromScene(n->sceneBoundingRect()).boundingRect().intersects(r)) return true;
    return false;
  };
  QVERIFY(covers(before));
  QVERIFY2(!covers(view->legendRect()), "the legend stayed on a node after an edit");
  QVERIFY(view->legendRect() != before);
  // Zoomed in and scrolled: still off the nodes wherever a corner is free.
  view->zoomIn();
  view->zoomIn();
  for (int step = 0; step < 6; ++step) {
    view->verticalScrollBar()->setValue(view->verticalScrollBar()->value() + 120);
    QCoreApplication::processEvents();
    const QRect r = view->legendRect();
    const QRect vp = view->viewport()->rect();
    bool anyFree = false;
    for (const QPoint& c : {vp.topLeft(), vp.topRight(), vp.bottomLeft(), vp.bottomRight()}) {
      QRect corner(QPoint(0, 0), r.size());
      corner.moveCenter(c);
      corner.moveLeft(c.x() == vp.left() ? vp.left() + 8 : vp.right() - 8 - r.width() + 1);
      corner.moveTop(c.y() == vp.top() ? vp.top() + 8 : vp.bottom() - 8 - r.height() + 1);
      anyFree = anyFree || !covers(corner);
    }
    if (anyFree) QVERIFY2(!covers(r), qPrintable(QStringLiteral("scroll step %1").arg(step)));
  }
}

// Double-clicking a palette entry: the new node in the visible area's middle (or beside
// the selected node), on no other node, selected, in view.
void TestGuiFit::paletteDoubleClickLandsInView() {
  MainWindow w;
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  QVERIFY(showAt(w, kSizes[1]));
  GraphView* view = w.graphView();
  GraphScene* scene = view->graphScene();
  QTest::qWait(20);
  LayerPalette* palette = w.palette();
  auto doubleClick = [&](const char* type) {
    QTreeWidgetItem* item = palette->itemFor(QLatin1String(type));
    Q_EMIT palette->itemDoubleClicked(item, 0);
    QCoreApplication::processEvents();
    return scene->selectedLayerIds();
  };
  auto check = [&](const QString& id, const QString& what) {
    NodeItem* node = scene->node(id);
    QVERIFY2(node, qPrintable(what));
    const QRect onScreen = view->mapFromScene(node->sceneBoundingRect()).boundingRect();
    QVERIFY2(view->viewport()->rect().contains(onScreen),
             qPrintable(what + QStringLiteral(": at %1,%2 %3x%4 in %5x%6")
                                   .arg(onScreen.x())
                                   .arg(onScreen.y())
                                   .arg(onScreen.width())
                                   .arg(onScreen.height())
                                   .arg(view->viewport()->width())
                                   .arg(view->viewport()->height())));
    for (const LayerSpec& l : w.document()->project().layers) {
      if (QString::fromStdString(l.id) == id) continue;
      QVERIFY2(!scene->node(QString::fromStdString(l.id))->sceneBoundingRect().intersects(node->sceneBoundingRect()),
               qPrintable(what + QStringLiteral(" overlaps ") + QString::fromStdString(l.id)));
    }
  };
  // Nothing selected: near the middle of what is visible.
  scene->selectLayers({});
  const QStringList first = doubleClick("QuantReLU");
  QCOMPARE(first.size(), 1);
  check(first.front(), QStringLiteral("first"));
  const QPointF centre = view->mapToScene(view->viewport()->rect().center());
  const QPointF placed = scene->node(first.front())->sceneBoundingRect().center();
  QVERIFY2(QLineF(centre, placed).length() <= 0.4 * view->viewport()->width() / view->zoom(),
           qPrintable(QStringLiteral("%1 scene px from the middle").arg(QLineF(centre, placed).length())));
  // Scrolled to the bottom with fc3 selected: beside it, in view.
  view->verticalScrollBar()->setValue(view->verticalScrollBar()->maximum());
  scene->selectLayers({QStringLiteral("fc3")});
  const QStringList second = doubleClick("QuantIdentity");
  QCOMPARE(second.size(), 1);
  QVERIFY(second != first);
  check(second.front(), QStringLiteral("beside fc3"));
  const QPointF fc3 = scene->node(QStringLiteral("fc3"))->sceneBoundingRect().center();
  const QPointF added = scene->node(second.front())->sceneBoundingRect().center();
  QVERIFY2(std::abs(added.y() - fc3.y()) <= 40 && std::abs(added.x() - fc3.x()) <= 2 * NodeItem::kWidth,
           qPrintable(QStringLiteral("at %1,%2, fc3 at %3,%4").arg(added.x()).arg(added.y()).arg(fc3.x()).arg(fc3.y())));
  // A third, with the second selected: again in view, on nothing.
  check(doubleClick("QuantReLU").front(), QStringLiteral("third"));
}

// Points at the legends' default corners (a loss that rises to the top right, an
// accuracy that stays low at the right): the legends move where they cover none.
void TestGuiFit::curveLegendsCoverNoPoints() {
  TrainingPlot plot;
  plot.resize(560, 460);
  plot.show();
  QVERIFY(QTest::qWaitForWindowExposed(&plot));
  plot.clear(5);
  for (int i = 1; i <= 50; ++i) {
    const double x = i / 10.0;
    plot.addTrainPoint(x, 0.2 + 0.4 * x, 0.05 + 0.01 * x);  // loss up, accuracy flat and low
  }
  for (int e = 1; e <= 5; ++e) plot.addTestPoint(e, 0.25 + 0.4 * e, 0.06);
  for (QCustomPlot* p : {plot.lossPlot(), plot.accuracyPlot()}) {
    p->replot(QCustomPlot::rpImmediateRefresh);
    QTRY_COMPARE_WITH_TIMEOUT(
        [p] {
          p->replot(QCustomPlot::rpImmediateRefresh);
          return pointsUnderLegend(p);
        }(),
        0, 2000);
  }
}

// Within the first kLayoutSettleMs: the user drags a separator (a press on the window
// between the docks) and then the window resizes. The layout is not applied again over
// their arrangement.
void TestGuiFit::settlingNeverUndoesTheUsersDockMove() {
  MainWindow w;
  QVERIFY(showAt(w, kSizes[1]));
  QVERIFY(w.findChild<QObject*>(QStringLiteral("qnnLayoutSettler")));
  const MainDocks& d = w.docks();
  w.resizeDocks({d.palette}, {460}, Qt::Horizontal);  // what the drag does
  QCoreApplication::processEvents();
  const QPoint separator(d.palette->geometry().right() + 2, d.palette->geometry().center().y());
  QVERIFY2(!w.childAt(separator), "no separator there");
  QTest::mousePress(&w, Qt::LeftButton, {}, separator);
  QTest::mouseRelease(&w, Qt::LeftButton, {}, separator);
  const int userWidth = d.palette->width();
  QVERIFY(userWidth >= 440);
  w.resize(kSizes[2]);
  QTRY_COMPARE(w.size(), kSizes[2]);
  QTest::qWait(50);  // a settler would re-arrange from the event loop now
  QVERIFY2(std::abs(d.palette->width() - userWidth) <= 2,
           qPrintable(QStringLiteral("%1 after the user's %2").arg(d.palette->width()).arg(userWidth)));
  QVERIFY(!w.findChild<QObject*>(QStringLiteral("qnnLayoutSettler")));
  // A dock floated by the user ends it too (on a new window).
  MainWindow w2;
  QVERIFY(showAt(w2, kSizes[1]));
  w2.docks().results->setFloating(true);
  QCoreApplication::processEvents();
  w2.resize(kSizes[2]);
  QTRY_COMPARE(w2.size(), kSizes[2]);
  QTest::qWait(50);
  QVERIFY(w2.docks().results->isFloating());
}

// Import Model of a file with an unsupported node says its weights are in the
// Inspection dock: that dock is in front of the curves then.
void TestGuiFit::importRaisesTheInspectionDock() {
  MainWindow w;
  QVERIFY(showAt(w, kSizes[1]));
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  QDockWidget* inspection = w.docks().inspection;
  w.docks().curves->raise();
  QCoreApplication::processEvents();
  QVERIFY(inspection->visibleRegion().isEmpty());
  QTemporaryDir dir;
  std::ifstream in(QNN_SOURCE_DIR "/tests/data/models/TFC_2W2A.onnx", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string op = std::string("\x22\x12") + "BatchNormalization";
  const size_t at = bytes.find(op);
  QVERIFY(at != std::string::npos);
  bytes.replace(at + 2, 18, "MeanVarianceNormal");  // no layer maps to it: inspection only
  const QString odd = dir.filePath(QStringLiteral("odd.onnx"));
  std::ofstream(odd.toStdString(), std::ios::binary) << bytes;
  w.importModel(odd);
  QVERIFY2(w.lastError().contains(QStringLiteral("in the Inspection dock")), qPrintable(w.lastError()));
  QTRY_VERIFY(!inspection->visibleRegion().isEmpty());
}

// The offscreen platform's screen is 800 x 600: a 1920 x 1200 one instead (offscreen only).
int main(int argc, char* argv[]) {
  QTemporaryDir configDir;
  qnn_test::useLargeOffscreenScreen(configDir, "fit-test");
  QApplication app(argc, argv);
  app.setAttribute(Qt::AA_Use96Dpi, true);
  TestGuiFit test;
  QTEST_SET_MAIN_SOURCE_PATH
  return QTest::qExec(&test, argc, argv);
}

#include "test_gui_fit.moc"

// SPDX-License-Identifier: GPL-3.0-or-later
// The main window's layout on laptop and desktop sizes (the window is resized to
// 1366 x 768 and 1600 x 1000 explicitly: the offscreen screen is small): the graph is
// the tall centre, docked plots keep readable heights, the inspector and the model
// summary cut nothing off, Reset Layout and the Design / Train / Inspect layouts are
// deterministic, the layout survives a restart through QSettings (a test-mode
// location, never the user's), and the window never resizes itself.
// Torch and core headers come before any Qt header (Qt's `slots` vs LibTorch).
#include <torch/torch.h>

#include "core/graph/project.h"

#include <QAbstractScrollArea>
#include <QAbstractSpinBox>
#include <QCheckBox>
#include <QComboBox>
#include <QLineEdit>
#include <QAction>
#include <QApplication>
#include <QDockWidget>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QStyle>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "app/gui/main_window.h"
#include "app/gui/window_layouts.h"
#include "tests/gui_gap_probe.h"
#include "widgets/document/project_document.h"
#include "widgets/inspect/inspection_panel.h"
#include "widgets/inspector/layer_inspector.h"
#include "widgets/node_editor/graph_scene.h"
#include "widgets/node_editor/graph_view.h"
#include "widgets/node_editor/node_item.h"
#include "widgets/plots/qcustomplot_include.h"
#include "widgets/training/training_controller.h"
#include "tests/large_offscreen_screen.h"

using namespace qnn;

namespace {

const QSize kLaptop(1366, 768);
const QSize kDesktop(1600, 1000);

QString examplePath(const char* name) {
  return QStringLiteral(QNN_SOURCE_DIR "/resources/examples/") + QLatin1String(name);
}

/// Resizes, shows and waits until the window is laid out at `size`.
bool showAt(MainWindow& w, QSize size) {
  w.resize(size);
  w.show();
  if (!QTest::qWaitForWindowExposed(&w)) return false;
  QCoreApplication::processEvents();
  return w.size() == size;
}

/// The geometry of every dock (in window coordinates; empty when closed) and which
/// docks are open: what a layout decides.
QList<QRect> dockGeometries(const MainWindow& w) {
  QList<QRect> out;
  for (QDockWidget* d : w.docks().all())  // a dock behind another tab is moved off-screen
    out << (d->isVisible() && d->geometry().right() >= 0 ? d->geometry() : QRect());
  return out;
}

QStringList openDockNames(const MainWindow& w) {
  QStringList out;
  for (QDockWidget* d : w.docks().all())
    if (d->toggleViewAction()->isChecked()) out << d->objectName();
  return out;
}

QStringList namesOf(const QList<QDockWidget*>& docks) {
  QStringList out;
  for (QDockWidget* d : docks) out << d->objectName();
  return out;
}

void press(MainWindow& w, QKeySequence keys) {
  QTest::keySequence(&w, keys);
  QCoreApplication::processEvents();
}

/// Lays out and paints `plot` now, so its axis rects have their final size.
void layOut(QCustomPlot* plot) { plot->replot(QCustomPlot::rpImmediateRefresh); }

/// Every QCustomPlot of `dock`, visiting each tab of its tab widgets in turn;
/// `check` gets each plot while it is the one shown.
template <typename Check>
void forEachShownPlot(QDockWidget* dock, Check check) {
  dock->raise();
  QCoreApplication::processEvents();
  QList<QTabWidget*> tabWidgets = dock->findChildren<QTabWidget*>();
  if (tabWidgets.isEmpty()) {
    for (QCustomPlot* p : dock->findChildren<QCustomPlot*>())
      if (p->isVisible()) check(p, dock->windowTitle());
    return;
  }
  for (QTabWidget* tabs : tabWidgets)
    for (int i = 0; i < tabs->count(); ++i) {
      tabs->setCurrentIndex(i);
      QCoreApplication::processEvents();
      for (QCustomPlot* p : tabs->widget(i)->findChildren<QCustomPlot*>())
        if (p->isVisible()) check(p, dock->windowTitle() + QStringLiteral(" / ") + tabs->tabText(i).remove(QLatin1Char('&')));
    }
}

}  // namespace

class TestGuiLayout : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void graphIsTheTallCentre();
  void fitShowsTheWholeLowPrecisionLeNet();
  void dockedPlotsKeepReadableHeights();
  void resetLayoutRestoresTheDefault();
  void defaultLayoutFitsTheSettledSize();
  void layoutShortcutsOpenTheirDocks();
  void layoutSurvivesARestart();
  void unreadableSavedStateFallsBackToTheDefault();
  void inspectorAndSummaryCutNothingOff();
  void windowNeverResizesItself();
  void titleNamesTheFile();
  void guiStaysResponsiveTrainingWithEveryViewOpen();
};

void TestGuiLayout::initTestCase() {
  // Settings go to a test location (~/.qttest), under a name of their own: the
  // developer's layout is never read, and the tests' is never theirs.
  QStandardPaths::setTestModeEnabled(true);
  QCoreApplication::setOrganizationName(QStringLiteral("qnn-studio-layout-test"));
  QCoreApplication::setApplicationName(QStringLiteral("test_gui_layout"));
  QSettings().clear();
  QVERIFY2(QFileInfo::exists(examplePath("lenet_lowprec.qnn.json")), "example project missing");
}

// 1600 x 1000 with the default layout: the graph gets most of the height and a fair
// share of the width; the side columns are columns (not a bottom strip).
void TestGuiLayout::graphIsTheTallCentre() {
  MainWindow w;
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  QVERIFY(showAt(w, kDesktop));
  QCOMPARE(w.centralWidget(), static_cast<QWidget*>(w.graphView()));
  const QRect graph = w.graphView()->geometry();
  qInfo("graph at 1600x1000: %dx%d", graph.width(), graph.height());
  QVERIFY2(graph.height() >= w.height() * 60 / 100, qPrintable(QString::number(graph.height())));
  QVERIFY2(graph.width() >= w.width() * 35 / 100, qPrintable(QString::number(graph.width())));
  for (QDockWidget* d : w.docks().all()) {
    const Qt::DockWidgetArea area = w.dockWidgetArea(d);
    QVERIFY2(area == Qt::LeftDockWidgetArea || area == Qt::RightDockWidgetArea, qPrintable(d->objectName()));
  }
  // Training Settings is a short strip: its rows of fields, not half the column.
  QVERIFY2(w.docks().settings->height() < w.height() / 4, qPrintable(QString::number(w.docks().settings->height())));
  QVERIFY(w.docks().curves->isVisible());
}

// Fit to window shows all 15 nodes of the low-precision LeNet, at a zoom where node
// text stays legible.
void TestGuiLayout::fitShowsTheWholeLowPrecisionLeNet() {
  MainWindow w;
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  QVERIFY(showAt(w, kDesktop));
  GraphView* view = w.graphView();
  view->fitToView();
  QCoreApplication::processEvents();
  GraphScene* scene = view->graphScene();
  QCOMPARE(scene->nodeCount(), 15);
  const QRect viewport = view->viewport()->rect();
  for (const LayerSpec& l : w.document()->project().layers) {
    const QString id = QString::fromStdString(l.id);
    NodeItem* node = scene->node(id);
    QVERIFY(node);
    const QRect onScreen = view->mapFromScene(node->sceneBoundingRect()).boundingRect();
    QVERIFY2(viewport.contains(onScreen), qPrintable(id));
  }
  qInfo("fit-to-window zoom of the low-precision LeNet at 1600x1000: %.3f", view->zoom());
  QVERIFY2(view->zoom() >= 0.7, qPrintable(QString::number(view->zoom())));
}

// 1366 x 768: every plot in its default dock, its tab raised, is tall enough for its
// axes, tick labels and legend; the plotting area itself is not a sliver.
void TestGuiLayout::dockedPlotsKeepReadableHeights() {
  MainWindow w;
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  QVERIFY(showAt(w, kLaptop));
  int checked = 0;
  for (QDockWidget* dock : {w.docks().curves, w.docks().results, w.docks().inspection, w.docks().analysis}) {
    QVERIFY(!dock->isFloating());
    forEachShownPlot(dock, [&](QCustomPlot* plot, const QString& where) {
      layOut(plot);
      int smallestRect = INT_MAX;
      for (QCPAxisRect* r : plot->axisRects())
        if (r->visible()) smallestRect = std::min(smallestRect, r->rect().height());
      qInfo("%s: plot %dx%d, smallest axis rect %d px high", qPrintable(where), plot->width(), plot->height(),
            smallestRect);
      QVERIFY2(plot->height() >= 180, qPrintable(where + QStringLiteral(": %1 px").arg(plot->height())));
      QVERIFY2(smallestRect >= 140, qPrintable(where + QStringLiteral(": axis rect %1 px").arg(smallestRect)));
      ++checked;
    });
  }
  QVERIFY2(checked >= 8, qPrintable(QString::number(checked)));  // loss, accuracy, 4 inspection, analysis
  // Test Results: the confusion matrix has room for its 10 x 10 cells.
  w.docks().results->raise();
  QCoreApplication::processEvents();
  QWidget* confusion = w.findChild<QWidget*>(QStringLiteral("confusionMatrixView"));
  QVERIFY(confusion);
  QVERIFY2(confusion->height() >= 300, qPrintable(QString::number(confusion->height())));
}

// Moved, floated and closed docks: View > Reset Layout puts every one back.
void TestGuiLayout::resetLayoutRestoresTheDefault() {
  MainWindow w;
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  QVERIFY(showAt(w, kDesktop));
  const QList<QRect> before = dockGeometries(w);
  const QStringList open = openDockNames(w);
  QCOMPARE(open, namesOf(w.docks().all()));

  const MainDocks& d = w.docks();
  d.inspection->setFloating(true);
  d.palette->close();
  w.addDockWidget(Qt::BottomDockWidgetArea, d.settings);
  w.splitDockWidget(d.curves, d.results, Qt::Horizontal);
  QCoreApplication::processEvents();
  QVERIFY(dockGeometries(w) != before);

  QAction* reset = w.findChild<QAction*>(QStringLiteral("resetLayoutAction"));
  QVERIFY(reset);
  reset->trigger();
  QCoreApplication::processEvents();
  QCOMPARE(openDockNames(w), open);
  QVERIFY(!d.inspection->isFloating());
  QCOMPARE(w.dockWidgetArea(d.settings), Qt::RightDockWidgetArea);
  QCOMPARE(dockGeometries(w), before);
}

// A window manager maximises or resizes a new window after it is shown: the default
// layout is arranged again for the size the window settles at, so the docks get their
// shares of the final size (the same arrangement as a window shown at that size from
// the start), not of the size it had when first shown.
void TestGuiLayout::defaultLayoutFitsTheSettledSize() {
  auto shownAt = [](QSize size) {  // the arrangement of a window shown at `size` from the start
    MainWindow w;
    return showAt(w, size) ? dockGeometries(w) : QList<QRect>();
  };
  auto log = [](MainWindow& w, const char* how) {
    qInfo("%s at %dx%d: graph %dx%d, left column %d, curves %dx%d", how, w.width(), w.height(), w.graphView()->width(),
          w.graphView()->height(), w.docks().palette->width(), w.docks().curves->width(), w.docks().curves->height());
  };
  {
    // Shown at its default size (90 % of the screen), then maximised by the system.
    MainWindow w;
    const QSize before = w.size();
    w.showMaximized();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QTRY_VERIFY(w.size() != before);
    QTest::qWait(50);  // the re-arrangement runs from the event loop
    const QSize size = w.size();
    QVERIFY2(size.width() > before.width() + 100, qPrintable(QString::number(size.width())));
    log(w, "maximised");
    // The shares of the final width: the left column 22 % (at most 400 px, at least what
    // the inspector's widest page needs), the right one 34 % (at most 680 px), the graph
    // the rest (less two separators).
    const int left = std::max(std::clamp(int(size.width() * 0.22), 300, 400),
                              std::min(w.inspector()->widestPageWidth() + 2 * w.docks().inspector->style()->pixelMetric(
                                                                                  QStyle::PM_DockWidgetFrameWidth),
                                       size.width() / 3));
    const int right = std::clamp(int(size.width() * 0.34), 470, 680);
    QVERIFY2(std::abs(w.docks().palette->width() - left) <= 4, qPrintable(QString::number(w.docks().palette->width())));
    QVERIFY2(std::abs(w.docks().curves->width() - right) <= 4, qPrintable(QString::number(w.docks().curves->width())));
    const int graph = w.graphView()->width();
    QVERIFY2(graph <= size.width() - left - right && graph >= size.width() - left - right - 16,
             qPrintable(QString::number(graph)));
    QCOMPARE(dockGeometries(w), shownAt(size));
  }
  {
    // Shown at 1366 x 768, then resized by the window manager before it settles.
    MainWindow w;
    QVERIFY(showAt(w, kLaptop));
    // (Both widths give the left column the inspector's widest page: its height tells.)
    const int laptopPalette = w.docks().palette->height();
    w.resize(kDesktop);
    QTRY_COMPARE(w.size(), kDesktop);
    QTest::qWait(50);
    log(w, "resized after show");
    QVERIFY2(w.docks().palette->height() > laptopPalette + 50, qPrintable(QString::number(w.docks().palette->height())));
    QCOMPARE(dockGeometries(w), shownAt(kDesktop));
  }
}

// Ctrl+1 / Ctrl+2 / Ctrl+3 open exactly the docks of Design / Train / Inspect; the
// graph stays the centre; each is the same arrangement whatever came before.
void TestGuiLayout::layoutShortcutsOpenTheirDocks() {
  MainWindow w;
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  QVERIFY(showAt(w, kLaptop));
  const MainDocks& d = w.docks();
  struct Case {
    Qt::Key key;
    WindowLayout layout;
    QStringList open;
  };
  const Case cases[] = {
      {Qt::Key_1, WindowLayout::Design, namesOf({d.palette, d.inspector, d.summary})},
      {Qt::Key_2, WindowLayout::Train, namesOf({d.settings, d.dataset, d.curves, d.results})},
      {Qt::Key_3, WindowLayout::Inspect, namesOf({d.inspector, d.inspection, d.analysis})},
  };
  QHash<int, QList<QRect>> first;
  for (int round = 0; round < 2; ++round)
    for (const Case& c : cases) {
      press(w, QKeySequence(Qt::CTRL | c.key));
      QCOMPARE(openDockNames(w), c.open);
      QCOMPARE(w.size(), kLaptop);  // no layout asks for more than the window has
      QCOMPARE(namesOf(openDocks(d, c.layout)), c.open);
      QCOMPARE(w.centralWidget(), static_cast<QWidget*>(w.graphView()));
      QVERIFY2(w.graphView()->width() >= 300, qPrintable(QString::number(w.graphView()->width())));
      if (round == 0)
        first.insert(int(c.key), dockGeometries(w));
      else
        QCOMPARE(dockGeometries(w), first.value(int(c.key)));  // after another layout: the same
    }
  // Train shows the curves and the results at once; Inspect raises the inspection plots.
  press(w, QKeySequence(Qt::CTRL | Qt::Key_2));
  QVERIFY(d.curves->isVisible());
  QVERIFY(d.results->isVisible());
  QVERIFY(d.settings->isVisible());
  QCOMPARE(w.dockWidgetArea(d.results), Qt::LeftDockWidgetArea);
  QVERIFY2(d.curves->height() >= 400, qPrintable(QString::number(d.curves->height())));
  QVERIFY2(d.results->height() >= 400, qPrintable(QString::number(d.results->height())));
  press(w, QKeySequence(Qt::CTRL | Qt::Key_3));
  QVERIFY(d.inspection->isVisible());
  QVERIFY(d.inspector->isVisible());
  QVERIFY2(d.inspection->width() >= w.width() * 45 / 100, qPrintable(QString::number(d.inspection->width())));
  // The View menu offers them, with their shortcuts.
  for (const char* name : {"designLayoutAction", "trainLayoutAction", "inspectLayoutAction", "resetLayoutAction"})
    QVERIFY2(w.findChild<QAction*>(QLatin1String(name)), name);
  QCOMPARE(w.findChild<QAction*>(QStringLiteral("trainLayoutAction"))->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_2));
}

// Closing saves geometry and dock state; the next window restores them. A window that
// never asked to restore (tests, scripts) writes nothing.
void TestGuiLayout::layoutSurvivesARestart() {
  QSettings().clear();
  {
    MainWindow w;
    QVERIFY(showAt(w, kLaptop));
    w.close();
    QVERIFY(!QSettings().contains(QStringLiteral("mainWindow/state")));  // not asked to remember
  }
  QStringList trainDocks;
  QList<QRect> trainGeometries;
  {
    MainWindow w;
    QVERIFY(!w.restoreSavedLayout());  // nothing saved yet: the default
    QVERIFY(showAt(w, kLaptop));
    QCOMPARE(openDockNames(w), namesOf(w.docks().all()));
    w.applyLayout(WindowLayout::Train);
    QCoreApplication::processEvents();
    trainDocks = openDockNames(w);
    trainGeometries = dockGeometries(w);
    QVERIFY(w.close());
  }
  QSettings settings;
  QCOMPARE(settings.value(QStringLiteral("mainWindow/stateVersion")).toInt(), kDockStateVersion);
  QVERIFY(!settings.value(QStringLiteral("mainWindow/state")).toByteArray().isEmpty());
  {
    MainWindow w;
    QVERIFY(w.restoreSavedLayout());
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QCoreApplication::processEvents();
    QCOMPARE(w.size(), kLaptop);
    QCOMPARE(openDockNames(w), trainDocks);
    QCOMPARE(dockGeometries(w), trainGeometries);
  }
}

// Garbage in the settings, or a state of another version: the whole default layout at
// the default size, no crash, also when the saved geometry is good (it is not applied
// around a dock state that cannot be).
void TestGuiLayout::unreadableSavedStateFallsBackToTheDefault() {
  QList<QRect> defaults;
  QSize defaultSize;
  {
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QTest::qWait(20);
    defaultSize = w.size();
    defaults = dockGeometries(w);
  }
  QCOMPARE(defaultSize, defaultWindowSize(QGuiApplication::primaryScreen()));
  QByteArray validState, validGeometry;
  {
    MainWindow w;
    QVERIFY(showAt(w, kLaptop));
    w.applyLayout(WindowLayout::Inspect);
    validState = w.saveState(kDockStateVersion);
    validGeometry = w.saveGeometry();
  }
  struct Case {
    QVariant state, version, geometry;
  };
  const QByteArray garbage("\x00\x01garbage\xff\xfe", 12);
  const Case cases[] = {
      {garbage, kDockStateVersion, QByteArray("\x01\x02\x03")},
      {QByteArray(), kDockStateVersion, QByteArray("\x01\x02\x03")},
      {validState, kDockStateVersion + 1, QByteArray("\x01\x02\x03")},  // another release's docks
      {QStringLiteral("not a state"), QStringLiteral("x"), QByteArray("\x01\x02\x03")},
      {garbage, kDockStateVersion, validGeometry},  // a good 1366 x 768 geometry, a bad state
      {validState.left(validState.size() / 2), kDockStateVersion, validGeometry},  // cut short
  };
  int i = 0;
  for (const Case& c : cases) {
    QSettings s;
    s.setValue(QStringLiteral("mainWindow/state"), c.state);
    s.setValue(QStringLiteral("mainWindow/stateVersion"), c.version);
    s.setValue(QStringLiteral("mainWindow/geometry"), c.geometry);
    s.sync();
    MainWindow w;
    QVERIFY2(!w.restoreSavedLayout(), qPrintable(QString::number(i)));
    QCOMPARE(w.size(), defaultSize);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QTest::qWait(20);
    QCOMPARE(w.size(), defaultSize);
    QCOMPARE(openDockNames(w), namesOf(w.docks().all()));
    QVERIFY2(dockGeometries(w) == defaults,
             qPrintable(QStringLiteral("case %1: the first dock at %2,%3 %4x%5")
                            .arg(i)
                            .arg(dockGeometries(w)[0].x())
                            .arg(dockGeometries(w)[0].y())
                            .arg(dockGeometries(w)[0].width())
                            .arg(dockGeometries(w)[0].height())));
    ++i;
  }
  QSettings().clear();
}

// 1366 x 768: the inspector's labels of a QuantConv2d (the most fields) get their full
// width inside the dock, and every model summary column is as wide as its contents
// (a horizontal scroll bar when the dock is narrower).
void TestGuiLayout::inspectorAndSummaryCutNothingOff() {
  MainWindow w;
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  QVERIFY(showAt(w, kLaptop));
  LayerInspector* inspector = w.inspector();
  for (const QStringList& selection : {QStringList{QStringLiteral("conv1")}, QStringList{QStringLiteral("relu1")},
                                       QStringList{QStringLiteral("conv1"), QStringLiteral("fc1")}}) {
    inspector->setSelection(selection);
    auto* scroll = inspector->findChild<QAbstractScrollArea*>();
    QVERIFY(scroll);
    // The new page shows and is laid out from the event loop: until its labels are
    // visible with at least their text's width (fails when that never happens).
    QTRY_VERIFY2(
        [&] {
          int shown = 0;
          for (QLabel* l : inspector->findChildren<QLabel*>()) {
            if (!l->isVisible() || l->text().isEmpty()) continue;
            ++shown;
            if (!l->wordWrap() && l->width() < l->sizeHint().width()) return false;
          }
          return shown >= 5;  // the new page is shown (its widgets appear from the event loop)
        }(),
        qPrintable(selection.join(QLatin1Char(','))));
    const QRect viewport = scroll->viewport()->rect();
    int labels = 0;
    for (QLabel* l : inspector->findChildren<QLabel*>()) {
      if (!l->isVisible() || l->text().isEmpty()) continue;
      ++labels;
      const QString what = selection.join(QLatin1Char(',')) + QStringLiteral(": '") + l->text() + QLatin1Char('\'');
      if (!l->wordWrap())
        QVERIFY2(l->width() >= l->sizeHint().width(),
                 qPrintable(what + QStringLiteral(" %1 < %2").arg(l->width()).arg(l->sizeHint().width())));
      const QRect inViewport(l->mapTo(scroll->viewport(), QPoint(0, 0)), l->size());
      QVERIFY2(inViewport.right() <= viewport.right() || scroll->horizontalScrollBar()->isVisible(),
               qPrintable(what + QStringLiteral(" ends at %1 of %2").arg(inViewport.right()).arg(viewport.right())));
    }
    QVERIFY2(labels >= 5, qPrintable(QString::number(labels)));
    // The editors too: each one whole inside the dock (no field cut at its right edge).
    for (QWidget* e : scroll->viewport()->findChildren<QWidget*>()) {
      if (!e->isVisible() || !(qobject_cast<QAbstractSpinBox*>(e) || qobject_cast<QComboBox*>(e) ||
                               qobject_cast<QLineEdit*>(e) || qobject_cast<QCheckBox*>(e)))
        continue;
      const QRect r(e->mapTo(scroll->viewport(), QPoint(0, 0)), e->size());
      QVERIFY2((r.right() <= viewport.right() || scroll->horizontalScrollBar()->isVisible()) &&
                   e->width() >= e->minimumSizeHint().width(),
               qPrintable(selection.join(QLatin1Char(',')) + QStringLiteral(": %1 %2 ends at %3 of %4")
                                                               .arg(QLatin1String(e->metaObject()->className()),
                                                                    e->objectName())
                                                               .arg(r.right())
                                                               .arg(viewport.right())));
    }
  }

  w.docks().summary->raise();
  QCoreApplication::processEvents();
  auto* table = w.findChild<QTableWidget*>(QStringLiteral("summaryTable"));
  QVERIFY(table);
  QVERIFY(table->isVisible());
  QHeaderView* header = table->horizontalHeader();
  int total = 0;
  for (int c = 0; c < table->columnCount(); ++c) {
    const int needed = std::max(header->sectionSizeHint(c), static_cast<QAbstractItemView*>(table)->sizeHintForColumn(c));
    QVERIFY2(header->sectionSize(c) >= needed,
             qPrintable(QStringLiteral("column %1: %2 < %3").arg(c).arg(header->sectionSize(c)).arg(needed)));
    total += header->sectionSize(c);
  }
  QVERIFY2(total <= table->viewport()->width() || table->horizontalScrollBar()->maximum() > 0,
           qPrintable(QStringLiteral("columns %1 px in %2 px without a scroll bar").arg(total).arg(table->viewport()->width())));
}

// Long texts (status line, project name, accuracy, inspection summary) never make the
// window wider or taller.
void TestGuiLayout::windowNeverResizesItself() {
  MainWindow w;
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  for (const QSize size : {kLaptop, kDesktop}) {
    QVERIFY(showAt(w, size));
    const QString longText = QStringLiteral("a very long text without a break ").repeated(12);
    Project p = w.document()->project();
    p.name = longText.toStdString();
    w.document()->setProject(p, w.document()->filePath());
    auto* status = w.findChild<QLabel*>(QStringLiteral("statusLabel"));
    QVERIFY(status);
    status->setText(longText);
    for (const char* name : {"testAccuracyLabel", "etaLabel", "trainingInfoLabel", "inspectionSummary", "summaryTotals"})
      if (auto* l = w.findChild<QLabel*>(QLatin1String(name))) l->setText(longText);
    // A temporary message (a menu's status tip) hides the status label: the window
    // lays itself out again, with whatever minimum width the docks ask for now.
    w.statusBar()->showMessage(longText);
    for (QDockWidget* d : w.docks().all()) {  // every tab in front once
      d->raise();
      QCoreApplication::processEvents();
    }
    QTest::qWait(50);
    QCOMPARE(w.size(), size);
    QVERIFY2(w.minimumSizeHint().width() <= size.width(), qPrintable(QString::number(w.minimumSizeHint().width())));
    w.statusBar()->clearMessage();
  }
}

void TestGuiLayout::titleNamesTheFile() {
  MainWindow w;
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  const std::string name = w.document()->project().name;
  QCOMPARE(w.windowTitle(), QStringLiteral("lenet_lowprec.qnn.json[*] — %1 — QNN Studio").arg(QString::fromStdString(name)));
  QTemporaryDir dir;
  Project p = w.document()->project();
  p.name = "mynet";
  w.document()->setProject(p);  // untitled
  QCOMPARE(w.windowTitle(), QStringLiteral("Untitled[*] — mynet — QNN Studio"));
  w.document()->setProject(p, dir.filePath(QStringLiteral("mynet.qnn.json")));  // the name says no more than the file
  QCOMPARE(w.windowTitle(), QStringLiteral("mynet.qnn.json[*] — QNN Studio"));
}

// The UI-stall figure: the default layout (every dock open), each tab in front in turn
// while a short run trains; the longest gap between two 20 ms ticks on the GUI thread.
void TestGuiLayout::guiStaysResponsiveTrainingWithEveryViewOpen() {
  MainWindow w;
  QVERIFY(w.openProject(examplePath("lenet_lowprec.qnn.json")));
  Project p = w.document()->project();
  p.training.threads = 1;  // CI's 2 cores are shared
  w.document()->setProject(p, w.document()->filePath());
  w.setRunLimits(2000, 500, 0);
  w.setEpochs(2);
  QVERIFY(showAt(w, kDesktop));
  TrainingController* controller = w.trainingController();
  qnn_test::GuiGapProbe probe;
  probe.start();
  w.startTraining();
  QTRY_VERIFY_WITH_TIMEOUT(controller->isRunning(), 5000);
  QList<QDockWidget*> docks = w.docks().all();
  int i = 0;
  while (controller->isRunning()) {
    docks[i++ % docks.size()]->raise();
    if (auto* tabs = w.inspectionPanel()->tabs()) tabs->setCurrentIndex(i % tabs->count());
    QTest::qWait(150);
    QVERIFY2(i < 2000, "the run did not finish in 5 minutes");
  }
  probe.stop();
  qInfo("UI stall probe, every view open (tabs raised in turn), 2 epochs of 2000 samples: %d ticks of 20 ms, "
        "longest gap %lld ms",
        probe.ticks, probe.maxGapMs);
  QVERIFY(controller->hasModel());
  QVERIFY(w.inspectionPanel()->reportsReceived() > 0);
  // The bound of gui_training (a blocked event loop shows one gap as long as the run).
  QVERIFY2(probe.maxGapMs < 1000, qPrintable(QStringLiteral("GUI thread blocked for %1 ms").arg(probe.maxGapMs)));
}

// The offscreen platform's screen is 800 x 600: restoreGeometry() would shrink a
// restored window to fit it. A 1920 x 1200 screen instead (offscreen only).
int main(int argc, char* argv[]) {
  QTemporaryDir configDir;
  qnn_test::useLargeOffscreenScreen(configDir, "layout-test");
  QApplication app(argc, argv);
  app.setAttribute(Qt::AA_Use96Dpi, true);
  TestGuiLayout test;
  QTEST_SET_MAIN_SOURCE_PATH
  return QTest::qExec(&test, argc, argv);
}

#include "test_gui_layout.moc"

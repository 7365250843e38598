// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/window_layouts.h"

#include <QDockWidget>
#include <QEvent>
#include <QLayout>
#include <QMouseEvent>
#include <QMainWindow>
#include <QScreen>
#include <QScrollArea>
#include <QSettings>
#include <QStyle>
#include <QTabBar>
#include <QTimer>

#include <algorithm>
#include <functional>

#include "widgets/inspector/layer_inspector.h"
#include "widgets/inspector/model_summary_view.h"

namespace qnn {
namespace {

constexpr char kGeometryKey[] = "mainWindow/geometry";
constexpr char kStateKey[] = "mainWindow/state";
constexpr char kVersionKey[] = "mainWindow/stateVersion";

int fraction(int total, double share, int lo, int hi) { return std::clamp(int(total * share), lo, hi); }

/// The graph's least width in the Inspect layout: the low-precision LeNet's column of
/// nodes at a readable zoom with the colour legend beside it.
constexpr int kGraphMinWidth = 360;

int dockFrame(const QDockWidget* dock) { return 2 * dock->style()->pixelMetric(QStyle::PM_DockWidgetFrameWidth, nullptr, dock); }

/// The width of the Inspector dock that cuts none of its fields (its widest page).
int inspectorWidth(const MainDocks& d) {
  auto* inspector = qobject_cast<LayerInspector*>(d.inspector->widget());
  return inspector ? inspector->widestPageWidth() + dockFrame(d.inspector) : 0;
}

/// The width of the Model Summary dock that shows every column whole.
int summaryWidth(const MainDocks& d) {
  auto* summary = qobject_cast<ModelSummaryView*>(d.summary->widget());
  return summary ? summary->columnsWidth() + dockFrame(d.summary) : 0;
}

/// Height of the Training Settings | Dataset strip: the taller panel's fields plus the
/// dock title and tab bar, no more.
int panelHeight(QDockWidget* d, int width) {
  auto* area = qobject_cast<QScrollArea*>(d->widget());
  const QWidget* content = area && area->widget() ? area->widget() : d->widget();
  // Wrapped labels (the dataset/Input note) need their height at the real width.
  return content->hasHeightForWidth() && width > 0 ? std::max(content->heightForWidth(width), content->sizeHint().height())
                                                   : content->sizeHint().height();
}

int settingsStripHeight(const MainDocks& d) {
  const int width = d.settings->widget()->width();
  const int fields = std::max(panelHeight(d.settings, width), panelHeight(d.dataset, width));
  return fields + 2 * d.settings->fontMetrics().height() + 24;  // title bar + tab bar
}

/// Every dock back in the window (not floating), out of any tab group, hidden.
void detachAll(QMainWindow* w, const MainDocks& d) {
  for (QDockWidget* dock : d.all()) {
    dock->setFloating(false);
    w->removeDockWidget(dock);
  }
}

/// The places of `layout`: Layers over Inspector | Model Summary on the left; Training
/// Settings | Dataset over Training Curves | Test Results | Inspection | Analysis on the
/// right. Design puts Model Summary in the right column (under the closed curves);
/// Train puts Test Results in the left column (under the closed editor docks), so the
/// curves keep the right column's height. Splits come before tabs: splitting a tabbed
/// dock would add a tab instead.
void placeDocks(QMainWindow* w, const MainDocks& d, WindowLayout layout) {
  const bool summaryRight = layout == WindowLayout::Design;
  const bool resultsLeft = layout == WindowLayout::Train;
  w->addDockWidget(Qt::LeftDockWidgetArea, d.palette);
  w->splitDockWidget(d.palette, d.inspector, Qt::Vertical);
  if (resultsLeft) w->splitDockWidget(d.inspector, d.results, Qt::Vertical);
  w->addDockWidget(Qt::RightDockWidgetArea, d.settings);
  w->splitDockWidget(d.settings, d.curves, Qt::Vertical);
  if (summaryRight) w->splitDockWidget(d.curves, d.summary, Qt::Vertical);

  w->tabifyDockWidget(d.settings, d.dataset);
  if (!summaryRight) w->tabifyDockWidget(d.inspector, d.summary);
  if (!resultsLeft) w->tabifyDockWidget(d.curves, d.results);
  w->tabifyDockWidget(d.curves, d.inspection);
  w->tabifyDockWidget(d.curves, d.analysis);
}

/// Re-arranges a newly shown window after each resize until it settles (see
/// applyWindowLayoutUntilSettled), then deletes itself. At most one per window.
/// The user's hand ends it at once: a press on a dock's title bar or on a separator or
/// a dock tab of the window (a drag or resize starts), a dock closed, floated or moved
/// to another area by the user. Their arrangement is never replaced.
class LayoutSettler : public QObject {
 public:
  LayoutSettler(QMainWindow* window, std::function<void()> arrange)
      : QObject(window), m_window(window), m_arrange(std::move(arrange)) {
    setObjectName(QLatin1String(kName));
    m_settled.setSingleShot(true);
    m_settled.setInterval(kLayoutSettleMs);
    connect(&m_settled, &QTimer::timeout, this, &QObject::deleteLater);
    // After the resize has been laid out (the dock areas have the new size): from the
    // event loop, once for several resizes in a row.
    m_again.setSingleShot(true);
    m_again.setInterval(0);
    connect(&m_again, &QTimer::timeout, this, [this] {
      if (m_done || !m_window->isVisible() || m_window->size() == m_arrangedFor) return;
      m_arrangedFor = m_window->size();
      m_arranging = true;
      m_arrange();
      if (QLayout* layout = m_window->layout()) layout->activate();  // the docks at their places now
      m_arranging = false;
    });
    window->installEventFilter(this);
    for (QDockWidget* dock : window->findChildren<QDockWidget*>(QString(), Qt::FindDirectChildrenOnly)) {
      dock->installEventFilter(this);
      // Floated or moved by the user (the arrangement's own moves are not theirs).
      connect(dock, &QDockWidget::topLevelChanged, this, [this] { if (!m_arranging) userTookOver(); });
      connect(dock, &QDockWidget::dockLocationChanged, this, [this] { if (!m_arranging) userTookOver(); });
    }
    if (window->isVisible()) {  // arranged for this size just now
      m_arrangedFor = window->size();
      m_settled.start();
    }
  }

  static constexpr const char* kName = "qnnLayoutSettler";

  static void stop(QMainWindow* window) {
    delete window->findChild<QObject*>(QLatin1String(kName), Qt::FindDirectChildrenOnly);
  }

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override {
    if (m_done) return false;
    if (watched == m_window) {
      if (event->type() == QEvent::Show || (event->type() == QEvent::Resize && m_window->isVisible())) {
        m_settled.start();
        m_again.start();
      } else if (event->type() == QEvent::MouseButtonPress && pressOnWindowFrame(static_cast<QMouseEvent*>(event))) {
        userTookOver();
      }
    } else if (auto* dock = qobject_cast<QDockWidget*>(watched)) {
      const bool press = event->type() == QEvent::MouseButtonPress || event->type() == QEvent::MouseButtonDblClick;
      if (event->type() == QEvent::Close ||
          (press && dock->widget() &&
           static_cast<QMouseEvent*>(event)->position().y() < dock->widget()->geometry().top()))
        userTookOver();  // closed, or its title bar taken (a move, a float)
    }
    return false;
  }

 private:
  /// A press on the window itself, not on a widget in it: a separator between docks (a
  /// resize) or a tab bar of tabbed docks (a drag).
  bool pressOnWindowFrame(const QMouseEvent* event) const {
    QWidget* child = m_window->childAt(event->position().toPoint());
    return !child || (qobject_cast<QTabBar*>(child) && child->parentWidget() == m_window);
  }

  void userTookOver() {
    m_done = true;
    setObjectName(QString());  // stop() and a new settler no longer see this one
    m_settled.stop();
    m_again.stop();
    deleteLater();
  }

  QMainWindow* m_window;
  std::function<void()> m_arrange;
  QSize m_arrangedFor;  ///< the window size of the last arrangement (none yet: invalid)
  QTimer m_settled;  ///< runs out kLayoutSettleMs after the show or the last resize
  QTimer m_again;    ///< the re-arrangement after a resize
  bool m_arranging = false;  ///< inside m_arrange (its dock moves are not the user's)
  bool m_done = false;       ///< settled or taken over: no more arranging
};

/// applyWindowLayout without ending a settling.
void arrange(QMainWindow* w, const MainDocks& d, WindowLayout layout);

}  // namespace

QList<QDockWidget*> openDocks(const MainDocks& d, WindowLayout layout) {
  switch (layout) {
    case WindowLayout::Default: return d.all();
    case WindowLayout::Design: return {d.palette, d.inspector, d.summary};
    case WindowLayout::Train: return {d.settings, d.dataset, d.curves, d.results};
    case WindowLayout::Inspect: return {d.inspector, d.inspection, d.analysis};
  }
  return {};
}

void applyWindowLayout(QMainWindow* w, const MainDocks& d, WindowLayout layout) {
  LayoutSettler::stop(w);
  arrange(w, d, layout);
}

void applyWindowLayoutUntilSettled(QMainWindow* w, const MainDocks& d, WindowLayout layout) {
  applyWindowLayout(w, d, layout);
  new LayoutSettler(w, [w, d, layout] { arrange(w, d, layout); });
}

namespace {

void arrange(QMainWindow* w, const MainDocks& d, WindowLayout layout) {
  detachAll(w, d);
  placeDocks(w, d, layout);
  const QList<QDockWidget*> open = openDocks(d, layout);
  for (QDockWidget* dock : d.all()) dock->setVisible(open.contains(dock));

  const int width = w->width(), height = w->height();
  // The left column: its share of the width, and never narrower than the inspector's
  // widest page (a QuantConv2d's fields), up to a third of the window.
  const int inspector = std::min(inspectorWidth(d), width / 3);
  const int left = std::max(fraction(width, 0.22, 300, 400), inspector);
  const int strip = settingsStripHeight(d);
  switch (layout) {
    case WindowLayout::Default:
      d.inspector->raise();
      d.settings->raise();
      d.curves->raise();
      w->resizeDocks({d.palette, d.curves}, {left, fraction(width, 0.34, 470, 680)}, Qt::Horizontal);
      w->resizeDocks({d.palette, d.inspector}, {height * 35 / 100, height * 65 / 100}, Qt::Vertical);
      w->resizeDocks({d.settings, d.curves}, {strip, height - strip}, Qt::Vertical);
      break;
    case WindowLayout::Design:
      // Editing: the inspector's widest fields (a QuantConv2d's) and every summary column fit.
      w->resizeDocks({d.palette, d.summary},
                     {std::max(fraction(width, 0.27, 370, 460), inspector),
                      std::max(fraction(width, 0.3, 420, 600), std::min(summaryWidth(d), width / 3))},
                     Qt::Horizontal);
      w->resizeDocks({d.palette, d.inspector}, {height * 35 / 100, height * 65 / 100}, Qt::Vertical);
      break;
    case WindowLayout::Train:
      d.settings->raise();
      w->resizeDocks({d.results, d.curves}, {fraction(width, 0.26, 340, 480), fraction(width, 0.34, 470, 680)},
                     Qt::Horizontal);
      w->resizeDocks({d.settings, d.curves}, {strip, height - strip}, Qt::Vertical);
      break;
    case WindowLayout::Inspect:
      d.inspection->raise();
      // The inspection plots take what the inspector and a readable graph leave.
      w->resizeDocks({d.inspector, d.inspection},
                     {left, std::min(fraction(width, 0.52, 500, 1100), width - left - kGraphMinWidth)}, Qt::Horizontal);
      break;
  }
}

}  // namespace

QWidget* scrollableDockContent(QWidget* content) {
  auto* area = new QScrollArea;
  area->setObjectName(content->objectName() + QStringLiteral("Scroll"));
  area->setFrameShape(QFrame::NoFrame);
  area->setWidgetResizable(true);
  area->setWidget(content);
  // As wide as the content needs (as the dock was without the area); only height scrolls.
  area->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  area->setMinimumWidth(content->minimumSizeHint().width());
  return area;
}

void fitSettingsStripNow(QMainWindow* window, const MainDocks& docks);

void fitSettingsStrip(QMainWindow* window, const MainDocks& docks) {
  // After the panels' layouts have taken the change in (a label just shown or hidden).
  QTimer::singleShot(0, window, [window, docks] { fitSettingsStripNow(window, docks); });
}

void fitSettingsStripNow(QMainWindow* window, const MainDocks& docks) {
  QDockWidget* shown = !docks.settings->visibleRegion().isEmpty() ? docks.settings : docks.dataset;
  if (shown->isFloating() || shown->visibleRegion().isEmpty()) return;
  // What the taller panel asks for beyond what the shown tab's area has now (< 0: room to give back).
  const int width = shown->widget()->width();
  const int more =
      std::max(panelHeight(docks.settings, width), panelHeight(docks.dataset, width)) - shown->widget()->height();
  if (more != 0) window->resizeDocks({shown}, {shown->height() + more}, Qt::Vertical);
}

QSize defaultWindowSize(const QScreen* screen) {
  if (!screen) return {1400, 900};
  const QSize available = screen->availableGeometry().size();
  return (available * 0.9).boundedTo(QSize(1920, 1200));
}

bool prefersMaximized(const QScreen* screen) {
  if (!screen) return false;
  const QSize available = screen->availableGeometry().size();
  return available.width() < 1600 || available.height() < 900;
}

void saveWindowLayout(const QMainWindow* window, QSettings& settings) {
  settings.setValue(QLatin1String(kGeometryKey), window->saveGeometry());
  settings.setValue(QLatin1String(kStateKey), window->saveState(kDockStateVersion));
  settings.setValue(QLatin1String(kVersionKey), kDockStateVersion);
}

bool restoreWindowLayout(QMainWindow* window, QSettings& settings) {
  if (settings.value(QLatin1String(kVersionKey)).toInt() != kDockStateVersion) return false;
  const QByteArray state = settings.value(QLatin1String(kStateKey)).toByteArray();
  if (state.isEmpty()) return false;
  // The dock state decides: a bad one changes nothing, so the window keeps its default
  // size and gets the whole default layout (not the saved size around default docks).
  LayoutSettler::stop(window);
  const QByteArray before = window->saveState(kDockStateVersion);
  if (!window->restoreState(state, kDockStateVersion)) {
    // A state that fails part way (cut short) can leave docks out of their areas.
    window->restoreState(before, kDockStateVersion);
    return false;
  }
  window->restoreGeometry(settings.value(QLatin1String(kGeometryKey)).toByteArray());  // unreadable: size kept
  // Again for the restored size and maximised state, and after each resize until the
  // window has settled at its final size.
  window->restoreState(state, kDockStateVersion);
  new LayoutSettler(window, [window, state] { window->restoreState(state, kDockStateVersion); });
  return true;
}

}  // namespace qnn

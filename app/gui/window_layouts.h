// SPDX-License-Identifier: GPL-3.0-or-later
// The dock arrangements of the main window. The graph is always the central widget;
// the docks go around it:
//   Default (View > Reset Layout): left column Layers over Inspector | Model Summary;
//     right column Training Settings | Dataset (a short strip: their rows of fields)
//     over Training Curves | Test Results | Inspection | Analysis (tabs, each with the
//     rest of the column's height).
//   Design (Ctrl+1): Layers and Inspector on the left, Model Summary on the right; the
//     training and plot docks closed.
//   Train (Ctrl+2): Test Results (accuracy, confusion matrix) on the left; Training
//     Settings | Dataset over Training Curves on the right; the editor docks closed.
//   Inspect (Ctrl+3): Inspector on the left; Inspection | Analysis in a wide right column.
// Every arrangement is built from scratch (docks re-added, floating ones docked again,
// widths and heights set from the window's size), so the result does not depend on the
// arrangement before.
// The window's geometry and dock state persist in QSettings (group "mainWindow").
#pragma once

#include <QList>
#include <QSize>

class QDockWidget;
class QMainWindow;
class QScreen;
class QSettings;

namespace qnn {

enum class WindowLayout { Default, Design, Train, Inspect };

/// The docks of the main window, by role.
struct MainDocks {
  QDockWidget* palette = nullptr;     ///< "Layers"
  QDockWidget* inspector = nullptr;   ///< "Inspector"
  QDockWidget* summary = nullptr;     ///< "Model Summary"
  QDockWidget* settings = nullptr;    ///< "Training Settings"
  QDockWidget* dataset = nullptr;     ///< "Dataset"
  QDockWidget* curves = nullptr;      ///< "Training Curves"
  QDockWidget* results = nullptr;     ///< "Test Results"
  QDockWidget* inspection = nullptr;  ///< "Inspection"
  QDockWidget* analysis = nullptr;    ///< "Analysis"

  QList<QDockWidget*> all() const {
    return {palette, inspector, summary, settings, dataset, curves, results, inspection, analysis};
  }
};

/// Arranges the docks of `window` as `layout` (see the file comment): which docks are
/// open, where, which tab is raised, and the column widths and heights, computed from
/// the window's current size. Call it on a shown window for the sizes to take. Ends the
/// settling of an earlier applyWindowLayoutUntilSettled() or restoreWindowLayout() (the
/// user's choice wins).
void applyWindowLayout(QMainWindow* window, const MainDocks& docks, WindowLayout layout);

/// How long a newly shown window may take to settle: a window manager maximises or
/// resizes a window after it is mapped (asynchronously, often in several steps).
/// Settled: no resize for this long after the show or the last resize.
constexpr int kLayoutSettleMs = 500;

/// applyWindowLayout() now, and again after every resize of `window` until it has
/// settled (kLayoutSettleMs after it is shown, or after the last resize), so the dock
/// widths and heights are the shares of the size the window ends at, not of the size
/// it had when first shown (e.g. before a window manager maximised it). Each re-arrangement
/// runs from the event loop once the resize has been laid out. For the first show.
void applyWindowLayoutUntilSettled(QMainWindow* window, const MainDocks& docks, WindowLayout layout);

/// The docks that `layout` opens (the others it closes).
QList<QDockWidget*> openDocks(const MainDocks& docks, WindowLayout layout);

/// `content` in a frameless scroll area (widget resizable), for a dock's widget: what the
/// content may show later (e.g. the red note of a dataset that does not fit the Input)
/// scrolls inside the dock instead of raising the window's minimum size, so the window
/// never grows past the screen. The content keeps its object name and parent chain below
/// the area (findChild still finds it).
QWidget* scrollableDockContent(QWidget* content);
/// Gives the docked Training Settings | Dataset strip the height its content asks for now
/// (e.g. after the dataset/Input note appeared or went), taken from the docks below it;
/// the window keeps its size.
/// fitSettingsStrip runs once the event loop has laid the panels out (queued);
/// fitSettingsStripNow at once.
void fitSettingsStrip(QMainWindow* window, const MainDocks& docks);
void fitSettingsStripNow(QMainWindow* window, const MainDocks& docks);

/// The size a new window opens at on `screen`: 90 % of its available area (no larger
/// than 1920 x 1200), 1400 x 900 without a screen.
QSize defaultWindowSize(const QScreen* screen);
/// True on screens where the window is better maximised (under 1600 x 900 available).
bool prefersMaximized(const QScreen* screen);

/// Version of the saved dock state: saved states of another version are ignored (a
/// release that adds or renames docks increments it).
constexpr int kDockStateVersion = 1;
/// Writes the window's geometry and dock state to `settings` ("mainWindow/geometry",
/// "mainWindow/state", "mainWindow/stateVersion").
void saveWindowLayout(const QMainWindow* window, QSettings& settings);
/// Restores what saveWindowLayout() wrote: the dock state first (QMainWindow::restoreState
/// checks all of it before changing anything), and only when it is good the geometry
/// (size, position, maximised), then the dock state again for that size. While the
/// window settles after its first show (see applyWindowLayoutUntilSettled) the dock
/// state is restored again after each resize, so the docks keep their saved sizes at
/// the size the window ends at. Returns false, changing nothing (neither the size nor
/// the docks), when nothing was saved, the version differs or the dock state is
/// unreadable; the caller then keeps the default layout at the default size. An
/// unreadable geometry with a good dock state keeps the window's size.
bool restoreWindowLayout(QMainWindow* window, QSettings& settings);

}  // namespace qnn

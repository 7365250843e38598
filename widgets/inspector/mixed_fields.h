// SPDX-License-Identifier: GPL-3.0-or-later
// "Mixed" fields of the layer inspector: with several layers selected, a field whose
// values differ over the selection shows "mixed" and applies nothing until the user
// types, chooses or clicks a value.
//   spin box:  the special value text "mixed" at minimum - 1 (a sentinel the field never
//              applies; the field's own minimum is kept in the property "qnnLowest");
//   combo box: no entry (currentIndex -1) and the placeholder text "mixed";
//   check box: partially checked (tristate only while mixed).
// While a spin box or combo box is mixed, the keys and the wheel that step it do
// nothing (they would step from the sentinel or from "no entry" and apply the field's
// minimum or the first entry to every selected layer):
//   spin box:  Up, Down, PageUp, PageDown, the wheel;
//   combo box: Up, Down, PageUp, PageDown, Home, End, the wheel.
// Typing a number, choosing from the popup, typing an entry's first letters (keyboard
// search) and clicking still apply.
// The on*() functions connect an editor to the edit it makes, skipping "mixed" and the
// values shown by showValues() (which runs with the editor's signals blocked).
#pragma once

#include <QVariant>
#include <algorithm>
#include <functional>
#include <vector>

class QAbstractSpinBox;
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QObject;
class QSpinBox;
class QWidget;

namespace qnn::mixed {

/// True when every value equals the first one (also for none or one).
template <typename T>
bool allEqual(const std::vector<T>& values) {
  return std::adjacent_find(values.begin(), values.end(), [](const T& a, const T& b) { return !(a == b); }) ==
         values.end();
}

/// The spin box shows `values`: their common value, or "mixed" when they differ.
/// Empty: left as is. The first call keeps the spin box's minimum as its own and
/// installs the step blocker (see the file comment).
void showValues(QSpinBox* spin, const std::vector<int>& values);
void showValues(QDoubleSpinBox* spin, const std::vector<double>& values);
/// The check box shows `values`: checked / unchecked, or partially checked when they differ.
void showValues(QCheckBox* box, const std::vector<bool>& values);
/// The combo box shows the entry whose item data is the values' common value (the
/// first entry when none has it), or no entry and the placeholder "mixed" when they
/// differ. The first call installs the step blocker.
void showValues(QComboBox* combo, const std::vector<QVariant>& values);
/// A number field shows `values`: a check box (non-zero: checked), a QDoubleSpinBox or
/// a QSpinBox (the values truncated to integers); other editors are left as they are.
void showNumbers(QWidget* editor, const std::vector<double>& values);

/// The spin box shows "mixed" (its value is the sentinel, not a value to apply).
bool isMixed(const QAbstractSpinBox* spin);
/// The combo box shows "mixed" (no entry).
bool isMixed(const QComboBox* combo);

/// Calls `set` with the new value when the user changes the spin box (not while it
/// shows "mixed"); `finished` when an edit of it ends (editingFinished). `context`
/// owns the connections.
void onValue(QSpinBox* spin, QObject* context, std::function<void(int)> set, std::function<void()> finished);
void onValue(QDoubleSpinBox* spin, QObject* context, std::function<void(double)> set, std::function<void()> finished);
/// Calls `set` with the new state when the user checks or unchecks the box (not when it
/// turns partially checked, "mixed").
void onChecked(QCheckBox* box, QObject* context, std::function<void(bool)> set);
/// Calls `chosen` with the new entry's index when the user chooses an entry (not when
/// the combo box turns "mixed").
void onChosen(QComboBox* combo, QObject* context, std::function<void(int)> chosen);

/// Entering a "mixed" spin box inside `root` (by click or Tab) selects the word, so
/// typing replaces it.
void selectMixedOnEntry(QWidget* root);

}  // namespace qnn::mixed

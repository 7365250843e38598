// SPDX-License-Identifier: GPL-3.0-or-later
// The layer inspector: edits the selected layer(s) of a ProjectDocument — id,
// parameters (channels, kernel, stride, padding, features, bias, p, min/max), the
// weight / bias / activation quantizers (Brevitas preset, bit_width, signed,
// narrow_range, per-channel, scaling kind) and return_quant_tensor.
// Every edit is one ChangeLayers undo command on the document (consecutive edits of
// one spin box merge). With several layers selected, a field edits every selected
// layer that has it ("set all weight bit widths to 4" is one undo step). A field whose
// values differ over the selection shows "mixed" (spin box text "mixed", combo box with
// no entry and the placeholder "mixed", partially checked box) and changes nothing until
// the user types, chooses or clicks a value; entering, leaving or Enter alone apply nothing,
// nor do the keys and the wheel that would step it (mixed_fields.h).
// The mouse wheel changes a field only while it has focus (WheelGuard).
// Immediate validation: a value the core rejects (QuantSpec::validate, or a new
// validate() error about that field, or an invalid/duplicate id) is not applied; the
// core's message is shown under the field instead.
// Editors are named for tests: "idEdit", "param_<name>", "returnQuantTensor",
// "<slot>_preset" / "<slot>_bit_width" / "<slot>_signed" / "<slot>_narrow_range" /
// "<slot>_per_channel" / "<slot>_scaling" with slot weight, bias, act or input
// (QuantEltwiseAdd's input quantizer).
#pragma once

#include <QHash>
#include <QPointer>
#include <QFont>
#include <QStringList>
#include <QWidget>
#include <functional>
#include <optional>

#include "core/graph/project.h"

class QCheckBox;
class QFormLayout;
class QLabel;
class QVBoxLayout;

namespace qnn {

class ProjectDocument;
enum class QuantSlot;

class LayerInspector : public QWidget {
  Q_OBJECT
 public:
  explicit LayerInspector(ProjectDocument* document, QWidget* parent = nullptr);

  QStringList selection() const { return m_ids; }
  /// The message shown under a field ("" when the last edit of it was valid). Field
  /// names: "id", a parameter name, "return_quant_tensor", "<slot>.<field>".
  QString fieldError(const QString& field) const;
  /// The width in pixels the inspector needs to show its widest page (a single
  /// QuantConv2d with weight and bias quantizers: the most fields, paired h/w spin boxes
  /// and the longest preset names) without cutting a label or a field, vertical scroll
  /// bar included: what a dock column should give it. Measured once per font, on a
  /// probe inspector that is never shown.
  int widestPageWidth() const;

 public Q_SLOTS:
  /// Shows the layers `ids` (empty: nothing selected).
  void setSelection(const QStringList& ids);
  /// Commits the field being typed in (an id or a spin box whose editingFinished has
  /// not come yet), as if it had lost focus. Called before saving and closing.
  void commitPendingEdit();
  /// The trained model's bias quantizers (layer id -> inspect::BiasStats::summary():
  /// preset, bit width, scale, codes, clipped share), shown in the bias group of a
  /// selected layer. Empty: no trained model of this network (the group says so).
  void setBiasSummaries(const QHash<QString, QString>& summaries, const QStringList& clipped = {});

 private:
  using Mutator = std::function<void(LayerSpec&)>;
  using Has = std::function<bool(const LayerSpec&)>;

  void rebuild();
  void refreshValues();
  /// Fills the bias group's "trained" line for the selection.
  void updateBiasTrained();
  QWidget* addField(QFormLayout* form, const QString& label, const QString& field, QWidget* editor);
  /// A check box with `text`, named `objectName`, as the field `field`; `set` gets the
  /// state the user clicks (not "mixed": see mixed_fields.h).
  QCheckBox* addCheckField(QFormLayout* form, const QString& label, const QString& field, const QString& objectName,
                           const QString& text, std::function<void(bool)> set);
  void addParams(QFormLayout* form);
  /// kernel_size / stride / ... (ParamKind::IntTuple): fields h and w and a link button.
  void addPairField(QFormLayout* form, const std::string& name, const Has& has);
  /// The group of a quantizer slot (widgets/inspector/quant_slots.h).
  void addQuantGroup(QuantSlot slot);
  /// Applies `mutate` to every selected layer for which `has` holds, after checking
  /// the result; shows the error under `field` otherwise. One undo step (merging
  /// with the previous edit of the same field in the same editing session).
  bool apply(const QString& field, const Has& has, const Mutator& mutate);
  void showError(const QString& field, const QString& message);
  std::vector<const LayerSpec*> layers() const;

  QPointer<ProjectDocument> m_document;
  QStringList m_ids;
  mutable int m_widestPage = 0;  ///< widestPageWidth() (0: not measured yet)
  mutable QFont m_widestPageFont;  ///< the font it was measured with
  QString m_structure;   ///< ids + types of what the editors were built for
  int m_session = 0;     ///< merge key of spin-box edits; bumped when an edit ends
  bool m_applying = false;
  QVBoxLayout* m_layout = nullptr;
  QWidget* m_content = nullptr;
  QLabel* m_title = nullptr;
  QHash<QString, QWidget*> m_editors;
  QHash<QString, QLabel*> m_errors;
  QHash<QString, QString> m_biasSummaries;
  QStringList m_biasClipped;  ///< layers whose trained bias codes were clipped (shown red)
  QLabel* m_biasTrained = nullptr;  ///< in the bias group (rebuilt with it)
};

}  // namespace qnn

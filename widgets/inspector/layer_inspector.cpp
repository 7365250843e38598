// SPDX-License-Identifier: GPL-3.0-or-later
#include "widgets/inspector/layer_inspector.h"

#include <QAbstractSpinBox>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QTimer>
#include <QToolButton>
#include <QHBoxLayout>
#include <QVBoxLayout>
#include <algorithm>
#include <set>

#include "core/errors.h"
#include "core/graph/layer_rules.h"
#include "core/graph/validate.h"
#include "core/layers/layer_descriptor.h"
#include "widgets/document/layer_edits.h"
#include "widgets/document/project_document.h"
#include "widgets/input/wheel_guard.h"
#include "widgets/inspector/mixed_fields.h"
#include "widgets/inspector/quant_slots.h"

namespace qnn {
namespace {

constexpr int kMaxInt = 1 << 20;

/// The schema entry of `name` on the first layer type that has it.
const ParamSchema* schemaOf(const LayerSpec& l, const std::string& name) { return descriptor(l.type).param(name); }

bool isQuantType(LayerType t) { return descriptor(t).returns_quant_tensor; }

const std::vector<ScalingKind>& scalingKinds() {
  static const std::vector<ScalingKind> k{ScalingKind::WeightStats, ScalingKind::RuntimeStats, ScalingKind::Parameter,
                                          ScalingKind::InputTimesWeight};
  return k;
}

using mixed::isMixed;
using mixed::showValues;
using Slot = QuantSlot;

/// What the editors are built for: the ids and types of `ls`.
QString structureOf(const std::vector<const LayerSpec*>& ls) {
  QStringList key;
  for (const LayerSpec* l : ls) key << QString::fromStdString(l->id + ":" + to_string(l->type));
  return key.join(QLatin1Char(','));
}

}  // namespace

LayerInspector::LayerInspector(ProjectDocument* document, QWidget* parent)
    : QWidget(parent), m_document(document) {
  WheelGuard::install();  // the wheel changes only the focused field
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  auto* scroll = new QScrollArea(this);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  // A dock narrower than the fields scrolls sideways: no field or label is cut off.
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
  auto* holder = new QWidget(scroll);
  m_layout = new QVBoxLayout(holder);
  m_layout->setContentsMargins(8, 6, 8, 6);
  m_title = new QLabel(holder);
  m_title->setObjectName(QStringLiteral("inspectorTitle"));
  m_title->setWordWrap(true);
  m_layout->addWidget(m_title);
  m_layout->addStretch(1);
  scroll->setWidget(holder);
  outer->addWidget(scroll);

  connect(document, &ProjectDocument::projectReplaced, this, [this] { setSelection({}); });
  connect(document, &ProjectDocument::changed, this, [this] {
    if (m_applying) return;
    QStringList alive;
    for (const QString& id : m_ids)
      if (m_document->layer(id)) alive << id;
    if (alive != m_ids) {
      setSelection(alive);
      return;
    }
    refreshValues();
  });
  mixed::selectMixedOnEntry(this);  // typing replaces the word "mixed"
  rebuild();
}

int LayerInspector::widestPageWidth() const {
  if (m_widestPage > 0 && m_widestPageFont == font()) return m_widestPage;
  // A QuantConv2d with both quantizers on a document of its own, in a probe inspector
  // with this one's font (never shown: its layouts still give their minimum sizes).
  ProjectDocument document;
  Project project;
  LayerSpec conv = defaultLayer(LayerType::QuantConv2d, "conv_width_probe", 0.0, 0.0);
  conv.bias_quant = conv.weight_quant;
  project.layers.push_back(conv);
  document.setProject(project);
  LayerInspector probe(&document);
  probe.setFont(font());
  probe.setSelection({QStringLiteral("conv_width_probe")});
  auto* area = probe.findChild<QScrollArea*>();
  m_widestPage = area->widget()->minimumSizeHint().width() + area->verticalScrollBar()->sizeHint().width() +
                 2 * area->frameWidth();
  m_widestPageFont = font();
  return m_widestPage;
}

QString LayerInspector::fieldError(const QString& field) const {
  const QLabel* l = m_errors.value(field);
  return l ? l->text() : QString();
}

void LayerInspector::commitPendingEdit() {
  QWidget* focus = QApplication::focusWidget();
  if (!focus || !isAncestorOf(focus)) return;
  for (QWidget* w = focus; w && w != this; w = w->parentWidget()) {
    if (auto* spin = qobject_cast<QAbstractSpinBox*>(w)) {
      spin->interpretText();  // valueChanged for a typed, valid number
      Q_EMIT spin->editingFinished();
      return;
    }
  }
  if (auto* edit = qobject_cast<QLineEdit*>(focus)) Q_EMIT edit->editingFinished();
}

void LayerInspector::setSelection(const QStringList& ids) {
  m_ids = ids;
  ++m_session;
  if (m_applying)  // an id edit renamed the layer: rebuild once the edit has returned
    QTimer::singleShot(0, this, [this] { rebuild(); });
  else
    rebuild();
}

std::vector<const LayerSpec*> LayerInspector::layers() const {
  std::vector<const LayerSpec*> out;
  if (!m_document) return out;
  for (const QString& id : m_ids)
    if (const LayerSpec* l = m_document->layer(id)) out.push_back(l);
  return out;
}

// ------------------------------------------------------------------ building the editors

QWidget* LayerInspector::addField(QFormLayout* form, const QString& label, const QString& field, QWidget* editor) {
  auto* box = new QWidget;
  auto* v = new QVBoxLayout(box);
  v->setContentsMargins(0, 0, 0, 0);
  v->setSpacing(1);
  v->addWidget(editor);
  auto* error = new QLabel(box);
  error->setObjectName(field + QStringLiteral("_error"));
  error->setWordWrap(true);
  error->setStyleSheet(QStringLiteral("color: #c0392b;"));
  error->hide();
  v->addWidget(error);
  form->addRow(label, box);
  m_editors.insert(field, editor);
  m_errors.insert(field, error);
  return editor;
}

QCheckBox* LayerInspector::addCheckField(QFormLayout* form, const QString& label, const QString& field,
                                         const QString& objectName, const QString& text, std::function<void(bool)> set) {
  auto* box = new QCheckBox(text);
  box->setObjectName(objectName);
  addField(form, label, field, box);
  mixed::onChecked(box, this, std::move(set));
  return box;
}

void LayerInspector::rebuild() {
  if (m_content) {
    // Deferred: rebuild may run inside a signal of one of its editors. Detached now so
    // lookups by name find only the new editors.
    m_content->hide();
    m_content->setParent(nullptr);
    m_content->deleteLater();
    m_content = nullptr;
  }
  m_editors.clear();
  m_errors.clear();
  m_biasTrained = nullptr;
  const std::vector<const LayerSpec*> ls = layers();
  m_structure = structureOf(ls);
  if (ls.empty()) {
    m_title->setText(tr("No layer selected.\nClick a node to edit it; Shift/Ctrl+click or drag a "
                        "rubber band to edit several at once."));
    return;
  }
  std::set<std::string> types;
  for (const LayerSpec* l : ls) types.insert(to_string(l->type));
  QStringList typeNames;
  for (const std::string& t : types) typeNames << QString::fromStdString(t);
  m_title->setText(ls.size() == 1 ? QStringLiteral("<b>%1</b> · %2").arg(QString::fromStdString(ls[0]->id), typeNames[0])
                                  : tr("<b>%1 layers</b> · %2<br><small>An edit applies to every selected layer "
                                       "that has the field.</small>")
                                        .arg(ls.size()).arg(typeNames.join(QStringLiteral(", "))));

  m_content = new QWidget;
  auto* v = new QVBoxLayout(m_content);
  v->setContentsMargins(0, 0, 0, 0);
  m_layout->insertWidget(1, m_content);

  if (ls.size() == 1) {
    auto* group = new QGroupBox(tr("Layer"), m_content);
    auto* form = new QFormLayout(group);
    auto* idEdit = new QLineEdit;
    idEdit->setObjectName(QStringLiteral("idEdit"));
    addField(form, tr("id"), QStringLiteral("id"), idEdit);
    connect(idEdit, &QLineEdit::editingFinished, this, [this, idEdit] {
      const QString text = idEdit->text().trimmed();
      if (m_ids.size() != 1 || text == m_ids[0]) return;
      apply(QStringLiteral("id"), [](const LayerSpec&) { return true; }, [text](LayerSpec& l) { l.id = text.toStdString(); });
    });
    v->addWidget(group);
  }

  auto* params = new QGroupBox(tr("Parameters"), m_content);
  auto* pform = new QFormLayout(params);
  addParams(pform);
  if (pform->rowCount() > 0) v->addWidget(params); else delete params;

  if (std::any_of(ls.begin(), ls.end(), [](const LayerSpec* l) { return isQuantType(l->type); })) {
    auto* group = new QGroupBox(tr("Output"), m_content);
    auto* form = new QFormLayout(group);
    QCheckBox* rqt = addCheckField(form, QString(), QStringLiteral("return_quant_tensor"),
                                   QStringLiteral("returnQuantTensor"), tr("return_quant_tensor"), [this](bool on) {
                                     apply(QStringLiteral("return_quant_tensor"),
                                           [](const LayerSpec& l) { return isQuantType(l.type); },
                                           [on](LayerSpec& l) { l.return_quant_tensor = on; });
                                   });
    rqt->setToolTip(tr("Hand the QuantTensor (values with scale, zero point, bit width) to the next layer; "
                       "a following bias quantizer needs its scale"));
    v->addWidget(group);
  }
  for (Slot s : {Slot::Weight, Slot::Bias, Slot::Input, Slot::Act})
    if (std::any_of(ls.begin(), ls.end(), [s](const LayerSpec* l) {
          return s == Slot::Bias ? descriptor(l->type).uses(QuantSlot::Bias) : editsQuantSlot(*l, s);
        }))
      addQuantGroup(s);
  refreshValues();
}

void LayerInspector::addParams(QFormLayout* form) {
  std::vector<std::string> names;
  for (const LayerSpec* l : layers())
    for (const std::string& n : known_params(l->type))
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  for (const std::string& name : names) {
    const QString field = QString::fromStdString(name);
    const Has has = [name](const LayerSpec& l) { return schemaOf(l, name) != nullptr; };
    const ParamSchema* schema = nullptr;
    for (const LayerSpec* l : layers())
      if (!schema) schema = schemaOf(*l, name);
    if (schema->kind == ParamKind::Bool) {
      addCheckField(form, field, field, QStringLiteral("param_") + field, name == "bias" ? tr("add a bias") : field,
                    [this, has, field, name](bool on) {
                      apply(field, has, [on, name](LayerSpec& l) { l.params[name] = on ? 1.0 : 0.0; });
                    });
    } else if (schema->kind == ParamKind::Real) {
      auto* spin = new QDoubleSpinBox;
      spin->setObjectName(QStringLiteral("param_") + field);
      spin->setDecimals(name == "eps" ? 6 : 3);
      spin->setRange(-1e6, 1e6);
      spin->setSingleStep(name == "eps" ? 1e-5 : 0.05);
      addField(form, field, field, spin);
      mixed::onValue(
          spin, this, [this, has, name, field](double value) {
            apply(field, has, [name, value](LayerSpec& l) { l.params[name] = value; });
          },
          [this] { ++m_session; });
    } else if (schema->kind == ParamKind::IntTuple) {
      addPairField(form, name, has);
    } else {
      auto* spin = new QSpinBox;
      spin->setObjectName(QStringLiteral("param_") + field);
      spin->setRange(0, kMaxInt);
      addField(form, field, field, spin);
      mixed::onValue(
          spin, this, [this, has, name, field](int value) {
            apply(field, has, [name, value](LayerSpec& l) { l.params[name] = value; });
          },
          [this] { ++m_session; });
    }
    if (QWidget* editor = m_editors.value(field)) editor->setToolTip(QString::fromStdString(schema->help));
  }
}

void LayerInspector::addPairField(QFormLayout* form, const std::string& name, const Has& has) {
  // Two linked fields [h, w]: linked (the chain button down) the layer stores one number
  // for both axes and either field sets it; unlinked it stores the pair [h, w]
  // (PyTorch's tuple form). Each edit is one undo step on every selected layer.
  const QString field = QString::fromStdString(name);
  auto* box = new QWidget;
  box->setObjectName(QStringLiteral("param_") + field);
  box->setProperty("qnnPair", true);
  auto* row = new QHBoxLayout(box);
  row->setContentsMargins(0, 0, 0, 0);
  row->setSpacing(4);
  QSpinBox* spins[2];
  const char* axis[2] = {"h", "w"};
  for (int i = 0; i < 2; ++i) {
    spins[i] = new QSpinBox(box);
    spins[i]->setObjectName(QStringLiteral("param_%1_%2").arg(field, QLatin1String(axis[i])));
    spins[i]->setRange(0, kMaxInt);
    spins[i]->setPrefix(QLatin1String(axis[i]) + QStringLiteral(" "));
    spins[i]->setAccessibleName(QStringLiteral("%1 %2").arg(field, QLatin1String(axis[i])));
    row->addWidget(spins[i], 1);
  }
  auto* link = new QToolButton(box);
  link->setObjectName(QStringLiteral("param_%1_link").arg(field));
  link->setCheckable(true);
  link->setText(QStringLiteral("\u2194"));
  link->setToolTip(tr("Linked: one value for both axes (h = w). Unlink to set a pair [h, w]."));
  row->insertWidget(1, link);
  addField(form, field, field, box);
  for (int i = 0; i < 2; ++i) {
    mixed::onValue(
        spins[i], this, [this, has, name, field, i](int value) {
          apply(field, has, [name, value, i](LayerSpec& l) {
            if (!l.pairs.count(name)) {
              l.set_param(name, value);  // linked: both axes
              return;
            }
            const auto cur = pair_value(l, name);
            l.set_pair(name, i == 0 ? value : double(cur[0]), i == 1 ? value : double(cur[1]));
          });
        },
        [this] { ++m_session; });
  }
  connect(link, &QToolButton::toggled, this, [this, has, name, field](bool linked) {
    ++m_session;  // a separate undo step from the value edits around it
    apply(field, has, [name, linked](LayerSpec& l) {
      const auto cur = pair_value(l, name);
      if (linked)
        l.set_param(name, double(cur[0]));
      else
        l.set_pair(name, double(cur[0]), double(cur[1]));
    });
    ++m_session;
  });
}

void LayerInspector::addQuantGroup(Slot slot) {
  const QString name = quantSlotField(slot);
  const QuantRole role = slot == Slot::Weight ? QuantRole::Weight : slot == Slot::Bias ? QuantRole::Bias : QuantRole::Activation;
  auto* group = new QGroupBox(slot == Slot::Weight  ? tr("Weight quantizer (weight_quant)")
                              : slot == Slot::Bias  ? tr("Bias quantizer (bias_quant)")
                              : slot == Slot::Input ? tr("Input quantizer (input_quant)")
                                                    : tr("Activation quantizer (act_quant)"),
                              m_content);
  group->setObjectName(name + QStringLiteral("_group"));
  auto* form = new QFormLayout(group);
  const Has has = [slot](const LayerSpec& l) { return editsQuantSlot(l, slot); };
  // Edits of one quantizer field: start from the layer's effective quantizer.
  auto editQuant = [this, slot, has, name](const QString& field, std::function<void(QuantSpec&)> f) {
    apply(name + QLatin1Char('.') + field, has, [slot, f](LayerSpec& l) {
      std::optional<QuantSpec>& q = quantOf(l, slot);
      if (!q) q = effectiveQuant(l, slot);
      if (q) f(*q);
    });
  };

  auto* preset = new QComboBox;
  preset->setObjectName(name + QStringLiteral("_preset"));
  if (slot == Slot::Bias) preset->addItem(tr("none (float bias)"), QString());
  for (const std::string& p : presets::names(role)) preset->addItem(QString::fromStdString(p), QString::fromStdString(p));
  addField(form, tr("preset"), name + QStringLiteral(".preset"), preset);
  mixed::onChosen(preset, this, [this, preset, slot, has, name](int) {
    const std::string chosen = preset->currentData().toString().toStdString();
    apply(name + QStringLiteral(".preset"), has, [slot, chosen](LayerSpec& l) {
      std::optional<QuantSpec>& q = quantOf(l, slot);
      if (chosen.empty()) {
        q = std::nullopt;
        return;
      }
      QuantSpec next = presets::by_name(chosen);
      // Brevitas style: the preset plus the layer's bit_width override (weights, activations).
      const std::optional<QuantSpec> old = q ? q : effectiveQuant(l, slot);
      if (slot != Slot::Bias && old && old->bit_width != presets::by_name(old->preset).bit_width)
        next.bit_width = old->bit_width;
      q = next;
    });
  });

  auto* bits = new QSpinBox;
  bits->setObjectName(name + QStringLiteral("_bit_width"));
  bits->setRange(0, 64);
  addField(form, tr("bit_width"), name + QStringLiteral(".bit_width"), bits);
  mixed::onValue(
      bits, this, [editQuant](int v) { editQuant(QStringLiteral("bit_width"), [v](QuantSpec& q) { q.bit_width = v; }); },
      [this] { ++m_session; });

  auto check = [&](const QString& field, const QString& text, std::function<void(QuantSpec&, bool)> set) {
    addCheckField(form, QString(), name + QLatin1Char('.') + field, name + QLatin1Char('_') + field, text,
                  [editQuant, field, set](bool on) { editQuant(field, [set, on](QuantSpec& q) { set(q, on); }); });
  };
  check(QStringLiteral("signed"), tr("signed"), [](QuantSpec& q, bool on) { q.is_signed = on; });
  check(QStringLiteral("narrow_range"), tr("narrow_range"), [](QuantSpec& q, bool on) { q.narrow_range = on; });
  if (slot == Slot::Weight)
    check(QStringLiteral("per_channel"), tr("per-channel scale"), [](QuantSpec& q, bool on) { q.per_channel = on; });

  auto* scaling = new QComboBox;
  scaling->setObjectName(name + QStringLiteral("_scaling"));
  for (ScalingKind k : scalingKinds()) scaling->addItem(QString::fromStdString(to_string(k)), int(k));
  addField(form, tr("scaling"), name + QStringLiteral(".scaling"), scaling);
  mixed::onChosen(scaling, this, [editQuant, scaling](int) {
    const auto k = ScalingKind(scaling->currentData().toInt());
    editQuant(QStringLiteral("scaling"), [k](QuantSpec& q) { q.scaling = k; });
  });
  if (slot == Slot::Bias) {  // what the trained model's bias quantizer does (read only)
    m_biasTrained = new QLabel(group);
    m_biasTrained->setObjectName(QStringLiteral("bias_trained"));
    m_biasTrained->setWordWrap(true);
    m_biasTrained->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(tr("trained"), m_biasTrained);
  }
  m_content->layout()->addWidget(group);
}

// ------------------------------------------------------------------ values

void LayerInspector::refreshValues() {
  const std::vector<const LayerSpec*> ls = layers();
  if (structureOf(ls) != m_structure) {
    rebuild();
    return;
  }
  // Each field shows the values of the selected layers that have it: the common value,
  // or "mixed" when they differ (applied to all only once the user types or chooses).
  for (auto it = m_editors.begin(); it != m_editors.end(); ++it) {
    const QString field = it.key();
    QWidget* w = it.value();
    const QSignalBlocker block(w);
    if (field == QLatin1String("id")) {
      static_cast<QLineEdit*>(w)->setText(QString::fromStdString(ls[0]->id));
    } else if (field == QLatin1String("return_quant_tensor")) {
      std::vector<bool> values;
      for (const LayerSpec* l : ls)
        if (isQuantType(l->type)) values.push_back(l->return_quant_tensor);
      showValues(static_cast<QCheckBox*>(w), values);
    } else if (field.contains(QLatin1Char('.'))) {
      const QString slotText = field.section(QLatin1Char('.'), 0, 0), sub = field.section(QLatin1Char('.'), 1);
      const Slot slot = quantSlotFromField(slotText);
      std::vector<QuantSpec> qs;  // the layers' effective quantizers (none: float)
      std::vector<QVariant> presetValues;
      for (const LayerSpec* l : ls) {
        if (!editsQuantSlot(*l, slot)) continue;
        const std::optional<QuantSpec> q = effectiveQuant(*l, slot);
        presetValues.push_back(q ? QString::fromStdString(q->preset) : QString());
        if (q) qs.push_back(*q);
      }
      w->setEnabled(!qs.empty() || (sub == QLatin1String("preset") && !presetValues.empty()));
      auto each = [&](auto get) {
        std::vector<decltype(get(qs.front()))> out;
        for (const QuantSpec& q : qs) out.push_back(get(q));
        return out;
      };
      if (sub == QLatin1String("preset")) showValues(static_cast<QComboBox*>(w), presetValues);
      if (qs.empty()) continue;
      if (sub == QLatin1String("bit_width"))
        showValues(static_cast<QSpinBox*>(w), each([](const QuantSpec& q) { return q.bit_width; }));
      if (auto* box = qobject_cast<QCheckBox*>(w))  // signed, narrow_range, per_channel
        showValues(box, each([&sub](const QuantSpec& q) {
          return sub == QLatin1String("signed") ? q.is_signed : sub == QLatin1String("narrow_range") ? q.narrow_range : q.per_channel;
        }));
      if (sub == QLatin1String("scaling"))
        showValues(static_cast<QComboBox*>(w), each([](const QuantSpec& q) { return QVariant(int(q.scaling)); }));
    } else {
      const std::string name = field.toStdString();
      std::vector<const LayerSpec*> with;
      for (const LayerSpec* l : ls)
        if (schemaOf(*l, name)) with.push_back(l);
      if (with.empty()) continue;
      if (w->property("qnnPair").toBool()) {
        const auto spins = w->findChildren<QSpinBox*>();
        for (int i = 0; i < 2 && i < spins.size(); ++i) {
          std::vector<int> axis;
          for (const LayerSpec* l : with) axis.push_back(int(pair_value(*l, name)[size_t(i)]));
          const QSignalBlocker b(spins[i]);
          showValues(spins[i], axis);
        }
        if (auto* link = w->findChild<QToolButton*>()) {  // linked when every layer stores one number
          const QSignalBlocker b(link);
          link->setChecked(std::none_of(with.begin(), with.end(), [&](const LayerSpec* l) { return l->pairs.count(name) > 0; }));
        }
        continue;
      }
      std::vector<double> values;
      for (const LayerSpec* l : with) values.push_back(param_value(*l, name));
      mixed::showNumbers(w, values);
    }
  }
  updateBiasTrained();
}

void LayerInspector::setBiasSummaries(const QHash<QString, QString>& summaries, const QStringList& clipped) {
  m_biasSummaries = summaries;
  m_biasClipped = clipped;
  updateBiasTrained();
}

void LayerInspector::updateBiasTrained() {
  if (!m_biasTrained) return;
  const std::vector<const LayerSpec*> ls = layers();
  QString text;
  if (ls.size() != 1) {
    text = tr("select one layer to see its trained bias codes");
  } else if (!layer_has_bias(*ls[0])) {
    text = tr("no bias");
  } else if (!effective_bias_quant(*ls[0])) {
    text = tr("float bias: not quantized");
  } else {
    text = m_biasSummaries.value(QString::fromStdString(ls[0]->id));
    if (text.isEmpty()) text = tr("no trained model of this network: train (F5) to see the scale, codes and clipped share");
  }
  m_biasTrained->setText(text);
  // Saturated codes are the thing to notice: red, as on the node.
  const bool clipped = ls.size() == 1 && m_biasClipped.contains(QString::fromStdString(ls[0]->id));
  m_biasTrained->setStyleSheet(clipped ? QStringLiteral("color: #b41e1e;") : QString());
}

void LayerInspector::showError(const QString& field, const QString& message) {
  if (QLabel* l = m_errors.value(field)) {
    l->setText(message);
    l->setVisible(!message.isEmpty());
  }
}

bool LayerInspector::apply(const QString& field, const Has& has, const Mutator& mutate) {
  if (!m_document || m_applying) return false;
  std::vector<std::string> oldIds;
  std::vector<LayerSpec> after;
  for (const LayerSpec* l : layers()) {
    if (!has(*l)) continue;
    LayerSpec next = *l;
    try {
      mutate(next);
    } catch (const Error& e) {
      showError(field, QString::fromStdString(e.what()));
      return false;
    }
    oldIds.push_back(l->id);
    after.push_back(std::move(next));
  }
  if (after.empty()) return false;

  // Immediate validation with the core's own checks.
  if (field.contains(QLatin1Char('.'))) {
    const Slot slot = quantSlotFromField(field.section(QLatin1Char('.'), 0, 0));
    for (LayerSpec& l : after) {
      const std::optional<QuantSpec>& q = quantOf(l, slot);
      try {
        if (q) q->validate(l.id + "." + slot_key(slot));
      } catch (const Error& e) {
        showError(field, QString::fromStdString(e.what()));
        return false;
      }
    }
  } else {
    Project trial = m_document->project();
    for (size_t i = 0; i < oldIds.size(); ++i)
      for (LayerSpec& l : trial.layers)
        if (l.id == oldIds[i]) l = after[i];
    const ValidationResult before = m_document->validation();
    const ValidationResult result = validate(trial);
    const std::string needle = field == QLatin1String("id") ? "layer id" : field.toStdString();
    for (const Diagnostic& d : result.diagnostics) {
      if (d.severity != Diagnostic::Severity::Error || d.message.find(needle) == std::string::npos) continue;
      if (std::none_of(after.begin(), after.end(), [&](const LayerSpec& l) { return l.id == d.node; })) continue;
      const bool old = std::any_of(before.diagnostics.begin(), before.diagnostics.end(),
                                   [&](const Diagnostic& b) { return b.node == d.node && b.message == d.message; });
      if (old) continue;
      showError(field, QString::fromStdString(d.message));
      return false;
    }
  }
  showError(field, QString());
  m_applying = true;
  const bool ok = m_document->changeLayers(oldIds, after, field, m_session);
  m_applying = false;
  refreshValues();  // dependent editors (e.g. the bias group after the bias box)
  return ok;
}

}  // namespace qnn

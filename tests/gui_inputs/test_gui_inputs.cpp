// SPDX-License-Identifier: GPL-3.0-or-later
// No silent edits (issue 14, item 2): the mouse wheel changes a spin box / combo box
// only while it has focus (else the form around it scrolls), in the layer inspector
// and the Training / Dataset settings; with several layers selected a field whose
// values differ shows "mixed" and applies nothing until the user types or chooses.
// Torch and core headers come before any Qt header (Qt's `slots` vs LibTorch).
#include <torch/torch.h>

#include "core/graph/project.h"

#include <QAbstractItemView>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLineEdit>
#include <QScrollArea>
#include <QScrollBar>
#include <QSpinBox>
#include <QUndoStack>
#include <QVBoxLayout>
#include <QWheelEvent>
#include <QSpontaneKeyEvent>
#include <QtTest>

#include "widgets/document/project_document.h"
#include "widgets/input/file_names.h"
#include "widgets/inspector/layer_inspector.h"
#include "widgets/training/dataset_settings_panel.h"
#include "widgets/training/training_settings_panel.h"

using namespace qnn;

namespace {

QString examplePath(const char* name) {
  return QStringLiteral(QNN_SOURCE_DIR "/resources/examples/") + QLatin1String(name);
}

template <typename T>
T* mustFind(QObject* root, const QString& name) {
  T* child = root->findChild<T*>(name);
  if (!child) qFatal("no child named %s", qPrintable(name));
  return child;
}

/// `notches` wheel notches (120 eighths of a degree each; negative: towards the user)
/// over the middle of `w`, as from the mouse: a spontaneous event, so QApplication
/// first gives focus to a widget with Qt::WheelFocus, then delivers it to `w` and on to
/// its parents while they ignore it. Returns whether some widget accepted it.
bool wheel(QWidget* w, int notches = 1) {
  const QPointF pos(w->width() / 2.0, w->height() / 2.0);
  QWheelEvent e(pos, w->mapToGlobal(pos), QPoint(), QPoint(0, 120 * notches), Qt::NoButton, Qt::NoModifier,
                Qt::NoScrollPhase, false);
  // As QTest delivers key events: sendEvent() would make it synthesized (Qt then
  // delivers it to `w` only, without focus or propagation).
  QSpontaneKeyEvent::setSpontaneous(&e);
  qApp->notify(w, &e);
  return e.isAccepted();
}

/// A shown, active window with the inspector of a document holding `example`.
struct Inspector {
  QWidget window;
  QLineEdit* elsewhere = nullptr;  ///< a field outside the inspector, to move the focus to
  ProjectDocument doc;
  LayerInspector* inspector = nullptr;
  explicit Inspector(const char* example, QSize size = QSize(420, 1400)) {
    doc.load(examplePath(example));
    auto* layout = new QVBoxLayout(&window);
    elsewhere = new QLineEdit(&window);
    inspector = new LayerInspector(&doc, &window);
    layout->addWidget(elsewhere);
    layout->addWidget(inspector, 1);
    window.resize(size);
    window.show();
    window.activateWindow();
  }
  bool ready() { return QTest::qWaitForWindowActive(&window); }
  QUndoStack* stack() { return doc.undoStack(); }
  double param(const char* id, const char* name) { return doc.layer(QLatin1String(id))->params.at(name); }
  template <typename T>
  T* field(const QString& name) { return mustFind<T>(inspector, name); }
};

/// Focus by the keyboard (Tab), as a user entering the field.
void focus(QWidget* w) {
  w->setFocus(Qt::TabFocusReason);
  QCoreApplication::processEvents();
}

}  // namespace

class TestGuiInputs : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void inspectorSpinBoxWheelNeedsFocus();
  void inspectorComboBoxWheelNeedsFocus();
  void inspectorScrollsOverUnfocusedField();
  void editorsDoNotTakeFocusFromTheWheel();
  void trainingSettingsWheelNeedsFocus();
  void savedNamesGetTheirExtension();
  void datasetSettingsWheelNeedsFocus();
  void mixedNumberAppliesOnlyWhenTyped();
  void mixedNumberDoesNotStep();
  void mixedBooleansArePartiallyChecked();
  void mixedComboAppliesOnlyWhenChosen();
  void mixedComboDoesNotStep();
  void synthesizedWheelIsNotPassedOn();
};

// The report: a wheel turn over the inspector changed out_features. Unfocused:
// nothing changes; focused: the field steps, one undo step.
void TestGuiInputs::inspectorSpinBoxWheelNeedsFocus() {
  Inspector t("lenet_lowprec.qnn.json");
  QVERIFY(t.ready());
  t.inspector->setSelection({QStringLiteral("fc1")});
  auto* out = t.field<QSpinBox>(QStringLiteral("param_out_features"));
  QCOMPARE(out->value(), 120);
  focus(t.elsewhere);
  QVERIFY(!out->hasFocus());
  wheel(out);
  wheel(out, -3);
  QCOMPARE(out->value(), 120);
  QCOMPARE(t.param("fc1", "out_features"), 120.0);
  QCOMPARE(t.stack()->count(), 0);

  focus(out);
  QVERIFY(out->hasFocus());
  wheel(out);
  QCOMPARE(out->value(), 121);
  QCOMPARE(t.param("fc1", "out_features"), 121.0);
  QCOMPARE(t.stack()->count(), 1);
}

void TestGuiInputs::inspectorComboBoxWheelNeedsFocus() {
  Inspector t("lenet_lowprec.qnn.json");
  QVERIFY(t.ready());
  t.inspector->setSelection({QStringLiteral("conv1")});
  auto* scaling = t.field<QComboBox>(QStringLiteral("weight_scaling"));
  auto* preset = t.field<QComboBox>(QStringLiteral("weight_preset"));
  const Project original = t.doc.project();
  const int scalingIndex = scaling->currentIndex(), presetIndex = preset->currentIndex();
  focus(t.elsewhere);
  wheel(scaling, scalingIndex == 0 ? -1 : 1);  // -1 (towards the user): the next entry
  wheel(preset, presetIndex == 0 ? -1 : 1);
  QCOMPARE(scaling->currentIndex(), scalingIndex);
  QCOMPARE(preset->currentIndex(), presetIndex);
  QCOMPARE(t.stack()->count(), 0);
  QCOMPARE(t.doc.project(), original);

  focus(preset);
  wheel(preset, presetIndex == 0 ? -1 : 1);  // -1 (towards the user): the next entry
  QVERIFY(preset->currentIndex() != presetIndex);
  QCOMPARE(t.stack()->count(), 1);
  QCOMPARE(QString::fromStdString(t.doc.layer(QStringLiteral("conv1"))->weight_quant->preset), preset->currentText());
}

// The wheel over an unfocused field scrolls the inspector's form instead.
void TestGuiInputs::inspectorScrollsOverUnfocusedField() {
  Inspector t("lenet_lowprec.qnn.json", QSize(360, 260));
  QVERIFY(t.ready());
  t.inspector->setSelection({QStringLiteral("conv1")});
  QCoreApplication::processEvents();
  auto* scroll = mustFind<QScrollArea>(t.inspector, QString()) ;
  QScrollBar* bar = scroll->verticalScrollBar();
  QTRY_VERIFY2(bar->maximum() > 0, "the form must be taller than the inspector");
  auto* out = t.field<QSpinBox>(QStringLiteral("param_out_channels"));
  QVERIFY(!out->visibleRegion().isEmpty());
  focus(t.elsewhere);
  QCOMPARE(bar->value(), 0);
  QVERIFY(wheel(out, -1));  // accepted by the scroll area
  QVERIFY2(bar->value() > 0, "the form did not scroll");
  QCOMPARE(out->value(), 6);
  QCOMPARE(t.stack()->count(), 0);
}

// Qt gives a wheel-focus widget the focus on a wheel turn, and then it would change:
// every spin box and combo box takes focus by click and Tab only.
void TestGuiInputs::editorsDoNotTakeFocusFromTheWheel() {
  Inspector t("lenet_lowprec.qnn.json");
  QVERIFY(t.ready());
  t.inspector->setSelection({QStringLiteral("conv1"), QStringLiteral("relu1")});
  QCoreApplication::processEvents();
  const auto spins = t.inspector->findChildren<QAbstractSpinBox*>();
  const auto combos = t.inspector->findChildren<QComboBox*>();
  QVERIFY(spins.size() >= 5);
  QVERIFY(combos.size() >= 4);
  for (QWidget* w : spins) QVERIFY2(w->focusPolicy() == Qt::StrongFocus, qPrintable(w->objectName()));
  for (QWidget* w : combos) QVERIFY2(w->focusPolicy() == Qt::StrongFocus, qPrintable(w->objectName()));
  TrainingSettingsPanel training;
  DatasetSettingsPanel dataset;
  training.show();
  dataset.show();
  QCOMPARE(training.epochsSpinBox()->focusPolicy(), Qt::StrongFocus);
  QCOMPARE(dataset.nameComboBox()->focusPolicy(), Qt::StrongFocus);
}

void TestGuiInputs::trainingSettingsWheelNeedsFocus() {
  QWidget window;
  auto* layout = new QVBoxLayout(&window);
  auto* elsewhere = new QLineEdit(&window);
  auto* panel = new TrainingSettingsPanel(&window);
  layout->addWidget(elsewhere);
  layout->addWidget(panel);
  TrainingSpec spec;
  spec.epochs = 5;
  spec.batch_size = 64;
  panel->setSpec(spec, DatasetSpec{});
  window.show();
  window.activateWindow();
  QVERIFY(QTest::qWaitForWindowActive(&window));
  QStringList edited;  // the fields of specEdited
  int editedEpochs = 0;
  QObject::connect(panel, &TrainingSettingsPanel::specEdited, panel, [&](const TrainingSpec& s, const QString& field) {
    edited << field;
    editedEpochs = int(s.epochs);
  });
  focus(elsewhere);
  for (QAbstractSpinBox* s : std::initializer_list<QAbstractSpinBox*>{panel->epochsSpinBox(), panel->batchSizeSpinBox(),
                                                                      panel->learningRateSpinBox()})
    wheel(s);
  QCOMPARE(panel->epochsSpinBox()->value(), 5);
  QCOMPARE(panel->batchSizeSpinBox()->value(), 64);
  QCOMPARE(panel->options().spec.epochs, 5);
  QCOMPARE(edited.count(), 0);

  focus(panel->epochsSpinBox());
  wheel(panel->epochsSpinBox());
  QCOMPARE(panel->epochsSpinBox()->value(), 6);
  QCOMPARE(edited, QStringList{QStringLiteral("epochs")});
  QCOMPARE(editedEpochs, 6);
}

void TestGuiInputs::datasetSettingsWheelNeedsFocus() {
  QWidget window;
  auto* layout = new QVBoxLayout(&window);
  auto* elsewhere = new QLineEdit(&window);
  auto* panel = new DatasetSettingsPanel(&window);
  layout->addWidget(elsewhere);
  layout->addWidget(panel);
  panel->setSpec(DatasetSpec{});
  window.show();
  window.activateWindow();
  QVERIFY(QTest::qWaitForWindowActive(&window));
  int edited = 0;
  QObject::connect(panel, &DatasetSettingsPanel::specEdited, panel, [&] { ++edited; });
  QComboBox* name = panel->nameComboBox();
  const int index = name->currentIndex();
  focus(elsewhere);
  wheel(name, index == 0 ? -1 : 1);
  QCOMPARE(name->currentIndex(), index);
  QCOMPARE(edited, 0);

  focus(name);
  wheel(name, index == 0 ? -1 : 1);
  QVERIFY(name->currentIndex() != index);
  QCOMPARE(edited, 1);
}

// fc1, fc2, fc3 (out_features 120, 84, 10): "mixed"; entering, leaving, Enter and
// committing change nothing; typing 64 + Enter sets all three in one undo step.
void TestGuiInputs::mixedNumberAppliesOnlyWhenTyped() {
  Inspector t("lenet_lowprec.qnn.json");
  QVERIFY(t.ready());
  const Project original = t.doc.project();
  t.inspector->setSelection({QStringLiteral("fc1"), QStringLiteral("fc2"), QStringLiteral("fc3")});
  auto* out = t.field<QSpinBox>(QStringLiteral("param_out_features"));
  auto* bits = t.field<QSpinBox>(QStringLiteral("weight_bit_width"));
  QCOMPARE(out->text(), QStringLiteral("mixed"));
  QCOMPARE(bits->text(), QStringLiteral("3"));  // equal values: the value
  QCOMPARE(t.field<QSpinBox>(QStringLiteral("param_in_features"))->text(), QStringLiteral("mixed"));

  QTest::mouseClick(out, Qt::LeftButton, {}, QPoint(10, out->height() / 2));
  QVERIFY(out->hasFocus());
  focus(t.elsewhere);  // leave without typing
  focus(out);
  QTest::keyClick(out, Qt::Key_Return);  // Enter without typing
  t.inspector->commitPendingEdit();      // as before saving
  focus(bits);
  QTest::keyClick(bits, Qt::Key_Return);
  focus(t.elsewhere);
  QCOMPARE(t.stack()->count(), 0);
  QCOMPARE(t.doc.project(), original);
  QCOMPARE(out->text(), QStringLiteral("mixed"));

  // A click into "mixed" selects it: typing replaces it.
  QTest::mouseClick(out, Qt::LeftButton, {}, QPoint(10, out->height() / 2));
  QCoreApplication::processEvents();
  QTest::keyClicks(out, QStringLiteral("64"));
  QTest::keyClick(out, Qt::Key_Return);
  for (const char* id : {"fc1", "fc2", "fc3"}) QCOMPARE(t.param(id, "out_features"), 64.0);
  QCOMPARE(t.stack()->count(), 1);
  QCOMPARE(out->text(), QStringLiteral("64"));
  t.stack()->undo();
  QCOMPARE(t.doc.project(), original);
  QCOMPARE(out->text(), QStringLiteral("mixed"));
}

// A focused "mixed" field: Up/Down/PageUp/PageDown and the wheel would step from the
// hidden sentinel to the field's minimum and set it on every layer; they do nothing.
// Once a value is typed the field steps as usual.
void TestGuiInputs::mixedNumberDoesNotStep() {
  Inspector t("lenet_lowprec.qnn.json");
  QVERIFY(t.ready());
  const Project original = t.doc.project();
  t.inspector->setSelection({QStringLiteral("fc1"), QStringLiteral("fc2"), QStringLiteral("fc3")});
  auto* out = t.field<QSpinBox>(QStringLiteral("param_out_features"));
  QTest::mouseClick(out, Qt::LeftButton, {}, QPoint(10, out->height() / 2));
  QVERIFY(out->hasFocus());
  for (Qt::Key key : {Qt::Key_Up, Qt::Key_Down, Qt::Key_PageUp, Qt::Key_PageDown}) QTest::keyClick(out, key);
  wheel(out, 1);
  wheel(out, -1);
  QTest::keyClick(out, Qt::Key_Return);
  focus(t.elsewhere);
  QCOMPARE(t.stack()->count(), 0);
  QCOMPARE(t.doc.project(), original);
  QCOMPARE(out->text(), QStringLiteral("mixed"));

  focus(out);
  out->selectAll();
  QTest::keyClicks(out, QStringLiteral("50"));
  QTest::keyClick(out, Qt::Key_Up);
  QTest::keyClick(out, Qt::Key_Return);
  focus(t.elsewhere);
  for (const char* id : {"fc1", "fc2", "fc3"}) QCOMPARE(t.param(id, "out_features"), 51.0);
}

// bias (fc1, fc2 on; fc3 off) and return_quant_tensor: partially checked; a click sets
// every layer (one undo step) and the box is an ordinary two-state box again.
void TestGuiInputs::mixedBooleansArePartiallyChecked() {
  Inspector t("lenet_lowprec.qnn.json");
  QVERIFY(t.ready());
  const Project original = t.doc.project();
  t.inspector->setSelection({QStringLiteral("fc1"), QStringLiteral("fc2"), QStringLiteral("fc3")});
  auto* bias = t.field<QCheckBox>(QStringLiteral("param_bias"));
  auto* rqt = t.field<QCheckBox>(QStringLiteral("returnQuantTensor"));
  auto* sign = t.field<QCheckBox>(QStringLiteral("weight_signed"));
  QCOMPARE(bias->checkState(), Qt::PartiallyChecked);
  QCOMPARE(rqt->checkState(), Qt::PartiallyChecked);
  QCOMPARE(sign->checkState(), Qt::Checked);  // equal values: the value
  QVERIFY(!sign->isTristate());
  focus(bias);
  focus(rqt);
  focus(t.elsewhere);
  QCOMPARE(t.stack()->count(), 0);
  QCOMPARE(t.doc.project(), original);

  QTest::mouseClick(bias, Qt::LeftButton, {}, QPoint(8, bias->height() / 2));
  for (const char* id : {"fc1", "fc2", "fc3"}) QCOMPARE(t.param(id, "bias"), 1.0);
  QCOMPARE(t.stack()->count(), 1);
  QCOMPARE(bias->checkState(), Qt::Checked);
  QVERIFY(!bias->isTristate());
  QTest::mouseClick(rqt, Qt::LeftButton, {}, QPoint(8, rqt->height() / 2));
  for (const char* id : {"fc1", "fc2", "fc3"}) QVERIFY(t.doc.layer(QLatin1String(id))->return_quant_tensor);
  QCOMPARE(t.stack()->count(), 2);
  t.stack()->undo();
  t.stack()->undo();
  QCOMPARE(t.doc.project(), original);
  QCOMPARE(bias->checkState(), Qt::PartiallyChecked);
}

// quant_inp (Int8ActPerTensorFloat) and relu1 (Uint8ActPerTensorFloat): the act preset
// shows "mixed" (no entry); only choosing an entry applies it, to both.
void TestGuiInputs::mixedComboAppliesOnlyWhenChosen() {
  Inspector t("lenet_lowprec.qnn.json");
  QVERIFY(t.ready());
  const Project original = t.doc.project();
  t.inspector->setSelection({QStringLiteral("quant_inp"), QStringLiteral("relu1")});
  auto* preset = t.field<QComboBox>(QStringLiteral("act_preset"));
  QCOMPARE(preset->currentIndex(), -1);
  QCOMPARE(preset->placeholderText(), QStringLiteral("mixed"));
  QCOMPARE(t.field<QSpinBox>(QStringLiteral("act_bit_width"))->text(), QStringLiteral("4"));
  focus(preset);
  focus(t.elsewhere);
  t.inspector->commitPendingEdit();
  QCOMPARE(t.stack()->count(), 0);
  QCOMPARE(t.doc.project(), original);

  const int uint8 = preset->findText(QStringLiteral("Uint8ActPerTensorFloat"));
  QVERIFY(uint8 >= 0);
  focus(preset);
  QTest::keyClicks(preset, QStringLiteral("Uint8Act"));  // keyboard search chooses the entry
  QCOMPARE(preset->currentIndex(), uint8);
  for (const char* id : {"quant_inp", "relu1"})
    QCOMPARE(t.doc.layer(QLatin1String(id))->act_quant->preset, std::string("Uint8ActPerTensorFloat"));
  QCOMPARE(t.stack()->count(), 1);
  t.stack()->undo();
  QCOMPARE(t.doc.project(), original);
  QCOMPARE(preset->currentIndex(), -1);
}

// A focused "mixed" combo box (no entry): the wheel and Up / Down / PageUp / PageDown /
// Home / End would choose the first (or last) entry and set it on every selected layer;
// they do nothing. Choosing from the popup still applies, to both layers.
void TestGuiInputs::mixedComboDoesNotStep() {
  Inspector t("lenet_lowprec.qnn.json");
  QVERIFY(t.ready());
  const Project original = t.doc.project();
  t.inspector->setSelection({QStringLiteral("quant_inp"), QStringLiteral("relu1")});
  auto* preset = t.field<QComboBox>(QStringLiteral("act_preset"));
  QCOMPARE(preset->currentIndex(), -1);
  focus(preset);
  QVERIFY(preset->hasFocus());
  wheel(preset, -1);  // towards the user: the next entry, from "none" the first
  wheel(preset, 1);
  for (Qt::Key key : {Qt::Key_Down, Qt::Key_Up, Qt::Key_PageDown, Qt::Key_PageUp, Qt::Key_Home, Qt::Key_End}) {
    QTest::keyClick(preset, key);
    QVERIFY2(preset->currentIndex() == -1, qPrintable(QStringLiteral("key %1: entry %2").arg(key).arg(preset->currentIndex())));
  }
  focus(t.elsewhere);
  QCOMPARE(preset->currentIndex(), -1);
  QCOMPARE(preset->currentText(), QString());
  QCOMPARE(t.stack()->count(), 0);
  QCOMPARE(t.doc.project(), original);

  // The popup: a click on an entry chooses it.
  const int uint8 = preset->findText(QStringLiteral("Uint8ActPerTensorFloat"));
  QVERIFY(uint8 >= 0);
  focus(preset);
  preset->showPopup();
  QAbstractItemView* list = preset->view();
  QTRY_VERIFY(list->isVisible());
  const QRect item = list->visualRect(list->model()->index(uint8, 0));
  QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, item.center());
  QTRY_VERIFY(!list->isVisible());
  QCOMPARE(preset->currentIndex(), uint8);
  for (const char* id : {"quant_inp", "relu1"})
    QCOMPARE(t.doc.layer(QLatin1String(id))->act_quant->preset, std::string("Uint8ActPerTensorFloat"));
  QCOMPARE(t.stack()->count(), 1);
  // A value now: the keys step it as usual, on both layers.
  QTest::keyClick(preset, uint8 == 0 ? Qt::Key_Down : Qt::Key_Up);
  QVERIFY(preset->currentIndex() != uint8);
  for (const char* id : {"quant_inp", "relu1"})
    QCOMPARE(QString::fromStdString(t.doc.layer(QLatin1String(id))->act_quant->preset), preset->currentText());
}

// wheel_guard.h: a wheel event sent by code to an unfocused editor stops there; Qt
// passes only the window system's wheel events on to the parents: the form does not
// scroll, the event comes back ignored.
void TestGuiInputs::synthesizedWheelIsNotPassedOn() {
  Inspector t("lenet_lowprec.qnn.json", QSize(360, 260));
  QVERIFY(t.ready());
  t.inspector->setSelection({QStringLiteral("conv1")});
  QCoreApplication::processEvents();
  QScrollBar* bar = mustFind<QScrollArea>(t.inspector, QString())->verticalScrollBar();
  QTRY_VERIFY(bar->maximum() > 0);
  auto* out = t.field<QSpinBox>(QStringLiteral("param_out_channels"));
  focus(t.elsewhere);
  const QPointF pos(out->width() / 2.0, out->height() / 2.0);
  QWheelEvent e(pos, out->mapToGlobal(pos), QPoint(), QPoint(0, -120), Qt::NoButton, Qt::NoModifier,
                Qt::NoScrollPhase, false);
  QVERIFY(!e.spontaneous());
  QCoreApplication::sendEvent(out, &e);
  QVERIFY(!e.isAccepted());
  QCOMPARE(bar->value(), 0);
  QCOMPARE(out->value(), 6);
  QCOMPARE(t.stack()->count(), 0);
}

void TestGuiInputs::savedNamesGetTheirExtension() {
  const QString pt = QStringLiteral(".pt");
  QCOMPARE(withDefaultSuffix(QStringLiteral("/tmp/lenet_w2"), pt), QStringLiteral("/tmp/lenet_w2.pt"));
  QCOMPARE(withDefaultSuffix(QStringLiteral("/tmp/lenet.w2/model"), pt), QStringLiteral("/tmp/lenet.w2/model.pt"));
  QCOMPARE(withDefaultSuffix(QStringLiteral("/tmp/.model"), pt), QStringLiteral("/tmp/.model.pt"));
  QCOMPARE(withDefaultSuffix(QStringLiteral("/tmp/model.pth"), pt), QStringLiteral("/tmp/model.pth"));  // chosen: kept
  QCOMPARE(withDefaultSuffix(QStringLiteral("lenet"), QStringLiteral(".qnn.json")), QStringLiteral("lenet.qnn.json"));
  QCOMPARE(withDefaultSuffix(QString(), pt), QString());  // a cancelled dialog stays cancelled
}

QTEST_MAIN(TestGuiInputs)
#include "test_gui_inputs.moc"

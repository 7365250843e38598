// SPDX-License-Identifier: GPL-3.0-or-later
// AnalysisActions, part 2: the mixed-precision Pareto front (computed off the GUI
// thread), the budget's suggestion, Apply (one undo step) and Fine-tune.
#include "app/gui/analysis_actions.h"

#include <algorithm>
#include <cmath>
#include <new>

#include "core/analysis/analysis.h"
#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/graph/model.h"

#include <QFutureWatcher>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QtConcurrent/QtConcurrentRun>

#include "widgets/analysis/analysis_format.h"
#include "widgets/analysis/analysis_panel.h"
#include "widgets/analysis/pareto_view.h"
#include "widgets/document/project_document.h"
#include "widgets/training/training_controller.h"

namespace qnn {

// ------------------------------------------------------------------ Pareto front

void AnalysisActions::computeFront(analysis::CostAxis axis) {
  const Project& p = m_document->project();
  if (!p.sweep) return;
  const SweepRecord record = *p.sweep;
  const Project project = p;
  const quint64 generation = ++m_frontGeneration;
  struct Result {
    ParetoFrontPtr front;
    QString error;
  };
  // Off the GUI thread: an exhaustive front prices up to 200000 configurations.
  auto* watcher = new QFutureWatcher<Result>(this);
  connect(watcher, &QFutureWatcher<Result>::finished, this, [this, watcher, axis, generation] {
    const Result r = watcher->result();
    watcher->deleteLater();
    onFrontReady(r.front, axis, r.error, generation);
  });
  watcher->setFuture(QtConcurrent::run([record, project, axis]() -> Result {
    try {
      return {std::make_shared<const std::vector<analysis::MixedConfig>>(analysis::pareto_front(record, project, axis)),
              QString()};
    } catch (const std::bad_alloc&) {
      return {nullptr, tr("out of memory while pricing the configurations")};
    } catch (const c10::Error& e) {  // its first line, without LibTorch's backtrace
      const std::string text = e.what_without_backtrace();
      return {nullptr, tr("pricing the configurations: %1").arg(QString::fromStdString(text.substr(0, text.find('\n'))))};
    } catch (const Error& e) {  // the core's message, written for the user
      return {nullptr, QString::fromStdString(e.what())};
    } catch (const std::exception& e) {
      const std::string text = e.what();
      return {nullptr, tr("pricing the configurations: %1").arg(QString::fromStdString(text.substr(0, text.find('\n'))))};
    }
  }));
}

void AnalysisActions::onFrontReady(const ParetoFrontPtr& front, analysis::CostAxis axis, const QString& error,
                                   quint64 generation) {
  if (generation != m_frontGeneration || m_liveActive || !m_document->project().sweep) return;
  if (!front) {
    m_panel->selectionLabel()->setText(tr("No Pareto front: %1").arg(error));
    updateActions(m_training->isRunning());
    return;
  }
  m_front = front;
  m_axis = axis;
  m_panel->pareto()->setFront(*m_document->project().sweep, *front, axis);
  for (size_t i = 0; i < front->size(); ++i) {
    auto it = m_measured.find((*front)[i].bits);
    if (it != m_measured.end()) m_panel->pareto()->setMeasured(int(i), it->second);
  }
  const int applied = appliedIndex();
  if (applied >= 0) m_panel->pareto()->setSelected(applied);
  onPointSelected(m_panel->pareto()->selectedIndex());
  updateActions(m_training->isRunning());
}

int AnalysisActions::appliedIndex() const {
  const Project& p = m_document->project();
  if (!m_front || !p.sweep) return -1;
  for (size_t i = 0; i < m_front->size(); ++i) {
    try {
      if (analysis::apply_config(p, *p.sweep, (*m_front)[i]).layers == p.layers) return int(i);
    } catch (const std::exception&) {
      return -1;
    }
  }
  return -1;
}

void AnalysisActions::onPointSelected(int index) {
  ParetoView* view = m_panel->pareto();
  if (!m_front || index < 0 || index >= int(m_front->size())) {
    m_panel->selectionLabel()->setText(m_front ? tr("%n configuration(s) on the front: click a point, or set a "
                                                    "budget and press Suggest.", "", int(m_front->size()))
                                               : tr("Click a point of the front, or set a budget and press Suggest."));
    updateActions(m_training->isRunning());
    return;
  }
  if (view->selectedIndex() != index) view->setSelected(index);
  const bool applied = appliedIndex() == index;
  m_panel->selectionLabel()->setText(view->describe(index) + (applied ? tr("  (applied)") : QString()));
  updateActions(m_training->isRunning());
}

void AnalysisActions::setMeasured(const std::vector<int>& bits, double accuracy) {
  m_measured[bits] = accuracy;
  if (!m_front) return;
  for (size_t i = 0; i < m_front->size(); ++i)
    if ((*m_front)[i].bits == bits) m_panel->pareto()->setMeasured(int(i), accuracy);
}

void AnalysisActions::suggestMixedPrecision() {
  raise(AnalysisPanel::ParetoTab);
  const Project& p = m_document->project();
  if (!p.sweep) {
    if (m_hooks.error)
      m_hooks.error(tr("No sweep yet"), tr("The Pareto front is predicted from a sensitivity sweep: run Analysis > "
                                           "Sensitivity Sweep… (F8) first."));
    return;
  }
  if (!m_front) {
    const SweepRecord& r = *p.sweep;
    const size_t expected = r.slots.size() * size_t(std::max(0, r.max_bits - r.min_bits + 1));
    if (!r.complete || r.points.size() < expected) {
      if (m_hooks.error)
        m_hooks.error(tr("No Pareto front"),
                      tr("The Pareto front needs a complete sweep (%1 of %2 points done): run it to the end "
                         "(Analysis > Sensitivity Sweep…, F8).")
                          .arg(r.points.size())
                          .arg(expected));
      return;
    }
    // Why there is none, in the core's words (a stale record).
    try {
      analysis::pareto_front(*p.sweep, p, m_panel->pareto()->costAxis());
      computeFront(m_panel->pareto()->costAxis());  // being computed
    } catch (const std::exception& e) {
      if (m_hooks.error) m_hooks.error(tr("No Pareto front"), QString::fromStdString(e.what()));
    }
    return;
  }
  const bool hasBudget = m_panel->maxBytes() > 0 || m_panel->maxBitOps() > 0 || !std::isnan(m_panel->maxDrop());
  if (hasBudget) {
    suggestFromBudget();
    return;
  }
  m_panel->maxDropBox()->setFocus();
  if (m_hooks.status)
    m_hooks.status(tr("Pareto front: %n configuration(s). Set a budget and press Suggest, or click a point; then "
                      "Apply or Fine-tune.", "", int(m_front->size())),
                   QString());
}

void AnalysisActions::suggestFromBudget() {
  if (!m_front) return;
  analysis::Budget budget;
  budget.max_size_bytes = m_panel->maxBytes();
  budget.max_bitops = m_panel->maxBitOps();
  budget.max_drop = m_panel->maxDrop();
  if (m_document->project().sweep) budget.base_accuracy = m_document->project().sweep->base_accuracy;  // drop from the base
  try {
    const analysis::MixedConfig best = analysis::suggest(*m_front, budget);
    for (size_t i = 0; i < m_front->size(); ++i)
      if ((*m_front)[i].bits == best.bits) {
        onPointSelected(int(i));
        break;
      }
    QString text = tr("Suggested: %1").arg(m_panel->pareto()->describe(m_panel->pareto()->selectedIndex()));
    if (m_document->project().sweep) {
      QString w;
      try {
        w = analysis_format::nearChanceWarning(
            m_document->project().sweep->base_accuracy,
            int64_t(dataset_info(m_document->project()).class_names.size()));
      } catch (const std::exception&) {
      }
      if (!w.isEmpty()) text += QStringLiteral(" ") + w;
    }
    if (m_hooks.status) m_hooks.status(text, QString());
  } catch (const std::exception& e) {
    if (m_hooks.error) m_hooks.error(tr("No configuration fits the budget"), QString::fromStdString(e.what()));
  }
}

void AnalysisActions::confirmApply(int index, std::function<void()> then) {
  if (!m_training->hasModel()) {
    if (applyConfig(index) && then) then();
    return;
  }
  if (m_box) m_box->close();
  m_box = new QMessageBox(
      QMessageBox::Question, tr("Apply mixed precision"),
      tr("Applying sets these bit widths in the project:\n%1\n\nThe trained model was trained at the old bit widths "
         "and is discarded from the current network (Undo, Ctrl+Z, brings both back). Fine-tune trains the new bit "
         "widths from the current weights.")
          .arg(m_panel->pareto()->describe(index)),
      QMessageBox::Ok | QMessageBox::Cancel, m_window);
  m_box->setObjectName(QStringLiteral("applyConfirmBox"));
  m_box->button(QMessageBox::Ok)->setText(tr("Apply"));
  m_box->setAttribute(Qt::WA_DeleteOnClose);
  connect(m_box, &QMessageBox::accepted, this, [this, index, then] {
    if (applyConfig(index) && then) then();
  });
  m_box->open();
}

bool AnalysisActions::applyConfig(int index) {
  const Project& p = m_document->project();
  if (!m_front || !p.sweep || index < 0 || index >= int(m_front->size())) return false;
  try {
    const analysis::MixedConfig config = (*m_front)[size_t(index)];
    const Project after = analysis::apply_config(p, *p.sweep, config);
    std::shared_ptr<QuantModelImpl> before = m_training->model();
    if (before) m_fineTuneSource = before;  // the weights a fine-tune starts from
    const QString description = m_panel->pareto()->describe(index);
    if (!m_document->replaceLayers(after.layers, tr("Apply mixed precision"))) {
      if (m_hooks.status) m_hooks.status(tr("These bit widths are already the project's."), QString());
      return true;
    }
    m_panel->pareto()->setSelected(index);
    onPointSelected(index);
    if (m_hooks.status)
      m_hooks.status(tr("Applied %1.%2 Undo with Ctrl+Z.")
                         .arg(description, before ? tr(" The trained model no longer fits and was set aside; "
                                                       "Fine-tune recovers the accuracy.")
                                                  : QString()),
                     description);
    return true;
  } catch (const std::exception& e) {
    if (m_hooks.error) m_hooks.error(tr("Cannot apply"), QString::fromStdString(e.what()));
    return false;
  }
}

void AnalysisActions::applySelected() {
  const int index = m_panel->pareto()->selectedIndex();
  if (index < 0 || isRunning() || m_training->isRunning()) return;
  if (appliedIndex() == index) {
    if (m_hooks.status) m_hooks.status(tr("These bit widths are already the project's."), QString());
    return;
  }
  confirmApply(index, {});
}

void AnalysisActions::fineTuneSelected(int epochs) {
  const int index = m_panel->pareto()->selectedIndex();
  if (index < 0 || isRunning() || m_training->isRunning()) return;
  if (appliedIndex() == index) {
    startFineTune(index, epochs);
    return;
  }
  confirmApply(index, [this, index, epochs] { startFineTune(index, epochs); });
}

void AnalysisActions::startFineTune(int index, int epochs) {
  const Project& p = m_document->project();
  // From the current model of this network (a fine-tune continues), else from the model
  // trained before Apply: same network but for the bit widths.
  std::shared_ptr<QuantModelImpl> from = m_training->model();
  if (!from && m_fineTuneSource && network_fingerprint(m_fineTuneSource->project()) == network_fingerprint(p))
    from = m_fineTuneSource;
  if (!from) {
    if (m_hooks.error) m_hooks.error(tr("Cannot fine-tune"), noTrainedModelText());
    return;
  }
  m_fineTuneBits = (*m_front)[size_t(index)].bits;
  if (!m_hooks.fineTune || !m_hooks.fineTune(p, from, epochs)) {
    m_fineTuneBits.reset();
    return;
  }
  m_panel->measuredLabel()->setText(tr("Fine-tuning %n epoch(s) from the current weights…", "", epochs));
}

}  // namespace qnn

// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/deployment_target_menu.h"

#include <QAction>
#include <QActionGroup>

#include "core/graph/project.h"
#include "widgets/document/project_document.h"

namespace qnn {

QMenu* createDeploymentTargetMenu(ProjectDocument* document, QWidget* parent) {
  auto* menu = new QMenu(QObject::tr("Deployment &Target"), parent);
  menu->setObjectName(QStringLiteral("deploymentTargetMenu"));
  menu->setToolTipsVisible(true);
  auto* group = new QActionGroup(menu);
  group->setExclusive(true);
  struct Entry {
    DeploymentTarget target;
    const char* name;
    QString tip;
  };
  const Entry entries[] = {
      {DeploymentTarget::None, "deploymentTargetNoneAction", QObject::tr("No deployment rules")},
      {DeploymentTarget::OnnxRuntime, "deploymentTargetOnnxRuntimeAction",
       QObject::tr("ONNX Runtime (QCDQ export): no rules beyond validation")},
      {DeploymentTarget::Finn, "deploymentTargetFinnAction",
       QObject::tr("FINN: its dataflow rules show as warnings on the nodes, the average pools truncate with FLOOR, "
                   "and the QONNX export refuses a network that breaks a rule")},
  };
  for (const Entry& e : entries) {
    QAction* a = menu->addAction(ProjectDocument::deploymentTargetName(e.target));
    a->setObjectName(QLatin1String(e.name));
    a->setCheckable(true);
    a->setToolTip(e.tip);
    a->setStatusTip(e.tip);
    a->setData(int(e.target));
    group->addAction(a);
    QObject::connect(a, &QAction::triggered, menu, [document, target = e.target] {
      document->setDeploymentTarget(target);
    });
  }
  const auto sync = [document, group] {
    for (QAction* a : group->actions())
      a->setChecked(DeploymentTarget(a->data().toInt()) == document->project().deployment_target);
  };
  QObject::connect(document, &ProjectDocument::changed, menu, sync);
  QObject::connect(document, &ProjectDocument::projectReplaced, menu, sync);
  sync();
  return menu;
}

}  // namespace qnn

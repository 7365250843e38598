// SPDX-License-Identifier: GPL-3.0-or-later
// Where the bundled example projects (resources/examples/*.qnn.json) are found.
#pragma once

#include <QString>
#include <QStringList>

namespace qnn {

/// The example project the GUI opens when given none.
inline constexpr const char* kDefaultExampleProject = "lenet_lowprec.qnn.json";

/// Folders that may hold the examples, most specific first: next to the executable
/// in a build tree (<build>/app -> ../../resources/examples), an installed
/// share/qnn-studio/examples, then the source tree the binary was built from.
QStringList exampleProjectDirs();
/// The first existing examples folder ("" when none).
QString exampleProjectDir();
/// Full path of the example `fileName`, or "" when not found.
QString findExampleProject(const QString& fileName = QString::fromLatin1(kDefaultExampleProject));
/// Every *.qnn.json in the examples folder, sorted.
QStringList exampleProjects();

}  // namespace qnn

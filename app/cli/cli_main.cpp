// SPDX-License-Identifier: GPL-3.0-or-later
// Entry point of `qnn`, the headless QNN Studio command line.
#include "app/cli/cli.h"

int main(int argc, char** argv) { return qnn::cli::run(argc, argv); }

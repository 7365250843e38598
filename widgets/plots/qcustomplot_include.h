// SPDX-License-Identifier: GPL-3.0-or-later
// The ONE place that includes <qcustomplot.h>. QCustomPlot 2.1 uses the bare Qt
// keywords `signals`, `slots`, `emit` and `foreach`, which our Qt targets disable with
// QT_NO_KEYWORDS (Qt's `slots` breaks LibTorch headers). They are mapped to the Q_
// macros for this include only and restored afterwards.
#pragma once

#pragma push_macro("signals")
#pragma push_macro("slots")
#pragma push_macro("emit")
#pragma push_macro("foreach")
#undef signals
#undef slots
#undef emit
#undef foreach
#define signals Q_SIGNALS
#define slots Q_SLOTS
#define emit Q_EMIT
#define foreach Q_FOREACH

#include <qcustomplot.h>

#undef signals
#undef slots
#undef emit
#undef foreach
#pragma pop_macro("foreach")
#pragma pop_macro("emit")
#pragma pop_macro("slots")
#pragma pop_macro("signals")

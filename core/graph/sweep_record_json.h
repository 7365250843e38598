// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to core/graph: the JSON form of a SweepRecord (the project file's "sweep").
#pragma once

#include <nlohmann/json.hpp>

#include "core/graph/json_field.h"
#include "core/graph/sweep_record.h"

namespace qnn::detail {

/// Every field, in a stable order; a non-finite loss is written as null.
nlohmann::ordered_json sweep_to_json(const SweepRecord& r);
/// Reads what sweep_to_json writes. Throws ConfigError naming the JSON path (unknown or
/// missing field, wrong type, kind other than "weight"/"act", what other than
/// "weights"/"activations"/"both", bits outside 2..16 or the sweep's range, a point
/// given twice, accuracy outside [0, 1]).
SweepRecord sweep_from_json(const Field& f);

}  // namespace qnn::detail

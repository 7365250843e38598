// SPDX-License-Identifier: GPL-3.0-or-later
// A LayerSpec in one line, for tests that build small graphs by hand.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/graph/project.h"

/// Layer `id` of type `t` fed by `inputs` (port order) with number parameters `params`.
inline qnn::LayerSpec layer(const std::string& id, qnn::LayerType t, std::vector<std::string> inputs,
                            std::map<std::string, double> params = {}) {
  qnn::LayerSpec l;
  l.id = id;
  l.type = t;
  l.inputs = std::move(inputs);
  l.params = std::move(params);
  return l;
}

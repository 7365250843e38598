// SPDX-License-Identifier: GPL-3.0-or-later
// Seeded random edit sequences on a ProjectDocument for the undo/redo property test.
#pragma once

#include <QString>
#include <cstdint>

#include "core/graph/project.h"

namespace qnn {
class ProjectDocument;

struct RandomEditStats {
  int edits = 0;      ///< edits attempted
  int commands = 0;   ///< undo steps they made (after merges)
  int kinds[10] = {}; ///< edits per kind that changed the document
};

/// Runs `length` random edits (add, remove, connect, disconnect, move, change
/// parameter, change quantizer, paste, auto-layout, rename) on `doc` with the seed,
/// then checks: undoing step by step reproduces every recorded intermediate state,
/// undoing all gives `doc`'s start state (operator==), redoing all gives the end
/// state. Returns "" on success, else a description of the first mismatch.
QString runRandomEdits(ProjectDocument& doc, uint64_t seed, int length, RandomEditStats& stats);

}  // namespace qnn

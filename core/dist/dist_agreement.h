// SPDX-License-Identifier: GPL-3.0-or-later
// Agreements that keep the ranks of a data-parallel run (qnn train --dist) on one path:
// a stop request (Ctrl-C, SIGTERM) seen by any rank stops every rank after the same
// step, and the ranks' options and data are compared once at start-up.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dist/data_parallel.h"

namespace qnn {

/// True on every rank when `local` is true on at least one rank: a 1-element float32
/// all-reduce max (one small collective; every rank must call it at the same point).
/// Without an active data-parallel context: `local` itself, and nothing is exchanged.
bool dp_any(bool local);

/// The seed of rank `rank`'s global generator (which Dropout draws from) for the
/// training step after `step` steps in a data-parallel run: a mix of the run's seed, the
/// step and the rank, so the ranks' slices get independent Dropout masks and a resumed
/// run draws the masks of the uninterrupted one.
uint64_t dp_dropout_seed(uint64_t seed, int64_t step, int rank);

/// The collectives dp_any() made in this process and the wall time they took.
struct AgreementStats {
  int64_t calls = 0;
  double seconds = 0.0;
};
AgreementStats dp_agreement_stats();

/// One field of a start-up comparison: its name as the user knows it ("--lr", "the
/// training set's size") and this rank's value as text.
struct AgreedField {
  std::string name;
  std::string value;
};

/// Start-up check: every rank's fields are all-gathered (all_gather_bytes, a collective)
/// and compared with rank 0's, field by field in order. On a difference, throws
/// ConfigError on every rank naming the first differing field and the lowest rank that
/// differs in it: "rank 1's --lr is 0.01, rank 0's is 0.001: " + `advice`, then
/// `local_note` (this rank's own words, e.g. which folder it read) when not empty.
void check_same_fields(DataParallel& dp, const std::vector<AgreedField>& fields, const std::string& advice,
                       const std::string& local_note = "");

}  // namespace qnn

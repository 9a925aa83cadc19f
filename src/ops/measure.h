// The realized effect of an applied plan, measured from the live store (docs/operations.md,
// "Verify"): the mean of the effect's quantity on an entity over a window after the apply, less
// its mean over the same length of window before it; the after window may start a settling time
// after the apply, so that the loops' lag (or a read of the tick before the change) is left out.
#pragma once

#include <cstdint>
#include <string>

#include "ops/ops.h"

namespace firstwall::ops {

struct Measurement {
  std::string entity;      // ENTITY/ID measured
  std::string quantity;    // of the effect's unit ("power")
  int64_t applied_ms = 0;  // the windows' boundary
  int64_t window_ms = 0;   // each window's length
  int64_t settle_ms = 0;   // from the apply to the after window's start
  // Means over [applied - window, applied) and (applied + settle, applied + settle + window], in
  // the quantity's base unit.
  double before = 0, after = 0;
  int64_t n_before = 0, n_after = 0;  // finite samples in each
  int series = 0;                     // series of the entity and quantity (every source)
  Amount realized;                    // (after - before) in the effect's unit
};

// Measures on `entity` (ENTITY/ID) in the live store at `store`, for a plan applied at
// `applied_ms` whose effect is in `effect_unit`. Every series of that entity and the unit's
// quantity counts (from any source); NaN samples are left out. InputError naming `option` when
// the after window has not ended by `now_ms`, or a window holds no sample.
Measurement MeasureEffect(const std::string& store, const std::string& entity,
                          const std::string& effect_unit, int64_t applied_ms, int64_t window_ms,
                          int64_t now_ms, const std::string& option = "--window",
                          int64_t settle_ms = 0);

}  // namespace firstwall::ops

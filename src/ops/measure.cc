#include "ops/measure.h"

#include <cmath>

#include <fmt/format.h>

#include "live/store.h"
#include "live/vocabulary.h"

namespace firstwall::ops {

Measurement MeasureEffect(const std::string& store, const std::string& entity,
                          const std::string& effect_unit, int64_t applied_ms, int64_t window_ms,
                          int64_t now_ms, const std::string& option, int64_t settle_ms) {
  const live::UnitKind* unit = live::FindUnit(effect_unit);
  FW_CHECK(unit != nullptr, "the effect's unit is a vocabulary unit (ParseAmount)");
  Measurement m;
  m.entity = entity;
  m.quantity = unit->quantity;
  m.applied_ms = applied_ms;
  m.window_ms = window_ms;
  m.settle_ms = settle_ms;
  const int64_t end = applied_ms + settle_ms + window_ms;
  if (now_ms < end) {
    throw InputError({option, 0, 0},
                     fmt::format("the window after the apply ends {:g} s from now",
                                 static_cast<double>(end - now_ms) / 1000.0),
                     "verify once it has passed, or give a shorter --window");
  }
  const size_t slash = entity.find('/');
  double sum_before = 0, sum_after = 0;
  std::unique_ptr<live::Store> s = live::OpenExistingStore(store);
  for (const live::SeriesInfo& info : s->Series()) {
    if (slash == std::string::npos || info.key.entity != entity.substr(0, slash) ||
        info.key.entity_id != entity.substr(slash + 1) || info.key.quantity != m.quantity) {
      continue;
    }
    ++m.series;
    for (const live::SamplePoint& p : s->Samples(info.id)) {
      if (!std::isfinite(p.value)) continue;
      if (p.t_ms >= applied_ms - window_ms && p.t_ms < applied_ms) {
        sum_before += p.value;
        ++m.n_before;
      } else if (p.t_ms > applied_ms + settle_ms && p.t_ms <= end) {
        sum_after += p.value;
        ++m.n_after;
      }
    }
  }
  if (m.n_before == 0 || m.n_after == 0) {
    throw InputError({option, 0, 0},
                     fmt::format("no {} of {} in the {} s {} the apply ({} series)", m.quantity,
                                 entity, static_cast<double>(window_ms) / 1000.0,
                                 m.n_before == 0 ? "before" : "after", m.series),
                     "give --effect-on the entity whose telemetry shows the effect, or a longer "
                     "--window");
  }
  m.before = sum_before / static_cast<double>(m.n_before);
  m.after = sum_after / static_cast<double>(m.n_after);
  m.realized = {(m.after - m.before) / unit->to_base, effect_unit};
  return m;
}

}  // namespace firstwall::ops

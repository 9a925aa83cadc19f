// The dashboard's telemetry against the twin (GET /api/twin, docs/dashboard.md): the store's
// measured signals over the last `last_s` seconds of its GPU power, each beside the twin's
// prediction from the measured inputs (live/twin_check.h: the design's conversion chain and
// cooling plant driven by the measured GPU power and outdoor air), with the window's ASHRAE
// Guideline 14 statistics and verdict, as `firstwall compare` judges them.
#pragma once

#include <cstddef>

#include <nlohmann/json.hpp>

#include "live/store.h"
#include "site/site_config.h"

namespace firstwall::serve {

// {step_s (of the points, after averaging), gpu_from, outdoor_from, newest_ms, t_ms: [...],
//  signals: [{name, unit, from, measured: [...], twin: [...], cv_rmse, nmbe (fractions),
//  judged_on, verdict}], grid_import_limit_w (null when unrated), scenario_gpus, measured_gpus
//  (the GPU power series read: fewer than the scenario's are taken as idle; a very different count
//  is likely another site's scenario), loads: [{resource, metric, from (the signal), peak_w,
//  last_w, last_ms, rating_w, units, utilization (peak over units x rating), note}] for each rated
//  power stage whose output a meter shows, the grid import and the cooling plant, from the
//  meter's raw samples over the last `last_s` seconds of its own series}.
// Steps are averaged into at most `max_points` buckets of whole steps (null where a bucket has no
// finite value). InputError (live::AssembleMeasured's) when the store has no GPU power or holds
// more GPUs than the scenario.
nlohmann::json TwinView(live::Store& store, const site::SiteConfig& config, double last_s,
                        size_t max_points);

}  // namespace firstwall::serve

// The dashboard's forecast (GET /api/forecast, docs/dashboard.md): the next 24 h of the site from
// the twin run forward (ops/forecast.h, with its weather interval), on the store's clock.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "live/store.h"
#include "site/site_config.h"

namespace firstwall::serve {

// The scenario's clock on the store: its time zero is the first sample of the store's facility
// power (as `firstwall forecast --db` takes it: the emulator starts the scenario when it starts
// serving), and the origin is that series' newest sample, down to the 15-minute step grid.
// {origin_ms, step_s, horizon_s, t_ms: [step starts], facility_power_w: {value, lo, hi},
//  it_power_w: [...], pue: [...], outdoor_c: [...], grid_import_limit_w (null when unrated),
//  peak: {facility_power_w, hi_w, at_ms, over_grid_limit}, weather, interval} in W, C and ms
// since the Unix epoch; or {t_ms: [], note} when the store has no facility power or its span is
// past the forecast's longest origin (366 d).
nlohmann::json ForecastView(live::Store& store, const site::SiteConfig& config,
                            const std::string& scenario_file);

}  // namespace firstwall::serve

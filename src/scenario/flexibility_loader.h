// Power- and carbon-aware scheduling in a scenario: `scheduler.flexibility` and the flexible marks
// of workloads and traces (site/flexibility.h). Internal to the loader.
#pragma once

#include <optional>
#include <vector>

#include "scenario/reader.h"
#include "site/site_config.h"

namespace firstwall::scenario {

// `life` holds every queued job with its flexible mark. Refuses (InputError at the key): a
// flexible job without the section; the section without a flexible job, without any signal,
// with neither defer nor a cap; price_above or carbon_above without an hourly tariff_file;
// grid_margin without site.grid_import_limit; stage_margin without a rated stage; a cap outside
// the GPU's idle power..TDP.
std::optional<site::FlexibilityConfig> ReadFlexibility(const Section& root,
                                                       const std::vector<Section>& workloads,
                                                       const site::SiteConfig& cfg,
                                                       const site::LifeConfig& life);

}  // namespace firstwall::scenario

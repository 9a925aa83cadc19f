#include "scenario/flexibility_loader.h"

#include <algorithm>

#include <fmt/format.h>

namespace firstwall::scenario {

std::optional<site::FlexibilityConfig> ReadFlexibility(const Section& root,
                                                       const std::vector<Section>& workloads,
                                                       const site::SiteConfig& cfg,
                                                       const site::LifeConfig& life) {
  const Section sched = root.Sub("scheduler");
  const bool any_flexible = std::any_of(life.jobs.begin(), life.jobs.end(),
                                        [](const scheduler::JobSpec& j) { return j.flexible; });
  if (!sched.Has("flexibility")) {
    constexpr const char* kHint =
        "add scheduler.flexibility with a signal (price_above, carbon_above, grid_margin or "
        "stage_margin), or leave flexible out";
    for (const Section& w : workloads) {
      if (w.Bool("flexible"))
        w.Fail("flexible", "a flexible job needs scheduler.flexibility", kHint);
    }
    for (const Section& t : root.List("job_traces")) {
      if (t.Bool("flexible")) t.Fail("flexible", "flexible jobs need scheduler.flexibility", kHint);
    }
    return std::nullopt;
  }
  const Section f = sched.Sub("flexibility");
  site::FlexibilityConfig c;
  c.price_above = f.OptionalQuantity<units::EnergyPrice>("price_above");
  c.carbon_above = f.OptionalQuantity<units::CarbonIntensity>("carbon_above");
  if (f.Has("grid_margin")) c.grid_margin = f.Fraction("grid_margin");
  if (f.Has("stage_margin")) c.stage_margin = f.Fraction("stage_margin");
  c.defer = f.Bool("defer");
  c.cap_gpu_power = f.OptionalQuantity<units::Power>("cap_gpu_power");
  c.max_delay = SimTime::From(f.Quantity<units::Duration>("max_delay"));
  c.check_every = SimTime::From(f.Quantity<units::Duration>("check_every"));

  if (!c.price_above && !c.carbon_above && !c.grid_margin && !c.stage_margin) {
    sched.Fail("flexibility", "scheduler.flexibility names no signal",
               "give price_above (e.g. 100 USD/MWh), carbon_above (e.g. 400 g/kWh), grid_margin "
               "or stage_margin (e.g. 10 %)");
  }
  for (const char* key : {"price_above", "carbon_above"}) {
    if (f.Has(key) && !cfg.tariff.Hourly()) {
      f.Fail(key,
             std::string(key) +
                 " needs an hourly tariff: a flat price and carbon intensity "
                 "never change, so the gate would never open or never close",
             "give site.tariff_file");
    }
  }
  if (c.grid_margin && cfg.facility.grid_import_limit <= units::Watts(0)) {
    f.Fail("grid_margin", "grid_margin needs site.grid_import_limit", "give the grid's limit");
  }
  if (c.stage_margin &&
      std::none_of(cfg.facility.power_chain.begin(), cfg.facility.power_chain.end(),
                   [](const power::ConversionStage& s) { return s.rating > units::Watts(0); })) {
    f.Fail("stage_margin", "stage_margin needs a rated stage in facility.power_chain",
           "give a stage a rating");
  }
  if (!c.defer && !c.cap_gpu_power) {
    f.Fail("defer", "with defer: false and no cap_gpu_power, flexibility does nothing",
           "set defer: true or give cap_gpu_power");
  }
  if (c.cap_gpu_power) {
    const hardware::GpuSpec& gpu = cfg.cluster.gpu;
    if (*c.cap_gpu_power < gpu.idle_power || *c.cap_gpu_power >= gpu.tdp) {
      f.Fail("cap_gpu_power",
             fmt::format("a cap of {:g} W is outside the GPU's idle power {:g} W .. TDP {:g} W "
                         "(below idle it cannot hold; at or above TDP it does nothing)",
                         units::ToWatts(*c.cap_gpu_power), units::ToWatts(gpu.idle_power),
                         units::ToWatts(gpu.tdp)));
    }
  }
  if (!any_flexible) {
    sched.Fail("flexibility", "scheduler.flexibility is set but no job is flexible",
               "mark workloads or job_traces with flexible: true");
  }
  return c;
}

}  // namespace firstwall::scenario

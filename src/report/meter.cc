#include "report/meter.h"

#include <algorithm>
#include <unordered_map>

namespace firstwall::report {
using namespace units;

Meter::Meter(const site::Site& site) : site_(site) {
  const auto& chain = site.config().facility.power_chain;
  stage_peak_out_w_.assign(chain.size(), 0.0);
  s_.stage_loss_energy_j.assign(chain.size(), 0.0);
  for (const auto& st : chain) s_.stage_names.push_back(st.name);
  job_energy_j_.assign(site.jobs().size(), 0.0);
}

void Meter::OnTick(const TickRow& r, int64_t repeat) {
  const double dt = r.seconds * static_cast<double>(repeat);
  s_.ticks += repeat;
  s_.gpu_energy_j += r.gpu_w * dt;
  s_.node_base_energy_j += r.node_base_w * dt;
  s_.it_energy_j += r.it_w * dt;
  s_.it_input_energy_j += r.it_input_w * dt;
  s_.loss_energy_j += r.loss_w * dt;
  s_.cooling_energy_j += r.cooling_w * dt;
  s_.facility_energy_j += r.facility_w * dt;
  const power::Tariff& tariff = site_.config().tariff;
  for (int64_t i = 0; i < repeat; ++i) {
    const SimTime t = r.start + SimTime::From(Seconds(r.seconds * static_cast<double>(i)));
    s_.energy_cost_usd += r.grid_w * r.seconds * tariff.UsdPerJoule(t);
    s_.carbon_kg += r.grid_w * r.seconds * tariff.CarbonGramsPerJoule(t) / 1e3;
    if (!tariff.Hourly()) {  // constant: the rest of the repeats cost the same
      const double rest = r.grid_w * r.seconds * static_cast<double>(repeat - 1);
      s_.energy_cost_usd += rest * tariff.UsdPerJoule(t);
      s_.carbon_kg += rest * tariff.CarbonGramsPerJoule(t) / 1e3;
      break;
    }
  }
  s_.grid_energy_j += r.grid_w * dt;
  s_.peak_grid_w = std::max(s_.peak_grid_w, r.grid_w);
  s_.generation_energy_j += r.generation_w * dt;
  s_.renewable_energy_j += r.renewable_w * dt;
  s_.curtailed_energy_j += r.curtailed_w * dt;
  s_.renewable_cost_usd += r.renewable_usd_per_s * dt;
  if (const auto& g = site_.config().facility.generation) {
    const double fuel_j = r.generation_w * dt * g->heat_rate;
    s_.generation_fuel_j += fuel_j;
    s_.generation_fuel_cost_usd += fuel_j * g->fuel_usd_per_j;
    s_.generation_carbon_kg += fuel_j * g->fuel_co2_g_per_j / 1e3;
  }
  s_.peak_generation_w = std::max(s_.peak_generation_w, r.generation_w);
  if (r.battery_w > 0) s_.battery_discharge_j += r.battery_w * dt;
  if (r.battery_w < 0) s_.battery_charge_j -= r.battery_w * dt;
  s_.battery_soc_min = std::min(s_.battery_soc_min, r.battery_soc);
  s_.battery_soc_max = std::max(s_.battery_soc_max, r.battery_soc);
  const double limit = ToWatts(site_.config().facility.grid_import_limit);
  if (limit > 0 && r.grid_w > limit * (1 + 1e-9)) s_.grid_limit_exceeded_hours += dt / 3600;
  s_.peak_it_w = std::max(s_.peak_it_w, r.it_w);
  s_.peak_facility_w = std::max(s_.peak_facility_w, r.facility_w);
  s_.peak_rack_w = std::max(s_.peak_rack_w, r.peak_rack_w);
  peak_heat_w_ = std::max(peak_heat_w_, r.heat_w);
  peak_activity_ = std::max(peak_activity_, r.gpu_activity);
  peak_fabric_ = std::max(peak_fabric_, r.fabric_peak_utilization);
  activity_s_ += r.gpu_activity * dt;
  s_.chillers_energy_j += r.chillers_w * dt;
  s_.pumps_energy_j += r.pumps_w * dt;
  s_.crah_fans_energy_j += r.crah_fans_w * dt;
  s_.sink_fans_energy_j += r.sink_fans_w * dt;
  s_.heat_rejected_j += r.rejected_w * dt;
  s_.water_l += r.water_l_per_s * dt;
  // Modes by the share of heat removed without chillers.
  const double hours = dt / 3600.0;
  if (r.economizer_share >= 0.999) {
    s_.economizer_hours += hours;
  } else if (r.economizer_share > 0.001) {
    s_.partial_economizer_hours += hours;
  } else {
    s_.mechanical_hours += hours;
  }
  if (r.liquid_free_share >= 0.999) s_.liquid_loop_economizer_hours += hours;
  if (r.air_free_share >= 0.999) s_.air_loop_economizer_hours += hours;
  if (r.unmet_w > 0) s_.unmet_cooling_hours += hours;
  s_.unmet_cooling_j += r.unmet_w * dt;
  if (r.server_inlet_c < 18 || r.server_inlet_c > 27) s_.inlet_outside_recommended_hours += hours;
  if (r.server_inlet_c < 15 || r.server_inlet_c > 32) s_.inlet_outside_allowable_hours += hours;
  s_.peak_unmet_cooling_w = std::max(s_.peak_unmet_cooling_w, r.unmet_w);
  for (size_t i = 0; i < r.stage_input_w.size(); ++i) {
    stage_peak_out_w_[i] = std::max(stage_peak_out_w_[i], r.stage_unit_peak_w[i]);
    s_.stage_loss_energy_j[i] += r.stage_loss_w[i] * dt;
  }
  for (const auto& [j, w] : r.job_it_w) {
    if (j >= job_energy_j_.size()) job_energy_j_.resize(j + 1, 0.0);  // started during the run
    job_energy_j_[j] += w * dt;
  }
}

Summary Meter::Finish(const std::string& scenario_file, const EngineStats& engine) const {
  Summary s = s_;
  const site::SiteConfig& cfg = site_.config();
  s.site = cfg.name;
  s.scenario_file = scenario_file;
  s.gpu = cfg.cluster.gpu.name;
  s.gpu_count = cfg.cluster.gpu_count();
  s.nodes = cfg.cluster.nodes;
  s.racks = cfg.cluster.rack_count();
  s.sim_time_s = cfg.duration.seconds();
  s.tick_s = cfg.tick.seconds();
  s.seed = cfg.seed;
  s.engine = engine;
  s.mean_gpu_activity = s.sim_time_s > 0 ? activity_s_ / s.sim_time_s : 0;
  s.loop_stored_j = site_.plant_stored_j();
  s.power_events = site_.power_events();
  s.fabric_equipment = cfg.fabric_equipment;
  s.has_storage =
      cfg.facility.battery || cfg.facility.generation || !cfg.facility.renewables.empty();

  auto kw = [](double w) { return w / 1e3; };
  s.resources.push_back({"GPUs", "compute", peak_activity_, 1.0, "activity"});
  // The busiest scale-out link while all jobs' rings run (its share of the healthy bandwidth).
  s.resources.push_back({"fabric", "network", peak_fabric_, 1.0, "link utilization"});
  if (ToBytesPerSecond(cfg.cluster.storage_bandwidth) > 0) {
    s.resources.push_back({"storage", "network", site_.storage_peak_utilization(), 1.0,
                           "write bandwidth used by checkpoints"});
  }
  for (size_t i = 0; i < cfg.facility.power_chain.size(); ++i) {
    const auto& st = cfg.facility.power_chain[i];
    const size_t units = site_.StageUnits(i);
    s.resources.push_back(
        {st.name, "power stage", kw(stage_peak_out_w_[i]), kw(ToWatts(st.rating)),
         units > 1 ? "kW (busiest of " + std::to_string(units) + " units)" : std::string("kW")});
  }
  s.resources.push_back(
      {"rack", "rack", kw(s.peak_rack_w), kw(ToWatts(cfg.cluster.rack_power_limit)), "kW"});
  s.resources.push_back({"cooling plant", "cooling", kw(peak_heat_w_),
                         kw(ToWatts(cfg.facility.cooling.capacity)), "kW"});
  if (const site::CduLoads& cdu = site_.cdu_loads(); cdu.units > 0) {
    s.cdus = cdu.units;
    s.cdu_over_capacity_hours = cdu.over_s / 3600;
    s.cdu_over_capacity_j = cdu.over_j;
    s.resources.push_back(
        {"CDU", "cooling", kw(cdu.peak_w), kw(ToWatts(cfg.facility.cooling.cdu_capacity)), "kW"});
  }
  s.resources.push_back({"grid connection", "grid", kw(s.peak_grid_w),
                         kw(ToWatts(cfg.facility.grid_import_limit)), "kW"});
  std::stable_sort(
      s.resources.begin(), s.resources.end(),
      [](const ResourceUse& a, const ResourceUse& b) { return a.utilization() > b.utilization(); });

  std::unordered_map<std::string, size_t> job_index;  // name -> s.jobs position (never output)
  const site::JobList jobs = site_.jobs();
  for (size_t j = 0; j < jobs.size(); ++j) {
    if (!jobs.present(j)) {  // ended and forgotten: only its share of the site's totals
      s.throttled_gpu_hours += jobs.throttled_gpu_s(j) / 3600;
      continue;
    }
    const site::PlacedJob& pj = jobs[j];
    JobSummary js;
    js.name = pj.config.name;
    js.model = pj.config.setup.model.name;
    js.tp = pj.config.setup.tp;
    js.dp = pj.config.setup.dp;
    js.pp = pj.config.setup.pp;
    js.cp = pj.config.setup.cp;
    js.ep = pj.config.setup.ep;
    js.gpus = pj.gpus;
    js.global_batch = pj.config.setup.global_batch;
    js.sequence_length = pj.config.setup.sequence_length;
    js.estimate = pj.estimate;
    js.steps_completed = pj.timeline.StepsCompletedBy(cfg.duration);
    js.tokens = static_cast<double>(js.steps_completed) * pj.estimate.tokens_per_step;
    js.running_s = pj.timeline.RunningSeconds(SimTime(), cfg.duration);
    js.running_step_s = ToSeconds(pj.history.front().step_time);
    js.tokens_per_s = js.running_s > 0 ? pj.estimate.tokens_per_step / js.running_step_s : 0;
    js.it_energy_j = j < job_energy_j_.size() ? job_energy_j_[j] : 0.0;
    js.step_time_max_s = ToSeconds(pj.estimate.step_time);
    for (const site::JobChange& c : pj.history) {
      js.network_factor_min = std::min(js.network_factor_min, c.network_factor);
      js.step_time_max_s = std::max(js.step_time_max_s, ToSeconds(c.step_time));
    }
    js.average_tokens_per_s = js.running_s > 0 ? js.tokens / js.running_s : 0;
    const auto& b = pj.estimate.breakdown;
    js.throttled_gpu_hours = pj.throttled_gpu_s / 3600;
    js.chip_peak_c = pj.chip_peak_c;
    js.thermal_shutdown = pj.thermal_shutdown;
    s.throttled_gpu_hours += js.throttled_gpu_hours;
    js.checkpoints = pj.checkpoints;
    js.checkpoints_skipped = pj.checkpoints_skipped;
    js.checkpoint_time_s = pj.checkpoint_seconds;
    js.exposed_comm_share =
        (b.tp_comm + b.pp_p2p + b.dp_comm_exposed + b.cp_comm + b.ep_comm) / pj.estimate.step_time;
    // A queued job's attempts (restarts after failures or preemptions) are one job here: its
    // first attempt's step, the totals of all.
    // By name through an index: a queue's million attempts would make a scan quadratic.
    const auto [same, fresh] = job_index.try_emplace(js.name, s.jobs.size());
    if (!fresh) {
      JobSummary& t = s.jobs[same->second];
      t.steps_completed += js.steps_completed;
      t.tokens += js.tokens;
      t.running_s += js.running_s;
      t.it_energy_j += js.it_energy_j;
      t.network_factor_min = std::min(t.network_factor_min, js.network_factor_min);
      t.step_time_max_s = std::max(t.step_time_max_s, js.step_time_max_s);
      t.average_tokens_per_s = t.running_s > 0 ? t.tokens / t.running_s : 0;
      t.throttled_gpu_hours += js.throttled_gpu_hours;
      t.chip_peak_c = std::max(t.chip_peak_c, js.chip_peak_c);
      t.thermal_shutdown = t.thermal_shutdown || js.thermal_shutdown;
      t.checkpoints += js.checkpoints;
      t.checkpoints_skipped += js.checkpoints_skipped;
      t.checkpoint_time_s += js.checkpoint_time_s;
      continue;
    }
    s.jobs.push_back(js);
  }
  for (size_t k = 0; k < site_.services().size(); ++k) {
    const site::PlacedService& ps = site_.services()[k];
    const workload::ServiceSetup& setup = cfg.services[k].setup;
    ServiceSummary ss;
    ss.name = ps.name;
    ss.model = setup.replica.model.name;
    ss.router = std::string(workload::RoutingName(setup.routing));
    ss.gpus = ps.gpus;
    ss.replicas = setup.replicas;
    ss.tp = setup.replica.tp;
    ss.pp = setup.replica.pp;
    ss.ep = setup.replica.ep;
    ss.setup = setup;
    ss.result = ps.result;
    s.services.push_back(std::move(ss));
  }
  s.nvlink_peak_utilization = site_.NvlinkPeakUtilization();
  if (const site::ClusterConfig& c = site_.config().cluster; !c.torus_dims.empty()) {
    hardware::TorusSpec t = hardware::TorusFor(c.gpu, c.torus_dims, c.torus_twisted);
    t.efficiency = 1.0;
    const double link = ToBytesPerSecond(t.link);
    s.torus = Summary::Torus{c.torus_dims,
                             c.gpu.ici.ports,
                             link,
                             hardware::TorusAllReduceBusBandwidth(t),
                             hardware::TorusBisectionLinks(c.torus_dims, c.torus_twisted) * link,
                             c.torus_twisted};
  }
  s.fabric_tiers = site_.FabricTiers();
  for (const site::LinkLoad& l : site_.HottestLinks(10)) {
    s.hottest_links.push_back({site_.fabric().LinkName(l.link), l.utilization, l.at.seconds()});
  }
  // For each fault, the jobs whose step changed at its start: the step before and during.
  for (const site::FaultConfig& f : cfg.faults) {
    FaultImpact fi;
    fi.target = f.target;
    fi.at_s = f.at.seconds();
    fi.end_s = std::min(f.end, cfg.duration).seconds();
    fi.bandwidth = f.health;
    for (size_t j = 0; j < jobs.size(); ++j) {
      if (!jobs.present(j)) continue;  // model-less: no fabric, no step to change
      const site::PlacedJob& pj = jobs[j];
      for (size_t k = 1; k < pj.history.size(); ++k) {
        if (pj.history[k].cause != f.at) continue;
        fi.jobs.push_back({pj.config.name, ToSeconds(pj.history[k - 1].step_time),
                           ToSeconds(pj.history[k].step_time)});
      }
    }
    s.faults.push_back(fi);
  }
  return s;
}

}  // namespace firstwall::report

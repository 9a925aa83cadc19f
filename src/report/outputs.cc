#include "report/outputs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "report/text_format.h"
#include "units/parse.h"

namespace firstwall::report {

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), partial_(path_ + ".partial") {
  f_ = std::fopen(partial_.c_str(), "wb");
  if (!f_) throw InputError({path_, 0, 0}, "cannot write output file");
}

AtomicFile::~AtomicFile() {
  if (f_) {
    std::fclose(f_);
    std::remove(partial_.c_str());
  }
}

void AtomicFile::Write(std::string_view data) {
  if (std::fwrite(data.data(), 1, data.size(), f_) != data.size()) {
    throw InputError({path_, 0, 0}, "write failed (disk full?)");
  }
}

void AtomicFile::Commit() {
  const bool ok = std::fclose(f_) == 0;
  f_ = nullptr;
  if (!ok || std::rename(partial_.c_str(), path_.c_str()) != 0) {
    std::remove(partial_.c_str());
    throw InputError({path_, 0, 0}, "could not finish writing the output file");
  }
}

namespace {
// A count in summary.json: an integer, also where a sampled fleet's counts are scaled estimates.
int64_t Count(double x) { return std::llround(x); }

// Figures for people: the unit chosen by magnitude, so a small site does not print "0.0 MWh".
std::string Energy(double j) {
  const double wh = j / 3600;
  if (std::abs(wh) >= 1e9) return txt::format("{:.2f} GWh", wh / 1e9);
  if (std::abs(wh) >= 1e6) return txt::format("{:.1f} MWh", wh / 1e6);
  if (std::abs(wh) >= 1e3) return txt::format("{:.1f} kWh", wh / 1e3);
  return txt::format("{:.0f} Wh", wh);
}
std::string Water(double liters) {
  return std::abs(liters) >= 1e3 ? txt::format("{:.0f} m3", liters / 1e3)
                                 : txt::format("{:.0f} L", liters);
}
std::string Carbon(double kg) {
  return std::abs(kg) >= 1e3 ? txt::format("{:.1f} t CO2", kg / 1e3)
                             : txt::format("{:.1f} kg CO2", kg);
}
// "1 rack", "4 racks".
std::string Counted(int64_t n, std::string_view noun) {
  return txt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}
}  // namespace

namespace {
constexpr const char* kCsvHeader =
    "time_s,outdoor_dry_bulb_c,running_jobs,queued_jobs,mean_gpu_activity,gpu_power_kw,node_base_"
    "power_kw,"
    "it_power_kw,conversion_loss_kw,cooling_power_kw,facility_power_kw,pue,peak_rack_power_kw,"
    "fabric_peak_link_utilization,outdoor_wet_bulb_c,chiller_power_kw,cooling_aux_power_kw,"
    "economizer_share,water_use_l_per_s,gpu_coolant_c,grid_power_kw,generation_kw,"
    "battery_power_kw,battery_soc,renewable_power_kw,curtailed_kw\n";
}

TimeSeriesCsv::TimeSeriesCsv(std::string path, SimTime tick, int64_t ticks_per_row)
    : path_(std::move(path)), base_(path_ + ".base"), tick_(tick), ticks_per_row_(ticks_per_row) {
  FW_CHECK(ticks_per_row_ >= 1, "a row holds at least one tick");
  buf_ = kCsvHeader;
}

// Rough width of a data row: 26 fixed columns plus 7 per link column (measured: 204 characters
// for the default example's 1,024-GPU hall with its 3 link columns; wider for multi-megawatt
// sites).
double EstimateTimeSeriesBytes(double duration_s, double row_s, int hot_links) {
  const double rows = std::ceil(duration_s / row_s - 1e-9);
  const double row_bytes = 195.0 + 7.0 * hot_links;
  return (rows + 1) * row_bytes;
}

void CheckTimeSeriesSize(double duration_s, double row_s, int hot_links, double max_bytes,
                         const SourceLocation& where) {
  const double bytes = EstimateTimeSeriesBytes(duration_s, row_s, hot_links);
  if (bytes <= max_bytes) return;
  // The shortest interval that fits, from readable steps up to the longest allowed (1 d).
  double fits = 0;
  for (double step : {1.0, 10.0, 60.0, 300.0, 900.0, 3600.0, 86400.0}) {
    if (step >= row_s && EstimateTimeSeriesBytes(duration_s, step, hot_links) <= max_bytes) {
      fits = step;
      break;
    }
  }
  const std::string what = txt::format(
      "timeseries.csv would take about {} ({:.0f} rows of {}), more than "
      "simulation.max_output_size ({})",
      units::Readable(units::Bytes(bytes), 3), std::ceil(duration_s / row_s - 1e-9),
      units::Readable(units::Seconds(row_s), 3), units::Readable(units::Bytes(max_bytes), 3));
  if (fits > 0) {
    throw InputError(
        where, what,
        txt::format("set simulation.output_interval to {} or more ({}), or raise "
                    "simulation.max_output_size",
                    units::Readable(units::Seconds(fits), 3),
                    units::Readable(
                        units::Bytes(EstimateTimeSeriesBytes(duration_s, fits, hot_links)), 3)));
  }
  throw InputError(where, what,
                   txt::format("even a row a day ({} link columns) does not fit: raise "
                               "simulation.max_output_size{}",
                               hot_links, hot_links > 3 ? ", or ask for fewer --hot-links" : ""));
}

void TimeSeriesCsv::Emit(const TickRow& r, SimTime start) {
  txt::format_to(
      std::back_inserter(buf_),
      "{:.3f},{:.2f},{:.2f},{:.2f},{:.4f},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{:.6f},{:"
      ".3f},{:.4f},{:.2f},{:.3f},{:.3f},{:.4f},{:.4f},{:.2f},{:.3f},{:.3f},{:.3f},{:.4f},{:.3f},{:."
      "3f}\n",
      start.seconds(), r.outdoor_c, r.running_jobs, r.queued_jobs, r.gpu_activity, r.gpu_w / 1e3,
      r.node_base_w / 1e3, r.it_w / 1e3, r.loss_w / 1e3, r.cooling_w / 1e3, r.facility_w / 1e3,
      r.it_input_w > 0 ? r.facility_w / r.it_input_w : 0.0, r.peak_rack_w / 1e3,
      r.fabric_peak_utilization, r.wet_bulb_c, r.chillers_w / 1e3,
      (r.pumps_w + r.crah_fans_w + r.sink_fans_w) / 1e3, r.economizer_share, r.water_l_per_s,
      r.gpu_coolant_c, r.grid_w / 1e3, r.generation_w / 1e3, r.battery_w / 1e3, r.battery_soc,
      r.renewable_w / 1e3, r.curtailed_w / 1e3);
  if (buf_.size() > (1 << 20)) {
    base_.Write(buf_);
    buf_.clear();
  }
}

namespace {
// The columns of a row that are time-weighted means over its interval.
constexpr double TickRow::*kMeanColumns[] = {
    &TickRow::it_input_w,    &TickRow::gpu_w,         &TickRow::node_base_w,
    &TickRow::it_w,          &TickRow::loss_w,        &TickRow::cooling_w,
    &TickRow::facility_w,    &TickRow::gpu_activity,  &TickRow::outdoor_c,
    &TickRow::running_jobs,  &TickRow::queued_jobs,   &TickRow::wet_bulb_c,
    &TickRow::chillers_w,    &TickRow::pumps_w,       &TickRow::crah_fans_w,
    &TickRow::sink_fans_w,   &TickRow::water_l_per_s, &TickRow::economizer_share,
    &TickRow::gpu_coolant_c, &TickRow::grid_w,        &TickRow::generation_w,
    &TickRow::battery_w,     &TickRow::renewable_w,   &TickRow::curtailed_w};
}  // namespace

void TimeSeriesCsv::Add(const TickRow& r, int64_t ticks, SimTime start) {
  const double dt = r.seconds * static_cast<double>(ticks);
  if (acc_ticks_ == 0) {
    acc_ = TickRow{};
    acc_.start = start;
    acc_seconds_ = 0;
  }
  for (double TickRow::*m : kMeanColumns) acc_.*m += r.*m * dt;
  acc_.peak_rack_w = std::max(acc_.peak_rack_w, r.peak_rack_w);
  acc_.fabric_peak_utilization = std::max(acc_.fabric_peak_utilization, r.fabric_peak_utilization);
  acc_.battery_soc = r.battery_soc;
  acc_ticks_ += ticks;
  acc_seconds_ += dt;
  if (acc_ticks_ == ticks_per_row_) Flush();
}

void TimeSeriesCsv::Flush() {
  if (acc_ticks_ == 0) return;
  TickRow mean = acc_;
  if (acc_seconds_ > 0) {
    for (double TickRow::*m : kMeanColumns) mean.*m = acc_.*m / acc_seconds_;
  }
  Emit(mean, acc_.start);
  acc_ticks_ = 0;
}

void TimeSeriesCsv::OnTick(const TickRow& r, int64_t repeat) {
  SimTime start = r.start;
  while (repeat > 0) {
    if (acc_ticks_ == 0 && repeat >= ticks_per_row_) {
      // Whole rows of identical ticks: their means are the tick's own values.
      const int64_t rows = repeat / ticks_per_row_;
      for (int64_t i = 0; i < rows; ++i) {
        Emit(r, start);
        start = start + SimTime::FromNanoseconds(tick_.ns() * ticks_per_row_);
      }
      repeat -= rows * ticks_per_row_;
      continue;
    }
    const int64_t take = std::min(repeat, ticks_per_row_ - acc_ticks_);
    Add(r, take, start);
    start = start + SimTime::FromNanoseconds(tick_.ns() * take);
    repeat -= take;
  }
}

void TimeSeriesCsv::Commit(const std::vector<LinkSeries>& links, double row_s) {
  Flush();
  base_.Write(buf_);
  buf_.clear();
  base_.Commit();
  const std::string base = path_ + ".base";
  struct Cursor {
    size_t next = 0;
    double now = 0;
  };
  std::vector<Cursor> at(links.size());
  try {
    std::ifstream in(base, std::ios::binary);
    AtomicFile out(path_);
    std::string line, row;
    bool header = true;
    while (std::getline(in, line)) {
      row = line;
      if (header) {
        for (const LinkSeries& l : links) {
          std::string name = l.name;
          for (size_t p; (p = name.find("->")) != std::string::npos;) name.replace(p, 2, "_to_");
          std::replace(name.begin(), name.end(), '/', '_');
          row += ",link_util_" + name;
        }
        header = false;
      } else {
        const double t = std::strtod(line.c_str(), nullptr);
        for (size_t k = 0; k < links.size(); ++k) {
          const auto& ch = links[k].changes;
          Cursor& c = at[k];
          while (c.next < ch.size() && ch[c.next].first <= t + 1e-9) c.now = ch[c.next++].second;
          double peak = c.now;
          for (size_t i = c.next; i < ch.size() && ch[i].first < t + row_s - 1e-9; ++i) {
            peak = std::max(peak, ch[i].second);
          }
          txt::format_to(std::back_inserter(row), ",{:.4f}", peak);
        }
      }
      row += '\n';
      buf_ += row;
      if (buf_.size() > (1 << 20)) {
        out.Write(buf_);
        buf_.clear();
      }
    }
    out.Write(buf_);
    buf_.clear();
    out.Commit();
  } catch (...) {
    std::remove(base.c_str());
    throw;
  }
  std::remove(base.c_str());
}

nlohmann::ordered_json BreakdownJson(const workload::StepBreakdown& b) {
  using units::ToSeconds;
  return {{"compute", ToSeconds(b.compute)},
          {"tp_comm", ToSeconds(b.tp_comm)},
          {"pp_bubble", ToSeconds(b.pp_bubble)},
          {"pp_p2p", ToSeconds(b.pp_p2p)},
          {"dp_comm_exposed", ToSeconds(b.dp_comm_exposed)},
          {"cp_comm", ToSeconds(b.cp_comm)},
          {"ep_comm", ToSeconds(b.ep_comm)},
          {"optimizer", ToSeconds(b.optimizer)}};
}

namespace {
using nlohmann::ordered_json;
constexpr double kJoulesPerMmbtu = 1.05505585262e9;  // 10^6 international-table Btu
// Latencies of no request (none finished, or none had that interval) are null, not zero.
ordered_json PercentilesJson(const workload::Percentiles& p) {
  auto v = [&](double x) { return p.count > 0 ? ordered_json(x) : ordered_json(nullptr); };
  return {{"mean", v(p.mean)},
          {"p50", v(p.p50)},
          {"p90", v(p.p90)},
          {"p99", v(p.p99)},
          {"max", v(p.max)}};
}
// A pooled service's replicas in the scheduler's pool (site/life_services.h).
ordered_json ServicePoolJson(const site::ServicePoolStats& p) {
  ordered_json granted = nullptr;
  if (p.with_granted) {
    const workload::ServingResult& g = *p.with_granted;
    granted = {{"completed", Count(g.completed)},
               {"unfinished", Count(g.unfinished)},
               {"ttft_s", PercentilesJson(g.ttft)},
               {"tpot_s", PercentilesJson(g.tpot)},
               {"e2e_s", PercentilesJson(g.e2e)},
               {"slo_attainment",
                g.completed > 0 ? ordered_json(g.slo_attainment) : ordered_json(nullptr)},
               {"goodput_rps", g.goodput_rps}};
  }
  return {{"priority", p.priority},
          {"replicas_wanted_h", p.wanted_replica_h},
          {"replicas_granted_h", p.granted_replica_h},
          {"shortfall_replica_h", p.shortfall_replica_h},
          {"short_s", p.short_s},
          {"replicas_wanted_peak", p.wanted_peak},
          {"replicas_granted_peak", p.granted_peak},
          {"replica_starts", p.replica_starts},
          {"replica_failures", p.replica_failures},
          {"preemptions_caused", p.preemptions_caused},
          {"preempted_lost_gpu_h", p.preempted_lost_gpu_h},
          // The serving simulation ran first with every replica it wanted; with a shortfall it
          // runs again capped at the replicas granted.
          {"latencies_assume", "wanted replicas"},
          {"with_granted_replicas", granted}};
}

ordered_json ServicesJson(const Summary& s) {
  ordered_json all = ordered_json::array();
  for (const ServiceSummary& sv : s.services) {
    const workload::ServingResult& r = sv.result;
    const double gpr = static_cast<double>(sv.gpus) / sv.replicas;
    auto phase = [&](const workload::PhaseEnergy& p) {
      return ordered_json{
          {"replica_hours", p.replica_s / 3600},
          {"gpu_power_w_per_gpu",
           p.replica_s > 0 ? ordered_json(p.replica_watts() / gpr) : ordered_json(nullptr)},
          {"gpu_energy_kwh", p.gpu_j / 3.6e6}};
    };
    ordered_json by_class = ordered_json::object();
    for (size_t c = 0; c < r.classes.size(); ++c) {
      by_class[r.classes[c]] = PercentilesJson(r.ttft_by_class[c]);
    }
    all.push_back({
        {"name", sv.name},
        {"model", sv.model},
        {"gpus", sv.gpus},
        {"replicas", sv.replicas},
        {"replicas_simulated", r.replicas_simulated},
        {"tp", sv.tp},
        {"pp", sv.pp},
        {"ep", sv.ep},
        {"router", sv.router},
        {"requests", Count(r.requests)},
        {"completed", Count(r.completed)},
        {"unfinished", Count(r.unfinished)},
        {"throughput_rps", r.throughput_rps},
        {"output_tokens_per_s", r.output_tokens_per_s},
        {"prompt_tokens", Count(r.prompt_tokens)},
        {"output_tokens", Count(r.output_tokens)},
        {"ttft_s", PercentilesJson(r.ttft)},
        {"itl_s", PercentilesJson(r.itl)},
        {"tpot_s", PercentilesJson(r.tpot)},
        {"e2e_s", PercentilesJson(r.e2e)},
        {"queue_s", PercentilesJson(r.queue)},
        {"ttft_s_by_class", by_class},
        {"slo",
         {{"ttft_s", sv.setup.slo.ttft_s},
          {"tpot_s", sv.setup.slo.tpot_s},
          {"attainment",
           r.completed > 0 ? ordered_json(r.slo_attainment) : ordered_json(nullptr)}}},
        {"goodput_rps", r.goodput_rps},
        {"kv_cache",
         {{"capacity_tokens_per_replica", Count(r.kv_capacity_tokens)},
          {"mean_use", r.kv_use_mean},
          {"peak_use", r.kv_use_peak},
          {"preemptions", Count(r.preemptions)},
          {"prefix_hit_tokens", Count(r.prefix_hit_tokens)},
          {"prefill_tokens_computed", Count(r.prefill_tokens)},
          {"transfer_bytes", r.kv_transfer_bytes}}},
        {"phases",
         {{"prefill", phase(r.prefill)},
          {"decode", phase(r.decode)},
          {"mixed", phase(r.mixed)},
          {"idle", phase(r.idle)}}},
        {"gpu_energy_kwh", r.gpu_energy_j / 3.6e6},
        {"energy_per_output_token_j",
         r.output_tokens > 0 ? ordered_json(r.energy_per_output_token_j) : ordered_json(nullptr)},
        {"facility_energy_per_output_token_j",
         r.output_tokens > 0 ? ordered_json(r.energy_per_output_token_j * s.facility_per_it())
                             : ordered_json(nullptr)},
        {"replica_hours", r.replica_hours},
        {"replicas_peak", r.replicas_peak},
        {"scale_events", r.scale_events},
    });
    if (sv.setup.replica.two_batch_overlap) all.back()["two_batch_overlap"] = true;
    const workload::Speculation& sp = sv.setup.replica.speculation;
    if (sp.enabled()) {
      all.back()["speculative"] = {
          {"method", workload::SpeculationMethodName(sp.method)},
          {"draft_model",
           sp.method == workload::SpeculationMethod::kNgram
               ? ordered_json(nullptr)
               : ordered_json(workload::DraftModel(sv.setup.replica.model, sp).name)},
          {"draft_tokens", sp.draft_tokens},
          {"acceptance", sp.acceptance},
          {"tokens_per_step", workload::ExpectedTokensPerStep(sp.acceptance, sp.draft_tokens)}};
    }
    if (sv.setup.pd.prefill_replicas > 0) {
      all.back()["disaggregation"] = {{"prefill_replicas", sv.setup.pd.prefill_replicas},
                                      {"over", sv.setup.pd.over_nvlink ? "nvlink" : "network"},
                                      {"link_bytes_per_s_per_gpu", sv.setup.pd.link_bytes_per_s},
                                      {"transfers_slowed_by_faults", Count(r.kv_transfers_slowed)},
                                      {"fault_delay_s", r.kv_fault_delay_s},
                                      {"transfers_lost_to_faults", Count(r.kv_transfers_lost)}};
    }
    if (sv.setup.engine.offload_bytes > 0) {
      all.back()["kv_offload"] = {
          {"capacity_bytes_per_replica", sv.setup.engine.offload_bytes},
          {"link_bytes_per_s_per_gpu", sv.setup.engine.offload_link_bytes_per_s},
          {"hit_tokens", Count(r.offload_hit_tokens)},
          {"read_bytes", r.offload_read_bytes}};
    }
    const size_t k = all.size() - 1;
    if (k < s.service_pools.size()) all.back()["pool"] = ServicePoolJson(s.service_pools[k]);
  }
  return all;
}
}  // namespace

nlohmann::ordered_json SummaryJson(const Summary& s) {
  using nlohmann::ordered_json;
  const double kwh = 3.6e6;
  ordered_json j;
  j["schema"] = "firstwall.summary/1";
  j["site"] = s.site;
  j["scenario_file"] = s.scenario_file;
  j["seed"] = s.seed;
  j["sim_time_s"] = s.sim_time_s;
  j["tick_s"] = s.tick_s;
  j["gpu"] = s.gpu;
  j["gpu_count"] = s.gpu_count;
  j["node_count"] = s.nodes;
  j["rack_count"] = s.racks;
  j["it_energy_kwh"] = s.it_energy_j / kwh;
  j["gpu_energy_kwh"] = s.gpu_energy_j / kwh;
  j["node_base_energy_kwh"] = s.node_base_energy_j / kwh;
  j["conversion_loss_energy_kwh"] = s.loss_energy_j / kwh;
  j["cooling_energy_kwh"] = s.cooling_energy_j / kwh;
  j["facility_energy_kwh"] = s.facility_energy_j / kwh;
  j["it_input_energy_kwh"] = s.it_input_energy_j / kwh;
  j["pue"] = s.pue();
  j["wue_l_per_kwh"] = s.wue_l_per_kwh();
  j["cooling"] = {{"chillers_energy_kwh", s.chillers_energy_j / kwh},
                  {"pumps_energy_kwh", s.pumps_energy_j / kwh},
                  {"crah_fans_energy_kwh", s.crah_fans_energy_j / kwh},
                  {"heat_rejection_fans_energy_kwh", s.sink_fans_energy_j / kwh},
                  {"heat_rejected_kwh", s.heat_rejected_j / kwh},
                  {"loop_stored_kwh", s.loop_stored_j / kwh},
                  {"water_m3", s.water_l / 1e3},
                  {"economizer_hours", s.economizer_hours},
                  {"partial_economizer_hours", s.partial_economizer_hours},
                  {"mechanical_hours", s.mechanical_hours},
                  {"liquid_loop_economizer_hours", s.liquid_loop_economizer_hours},
                  {"air_loop_economizer_hours", s.air_loop_economizer_hours},
                  {"unmet_cooling_hours", s.unmet_cooling_hours},
                  {"peak_unmet_cooling_kw", s.peak_unmet_cooling_w / 1e3},
                  {"server_inlet_outside_a1_recommended_hours", s.inlet_outside_recommended_hours},
                  {"server_inlet_outside_a1_allowable_hours", s.inlet_outside_allowable_hours},
                  {"throttled_gpu_hours", s.throttled_gpu_hours}};
  if (s.cdus > 0) {
    j["cooling"]["cdus"] = s.cdus;
    j["cooling"]["cdu_over_capacity_hours"] = s.cdu_over_capacity_hours;
    j["cooling"]["cdu_over_capacity_kwh"] = s.cdu_over_capacity_j / kwh;
  }
  j["peak_it_power_kw"] = s.peak_it_w / 1e3;
  j["peak_facility_power_kw"] = s.peak_facility_w / 1e3;
  j["peak_rack_power_kw"] = s.peak_rack_w / 1e3;
  j["mean_gpu_activity"] = s.mean_gpu_activity;
  j["energy_cost_usd"] = s.energy_cost_usd;
  j["carbon_t"] = s.carbon_kg / 1e3;
  j["grid_energy_kwh"] = s.grid_energy_j / kwh;
  j["peak_grid_power_kw"] = s.peak_grid_w / 1e3;
  j["grid_limit_exceeded_hours"] = s.grid_limit_exceeded_hours;
  if (s.has_storage) {
    j["on_site"] = {{"generation_energy_kwh", s.generation_energy_j / kwh},
                    {"peak_generation_kw", s.peak_generation_w / 1e3},
                    {"battery_discharge_kwh", s.battery_discharge_j / kwh},
                    {"battery_charge_kwh", s.battery_charge_j / kwh},
                    {"battery_soc_min", s.battery_soc_min},
                    {"battery_soc_max", s.battery_soc_max},
                    {"renewable_energy_kwh", s.renewable_energy_j / kwh},
                    {"curtailed_energy_kwh", s.curtailed_energy_j / kwh},
                    {"renewable_cost_usd", s.renewable_cost_usd},
                    {"generation_fuel_mmbtu", s.generation_fuel_j / kJoulesPerMmbtu},
                    {"generation_fuel_cost_usd", s.generation_fuel_cost_usd},
                    {"generation_carbon_t", s.generation_carbon_kg / 1e3},
                    {"total_energy_cost_usd", s.total_energy_cost_usd()},
                    {"total_carbon_t", (s.carbon_kg + s.generation_carbon_kg) / 1e3}};
  }
  ordered_json stages = ordered_json::array();
  for (size_t i = 0; i < s.stage_names.size(); ++i) {
    stages.push_back(
        {{"name", s.stage_names[i]}, {"loss_energy_kwh", s.stage_loss_energy_j[i] / kwh}});
  }
  j["power_stages"] = stages;
  ordered_json res = ordered_json::array();
  for (const ResourceUse& r : s.resources) {
    ordered_json e = {{"name", r.name}, {"kind", r.kind}, {"unit", r.unit}, {"peak", r.peak}};
    e["rating"] = r.rating > 0 ? ordered_json(r.rating) : ordered_json(nullptr);
    e["peak_utilization"] = r.rating > 0 ? ordered_json(r.utilization()) : ordered_json(nullptr);
    res.push_back(e);
  }
  j["resources"] = res;
  j["busiest_resource"] = s.resources.empty() || s.resources.front().rating <= 0
                              ? ordered_json(nullptr)
                              : ordered_json(s.resources.front().name);
  ordered_json jobs = ordered_json::array();
  const double facility_per_it = s.facility_per_it();
  for (const JobSummary& js : s.jobs) {
    const auto& e = js.estimate;
    ordered_json phases = ordered_json::array();
    for (const auto& p : e.phases) {
      phases.push_back({{"name", p.name},
                        {"duration_s", units::ToSeconds(p.duration)},
                        {"gpu_activity", p.activity}});
    }
    jobs.push_back({
        {"name", js.name},
        {"model", js.model},
        {"gpus", js.gpus},
        {"tp", js.tp},
        {"pp", js.pp},
        {"cp", js.cp},
        {"ep", js.ep},
        {"dp", js.dp},
        {"global_batch", js.global_batch},
        {"sequence_length", js.sequence_length},
        {"step_time_s", units::ToSeconds(e.step_time)},
        {"breakdown_s", BreakdownJson(e.breakdown)},
        {"step_time_under_power_limit_s", js.running_step_s},
        {"micro_batch", e.micro_batch},
        {"recompute", std::string(workload::RecomputeName(e.recompute))},
        {"memory_per_gpu_bytes", units::ToBytes(e.memory.Total())},
        {"model_flops_per_step", units::ToFlop(e.model_flops)},
        {"model_tflops_per_gpu", units::ToFlopPerSecond(e.model_flop_rate_per_gpu) / 1e12},
        {"mfu", e.mfu},
        {"running_s", js.running_s},
        {"steps_completed", js.steps_completed},
        {"tokens_trained", Count(js.tokens)},
        {"tokens_per_s", js.tokens_per_s},
        {"average_tokens_per_s", js.average_tokens_per_s},
        {"network_factor_min", js.network_factor_min},
        {"exposed_comm_share", js.exposed_comm_share},
        {"step_time_max_s", js.step_time_max_s},
        {"gpu_temperature_peak_c", js.chip_peak_c},
        {"throttled_gpu_hours", js.throttled_gpu_hours},
        {"thermal_shutdown", js.thermal_shutdown},
        {"checkpoints", js.checkpoints},
        {"checkpoint_time_s", js.checkpoint_time_s},
        {"checkpoints_skipped", js.checkpoints_skipped},
        {"it_energy_kwh", js.it_energy_j / kwh},
        {"it_energy_per_token_j",
         js.tokens > 0 ? ordered_json(js.it_energy_j / js.tokens) : ordered_json(nullptr)},
        {"facility_energy_per_token_j",
         js.tokens > 0 ? ordered_json(js.it_energy_j * facility_per_it / js.tokens)
                       : ordered_json(nullptr)},
        {"phases", phases},
    });
  }
  j["jobs"] = jobs;
  j["services"] = ServicesJson(s);
  ordered_json faults = ordered_json::array();
  for (const FaultImpact& f : s.faults) {
    ordered_json touched = ordered_json::array();
    for (const auto& jb : f.jobs) {
      touched.push_back({{"name", jb.name},
                         {"step_time_before_s", jb.step_time_before_s},
                         {"step_time_during_s", jb.step_time_during_s},
                         {"slowdown", jb.step_time_during_s / jb.step_time_before_s}});
    }
    faults.push_back({{"target", f.target},
                      {"at_s", f.at_s},
                      {"end_s", f.end_s},
                      {"bandwidth_kept", f.bandwidth},
                      {"jobs_affected", touched}});
  }
  j["faults"] = faults;
  ordered_json hot = ordered_json::array();
  for (const HotLink& h : s.hottest_links) {
    hot.push_back({{"link", h.name}, {"peak_utilization", h.utilization}, {"at_s", h.at_s}});
  }
  j["hottest_links"] = hot;
  {
    const site::PowerEvents& pe = s.power_events;
    j["power_protection"] = {
        {"gpu_power_limit_changes", pe.limit_changes},
        {"gpu_power_limit_min_w", pe.limit_min_w},
        {"gpu_power_limited_hours", pe.limited_s / 3600},
        {"limiting_stage",
         pe.limiting_stage.empty() ? ordered_json(nullptr) : ordered_json(pe.limiting_stage)},
        {"tripped_stage",
         pe.tripped_stage.empty() ? ordered_json(nullptr) : ordered_json(pe.tripped_stage)},
        {"tripped_at_s",
         pe.tripped_stage.empty() ? ordered_json(nullptr) : ordered_json(pe.tripped_at.seconds())}};
  }
  if (s.swings) {
    const SwingReport& w = *s.swings;
    ordered_json variants = ordered_json::array();
    for (const SwingVariant& v : w.variants) {
      ordered_json o = {{"name", v.name},
                        {"swing_mw", v.metrics.swing_w / 1e6},
                        {"peak_mw", v.metrics.peak_w / 1e6},
                        {"trough_mw", v.metrics.trough_w / 1e6},
                        {"max_ramp_mw_per_s", v.metrics.max_ramp_w_per_s / 1e6},
                        {"band_energy_share", v.metrics.band_share},
                        {"band_peak_hz", v.metrics.band_peak_hz},
                        {"band_peak_amplitude_mw", v.metrics.band_amplitude_w / 1e6},
                        {"mean_mw", v.metrics.mean_w / 1e6},
                        {"extra_energy_kwh", v.extra_energy_j / kwh},
                        {"deferred_gpu_energy_kwh", v.deferred_energy_j / kwh}};
      if (v.name == "battery" || (v.name == "all" && v.battery_max_soc > 0)) {
        o["battery_soc_min"] = v.battery_min_soc;
        o["battery_soc_max"] = v.battery_max_soc;
      }
      variants.push_back(o);
    }
    j["power_swings"] = {{"start_s", w.start_s},
                         {"duration_s", w.duration_s},
                         {"resolution_s", w.resolution_s},
                         {"band_hz", {w.band_low_hz, w.band_high_hz}},
                         {"variants", variants}};
  }
  j["nvlink_peak_utilization"] = s.nvlink_peak_utilization;
  if (const auto& e = s.fabric_equipment) {
    const network::FabricInventory& inv = e->inventory;
    j["network"] = {
        {"technology", network::TransportKey(e->transport)},
        {"topology",
         e->topology == network::FabricTopology::kRailOnly ? "rail_only" : "rail_optimized"},
        {"switch", e->switch_name},
        {"optics", network::OpticsKey(e->optics)},
        {"port_gbps", ToBytesPerSecond(e->port) * 8 / 1e9},
        {"leaf_switches", inv.leaves},
        {"spine_switches", inv.spines},
        {"super_spine_switches", inv.super_spines},
        {"switch_ports_in_use", inv.ports()},
        {"switch_power_kw", ToWatts(e->switches_power) / 1e3},
        {"optics_power_kw", ToWatts(e->optics_power) / 1e3},
        {"network_power_kw", ToWatts(e->total()) / 1e3},
        {"network_power_per_gpu_w", ToWatts(e->total()) / std::max(1, s.gpu_count)}};
  }
  if (s.torus) {
    j["torus"] = {{"dims", s.torus->dims},
                  {"links_per_chip", s.torus->links_per_chip},
                  {"link_bytes_per_s", s.torus->link_bytes_per_s},
                  {"allreduce_busbw_bytes_per_s", s.torus->allreduce_busbw_bytes_per_s},
                  {"bisection_bytes_per_s", s.torus->bisection_bytes_per_s},
                  {"twisted", s.torus->twisted}};
  }
  j["engine"] = {{"ticks", s.ticks},
                 {"windows", s.engine.windows},
                 {"skipped_ticks", s.engine.skipped_ticks},
                 {"events", s.engine.events}};
  if (s.life) {
    j["scheduler"] = SchedulerJson(*s.life);
    j["goodput"] = GoodputJson(*s.life);
    j["restarts"] = RestartRampsJson(s.life->restarts);
  }
  if (s.flexibility) j["flexibility"] = FlexibilityJson(*s.flexibility);
  if (!s.warnings.empty()) j["warnings"] = s.warnings;  // absent when there are none
  txt::DropNegativeZero(j);
  return j;
}

namespace {
// "TTFT p50 0.123 s p90 0.456 s", the percentiles `which` of `p` x `scale` in `unit` with
// `decimals`; "TTFT none" when no request gave a value.
std::string LatencyText(
    std::string_view name, const workload::Percentiles& p,
    std::initializer_list<std::pair<const char*, double workload::Percentiles::*>> which,
    double scale, int decimals, std::string_view unit) {
  std::string t(name);
  if (p.count <= 0) return t + " none";
  for (const auto& [label, field] : which) {
    t += txt::format(" {} {} {}", label, txt::fixed(scale * (p.*field), decimals), unit);
  }
  return t;
}

void ServicesText(const Summary& s, std::string& t) {
  auto out = std::back_inserter(t);
  for (const ServiceSummary& sv : s.services) {
    const workload::ServingResult& r = sv.result;
    txt::format_to(out, "service {}: {} on {} ({}, tp {} x pp {}, ep {}), router {}", sv.name,
                   sv.model, Counted(sv.gpus, "GPU"), Counted(sv.replicas, "replica"), sv.tp, sv.pp,
                   sv.ep, sv.router);
    if (sv.setup.replica.two_batch_overlap) t += ", two-batch overlap";
    if (r.scale > 1) {
      txt::format_to(out, ", {} replicas simulated", r.replicas_simulated);
    }
    txt::format_to(out,
                   "\n  {:.0f} requests, {:.0f} finished ({:.0f} unfinished), {:.2f} req/s, "
                   "{:.0f} output tokens/s\n",
                   r.requests, r.completed, r.unfinished, r.throughput_rps, r.output_tokens_per_s);
    using P = workload::Percentiles;
    txt::format_to(out, "  {}; {}; {}; {}\n",
                   LatencyText("TTFT", r.ttft,
                               {{"p50", &P::p50}, {"p90", &P::p90}, {"p99", &P::p99}}, 1, 3, "s"),
                   LatencyText("ITL", r.itl, {{"p50", &P::p50}, {"p99", &P::p99}}, 1e3, 1, "ms"),
                   LatencyText("E2E", r.e2e, {{"p50", &P::p50}, {"p99", &P::p99}}, 1, 2, "s"),
                   LatencyText("queue", r.queue, {{"p99", &P::p99}}, 1, 3, "s"));
    txt::format_to(
        out, "  SLO (TTFT <= {:g} s, TPOT <= {:g} ms): {} attained, goodput {:.2f} req/s\n",
        sv.setup.slo.ttft_s, 1e3 * sv.setup.slo.tpot_s,
        r.completed > 0 ? txt::format("{:.1f}%", 100 * r.slo_attainment) : std::string("none"),
        r.goodput_rps);
    txt::format_to(out,
                   "  KV cache {:.0f} tokens per replica, {:.0f}% used on average ({:.0f}% peak), "
                   "{:.0f} preemptions, prefix hits {} of prompt tokens\n",
                   r.kv_capacity_tokens, 100 * r.kv_use_mean, 100 * r.kv_use_peak, r.preemptions,
                   r.prompt_tokens > 0
                       ? txt::format("{:.1f}%", 100 * r.prefix_hit_tokens / r.prompt_tokens)
                       : std::string("none"));
    // A phase no replica spent time in, and energy per token without tokens, have no value.
    const double gpr = static_cast<double>(sv.gpus) / sv.replicas;
    auto per_gpu = [&](const workload::PhaseEnergy& p) {
      return p.replica_s > 0 ? txt::format("{:.0f} W", p.replica_watts() / gpr)
                             : std::string("none");
    };
    auto per_token = [&](double factor) {
      return r.output_tokens > 0 ? txt::format("{:.3f} J", r.energy_per_output_token_j * factor)
                                 : std::string("none");
    };
    txt::format_to(out,
                   "  GPU power per GPU: prefill {}, decode {}, mixed {}, idle {}; {:.1f} kWh, {} "
                   "per output token (GPU), {} (facility)\n",
                   per_gpu(r.prefill), per_gpu(r.decode), per_gpu(r.mixed), per_gpu(r.idle),
                   r.gpu_energy_j / 3.6e6, per_token(1.0), per_token(s.facility_per_it()));
    if (sv.setup.autoscale.enabled) {
      txt::format_to(out, "  autoscaling: {:.1f} replica-hours, peak {} replicas, {} changes\n",
                     r.replica_hours, r.replicas_peak, r.scale_events);
    }
    const workload::Speculation& sp = sv.setup.replica.speculation;
    if (sp.enabled()) {
      txt::format_to(out,
                     "  speculative decoding: {}, {} draft token{}, acceptance {:g}: {:.3f} "
                     "tokens per step\n",
                     workload::SpeculationMethodName(sp.method), sp.draft_tokens,
                     sp.draft_tokens == 1 ? "" : "s", sp.acceptance,
                     workload::ExpectedTokensPerStep(sp.acceptance, sp.draft_tokens));
    }
    if (sv.setup.engine.offload_bytes > 0) {
      txt::format_to(out,
                     "  KV offload tier {:.0f} GB per replica: {:.0f} prompt tokens read "
                     "back ({:.1f} GB) instead of recomputed\n",
                     sv.setup.engine.offload_bytes / 1e9, r.offload_hit_tokens,
                     r.offload_read_bytes / 1e9);
    }
    if (sv.setup.pd.prefill_replicas > 0) {
      txt::format_to(
          out,
          "  disaggregated: {} prefill replicas, {:.1f} GB of KV moved over {} at {:.0f} "
          "GB/s a GPU\n",
          sv.setup.pd.prefill_replicas, r.kv_transfer_bytes / 1e9,
          sv.setup.pd.over_nvlink ? "NVLink" : "the NICs", sv.setup.pd.link_bytes_per_s / 1e9);
      if (r.kv_transfers_slowed > 0) {
        txt::format_to(out,
                       "  link faults slowed {:.0f} KV transfers, those that arrived by {:.3f} s "
                       "in all; {:.0f} did not arrive by the run's end\n",
                       r.kv_transfers_slowed, r.kv_fault_delay_s, r.kv_transfers_lost);
      }
    }
    const size_t k = static_cast<size_t>(&sv - s.services.data());
    if (k < s.service_pools.size()) {
      const site::ServicePoolStats& p = s.service_pools[k];
      txt::format_to(out,
                     "  pool (priority {}): {:.2f} of {:.2f} wanted replica-hours granted, short "
                     "{:.2f} replica-h over {:.0f} s; {} replica starts, {} replica failures; "
                     "caused {} preemptions losing {:.2f} GPU-h of jobs' work (latencies assume "
                     "the wanted replicas)\n",
                     p.priority, p.granted_replica_h, p.wanted_replica_h, p.shortfall_replica_h,
                     p.short_s, p.replica_starts, p.replica_failures, p.preemptions_caused,
                     p.preempted_lost_gpu_h);
      if (p.with_granted) {
        const workload::ServingResult& g = *p.with_granted;
        txt::format_to(
            out,
            "  with the granted replicas: {:.0f} requests finished ({:.0f} unfinished); {}; {}\n",
            g.completed, g.unfinished,
            LatencyText("TTFT", g.ttft, {{"p50", &P::p50}, {"p99", &P::p99}}, 1, 3, "s"),
            g.completed > 0 ? txt::format("SLO {:.1f}% attained", 100 * g.slo_attainment)
                            : std::string("SLO none attained"));
      }
    }
  }
}
}  // namespace

std::string ReadableDuration(double seconds) {
  const double a = std::abs(seconds);
  auto num = [](double v) {
    std::string t = txt::format("{:.2f}", v);
    while (t.back() == '0') t.pop_back();
    if (t.back() == '.') t.pop_back();
    return t;
  };
  if (a >= 2 * 86400 && std::fmod(a, 86400) == 0) return num(seconds / 86400) + " d";
  if (a >= 3600) return num(seconds / 3600) + " h";
  if (a >= 60) return num(seconds / 60) + " min";
  if (a >= 1 || a == 0) return num(seconds) + " s";
  return num(seconds * 1e3) + " ms";
}

std::string SummaryText(const Summary& s) {
  std::string t;
  auto out = std::back_inserter(t);
  txt::format_to(out, "firstwall: {}  ({} x {}, {} in {})\n", s.site, s.gpu_count, s.gpu,
                 Counted(s.nodes, "node"), Counted(s.racks, "rack"));
  txt::format_to(out, "simulated {} at a {} tick, seed {}\n\n", ReadableDuration(s.sim_time_s),
                 ReadableDuration(s.tick_s), s.seed);
  for (const JobSummary& js : s.jobs) {
    const auto& e = js.estimate;
    txt::format_to(out, "job {}: {} on {} (tp {} x pp {} x cp {} x dp {}, ep {})\n", js.name,
                   js.model, Counted(js.gpus, "GPU"), js.tp, js.pp, js.cp, js.dp, js.ep);
    if (js.thermal_shutdown) {
      txt::format_to(out,
                     "  STOPPED: its GPUs reached their shutdown temperature (peak {:.0f} C); "
                     "check the coolant supply and the chip-to-coolant resistance\n",
                     js.chip_peak_c);
    }
    const auto& b = e.breakdown;
    txt::format_to(out,
                   "  step {:.3f} s (compute {:.3f}, tp {:.3f}, pp bubble {:.3f}, pp p2p {:.3f}, "
                   "dp {:.3f}, cp {:.3f}, ep {:.3f}, optimizer {:.3f}), MFU {:.1f}%, {:.0f} "
                   "TFLOP/s per GPU\n",
                   units::ToSeconds(e.step_time), units::ToSeconds(b.compute),
                   units::ToSeconds(b.tp_comm), units::ToSeconds(b.pp_bubble),
                   units::ToSeconds(b.pp_p2p), units::ToSeconds(b.dp_comm_exposed),
                   units::ToSeconds(b.cp_comm), units::ToSeconds(b.ep_comm),
                   units::ToSeconds(b.optimizer), 100 * e.mfu,
                   units::ToFlopPerSecond(e.model_flop_rate_per_gpu) / 1e12);
    if (js.running_step_s > units::ToSeconds(e.step_time) * (1 + 1e-9)) {
      txt::format_to(out, "  under the GPUs' power limit: step {:.3f} s (x{:.3f})\n",
                     js.running_step_s, js.running_step_s / units::ToSeconds(e.step_time));
    }
    txt::format_to(out, "  micro-batch {}, recompute {}, memory {} per GPU\n", e.micro_batch,
                   workload::RecomputeName(e.recompute), units::Readable(e.memory.Total()));
    txt::format_to(out, "  {} steps, {:.3g} tokens, {:.0f} tokens/s, IT energy {}",
                   js.steps_completed, js.tokens, js.tokens_per_s, Energy(js.it_energy_j));
    if (js.tokens > 0) {
      txt::format_to(out, ", {:.3f} J/token IT, {:.3f} J/token facility",
                     js.it_energy_j / js.tokens, js.it_energy_j * s.facility_per_it() / js.tokens);
    }
    t += "\n";
  }
  ServicesText(s, t);
  for (const FaultImpact& f : s.faults) {
    txt::format_to(out, "\nfault {} from {:.2f} h to {:.2f} h ({:.0f}% of its bandwidth kept): ",
                   f.target, f.at_s / 3600, f.end_s / 3600, 100 * f.bandwidth);
    if (f.jobs.empty()) t += "no job slowed";
    for (size_t i = 0; i < f.jobs.size(); ++i) {
      txt::format_to(out, "{}{} step {:.3f} s -> {:.3f} s (x{:.2f})", i ? ", " : "", f.jobs[i].name,
                     f.jobs[i].step_time_before_s, f.jobs[i].step_time_during_s,
                     f.jobs[i].step_time_during_s / f.jobs[i].step_time_before_s);
    }
  }
  if (!s.faults.empty()) t += "\n";
  txt::format_to(out,
                 "\nenergy: facility {} = IT load {} (GPUs {}, rest of nodes {}) + conversion "
                 "losses {} + cooling {}\n",
                 Energy(s.facility_energy_j), Energy(s.it_energy_j), Energy(s.gpu_energy_j),
                 Energy(s.node_base_energy_j), Energy(s.loss_energy_j), Energy(s.cooling_energy_j));
  txt::format_to(out,
                 "PUE {:.3f} = facility / IT at the IT equipment's input ({}: the IT load and "
                 "the losses of the stages inside the IT equipment)\n",
                 s.pue(), Energy(s.it_input_energy_j));
  txt::format_to(
      out, "peak IT {}, peak facility {}, mean GPU activity {:.2f}, energy cost {} USD{}\n",
      txt::power(s.peak_it_w), txt::power(s.peak_facility_w), std::max(0.0, s.mean_gpu_activity),
      txt::fixed(s.energy_cost_usd, s.energy_cost_usd < 100 ? 2 : 0),
      s.carbon_kg > 0 ? ", " + Carbon(s.carbon_kg) : "");
  if (s.has_storage) {
    txt::format_to(out,
                   "on site: renewables {} (curtailed {}, PPA {} USD), generation {} (fuel {} "
                   "USD, {:.1f} t CO2), battery out {} / in {}; all energy {} USD, {:.1f} t CO2\n",
                   Energy(s.renewable_energy_j), Energy(s.curtailed_energy_j),
                   txt::fixed(s.renewable_cost_usd, 0), Energy(s.generation_energy_j),
                   txt::fixed(s.generation_fuel_cost_usd, 0), s.generation_carbon_kg / 1e3,
                   Energy(s.battery_discharge_j), Energy(s.battery_charge_j),
                   txt::fixed(s.total_energy_cost_usd(), 0),
                   (s.carbon_kg + s.generation_carbon_kg) / 1e3);
  }
  // Whole hours, but a short run's fraction of an hour is not printed as 0.
  const auto hours = [](double h) {
    return h > 0 && h < 10 ? txt::format("{:.2f}", h) : txt::format("{:.0f}", h);
  };
  txt::format_to(out,
                 "cooling: chillers {}, pumps {}, fans {}; economizer {} h, partial {} h, "
                 "mechanical {} h; water {}, WUE {:.3f} L/kWh\n",
                 Energy(s.chillers_energy_j), Energy(s.pumps_energy_j),
                 Energy(s.crah_fans_energy_j + s.sink_fans_energy_j), hours(s.economizer_hours),
                 hours(s.partial_economizer_hours), hours(s.mechanical_hours), Water(s.water_l),
                 s.wue_l_per_kwh());
  if (s.throttled_gpu_hours > 0) {
    txt::format_to(out, "GPUs thermally throttled for {:.1f} GPU-hours\n", s.throttled_gpu_hours);
  }
  if (s.inlet_outside_allowable_hours > 0) {
    txt::format_to(out, "server inlet air outside ASHRAE A1 allowable (15-32 C) for {:.1f} h\n",
                   s.inlet_outside_allowable_hours);
  }
  if (s.unmet_cooling_hours > 0) {
    txt::format_to(out, "cooling short of the load for {:.1f} h, up to {}\n", s.unmet_cooling_hours,
                   txt::power(s.peak_unmet_cooling_w, 0));
  }
  if (s.cdu_over_capacity_hours > 0) {
    txt::format_to(out, "a CDU above its capacity for {:.2f} h, {:.1f} kWh over in all\n",
                   s.cdu_over_capacity_hours, s.cdu_over_capacity_j / 3.6e6);
  }
  if (s.power_events.limit_changes > 0) {
    txt::format_to(
        out,
        "power chain: stage '{}' over its rating lowered the GPU power limit to {:.0f} W "
        "({} changes, {:.2f} h limited)\n",
        s.power_events.limiting_stage, s.power_events.limit_min_w, s.power_events.limit_changes,
        s.power_events.limited_s / 3600);
  }
  if (s.power_events.static_cap_s > 0) {
    txt::format_to(out,
                   "GPU power cap below the running jobs' demand for {:.2f} h (steps stretched)\n",
                   s.power_events.static_cap_s / 3600);
  }
  if (!s.power_events.tripped_stage.empty()) {
    txt::format_to(out,
                   "power chain: stage '{}' TRIPPED at {:.2f} h; everything behind it stopped\n",
                   s.power_events.tripped_stage, s.power_events.tripped_at.seconds() / 3600);
  }
  if (s.life) t += LifeText(*s.life) + RestartRampsText(s.life->restarts);
  if (s.flexibility) t += FlexibilityText(*s.flexibility);
  if (s.swings) {
    txt::format_to(out,
                   "\npower swings, {:.0f} s from {:.2f} h at {:.0f} ms (facility; band {:g}-{:g} "
                   "Hz):\n",
                   s.swings->duration_s, s.swings->start_s / 3600, s.swings->resolution_s * 1e3,
                   s.swings->band_low_hz, s.swings->band_high_hz);
    for (const SwingVariant& v : s.swings->variants) {
      txt::format_to(out,
                     "  {:<16} swing {}, max ramp {}, {:.0f}% in band (peak {:.2f} Hz, {}), "
                     "extra {:.2f} kWh\n",
                     v.name, txt::power(v.metrics.swing_w),
                     txt::power(v.metrics.max_ramp_w_per_s, 1, "/s"), 100 * v.metrics.band_share,
                     v.metrics.band_peak_hz, txt::power(v.metrics.band_amplitude_w),
                     v.extra_energy_j / 3.6e6);
    }
  }
  if (const auto& e = s.fabric_equipment) {
    const network::FabricInventory& inv = e->inventory;
    txt::format_to(
        out,
        "\nnetwork: {} {}, {} ({} leaves, {} spines, {} super-spines; {} ports at "
        "{:.0f} Gb/s, {} optics): {} ({} switches, {} optics), {:.0f} W a GPU, in the "
        "IT load\n",
        network::TransportName(e->transport),
        e->topology == network::FabricTopology::kRailOnly ? "rail-only" : "rail-optimized",
        e->switch_name, inv.leaves, inv.spines, inv.super_spines, inv.ports(),
        ToBytesPerSecond(e->port) * 8 / 1e9, network::OpticsKey(e->optics),
        txt::power(ToWatts(e->total())), txt::power(ToWatts(e->switches_power)),
        txt::power(ToWatts(e->optics_power)), ToWatts(e->total()) / std::max(1, s.gpu_count));
  } else if (!s.torus) {
    t += "\nnetwork: switches not counted in the IT load (no cluster.fabric.technology)\n";
  }
  if (s.torus) {
    txt::format_to(out,
                   "\nfabric: ICI torus {}{} ({} links a chip, {:.0f} GB/s each way), nominal "
                   "all-reduce bus bandwidth {:.1f} TB/s, bisection {:.1f} TB/s; busiest chip's "
                   "ports {:.1f}% (the NICs and Clos carry nothing)\n",
                   hardware::TorusDimsText(s.torus->dims), s.torus->twisted ? " twisted" : "",
                   s.torus->links_per_chip, s.torus->link_bytes_per_s / 1e9,
                   s.torus->allreduce_busbw_bytes_per_s / 1e12,
                   s.torus->bisection_bytes_per_s / 1e12, 100 * s.nvlink_peak_utilization);
  }
  t += "\nresources by peak load against rating (busiest first):\n";
  for (const ResourceUse& r : s.resources) {
    // A power row (kW in summary.json) in the summary's power unit, the larger of its peak and
    // rating choosing it, so the two read in one unit.
    double scale = 1;
    std::string unit = r.unit;
    if (unit.rfind("kW", 0) == 0) {
      const txt::PowerUnit u = txt::PowerUnitFor(1e3 * std::max(std::abs(r.peak), r.rating));
      scale = 1e3 / u.watts;
      unit.replace(0, 2, u.symbol);
    }
    if (r.rating > 0) {
      txt::format_to(out, "  {:<16} {:>6.1f}%  peak {:.1f} of {:.1f} {}\n", r.name,
                     100 * r.utilization(), scale * r.peak, scale * r.rating, unit);
    } else {
      txt::format_to(out, "  {:<16}    n/a   peak {:.1f} {} (no rating given)\n", r.name,
                     scale * r.peak, unit);
    }
  }
  if (!s.warnings.empty()) t += "\n";
  for (const std::string& w : s.warnings) t += "warning: " + w + "\n";
  return t;
}

}  // namespace firstwall::report

// The emulator's telemetry, in process, into an SQLite store as `firstwall ingest` with a site map
// binding it would put it (tests/inputs/anomaly-site-map.yaml binds the same series): for the
// anomaly detector's tests and benchmark.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "live/emulator.h"
#include "live/gpu_rollup.h"
#include "live/quality_windows.h"
#include "live/store.h"
#include "report/simulate.h"
#include "scenario/loader.h"

namespace firstwall::ops {

inline std::string LabelOf(const std::vector<live::Label>& labels, const std::string& name) {
  for (const live::Label& l : labels) {
    if (l.name == name) return l.value;
  }
  return "";
}

// entity, id, quantity, unit of a reading; entity "" when not stored.
inline live::SeriesKey KeyOf(const live::Family& f, const live::Reading& r) {
  const std::string gpu = LabelOf(r.labels, "Hostname") + "/gpu" + LabelOf(r.labels, "gpu");
  static const std::map<std::string, std::vector<std::string>> kFixed = {
      {"DCGM_FI_DEV_POWER_USAGE", {"gpu", "", "power", "W"}},
      {"DCGM_FI_DEV_GPU_TEMP", {"gpu", "", "temperature", "C"}},
      {"DCGM_FI_DEV_GPU_UTIL", {"gpu", "", "utilization", "%"}},
      {"firstwall_facility_power_watts", {"facility", "site", "power", "W"}},
      {"firstwall_it_input_power_watts", {"meter", "it-input", "power", "W"}},
      {"firstwall_cooling_power_watts", {"meter", "cooling", "power", "W"}},
      {"firstwall_chiller_power_watts", {"chiller", "chiller", "power", "W"}},
      {"firstwall_outdoor_temperature_celsius", {"weather_station", "outdoor", "temperature", "C"}},
      {"firstwall_rack_pdu_power_watts", {"pdu", "", "power", "W"}},
      {"firstwall_rack_pdu_energy_joules_total", {"pdu", "", "energy", "J"}},
      {"firstwall_cdu_supply_temperature_celsius", {"cdu", "", "temperature", "C"}},
      {"node_infiniband_rate_bytes_per_second", {"nic", "", "link_rate", "Gb/s"}},
  };
  const auto it = kFixed.find(f.metric);
  if (it == kFixed.end()) return {};
  std::string id = it->second[1];
  if (id.empty()) {
    id = it->second[0] == "gpu"   ? gpu
         : it->second[0] == "pdu" ? LabelOf(r.labels, "rack")
         : it->second[0] == "nic"
             ? LabelOf(r.labels, "Hostname") + "/" + LabelOf(r.labels, "device")
             : LabelOf(r.labels, "cdu");
  }
  return {it->second[0], id, it->second[2], it->second[3], "emulator", f.metric};
}

struct EmulatedStore {
  std::unique_ptr<live::Store> store;
  int64_t epoch0_ms = 0;
  int64_t samples = 0;
};

// What `firstwall ingest` keeps besides the samples, with its defaults: quality windows of 60 s
// (quality_windows.h, without the site map's balances) and the GPU rollup at the tick
// (gpu_rollup.h). Off by default: the detector's tests read samples only.
struct IngestKeeps {
  bool quality_windows = false;
  bool gpu_rollup = false;
};

// Simulates `config` (its duration) and stores every tick's readings, as rendered (rounded as
// dcgm-exporter prints them), stamped epoch0_ms + t. `after_tick`, when set, is called once each
// tick is stored and committed, with its time and the emulator (what an operator does meanwhile).
inline EmulatedStore EmulateIntoStore(
    const site::SiteConfig& config, const std::string& file,
    const std::vector<live::FaultSpec>& faults, const std::string& path,
    const std::function<void(double t_s, live::TelemetryBuilder&)>& after_tick = nullptr,
    IngestKeeps keeps = {}) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::filesystem::remove(path);
  EmulatedStore out{live::OpenSqliteStore(path), 1'800'000'000'000, 0};
  live::TelemetryBuilder builder(config, faults);
  std::map<std::string, int64_t> ids;
  std::map<int64_t, int> rollup_slots;  // by series id: the GPU's slot, or -1
  std::optional<live::QualityWindows> windows;
  if (keeps.quality_windows) windows.emplace(*out.store, 60.0, std::vector<live::Balance>{});
  std::optional<live::GpuRollup> rollup;
  report::SimulateOptions sim;
  sim.on_tick = [&](const report::TickRow& row, int64_t n) {
    if (keeps.gpu_rollup && !rollup) {
      // As ingest sets it: one bucket per read, closed a read, a bucket and 10 s after its end.
      rollup.emplace(*out.store, row.seconds, 2 * row.seconds + 10);
    }
    for (int64_t k = 0; k < n; ++k) {
      const double t = row.start.seconds() + static_cast<double>(k + 1) * row.seconds;
      const int64_t t_ms = out.epoch0_ms + std::llround(t * 1000);
      if (windows) windows->AddRead("emulator", t_ms, true, 0);
      if (rollup) rollup->AddRead(t_ms);
      const live::Snapshot s = builder.Build(row, t);
      for (const live::Family& f : s.families) {
        const double scale = std::pow(10.0, f.decimals);
        for (const live::Reading& r : f.readings) {
          const live::SeriesKey key = KeyOf(f, r);
          if (key.entity.empty()) continue;
          const std::string name = key.entity + "/" + key.entity_id + "/" + key.quantity;
          auto it = ids.find(name);
          if (it == ids.end()) {
            it = ids.emplace(name, out.store->SeriesId(key)).first;
            if (windows) windows->AddSeries({it->second, key}, row.seconds);
            if (rollup) rollup_slots[it->second] = rollup->AddSeries(it->second, key);
          }
          // Stored in the quantity's base unit, as ingest does (the NICs' B/s in Gb/s).
          const double base = key.entity == "nic" ? 8e-9 : 1;
          const live::SamplePoint p{t_ms, base * std::round(r.value * scale) / scale, 0};
          out.store->Append(it->second, std::span(&p, 1));
          if (windows) windows->AddSample(it->second, p);
          if (rollup) {
            if (const int slot = rollup_slots[it->second]; slot >= 0) rollup->AddSample(slot, p);
          }
          ++out.samples;
        }
      }
      if (after_tick) {
        out.store->Flush();
        after_tick(t, builder);
      }
    }
    out.store->Flush();
  };
  report::Simulate(live::WithEquipmentFaults(config, faults), file, sim);
  if (windows) windows->Finish();
  if (rollup) rollup->Finish();
  out.store->Flush();
  return out;
}

// Five equipment faults of tests/inputs/anomaly-hall.yaml at once, all from 30 min: a slow GPU,
// a fouled CDU, a stuck chiller, a drifting PDU and a NIC at half its rate.
inline std::vector<std::string> FiveFaults() {
  return {
      "slow_gpu=0.8:DCGM_FI_DEV_POWER_USAGE{Hostname=\"node2\",gpu=\"5\"}:30min:2h",
      "fouled_cdu=3:firstwall_cdu_supply_temperature_celsius{cdu=\"cdu-1\"}:30min:2h",
      "chiller_stuck:firstwall_chiller_power_watts:30min:2h",
      "pdu_drift=5:firstwall_rack_pdu_power_watts{rack=\"rack3\"}:30min:2h",
      "degraded_nic=0.5:node_infiniband_rate_bytes_per_second{Hostname=\"node1\","
      "device=\"mlx5_0\"}:30min:2h",
  };
}

}  // namespace firstwall::ops

// `firstwall emulate`: a scenario's site as live telemetry. The simulation runs paced against the
// wall clock (`speed` times faster) and its current state is rendered, tick by tick, as a
// Prometheus text exposition with dcgm-exporter's field names and units plus facility meters
// (docs/live.md, "Emulated metrics"), with faults injected into chosen streams over time windows.
//
// Per-GPU figures: the simulation's tick rows carry cluster totals and means, not each GPU, so
// every GPU reports the cluster's mean per-GPU power, activity and GPU coolant temperature (the die
// runs hotter than its coolant: DCGM_FI_DEV_GPU_TEMP is the coolant figure here). A later slice
// can read per-job node power (TickRow::job_it_w) and chip temperatures from the site. So that
// streams differ as real ones do (and a stuck one can be told from its siblings), each GPU's power
// carries a deterministic +-2 % jitter per GPU and tick (not a model of anything; the mean over the
// GPUs stays the simulation's within the jitter), and its energy counter integrates that power.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "live/prometheus_text.h"
#include "report/tick_series.h"
#include "site/site_config.h"
#include "thermal/cooling_plant.h"

namespace firstwall::live {

// A fault in one or more streams over [from_s, to_s) of simulated time.
struct FaultSpec {
  enum class Kind {
    kDropout,
    kStuck,
    kSpike,
    kUnitChange,
    kCounterReset,
    kClockSkew,  // amount: seconds the stream's clock runs ahead (negative: behind)
    kLate,       // amount: seconds each sample arrives after its time
    kDuplicate,  // each sample is served again with the next tick's
    kCtRatio,    // amount: the factor a wrongly set current transformer ratio scales readings by
    // Equipment faults (docs/live.md, "Faults"): what the equipment does changes, not only a
    // reading.
    kSlowGpu,       // amount: the fraction of its clock a matched GPU runs at, in (0, 1)
    kFouledCdu,     // amount: kelvin the CDU's approach (its supply and its GPUs' coolant) rises by
    kChillerStuck,  // the chillers' electricity held at its value at FROM
    kPduDrift,      // amount: percent per hour a rack PDU's power reading drifts by from FROM
    kDegradedNic,   // amount: the fraction of its rate a matched NIC's link keeps, in (0, 1)
  };
  bool equipment() const;
  Kind kind = Kind::kDropout;
  double amount = 0;
  std::string metric;        // the target's metric name
  std::vector<Label> match;  // and labels, each of which must equal the sample's
  double from_s = 0, to_s = 0;
  std::string text;  // as given
  bool Matches(std::string_view metric_name, const std::vector<Label>& labels) const;
};

// KIND:TARGET:FROM:TO, KIND one of dropout, stuck, spike, unit_change, counter_reset, duplicate,
// clock_skew=DURATION, late=DURATION, ct_ratio=FACTOR, or an equipment fault: slow_gpu=FACTOR
// (TARGET a DCGM_FI_DEV_* stream: its GPUs), fouled_cdu=KELVIN (firstwall_cdu_supply_temperature_
// celsius{cdu=...}), chiller_stuck (firstwall_chiller_power_watts), pdu_drift=PERCENT_PER_HOUR
// (firstwall_rack_pdu_power_watts{rack=...}), degraded_nic=FRACTION (node_infiniband_rate_bytes_
// per_second{Hostname=...,device=...}: those NICs); TARGET a metric name with optional label
// matchers (DCGM_FI_DEV_POWER_USAGE{gpu="3",Hostname="node0"}); FROM and TO simulated times with a
// unit ("30s", "1 min"). InputError naming `option` otherwise.
FaultSpec ParseFault(const std::string& text, const std::string& option = "--fault");
std::string FaultKinds();
// The site as the equipment faults make it: each NIC a degraded_nic fault matches (device mlx5_G
// of node N is GPU N x gpus_per_node + G's NIC, fabric target nic:...) keeps `amount` of its
// bandwidth over the fault's window, as a scenario's `faults` entry would, so the jobs whose
// traffic crosses it step slower (lower GPU activity and power). Other faults leave the site as it
// is. Only plane 0 of a multi-plane fabric's NIC (cluster.fabric.planes) is degraded. InputError
// (at "--fault") for a degraded_nic on a torus fabric, which has no NICs in the model yet.
site::SiteConfig WithEquipmentFaults(const site::SiteConfig& config,
                                     const std::vector<FaultSpec>& faults);
// InputError (at "--fault") for a fault that cannot fire on this site (a degraded_nic on a torus,
// as WithEquipmentFaults says): a target that is no stream
// the emulator serves (a metric it does not serve, or labels none of that metric's streams has), a
// counter_reset of a gauge, or a window starting at or after the scenario's end.
void CheckFaultTargets(const site::SiteConfig& config, const std::vector<FaultSpec>& faults);

// One stream's value at a tick, after faults (a dropped-out stream has no reading).
struct Reading {
  std::vector<Label> labels;
  double value = 0;
  // Simulated time the sample is stamped with, when a fault stamps it (clock_skew, late,
  // duplicate); unstamped samples are stamped by whoever reads them, at arrival.
  std::optional<double> time_s = std::nullopt;
};

// A metric family: every protocol serves the same names (docs/live.md, "Emulated metrics").
struct Family {
  std::string metric;
  std::string type;  // "gauge" or "counter"
  std::string help;
  std::string unit;  // of the values as served: "W", "mJ", "C", "%", "J", "ratio"
  int decimals = 3;  // as a real exporter prints them: dcgm-exporter gives whole mJ, C and %
  std::vector<Reading> readings;
};

// The site's telemetry at one tick: what the Prometheus endpoint and every other protocol the
// emulator speaks (Modbus, SNMP, MQTT, Redfish) render from.
struct Snapshot {
  double t_s = 0;  // simulated time of the tick's end
  int64_t tick = 0;
  // How a simulated time becomes a wall-clock timestamp (ms since the Unix epoch): epoch0_ms +
  // time_s * 1000 / speed, as a real exporter's clock would show it at that speed.
  int64_t epoch0_ms = 0;
  double speed = 1;
  int64_t WallMs(double time_s) const;
  std::vector<Family> families;
  // nullptr when absent.
  const Family* Find(std::string_view metric) const;
};

// Builds each tick's snapshot; keeps the energy counters and the faults' state.
class TelemetryBuilder {
 public:
  TelemetryBuilder(const site::SiteConfig& config, std::vector<FaultSpec> faults);
  // The telemetry at simulated time `t_s`, the end of a tick described by `row`.
  Snapshot Build(const report::TickRow& row, double t_s);
  int gpu_count() const { return nodes_ * gpus_per_node_; }
  int nodes() const { return nodes_; }
  int gpus_per_node() const { return gpus_per_node_; }
  // From the next Build on, the rows are those of a coolant supply setpoint of `c` (C) instead
  // of the scenario's (setpoint_shift.h); NaN: the scenario's.
  void SetCoolantSupply(double c) { supply_c_ = c; }
  // The site's racks (cluster.nodes_per_rack nodes each) and CDUs (facility.cooling.racks_per_cdu
  // racks each; one per rack when not declared), as the rack and CDU meters label them: rack<r>,
  // cdu-<c>, counted from 0 like the nodes.
  int racks() const;
  int cdus() const;
  int RackOfNode(int node) const { return node / nodes_per_rack_; }
  int CduOfRack(int rack) const { return rack / racks_per_cdu_; }

 private:
  // The equipment faults' effect at t_s on each GPU's power and activity factor and each CDU's
  // approach, and on the row's chiller, cooling and facility power.
  void Equipment(double t_s, report::TickRow& row, std::vector<double>& gpu_w,
                 std::vector<double>& activity, std::vector<double>& cdu_rise_k);
  void Slow(double t_s, std::vector<double>& gpu_w, std::vector<double>& activity,
            std::vector<double>& cdu_rise_k) const;
  std::vector<Label> GpuLabels(int node, int gpu) const;
  // Applies the faults matching (metric, labels) at t_s to `r`; false when the reading is dropped.
  // `again` receives a reading to serve besides `r` (a duplicated sample).
  bool Fault(const std::string& metric, Reading& r, double t_s, std::optional<Reading>& again);

  int nodes_ = 0, gpus_per_node_ = 0, nodes_per_rack_ = 1, racks_per_cdu_ = 1;
  double gpu_idle_w_ = 0;
  double nic_bytes_per_s_ = 0;         // each GPU's NIC's rate, as the scenario declares it
  std::vector<double> rack_energy_j_;  // per rack PDU, since the run's start (true: never drifts)
  // With slow_gpu faults: a cooling plant on the simulation's heat and one on the heat the slow
  // GPUs leave (Equipment()).
  std::unique_ptr<std::pair<thermal::CoolingPlant, thermal::CoolingPlant>> plants_;
  bool plants_started_ = false;
  thermal::Weather weather_;
  std::string model_;
  std::vector<std::string> stage_names_;
  std::vector<FaultSpec> faults_;
  std::vector<double> gpu_energy_mj_;  // per GPU, since the run's start
  int64_t tick_ = 0;
  double facility_energy_j_ = 0, it_input_energy_j_ = 0;
  double last_t_s_ = 0, last_dt_s_ = 0;
  thermal::CoolingConfig cooling_;
  double supply_c_ = std::numeric_limits<double>::quiet_NaN();
  // Per faulted stream (metric + labels): the value a stuck sensor holds, a reset's offset.
  std::map<std::string, double> held_;
  // Per stream under a late fault: (time, value) of recent ticks; under a duplicate: the last.
  std::map<std::string, std::deque<std::pair<double, double>>> history_;
  std::map<std::string, Reading> last_;
};

// A snapshot as a Prometheus text exposition (0.0.4), values rounded as dcgm-exporter prints them
// (power to mW, energy counters to whole mJ, temperature and utilization to whole units).
std::string RenderExposition(const Snapshot& snapshot);

// A protocol the emulator serves besides Prometheus text over HTTP. Started before the first tick;
// Publish() is called once per tick from the simulation's thread; Stop() before destruction.
class TelemetryServer {
 public:
  virtual ~TelemetryServer() = default;
  virtual void Publish(const std::shared_ptr<const Snapshot>& snapshot) = 0;
  // "modbus tcp://127.0.0.1:5020 (unit 1, 24 registers)": for the start-up line.
  virtual std::string Describe() const = 0;
  virtual void Stop() = 0;
};

// The exposition being served, swapped whole each tick.
class Exposition {
 public:
  void Publish(std::string text);
  std::string Current() const;

 private:
  mutable std::mutex mu_;
  std::string text_ = "# no tick yet\n";
};

struct EmulateOptions {
  double speed = 1;  // simulated seconds per wall second
  std::string host = "127.0.0.1";
  int port = 9400;  // 0: any free port
  std::vector<FaultSpec> faults;
  // Further protocols, each already listening or connected (owned by the caller).
  std::vector<TelemetryServer*> servers;
  // Called once the server listens, with the port it got.
  std::function<void(int port)> on_listen;
  // Polled every tick: the coolant supply setpoint written over Modbus (C), NaN while none is.
  std::function<double()> coolant_setpoint_c;
  // Polled every tick: true ends the emulation early.
  std::function<bool()> stop;
};

struct EmulateResult {
  double simulated_s = 0;
  int64_t ticks = 0;
  int64_t scrapes = 0;
  bool stopped = false;  // ended by `stop` before the simulation's end
};

// Serves http://host:port/metrics (and `servers`) while the simulation runs; returns when it ends
// (or `stop`). InputError when the address cannot be listened on.
EmulateResult Emulate(const site::SiteConfig& config, const std::string& scenario_file,
                      const EmulateOptions& options);

}  // namespace firstwall::live

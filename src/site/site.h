// The coupled site model: jobs on nodes, nodes in racks, racks behind the power chain, heat into
// the cooling plant. Over each engine window it computes average powers in closed form from the
// jobs' phase timelines, so energy over any window is exact:
//
//   node power   = GPUs x P_gpu(activity of the job's phase) + idle GPUs x P_idle + base power
//   IT power     = sum over racks of their nodes' power
//   grid power   = conversion chain input for the IT load            (power/conversion_chain.h)
//   heat         = IT power + conversion losses (all released inside the building)
//   cooling      = the cooling chain's electricity for that heat and the weather
//                                                                       (thermal/cooling_plant.h)
//   facility     = grid power + cooling power,   PUE = facility / IT
//
// The chain is affine in its load, so window averages through it are exact averages.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "core/engine.h"
#include "core/error.h"
#include "core/timed_count.h"
#include "network/max_min_solver.h"
#include "power/gpu_power.h"
#include "site/job_traffic.h"
#include "site/placement.h"
#include "site/site_config.h"
#include "thermal/cooling_plant.h"
#include "workload/phase_timeline.h"

namespace firstwall::site {

// Averages over one engine window.
struct WindowSample {
  SimTime from, to;
  units::Power gpu;        // all GPUs
  units::Power node_base;  // all non-GPU node power
  units::Power it;         // gpu + node_base
  units::Power it_input;   // at the IT equipment's input (PUE's IT): it + IT-equipment stage losses
  std::vector<units::Power> stage_loss;       // per conversion stage
  std::vector<units::Power> stage_input;      // per conversion stage
  std::vector<units::Power> stage_unit_peak;  // per stage: its most loaded unit's output
  units::Power conversion_loss;
  units::Power heat;            // into the cooling plant
  units::Power cooling;         // electricity of the cooling plant
  thermal::CoolingState plant;  // its parts, water use, economizer share
  units::Power facility;        // the building's draw (IT chain + cooling)
  units::Power grid;  // from the grid: facility - renewables - generation - battery output, >= 0
  units::Power generation;  // on-site generation
  units::Power battery;     // battery output (negative while charging)
  units::Power renewable;   // contracted solar and wind output (facility.renewables)
  units::Power curtailed;   // renewable output neither used nor stored (not exported)
  // Net supply of the plants and battery on DC buses into the power chain (facility.renewables
  // and facility.battery with connects_at): the building's draw counts it, the grid does not.
  units::Power dc_bus_supply;
  double renewable_usd_per_s = 0;  // what the contracted output costs at the PPA prices
  double battery_soc = 0;          // at the end of the window
  units::Power peak_rack;          // the most loaded rack's average in the window
  units::Power peak_cdu;           // the busiest rated CDU's heat in the window (zero: unrated)
  double gpu_activity_sum = 0;     // sum over all GPUs of their average activity
  // IT power of each job's nodes while the job runs, by job id (Site::jobs()); zero for every job
  // not in job_ids, the jobs that held nodes in the window (ascending), so an observer need visit
  // only those.
  std::vector<units::Power> job_it;
  std::vector<size_t> job_ids;
  thermal::OutdoorConditions outdoor;
  double running_jobs = 0;  // time-weighted over the window
  // Highest average load / healthy capacity of any scale-out link: each job's ring flows at their
  // max-min rates, weighted by the share of its step its scale-out traffic is active.
  double fabric_peak_utilization = 0;
};

// A link's load from `at` on (loads change only when the network is recomputed).
struct LinkLoadChange {
  SimTime at;
  int link = 0;
  double utilization = 0;
};

// A fabric link's load at its busiest.
struct LinkLoad {
  int link = 0;
  double utilization = 0;  // load / nominal effective capacity
  SimTime at;
};

// A change of a job's step: when, why, and the step it runs from then on.
struct JobChange {
  SimTime at;     // when the new step starts (the job's start if the cause came before it)
  SimTime cause;  // the event that changed it (fault, repair, another job; zero for the start)
  double network_factor = 1.0;  // the lowest share of nominal bandwidth of any kind of its traffic
  units::Duration step_time;
};

// One kind of a job's traffic on the fabric: its flows (a network flow once per plane, striped),
// their routes and max-min rates, and the share of nominal bandwidth its slowest flows get.
struct RoutedTraffic {
  std::vector<FlowEnds> ends;
  std::vector<network::FlowPath> paths;
  std::vector<uint64_t> ids;  // ECMP hash input
  std::vector<int> planes;
  std::vector<double> rates;
  // The slowest flow's rate over NVLink and over the network (bytes/s; infinite with no flow):
  // a collective moves in lockstep at it.
  double nvlink_rate = 0, network_rate = 0;
  workload::FabricShare share;
};

struct PlacedJob {
  PlacedJob(JobConfig c, const workload::StepEstimate& e, std::vector<int> n)
      : config(std::move(c)),
        estimate(e),
        current(e),
        timeline(e.phases, config.start, config.end),
        nodes(std::move(n)),
        gpus(GpuCount(config)),
        nominal_step(e.step_time) {}

  JobConfig config;                 // start: when it started (or starts); end: when it ends
  workload::StepEstimate estimate;  // on the fabric as it is at the start
  workload::StepEstimate current;   // as it runs now
  workload::PhaseTimeline timeline;
  workload::PhaseTimeline::Memo3 window_memo;       // Site::Advance's roll-up, window after window
  workload::PhaseTimeline::StepRecord step_record;  // the same, inside a training step's segment
  std::vector<int> nodes;     // the nodes it holds, rank r's GPU: nodes[r / gpus_per_node]
  std::vector<size_t> racks;  // the racks of its nodes, ascending
  int gpus = 0;
  units::Duration nominal_step;  // alone on a healthy fabric, uncapped: speed 1
  double speed = 0;              // nominal_step / current step, as last reported
  double job_limit_w = std::numeric_limits<double>::infinity();  // Site::SetJobGpuLimit
  // Per timeline segment, per phase:
  std::vector<std::vector<double>> node_power_w;  // average power of one of its nodes
  std::vector<std::vector<double>> gpu_power_w;   // the job's GPUs together
  std::vector<std::vector<double>> activity;
  std::vector<JobChange> history;  // the first entry is the start
  std::array<RoutedTraffic, kTrafficKinds> traffic;
  bool on_fabric = false;  // running: its flows hold bandwidth
  // A checkpoint in progress: bytes left at `checkpoint_since_update`, the write rate, and a
  // generation that makes completion events scheduled before the last rate change harmless.
  bool checkpointing = false;
  double checkpoint_left_bytes = 0;
  double checkpoint_rate = 0;  // bytes/s
  SimTime checkpoint_started;
  uint64_t checkpoint_generation = 0;
  int checkpoints = 0;            // started
  double checkpoint_seconds = 0;  // stalled writing them
  int checkpoints_skipped = 0;    // due while the previous one was still being written
  bool stalled = false;           // Site::SetJobStalled: GPUs wait (restart warm-up, a save)
  // Site::SetJobStorageIo: storage traffic the caller clocks shares the storage network; its
  // rate as a share of the job's rate alone, as last reported (-1: none yet).
  bool storage_io = false;
  double storage_io_speed = -1;
  bool ended = false;    // reached its end or Site::StopJob; its nodes are free
  bool stopped = false;  // by a trip of the power chain or a thermal shutdown
  // GPU package temperature (C), one for the job's GPUs in lockstep: an RC model on the coolant,
  // C dT/dt = P - (T - T_coolant) / R. Above the GPU's slowdown threshold its clocks drop: a power
  // limit that holds it just below (thermal_limit_w); above shutdown the GPUs stop. NaN before
  // the job's first window, which starts from idle GPUs on the coolant (T_coolant + R x idle
  // power) and relaxes toward its steady temperature with the time constant R C
  // (cooling.chip_time_constant): over a window of t s, T = T_steady + (T_0 - T_steady) e^(-t/RC).
  double chip_c = std::numeric_limits<double>::quiet_NaN();
  double chip_peak_c = 0;
  double thermal_limit_w = std::numeric_limits<double>::infinity();
  double throttled_gpu_s = 0;
  bool thermal_shutdown = false;
  // Waiting on a checkpoint write or a stall: steps do not advance, limits apply when it resumes.
  bool paused() const { return checkpointing || stalled; }
};

// The site's jobs by id (Site::JobId). A job forgotten after its end
// (Site::ForgetEndedModelLessJobs) keeps its id, not its detail: present(j) is false, operator[]
// refuses it (FW_CHECK), and throttled_gpu_s(j) still answers.
class JobList {
 public:
  JobList(const std::vector<std::unique_ptr<PlacedJob>>& jobs, const std::vector<double>& throttled)
      : jobs_(&jobs), throttled_(&throttled) {}
  size_t size() const { return jobs_->size(); }
  bool present(size_t j) const { return (*jobs_)[j] != nullptr; }
  const PlacedJob& operator[](size_t j) const {
    FW_CHECK(present(j), "a forgotten job's detail is gone");
    return *(*jobs_)[j];
  }
  // GPU-seconds the job ran thermally throttled.
  double throttled_gpu_s(size_t j) const {
    return present(j) ? (*jobs_)[j]->throttled_gpu_s : (*throttled_)[j];
  }

 private:
  const std::vector<std::unique_ptr<PlacedJob>>* jobs_;
  const std::vector<double>* throttled_;
};

// An inference service placed on the cluster, with what its serving simulation gave.
struct PlacedService {
  std::string name;
  workload::ServingResult result;
  std::vector<int> nodes;  // the nodes its replicas hold
  int gpus = 0;
  double start_s = 0, end_s = 0;
  std::vector<double> cum_j;  // GPU energy from start_s to each bin edge
  // In the scheduler's pool (ServiceConfig::pool_priority, site/life_services.h): its replicas
  // hold nodes as the scheduler grants them (`nodes` ascending, any of the cluster's), and `gpus`
  // stays the most it may hold. Each serving replica draws one held replica's share of the
  // serving simulation's GPU power above idle (replica_cum_j); held GPUs draw idle otherwise.
  bool pooled = false;
  int replica_gpus = 0;
  int held_replicas = 0;
  int serving_replicas = 0;
  std::vector<double> replica_cum_j;  // one replica's GPU energy above idle to each bin edge
  // Pooled: the GPU energy the site's windows drew for it (its held GPUs at idle, its serving
  // replicas' share above), joules. The serving simulation's gpu_energy_j assumes every replica it
  // wanted; this is what the granted ones drew, and part of the site's GPU energy.
  double drawn_gpu_j = 0;
  int HeldGpus() const { return pooled ? held_replicas * replica_gpus : gpus; }
};

// The power chain's protection acting over the run.
struct PowerEvents {
  int limit_changes = 0;       // GPU power limit lowered or raised for a cap_gpus stage
  double limit_min_w = 0;      // lowest per-GPU limit reached (the configured cap if never)
  double limited_s = 0;        // time a limit binds: a lowered one, or the static cap (below)
  double static_cap_s = 0;     // time cluster.gpu_power_cap is below a running job's demand
  std::string limiting_stage;  // the stage that lowered it first
  std::string tripped_stage;   // the first stage a unit of which tripped; empty if none
  SimTime tripped_at = SimTime::Never();
  int tripped_units = 0;
};

// The CDUs as rated units (thermal::CoolingConfig::cdu_capacity) over the run. A CDU's heat in a
// window is liquid_share x the IT power of its racks (window averages: the secondary loop's own
// thermal mass is neglected).
struct CduLoads {
  size_t units = 0;   // ceil(racks / racks_per_cdu); 0: unrated
  double peak_w = 0;  // the busiest CDU's highest window-average heat
  double over_s = 0;  // time some CDU carried more than its capacity
  double over_j = 0;  // heat above capacity, summed over the CDUs (J)
};

// Why a running job stopped without being asked to (Site::StopJob reports nothing).
enum class JobStopCause { kPowerTrip, kThermalShutdown };

// The serving setup Site runs a service with: its end clipped to the site's duration, its power
// binned at the tick.
workload::ServiceSetup ServiceSetupIn(const SiteConfig& config, const ServiceConfig& service);

// Runs each service's serving simulation (workload::Serve with ServiceSetupIn and the site's
// seed) and keeps it in ServiceConfig::served, so that simulations of `config` that differ in
// nothing the serving reads run it once. `cancel`: as workload::Serve's.
void ServeOnce(SiteConfig& config, const std::atomic<bool>* cancel = nullptr);
// Whether every service of `config` has a serving simulation that reaches `end_s` (run for at
// least that long: ServiceConfig::served_until_s), which a run ending there can use.
bool ServedThrough(const SiteConfig& config, double end_s);

class Site : public Model {
 public:
  // Places the scenario's jobs (declaration order) and then its services on consecutive nodes;
  // they must fit in the cluster (the scenario layer checks and reports it to the user). Each
  // scenario job holds its nodes from the start of the run and runs from its start to its end
  // (events from ScheduleEvents), as a scheduler-started job would from StartJob.
  explicit Site(SiteConfig config);

  void Advance(SimTime from, SimTime to) override;
  bool Quiescent() const override {
    return running_.value() == 0 && services_.empty() && config_.weather.Constant() &&
           plant_.Settled() && !config_.facility.battery && !config_.facility.generation &&
           config_.facility.renewables.empty();
  }
  // Job start and end events, so idle skipping stops where a job changes the load. Jobs started
  // later with StartJob schedule their checkpoints on the same queue.
  void ScheduleEvents(EventQueue& events);

  // --- Running the site from a scheduler (issue #11). `now` is the current event time: at or
  // after the end of the last window advanced (FW_CHECK). A JobId indexes jobs(); ids are never
  // reused. The callbacks run inside the site's own updates: they must not call back into these
  // (schedule an event at `at` instead).
  using JobId = size_t;
  // Starts `config` (config.start is set to `now`; it runs until StopJob or config.end) on
  // `nodes`, each free and powered, as many as NodesFor(config); rank r runs on GPU
  // nodes[r / gpus_per_node] x gpus_per_node + r % gpus_per_node. Its flows join the fabric now;
  // its checkpoints (config.checkpoint_every) need ScheduleEvents to have been called. Reports its
  // speed at once.
  JobId StartJob(JobConfig config, std::vector<int> nodes, SimTime now);
  // Ends a job at `now` and frees its nodes (nothing if it already ended or stopped).
  void StopJob(JobId job, SimTime now);
  // Stalls the job from `now` (its GPUs wait at idle activity, no steps: a restart's reload and
  // warm-up, or a checkpoint written by the caller), or lets it run again at its current pace.
  void SetJobStalled(JobId job, SimTime now, bool stalled);
  // Called with a job's speed (nominal step time / current step time; 1: alone on a healthy,
  // uncapped cluster) when it starts and whenever its step changes: fabric faults and contention,
  // cap_gpus limits, thermal throttling.
  using SpeedCallback = std::function<void(JobId job, SimTime at, double speed)>;
  void OnJobSpeed(SpeedCallback callback) { on_speed_ = std::move(callback); }
  // Called when a running (or placed) job stops by itself: its racks went dark, its GPUs shut
  // down. Its nodes are free by then.
  using StopCallback = std::function<void(JobId job, SimTime at, JobStopCause cause)>;
  void OnJobStopped(StopCallback callback) { on_stop_ = std::move(callback); }
  // Storage traffic the caller clocks (a scheduler's checkpoint write, or a restart's reload of
  // the same bytes): from `now` the job shares cluster.storage_network max-min with every other
  // writer, as the site's own checkpoints do (StartCheckpoint), until turned off or the job stops.
  // The site never ends it: the I/O speed callback gets its rate over its rate alone
  // (min(front-end NICs of its nodes, storage bandwidth)) at once and whenever it changes. No
  // storage network declared (either bandwidth zero): nothing happens.
  void SetJobStorageIo(JobId job, SimTime now, bool on);
  using IoSpeedCallback = std::function<void(JobId job, SimTime at, double io_speed)>;
  void OnJobIoSpeed(IoSpeedCallback callback) { on_io_speed_ = std::move(callback); }
  // Racks [first, last) lose power from `now` (a failed PDU, a CDU that stops its racks) or get
  // it back: dark racks draw nothing, as behind a tripped unit. Jobs holding nodes there end as by
  // StopJob (no stop callback: the caller darkened them). Each call turns them off or on (the
  // caller counts overlapping failures).
  void SetRacksPowered(size_t first, size_t last, bool powered, SimTime now);
  // A per-GPU power limit on racks [first, last) from `now` (a CDU's racks throttled; infinity:
  // lifted), on top of the configured cap and the chain's cap_gpus limits: the jobs running there
  // continue under it (DVFS, power/gpu_power.h) and report their new speed.
  void SetRackGpuLimit(size_t first, size_t last, units::Power limit, SimTime now);
  // A per-GPU power limit on one job's GPUs from `now` (a flexible job capped by power- and
  // carbon-aware scheduling; infinity: lifted), on top of every other limit: a running job
  // continues under it and reports its new speed; a stalled one takes it when it resumes.
  void SetJobGpuLimit(JobId job, units::Power limit, SimTime now);
  // Fabric links at `health` of their bandwidth (0: down, 1: healthy) from `now`, as a scripted
  // fault (SiteConfig::faults) does: the jobs crossing them are re-solved and report their speed.
  void SetLinkHealth(const std::vector<int>& links, double health, SimTime now);
  // Called with the racks [first, last) behind a unit of the power chain that tripped (its stage,
  // an index into chain().stages(), and its unit within the stage), before the jobs there stop
  // (OnJobStopped), even when none runs there.
  using DarkCallback = std::function<void(size_t first_rack, size_t last_rack, SimTime at,
                                          size_t stage, size_t unit)>;
  void OnRacksDark(DarkCallback callback) { on_dark_ = std::move(callback); }
  // Services in the scheduler's pool (PlacedService::pooled; site_services.cc). A replica of
  // `service` takes `nodes` (each free) from `now` (hold), or gives them back; it draws idle
  // until SetServiceServing counts it as serving.
  void SetServiceReplicaNodes(size_t service, const std::vector<int>& nodes, bool hold,
                              SimTime now);
  // How many of the service's held replicas serve from `now` (at most those held).
  void SetServiceServing(size_t service, int replicas, SimTime now);
  // Which tenant holds each node now.
  const Placement& placement() const { return placement_; }
  // Jobs holding nodes now (placed or running), ascending.
  const std::vector<JobId>& active_jobs() const { return active_; }
  // A rack's IT power, average over the last window.
  units::Power rack_it(size_t rack) const { return units::Watts(rack_w_[rack]); }
  // Whether a rack has no power: behind a tripped unit of the power chain, or SetRacksPowered.
  bool rack_dark(size_t rack) const { return rack_dark_[rack] != 0 || rack_off_[rack] != 0; }

  const SiteConfig& config() const { return config_; }
  // The outdoor conditions from the next window on: a forecast's weather after its origin
  // (ops/forecast.h). The site reads the weather at each window's start and keeps none of it.
  void SetWeather(thermal::Weather weather) { config_.weather = std::move(weather); }
  // Every job by id (JobId), forgotten ones included (JobList::present).
  JobList jobs() const { return JobList(jobs_, throttled_gpu_s_); }
  // From now on a model-less job (JobConfig::model_less) that ends by StopJob drops its detail
  // (timeline, history, placement) and keeps only its id and what the report sums over every job
  // (JobList::throttled_gpu_s): for a queue whose summary lists only modelled jobs (site/life.h).
  // Not with swing recording, which reads every job's timeline after the run.
  void ForgetEndedModelLessJobs() { forget_ended_ = true; }
  const std::vector<PlacedService>& services() const { return services_; }
  // The average power of a service's GPUs over [from, to) (idle outside its lifetime).
  double ServiceGpuWatts(size_t service, SimTime from, SimTime to) const;
  const WindowSample& sample() const { return sample_; }
  const network::Fabric& fabric() const { return fabric_; }
  // The most loaded scale-out links over the run (each at its busiest), most loaded first.
  std::vector<LinkLoad> HottestLinks(size_t n) const;
  // Per stage, the most loaded unit's output in the last window (against the per-unit rating).
  double StageUnitPeakWatts(size_t stage) const;
  size_t StageUnits(size_t stage) const { return unit_out_w_[stage].size(); }
  // The highest average load of any GPU's NVLink port over the run, against its capacity.
  double NvlinkPeakUtilization() const;
  // Per tier of the fabric (network::FabricTier), over the run: the highest utilization of any
  // of its links (average load over a step against the healthy capacity), and the lowest share
  // of its nominal bandwidth a flow kept where a saturated link of this tier was its bottleneck
  // (1: nothing was ever held back there; faults count, a link down gives 0). Tiers the fabric
  // has, in tier order (no spine-super-spine with two tiers).
  struct FabricTierUse {
    network::FabricTier tier = network::FabricTier::kNvlink;
    double peak_utilization = 0;
    double lowest_share = 1;
  };
  std::vector<FabricTierUse> FabricTiers() const;
  // Every change of a link's load goes to `sink`, in time order (links ascending at one
  // instant): first the loads already on the links (the jobs placed at the start), as changes
  // from zero at `now`, then each change as it happens. Call it before any event ran. None is
  // kept otherwise: a big training job restarting often changes millions of link loads over days
  // (firstwall run --links and the hot-link columns of timeseries.csv ask for them).
  void OnLinkChange(std::function<void(const LinkLoadChange&)> sink, SimTime now);
  // Reroutes and re-solves every running job from scratch, as a check of the incremental path:
  // on a consistent site nothing changes (no job's history grows).
  void RecomputeEverything(SimTime now);
  const PowerEvents& power_events() const { return power_events_; }
  const CduLoads& cdu_loads() const { return cdu_loads_; }
  // A rated CDU's heat in the last window (W); u < cdu_loads().units.
  double cdu_heat_w(size_t u) const { return cdu_w_[u]; }
  // Highest share of the storage system's write bandwidth used by checkpoints at once.
  double storage_peak_utilization() const { return storage_peak_; }
  units::Power idle_node_power() const { return units::Watts(idle_node_w_); }
  // For fine-grained power series after a run of the scenario's jobs: the average power of a
  // job's GPUs over [from, to) (their idle power while it does not run), and the IT power of
  // everything else (idle GPUs and every node's non-GPU power), which is constant. IT power =
  // ItBaseWatts() + sum of JobGpuWatts + sum of ServiceGpuWatts.
  double JobGpuWatts(size_t job, SimTime from, SimTime to) const;
  double ItBaseWatts() const;
  const power::ConversionChain& chain() const { return chain_; }
  const thermal::CoolingPlant& plant() const { return plant_; }
  // Heat held in the cooling loops above steady state at the end of the run (J).
  double plant_stored_j() const { return plant_.stored_j(); }

 private:
  // --- placement (site.cc)
  // Places a job on `nodes` from config.start: its step, phases' powers and flows; it holds the
  // nodes and joins active_ (not the fabric: the caller starts it).
  JobId AddJob(JobConfig config, std::vector<int> nodes);
  // A job that stopped or ended leaves: its nodes are freed and it leaves active_; the next window
  // counts what it ran of that window (a window cut per tick), and its IT power in the sample is
  // zero from the window after.
  void Retire(JobId job);
  // Drops an ended model-less job's detail when ForgetEndedModelLessJobs is on.
  void Forget(JobId job);
  // Reports the job's speed if its step differs from the last one reported.
  void NotifySpeed(JobId job, SimTime at, units::Duration step);
  // Appends a change of step to the job's history and reports it.
  void Record(JobId job, const JobChange& change);
  void StopByItself(JobId job, SimTime at, JobStopCause cause);

  // --- fabric (site_fabric.cc)
  // Re-evaluates the fabric after a change: links whose capacity changed, jobs that joined or left.
  // Each kind of traffic is shared max-min over the jobs running it at once; only the jobs
  // connected (through shared links) to the change are rerouted and re-solved, or all of them
  // when `reroute_all` (a link back from down, adaptive routing). Jobs whose step changes are
  // rebased. Visits the active jobs only (a job leaving is still active during the call).
  void RecomputeNetwork(SimTime now, const std::vector<int>& changed_links,
                        const std::vector<size_t>& changed_jobs, bool reroute_all);
  // The job's flows as its node list places its ranks; a network flow once per plane (striped).
  void BuildFlows(PlacedJob& job);
  void Route(RoutedTraffic& t, std::vector<double>* placed) const;
  // Link loads after RecomputeNetwork: only the links in dirty_links_ (marked in link_dirty_) can
  // have changed; each is re-summed over the running jobs in the order a full pass would use, so
  // the loads are those of a recomputation from scratch, bit for bit. Clears the dirty set.
  void UpdateLinkLoads(SimTime now);
  void MarkDirty(const RoutedTraffic& t);  // every link of the traffic's paths
  // After a solve: where a flow got less than its nominal rate, the tier of the saturated link
  // that held it back (tier_lowest_share_).
  void NoteBottlenecks(const std::vector<const network::FlowPath*>& flows,
                       const std::vector<double>& rates);
  // Adds (or removes) the links of one kind of a job's routed traffic to link_jobs_.
  void IndexTraffic(JobId job, int kind, bool add);
  // Checkpoints: each job writes over its nodes' front-end NICs into the shared storage system
  // (max-min over the jobs writing at once); the job stalls until its bytes are written.
  void StartCheckpoint(size_t job, SimTime now);
  void FinishCheckpoint(size_t job, SimTime now);
  void DrainCheckpoints(SimTime now);  // bytes written since the last change of rates
  void ShareStorage(SimTime now);      // new rates and completion events

  // --- services in the pool (site_services.cc)
  // Its per-replica energy series from the serving simulation's power and held replicas.
  void PoolService(PlacedService& ps) const;
  double PooledServiceGpuWatts(const PlacedService& ps, SimTime from, SimTime to) const;

  // --- power per job (site.cc)
  void AppendSegmentValues(PlacedJob& job, const std::vector<workload::Phase>& phases);
  // The phases as the GPUs run them under a power limit (DVFS, power/gpu_power.h).
  std::vector<workload::Phase> Effective(const std::vector<workload::Phase>& phases,
                                         units::Power limit) const;
  // Continues a job at `at` with its current estimate under the current limit; returns its step.
  units::Duration Resume(PlacedJob& job, SimTime at);

  // --- thermal (site_thermal.cc)
  // GPU temperatures over a window, and the throttling or shutdown they cause from `to`.
  void HeatGpus(SimTime from, SimTime to, units::Temperature coolant);
  // Rated CDUs over a window of `dt` seconds: each one's heat from this window's rack loads, the
  // run's peak and overload (cdu_loads_), and its racks' coolant, `liquid_supply` + its approach.
  void LoadCdus(double dt, units::Temperature liquid_supply);
  // The coolant a job's GPUs see: the warmest of its racks' CDUs when rated, else `plant_c`.
  double CoolantFor(const PlacedJob& job, double plant_c) const;

  // --- electrical (site_electrical.cc)
  // Battery and generation between the facility and the grid over a window of `dt` seconds.
  void Dispatch(SimTime from, double dt);
  // Direct-DC supply: the plants and battery connected at a stage's output bus take their share
  // of that bus's load, and the stages from there outward carry only the rest (flow and
  // unit_out_w_ are updated; sample_'s supply fields are added to).
  void FeedDcBuses(SimTime from, double dt, power::ChainFlow& flow);
  // The battery's exchange over `dt` (positive: discharge) at `demand` watts: a surplus (demand
  // < 0) charges it; grid energy only while demand plus charging stays within `grid_cap_w`
  // (nullopt: no cap; 0: none at all); updates sample_.
  double RunBattery(double demand, std::optional<double> grid_cap_w, SimTime from, double dt);
  // A battery charges from the grid up to kChargeHeadroom of a limit (the import limit, a bus
  // stage's rating), as cap_gpus holds a stage at 98 %: discretionary charging is not a wall.
  static constexpr double kChargeHeadroom = 0.98;
  static std::optional<double> ChargeCap(double limit_w);
  // Battery power asked for (positive: discharge) at `demand` watts after renewables and
  // generation, by the battery's rules (SiteBattery) and the tariff at `at`.
  double BatteryWants(const SiteBattery& b, double demand, SimTime at) const;
  // Overload protection after a window ending at `at` (see power/conversion_chain.h).
  void ProtectChain(SimTime at);
  // The lowest GPU power limit any cap_gpus unit above the job's racks, SetRackGpuLimit on one of
  // them, or SetJobGpuLimit imposes (inf: none).
  double ChainLimitWatts(const PlacedJob& job) const;
  // Whether the static cluster.gpu_power_cap is below the demand of one of the job's phases.
  bool StaticCapBinds(const PlacedJob& job) const;
  // Whether one of the job's racks lies in [first, last).
  static bool HasRackIn(const PlacedJob& job, size_t first, size_t last);
  void Trip(SimTime at, size_t stage, size_t unit);
  // Continues the jobs running on racks [first, last) under their limits now (ChainLimitWatts).
  void ReapplyLimits(size_t first, size_t last, SimTime at);
  // The chain as a tree over the racks (ConversionStage::racks_per_unit), for this window's rack
  // loads; fills unit_out_w_.
  power::ChainFlow TreeFlow();
  size_t RacksPerUnit(size_t stage) const;

  SiteConfig config_;
  power::GpuPowerModel gpu_power_;
  network::Fabric fabric_;
  power::ConversionChain chain_;
  thermal::CoolingPlant plant_;
  Placement placement_;
  std::vector<std::unique_ptr<PlacedJob>> jobs_;  // null: forgotten after its end
  std::vector<double> throttled_gpu_s_;           // per job: set when it is forgotten
  // Per job: node power, GPU power and activity over a single-phase segment [begin, end) of its
  // timeline as of `rebases`, so Advance's roll-up of a steady job reads one contiguous record.
  struct SteadyValues {
    uint64_t rebases = ~uint64_t{0};
    SimTime begin, end;
    std::array<double, 3> values{};
  };
  std::vector<SteadyValues> steady_;
  bool forget_ended_ = false;
  std::vector<JobId> active_;   // jobs holding nodes, ascending (the per-window and event loops)
  std::vector<JobId> retired_;  // left since the last window (Advance counts what they ran of it)
  std::vector<std::pair<size_t, double>> retired_excess_;  // scratch: (rack, W above idle)
  std::vector<JobId> leaving_;     // retired inside the window, having run part of it (HeatGpus)
  double fabric_window_peak_ = 0;  // highest fabric utilization set inside the window
  size_t scenario_jobs_ = 0;       // jobs_[0, scenario_jobs_) come from config_.jobs
  uint64_t next_flow_id_ = 0;      // ECMP hash input of the next flow
  SpeedCallback on_speed_;
  StopCallback on_stop_;
  IoSpeedCallback on_io_speed_;
  DarkCallback on_dark_;
  std::vector<PlacedService> services_;
  std::vector<double> service_node_w_;  // scratch: per service, average node power in the window
  double idle_gpu_w_ = 0;               // one idle GPU
  units::Power limit_;  // the configured per-GPU limit (cap_gpus units and heat lower it per job)
  PowerEvents power_events_;
  CduLoads cdu_loads_;
  std::vector<double> cdu_w_;                      // rated CDUs: heat this window
  std::vector<double> cdu_coolant_c_;              // rated CDUs: their racks' coolant this window
  std::vector<double> rack_w_;                     // this window's IT power per rack
  std::vector<double> tree_level_, tree_next_;     // scratch for TreeFlow
  bool tree_ = false;                              // some stage has more than one unit
  std::vector<double> job_gpu_j_;                  // scratch: per job, GPU energy in the window
  std::vector<double> job_run_s_;                  // scratch: per job, seconds it ran in it
  std::vector<char> rack_dark_;                    // behind a tripped unit
  std::vector<char> rack_off_;                     // SetRacksPowered(false)
  std::vector<double> rack_limit_w_;               // SetRackGpuLimit (inf: none)
  std::vector<std::vector<char>> unit_tripped_;    // per stage, per unit
  std::vector<std::vector<double>> unit_out_w_;    // per stage, per unit: output this window
  std::vector<std::vector<double>> unit_limit_w_;  // per stage, per unit: GPU limit (inf: none)
  std::vector<std::vector<SimTime>> unit_quiet_since_;  // below 90% of rating since

  double battery_j_ = 0;          // stored energy
  std::vector<size_t> dc_buses_;  // stages whose output bus has plants or the battery, ascending
  double generation_w_ = 0;       // generator output now
  static constexpr units::Duration kReleaseAfter = units::Seconds(60);
  double idle_node_w_ = 0;  // one node with all its GPUs idle
  // A node's power besides its GPUs: node_base_power and its share of the fabric's switches.
  double node_fixed_w_ = 0;
  TimedCount running_;  // jobs running (a failed one stops running at once)
  WindowSample sample_;
  std::vector<double> link_peak_;  // per link: highest utilization seen
  std::vector<SimTime> link_peak_at_;
  std::vector<double> link_now_;
  std::function<void(const LinkLoadChange&)> link_sink_;  // OnLinkChange; empty: none wanted
  double fabric_utilization_ = 0;   // current highest scale-out link utilization
  std::vector<double> job_node_w_;  // scratch: per job, average node power in the window
  EventQueue* events_ = nullptr;    // for events the run itself creates (checkpoint completions)
  SimTime storage_since_;
  double storage_peak_ = 0;
  // Scratch for RecomputeNetwork, reused across events: link-sized vectors are reset only where
  // they were set; job-sized ones are indexed by position in active_.
  std::vector<char> link_touched_;
  std::vector<int32_t> links_set_;
  std::vector<char> job_hit_, job_in_solve_, job_changed_;
  std::vector<const network::FlowPath*> solve_flows_;
  std::vector<std::pair<size_t, size_t>> solve_flow_of_;  // (job, flow index)
  std::vector<double> link_load_;  // per link: the jobs' average load (bytes/s)
  std::vector<char> link_dirty_;   // per link: its load may have changed since UpdateLinkLoads
  std::vector<int32_t> dirty_links_;
  // Per link, the running jobs whose routed flows cross it, with a bit per kind of traffic: the
  // jobs an event reaches are found from the links it touches, not by scanning every job's paths.
  struct LinkUse {
    uint32_t job = 0;
    uint8_t kinds = 0;  // bit k: traffic kind k crosses the link
  };
  std::vector<std::vector<LinkUse>> link_jobs_;
  std::vector<size_t> bfs_;       // scratch: positions in active_ reached by a change
  std::vector<JobId> load_jobs_;  // scratch: jobs crossing dirty links
  std::vector<char> job_seen_;    // scratch, by job id
  int fabric_hottest_ = -1;       // a scale-out link at fabric_utilization_ (-1: none loaded)
  network::MaxMinSolver solver_;
  std::vector<double> solve_rates_;
  std::vector<double> link_rate_sum_;  // scratch for NoteBottlenecks, zero between calls
  std::array<double, network::kFabricTiers> tier_lowest_share_ = {1, 1, 1, 1};
  std::vector<JobId> active_scratch_;
};

}  // namespace firstwall::site

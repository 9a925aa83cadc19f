// The cluster's life through the CLI (issue #11): a queue, failures and restarts in a scenario,
// their outputs (jobs.csv, events.csv, summary.json `scheduler` and `goodput`, queued_jobs in
// timeseries.csv), and the scenario errors of the new keys.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli_support.h"

namespace firstwall::testing_cli {
namespace {

// Four 8-GPU nodes; job a (24 GPUs, 1 h of work) and job b (16 GPUs, 30 min) are both submitted
// at 0 under FCFS, so b waits behind a. GPU 0 (node 0, a's) fails at 30 min for 2 h.
constexpr const char* kHand = R"(firstwall: 1
site:
  name: hand
  outdoor_temperature: 20 C
  electricity_price: 0.08 USD/kWh
cluster:
  gpu: H100-SXM5-80GB
  nodes: 4
  gpus_per_node: 8
  nodes_per_rack: 2
  node_base_power: 2 kW
facility:
  power_chain:
    - name: psu
      efficiency: 96 %
      it_equipment: true
  cooling:
    capacity: 100 kW
scheduler:
  policy: fcfs
  failure_detection: 2 min
  restart_overhead: 10 min
workloads:
  - name: a
    type: training
    model: llama3-8b
    gpus: 24
    global_batch: 24
    sequence_length: 2048
    recompute: full
    duration: 1 h
  - name: b
    type: training
    model: llama3-8b
    gpus: 16
    global_batch: 16
    sequence_length: 2048
    recompute: full
    duration: 30 min
failures:
  table: none
  scripted:
    - component: gpu
      index: 0
      at: 30 min
      repair: 2 h
simulation:
  duration: 3 h
  tick: 1 s
)";

fs::path WriteScenario(const std::string& name, const std::string& text) {
  const fs::path dir = Fresh(name);
  fs::create_directories(dir);
  std::ofstream(dir / "s.yaml") << text;
  return dir;
}

// By hand: a runs 0-30 min, hangs until the failure is detected (2 min), releases its nodes and
// restarts at 32 min on the three nodes still up, reloads for 10 min and computes its whole hour
// again (no checkpoints: 30 min of progress lost): it ends at 32 + 10 + 60 = 102 min = 6,120 s.
// b then starts on two free nodes and ends 30 min later, at 7,920 s.
TEST(ClusterLife, HandComputedScheduleFailureAndRestart) {
  const fs::path dir = WriteScenario("life_hand", kHand);
  const Result r =
      Firstwall("run --quiet " + (dir / "s.yaml").string() + " --out " + (dir / "out").string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(Slurp(dir / "out" / "jobs.csv"),
            "job,tenant,attempt,gpus,nodes,submit_s,queued_s,start_s,end_s,wait_s,ended\n"
            "a,a,1,24,3,0.000,0.000,0.000,1920.000,0.000,failed\n"
            "a,a,2,24,3,0.000,1920.000,1920.000,6120.000,0.000,completed\n"
            "b,b,1,16,2,0.000,0.000,6120.000,7920.000,6120.000,completed\n");
  EXPECT_EQ(Slurp(dir / "out" / "events.csv"),
            "time_s,event,job,component,index,cause,effect,first_node,nodes,repair_s,jobs_hit\n"
            "1800.000,failure,,gpu,0,gpu,node_down,0,1,7200.000,a\n"
            "1920.000,restart,a,,,,,,,,\n"
            "9000.000,repair,,gpu,0,gpu,node_down,0,1,7200.000,\n");
  const auto j = nlohmann::json::parse(Slurp(dir / "out" / "summary.json"));
  const auto& g = j["goodput"];
  // GPU-hours by hand: useful a 24 x 1 h + b 16 x 0.5 h = 32; lost a 24 x 0.5 h = 12; restart
  // a 24 x 12 min = 4.8; queueing b 16 x 6,120 s = 27.2; the failed node 8 GPUs x 2 h = 16, less
  // the 2 min a held it until detection (a's, as restart badput): 8 x 118 min = 15.7333.
  EXPECT_DOUBLE_EQ(g["useful_gpu_h"].get<double>(), 32.0);
  EXPECT_DOUBLE_EQ(g["badput_gpu_h"]["lost_progress"].get<double>(), 12.0);
  EXPECT_NEAR(g["badput_gpu_h"]["restart"].get<double>(), 4.8, 1e-9);
  EXPECT_NEAR(g["queueing_gpu_h"].get<double>(), 27.2, 1e-9);
  EXPECT_NEAR(g["badput_gpu_h"]["repair_downtime"].get<double>(), 8 * 118 / 60.0, 1e-9);
  EXPECT_DOUBLE_EQ(g["badput_gpu_h"]["slowdown"].get<double>(), 0.0);
  EXPECT_NEAR(g["jobs"][0]["ettr"].get<double>(), 3600.0 / 6120.0, 1e-12);
  const auto& s = j["scheduler"];
  // Allocated: a 24 x (1,920 + 4,200) s + b 16 x 1,800 s = 48.8 GPU-h of 32 GPUs x 3 h.
  EXPECT_NEAR(s["allocated_gpu_h"].get<double>(), 48.8, 1e-9);
  EXPECT_NEAR(s["utilization"].get<double>(), 48.8 / 96.0, 1e-12);
  // Each GPU-hour once: 48.8 allocated + 15.7333 down + the rest idle = 32 GPUs x 3 h.
  EXPECT_NEAR(s["down_gpu_h"].get<double>(), 8 * 118 / 60.0, 1e-9);
  EXPECT_NEAR(s["idle_gpu_h"].get<double>(), 96 - 48.8 - 8 * 118 / 60.0, 1e-9);
  EXPECT_EQ(s["failures"], 1);
  EXPECT_EQ(s["interruptions"], 1);
  EXPECT_EQ(s["wait_p99_s"].get<double>(), 6120.0);

  // At the meter: a's GPUs idle while it hangs (30-32 min) and reloads (32-42 min), and b's
  // wait is in queued_jobs.
  std::ifstream ts(dir / "out" / "timeseries.csv");
  std::string header, line;
  std::getline(ts, header);
  ASSERT_EQ(header.rfind("time_s,outdoor_dry_bulb_c,running_jobs,queued_jobs,", 0), 0u);
  std::map<int, std::vector<double>> rows;
  while (std::getline(ts, line)) {
    std::stringstream in(line);
    std::vector<double> v;
    for (std::string f; std::getline(in, f, ',');) v.push_back(std::stod(f));
    const int t = static_cast<int>(v[0]);
    if (t == 1000 || t == 1850 || t == 2000 || t == 3000 || t == 6500 || t == 9000) rows[t] = v;
  }
  const double idle_kw = rows[9000][5];  // every GPU idle, nothing running
  EXPECT_DOUBLE_EQ(rows[1850][5], idle_kw);
  EXPECT_DOUBLE_EQ(rows[2000][5], idle_kw);
  EXPECT_GT(rows[1000][5], idle_kw + 10);
  EXPECT_GT(rows[3000][5], idle_kw + 10);
  EXPECT_EQ(rows[1000][3], 1.0);  // b queued
  EXPECT_EQ(rows[6500][3], 0.0);
  EXPECT_EQ(rows[6500][2], 1.0);  // b running
}

TEST(ClusterLife, ExampleWritesEveryOutputAndTheyAgree) {
  const fs::path a = Fresh("life_example_a"), b = Fresh("life_example_b");
  Result r = Firstwall("run examples/cluster-life.yaml --out " + a.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("\nqueue (easy): "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\ngoodput: ETTR "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/jobs.csv, "), std::string::npos) << r.out;
  ASSERT_EQ(Firstwall("run --quiet examples/cluster-life.yaml --out " + b.string()).status, 0);
  for (const char* f : {"summary.json", "timeseries.csv", "jobs.csv", "events.csv"}) {
    EXPECT_EQ(Slurp(a / f), Slurp(b / f)) << f << " differs between two runs";
  }
  const auto j = nlohmann::json::parse(Slurp(a / "summary.json"));
  const auto& s = j["scheduler"];
  // jobs.csv: one row per attempt; its failed rows are the interruptions.
  std::ifstream jobs(a / "jobs.csv");
  std::string line;
  std::getline(jobs, line);
  int rows = 0, failed = 0, completed = 0;
  while (std::getline(jobs, line)) {
    ++rows;
    failed += line.ends_with(",failed");
    completed += line.ends_with(",completed");
  }
  EXPECT_EQ(failed, s["interruptions"].get<int>());
  EXPECT_EQ(completed, s["jobs_completed"].get<int>());
  EXPECT_GE(rows, s["jobs_started"].get<int>());
  // events.csv: one failure row per failure.
  std::ifstream events(a / "events.csv");
  int failures = 0;
  while (std::getline(events, line)) failures += line.find(",failure,") != std::string::npos;
  EXPECT_EQ(failures, s["failures"].get<int>());
  EXPECT_GT(s["failures"].get<int>(), 0);
  EXPECT_GT(s["wait_p90_s"].get<double>(), 0);
  const auto& g = j["goodput"];
  EXPECT_GT(g["ettr"].get<double>(), 0.5);
  EXPECT_LT(g["ettr"].get<double>(), 1.0);
  EXPECT_EQ(g["jobs"].size(), 2u);
  // The queued job's checkpoint interval is Daly's optimum (checkpoint_every: auto).
  EXPECT_GT(g["jobs"][0]["checkpoint_interval_s"].get<double>(), 0);
  // runtime_goodput's denominator is the GPU time the jobs held at their requested GPUs: the
  // allocated GPU-hours less those stranded on whole nodes (docs/outputs.md).
  const double held_gpu_h = s["allocated_gpu_h"].get<double>() - s["stranded_gpu_h"].get<double>();
  std::printf("runtime goodput %.6f = useful %.3f / (allocated %.3f - stranded %.3f) GPU-h\n",
              g["runtime_goodput"].get<double>(), g["useful_gpu_h"].get<double>(),
              s["allocated_gpu_h"].get<double>(), s["stranded_gpu_h"].get<double>());
  EXPECT_NEAR(g["runtime_goodput"].get<double>(), g["useful_gpu_h"].get<double>() / held_gpu_h,
              1e-9);
  // The per-job summary has the queue's checkpoints (the site writes none for queued jobs).
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(j["jobs"][k]["name"], g["jobs"][k]["name"]);
    EXPECT_GT(g["jobs"][k]["checkpoints"].get<int>(), 0);
    EXPECT_EQ(j["jobs"][k]["checkpoints"], g["jobs"][k]["checkpoints"]);
    EXPECT_DOUBLE_EQ(j["jobs"][k]["checkpoint_time_s"].get<double>(),
                     g["jobs"][k]["checkpoint_s"].get<double>());
  }
}

// A CDU throttles rack 0 (nodes 0-1) at 10 min and its PDU darkens it at the same instant: job a
// (nodes 0-2) stops, is detected at 12 min and waits for three nodes until the PDU's repair at
// 20 min; the CDU was repaired at 15 min, so the restarted a runs at full speed: 10 min reload,
// then its whole hour (nothing was checkpointed), ending at 1,200 + 600 + 3,600 = 5,400 s. Its
// throttled speed must not carry over into the new attempt.
TEST(ClusterLife, ARestartAfterARepairedThrottleRunsAtFullSpeed) {
  std::string text = kHand;
  const std::string scripted =
      "    - component: gpu\n      index: 0\n      at: 30 min\n      repair: 2 h\n";
  text.replace(text.find(scripted), scripted.size(),
               "    - component: cdu\n      index: 0\n      at: 10 min\n      repair: 5 min\n"
               "    - component: pdu\n      index: 0\n      at: 10 min\n      repair: 10 min\n");
  const fs::path dir = WriteScenario("life_throttle", text);
  const Result r =
      Firstwall("run --quiet " + (dir / "s.yaml").string() + " --out " + (dir / "out").string());
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(Slurp(dir / "out" / "summary.json"));
  const auto& a = j["goodput"]["jobs"][0];
  EXPECT_EQ(a["name"], "a");
  EXPECT_EQ(a["attempts"], 2);
  EXPECT_DOUBLE_EQ(a["slowdown_s"].get<double>(), 0.0);
  EXPECT_NEAR(a["end_s"].get<double>(), 5400.0, 1e-6);
  // The PDU darkened a's racks and the site stopped it at 10 min, but a holds its nodes, hung,
  // until detection at 12 min: running_jobs counts it then (as allocated_gpu_h does); from 12 min
  // to the repair at 20 min it waits in the queue with b.
  std::ifstream ts(dir / "out" / "timeseries.csv");
  std::string line;
  std::getline(ts, line);
  std::map<int, std::vector<double>> rows;
  while (std::getline(ts, line)) {
    std::stringstream in(line);
    std::vector<double> v;
    for (std::string f; std::getline(in, f, ',');) v.push_back(std::stod(f));
    rows[static_cast<int>(v[0])] = v;
  }
  EXPECT_EQ(rows[650][2], 1.0);  // running_jobs: a, hung on its nodes
  EXPECT_EQ(rows[650][3], 1.0);  // queued_jobs: b
  EXPECT_EQ(rows[900][2], 0.0);
  EXPECT_EQ(rows[900][3], 2.0);
}

// Four one-node pods at 100% GPU activity (700 W per H100, 70 W idle) fill rack 0 of two 4-node
// racks; rack 0's PDU fails at 10 min (1 h repair), all four stop, are detected together at 12 min
// and restart on rack 1, reload for 5 min and compute again. By hand, each job's IT power rises by
// 8 x (700 - 70) W = 5,040 W when it computes (its nodes' base power is drawn idle or busy), so at
// the rack PSU's input (96%, the whole chain here) by 5,250 W; the cooling plant adds its share as
// its loop follows the heat.
//   stagger 0: all four at 17 min = 1,020 s: IT +20,160 W in one tick (facility +21,000 W plus
//     cooling);
//   stagger 30 s: at 1,020, 1,050, 1,080 and 1,110 s: IT +5,040 W per tick, and within any minute
//     at most two more jobs' worth, 10,080 W: half the ramp.
constexpr const char* kPods =
    "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,"
    "deletion_time,scheduled_time\n"
    "p0,1000,1024,8,1000,,LS,Running,0,7200,0\n"
    "p1,1000,1024,8,1000,,LS,Running,0,7200,0\n"
    "p2,1000,1024,8,1000,,LS,Running,0,7200,0\n"
    "p3,1000,1024,8,1000,,LS,Running,0,7200,0\n";

nlohmann::json RunRestartBurst(const std::string& stagger, const std::string& tick = "1 s") {
  std::string text = kHand;
  auto edit = [&](const std::string& from, const std::string& to) {
    text = ReplaceOnce(std::move(text), from, to);
  };
  edit("  nodes: 4\n", "  nodes: 8\n");
  edit("  nodes_per_rack: 2\n", "  nodes_per_rack: 4\n");
  edit("  restart_overhead: 10 min\n",
       "  restart_overhead: 5 min\n  restart_stagger: " + stagger + "\n");
  text.erase(text.find("workloads:"), text.find("failures:") - text.find("workloads:"));
  edit("failures:",
       "job_traces:\n  - file: pods.csv\n    format: alibaba_v2023\n"
       "    gpu_activity: 100 %\nfailures:");
  edit("    - component: gpu\n      index: 0\n      at: 30 min\n      repair: 2 h\n",
       "    - component: pdu\n      index: 0\n      at: 10 min\n      repair: 1 h\n");
  edit("  duration: 3 h\n  tick: 1 s\n", "  duration: 40 min\n  tick: " + tick + "\n");
  const fs::path dir = WriteScenario("life_ramp", text);
  std::ofstream(dir / "pods.csv") << kPods;
  const Result r =
      Firstwall("run --quiet " + (dir / "s.yaml").string() + " --out " + (dir / "out").string());
  EXPECT_EQ(r.status, 0) << r.out;
  const std::string events = Slurp(dir / "out" / "events.csv");
  EXPECT_NE(events.find("600.000,failure,,pdu,0,pdu,node_down,0,4,3600.000,p0;p1;p2;p3\n"),
            std::string::npos)
      << events;
  return nlohmann::json::parse(Slurp(dir / "out" / "summary.json"))["restarts"];
}

TEST(ClusterLife, StaggeredRestartsHalveThePowerRampAtTheMeter) {
  const nlohmann::json together = RunRestartBurst("0 s"), staggered = RunRestartBurst("30 s");
  std::printf("%-9s %6s %5s %12s %12s %12s %12s %14s\n", "stagger", "burst", "jobs", "IT 1min MW",
              "IT tick MW", "fac 1min MW", "fac tick MW", "fac MW/min tick");
  for (const auto* r : {&together, &staggered}) {
    const auto& b = (*r)["bursts"][0];
    std::printf("%-9.0f %6.0f %5d %12.5f %12.5f %12.5f %12.5f %14.3f\n",
                (*r)["stagger_s"].get<double>(), b["at_s"].get<double>(), b["jobs"].get<int>(),
                b["it_rise_1min"]["mw"].get<double>(), b["it_step_1tick"]["mw"].get<double>(),
                b["facility_rise_1min"]["mw"].get<double>(),
                b["facility_step_1tick"]["mw"].get<double>(),
                b["facility_step_1tick"]["mw_per_min"].get<double>());
  }
  for (const auto* r : {&together, &staggered}) {
    EXPECT_EQ((*r)["restarts"], 4);
    EXPECT_EQ((*r)["multi_job_bursts"], 1);
    ASSERT_EQ((*r)["bursts"].size(), 1u);
    EXPECT_DOUBLE_EQ((*r)["bursts"][0]["at_s"].get<double>(), 720.0);
    EXPECT_EQ((*r)["bursts"][0]["jobs"], 4);
    EXPECT_EQ((*r)["bursts"][0]["gpus"], 32);
  }
  const auto& t = together["bursts"][0];
  const auto& s = staggered["bursts"][0];
  EXPECT_DOUBLE_EQ(t["computing_first_s"].get<double>(), 1020.0);
  EXPECT_DOUBLE_EQ(t["computing_last_s"].get<double>(), 1020.0);
  EXPECT_DOUBLE_EQ(s["computing_last_s"].get<double>(), 1110.0);
  // IT: exactly the GPUs' rise from idle to busy.
  EXPECT_NEAR(t["it_step_1tick"]["mw"].get<double>(), 0.02016, 1e-9);
  EXPECT_NEAR(t["it_rise_1min"]["mw"].get<double>(), 0.02016, 1e-9);
  EXPECT_NEAR(t["it_step_1tick"]["at_s"].get<double>(), 1020.0, 1e-9);
  EXPECT_NEAR(s["it_step_1tick"]["mw"].get<double>(), 0.00504, 1e-9);
  EXPECT_NEAR(s["it_rise_1min"]["mw"].get<double>(), 0.01008, 1e-9);
  EXPECT_NEAR(t["it_step_1tick"]["mw_per_min"].get<double>(), 0.02016 * 60, 1e-7);
  // Facility: the IT step through the 96% PSU, plus a little cooling in the same tick; within a
  // minute the cooling loop follows further, but stays a small share of the step.
  const double fac_step = t["facility_step_1tick"]["mw"].get<double>();
  EXPECT_GE(fac_step, 0.021 - 1e-9);
  EXPECT_LT(fac_step, 0.021 * 1.2);
  EXPECT_GE(t["facility_rise_1min"]["mw"].get<double>(), fac_step);
  EXPECT_LT(t["facility_rise_1min"]["mw"].get<double>(), 0.021 * 1.4);
  // Staggered: lower at the meter, in one tick and within a minute.
  EXPECT_LT(s["facility_step_1tick"]["mw"].get<double>(), 0.3 * fac_step);
  EXPECT_LT(s["facility_rise_1min"]["mw"].get<double>(),
            0.6 * t["facility_rise_1min"]["mw"].get<double>());
  EXPECT_NEAR(together["largest"]["facility_rise_1min"]["mw"].get<double>(),
              t["facility_rise_1min"]["mw"].get<double>(), 1e-12);
  EXPECT_EQ(together["largest"]["facility_rise_1min"]["jobs"], 4);
  // A 5 min tick averages a minute's ramp away: the burst is counted, its rises are not measured.
  const nlohmann::json coarse = RunRestartBurst("0 s", "5 min");
  EXPECT_EQ(coarse["restarts"], 4);
  ASSERT_EQ(coarse["bursts"].size(), 1u);
  EXPECT_TRUE(coarse["largest"]["facility_rise_1min"].is_null());
  EXPECT_TRUE(coarse["largest"]["it_step_1tick"].is_null());
  EXPECT_TRUE(coarse["bursts"][0]["facility_rise_1min"].is_null());
}

// A PDU per rack (2 nodes, rated 10 kW, trips): a (24 GPUs on nodes 0-2) overloads PDU 0 (2 x
// (8 x ~500 W + 2 kW) over 10 kW at the first window's end) and stops; events.csv names the unit
// on the host_stop and on each lost node's exclusion: component pdu, index 0.
TEST(ClusterLife, TripEventsNameTheStageAndUnit) {
  std::string text = kHand;
  const std::string psu = "    - name: psu\n      efficiency: 96 %\n      it_equipment: true\n";
  text.replace(text.find(psu), psu.size(),
               psu +
                   "      racks_per_unit: 1\n    - name: pdu\n      efficiency: 98 %\n"
                   "      rating: 10 kW\n"
                   "      racks_per_unit: 1\n      on_overload: trip\n");
  const fs::path dir = WriteScenario("life_trip", text);
  const Result r =
      Firstwall("run --quiet " + (dir / "s.yaml").string() + " --out " + (dir / "out").string());
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string events = Slurp(dir / "out" / "events.csv");
  EXPECT_NE(events.find(",host_stop,a,pdu,0,power_trip,,,,,\n"), std::string::npos) << events;
  EXPECT_NE(events.find(",exclusion,,pdu,0,,,0,,,\n"), std::string::npos) << events;
  EXPECT_NE(events.find(",exclusion,,pdu,0,,,1,,,\n"), std::string::npos) << events;
}

struct BadCase {
  std::string what;
  std::vector<std::pair<std::string, std::string>> edits;  // replace first with second, in order
  std::string message;
};

// Each change of the hand scenario is refused at its line with the reason.
TEST(ClusterLife, ScenarioErrorsNameTheKey) {
  const std::string storage =
      "  storage_network:\n    nic_per_node: 400 Gb/s\n    storage_bandwidth: 100 GB/s\nfacility:";
  const std::string scripted =
      "failures:\n  table: none\n  scripted:\n    - component: gpu\n      index: 0\n"
      "      at: 30 min\n      repair: 2 h\n";
  const std::vector<BadCase> cases = {
      {"failures without a scheduler",
       {{"scheduler:\n  policy: fcfs\n  failure_detection: 2 min\n  restart_overhead: 10 min\n",
         ""},
        {"    gpus: 16\n    global_batch: 16\n", "    gpus: 8\n    global_batch: 8\n"}},
       "'failures' needs a scheduler"},
      {"auto interval without failure rates",
       {{"facility:", storage},
        {"    duration: 30 min\n", "    duration: 30 min\n    checkpoint_every: auto\n"},
        {scripted, ""}},
       "checkpoint_every: auto needs failure rates"},
      {"index past the cluster",
       {{"      index: 0\n", "      index: 32\n"}},
       "the cluster has 32 gpu components (indices 0 to 31)"},
      {"borrowing without a cohort",
       {{"  restart_overhead: 10 min\n",
         "  restart_overhead: 10 min\n  quotas:\n    - tenant: a\n      nominal_gpus: 8\n"
         "      borrowing_limit_gpus: 8\n"}},
       "has a borrowing limit but no cohort"},
      {"two lengths",
       {{"    duration: 1 h\n", "    duration: 1 h\n    steps: 10\n"}},
       "gives more than one of duration, steps and tokens"},
      {"a deadline on a job without a length",
       {{"    duration: 1 h\n", "    deadline: 2 h\n"}},
       "has a deadline but no length"},
      {"a deadline at the start",
       {{"    duration: 30 min\n", "    duration: 30 min\n    start: 2 h\n    deadline: 2 h\n"}},
       "has its deadline at or before its start"},
      {"a job larger than the cluster",
       {{"    gpus: 24\n    global_batch: 24\n", "    gpus: 40\n    global_batch: 40\n"}},
       "more than the cluster's 4"},
  };
  for (const BadCase& c : cases) {
    std::string text = kHand;
    for (const auto& [from, to] : c.edits) {
      const size_t at = text.find(from);
      ASSERT_NE(at, std::string::npos) << c.what << ": " << from;
      text.replace(at, from.size(), to);
    }
    const fs::path dir = WriteScenario("life_bad", text);
    const Result r = Firstwall("validate " + (dir / "s.yaml").string());
    EXPECT_EQ(r.status, 2) << c.what << "\n" << r.out;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << c.what << "\n" << r.out;
    EXPECT_NE(r.out.find("s.yaml:"), std::string::npos) << c.what << "\n" << r.out;
  }
}

// A queue key without a scheduler would be silently ignored: it is refused.
TEST(ClusterLife, QueueKeysNeedAScheduler) {
  std::string text = kHand;
  text.erase(text.find("scheduler:"), text.find("workloads:") - text.find("scheduler:"));
  text.erase(text.find("failures:"), text.find("simulation:") - text.find("failures:"));
  text.replace(text.find("    duration: 1 h\n"), 18, "    duration: 1 h\n    priority: 5\n");
  text.replace(text.find("    gpus: 16\n    global_batch: 16\n"), 34,
               "    gpus: 8\n    global_batch: 8\n");
  const fs::path dir = WriteScenario("life_nosched", text);
  const Result r = Firstwall("validate " + (dir / "s.yaml").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("'workloads[0].priority' is a queue setting, and there is no scheduler"),
            std::string::npos)
      << r.out;
}

// A bad row of a job trace is reported in the trace, with the scenario line that named it.
TEST(ClusterLife, TraceErrorsPointIntoTheTraceAndBackAtTheScenario) {
  std::string text = kHand;
  text.replace(text.find("failures:"), 0,
               "job_traces:\n  - file: pods.csv\n    format: alibaba_v2023\n");
  const fs::path dir = WriteScenario("life_trace", text);
  std::ofstream(dir / "pods.csv")
      << "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,"
         "deletion_time,scheduled_time\n"
         "p0,1000,1024,1,1000,,LS,Running,0,100,0\n"
         "p1,1000,1024,x,1000,,LS,Running,0,100,0\n";
  const Result r = Firstwall("validate " + (dir / "s.yaml").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("pods.csv:3:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hint: the file is named by 'job_traces[0].file' at "), std::string::npos)
      << r.out;
}

// A looped trace repeats its window end to end: two pods in a 100 s window replayed twice as fast
// come back every 50 s until the run ends at 200 s, as name@1, name@2, name@3. By hand: p0 (30 s
// of work) arrives at 0, p1 (20 s) at 50 / 2 = 25 s; copy k arrives k x 50 s later.
TEST(ClusterLife, ALoopedTraceRepeatsItsWindowUntilTheEnd) {
  std::string text = kHand;
  text.erase(text.find("workloads:"), text.find("simulation:") - text.find("workloads:"));
  text.replace(text.find("simulation:"), 0,
               "job_traces:\n  - file: pods.csv\n    format: alibaba_v2023\n    rate_scale: 2\n"
               "    length: 100 s\n    loop: true\n");
  text.replace(text.find("duration: 3 h"), 13, "duration: 200 s");
  const fs::path dir = WriteScenario("life_loop", text);
  std::ofstream(dir / "pods.csv")
      << "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,"
         "deletion_time,scheduled_time\n"
         "p0,1000,1024,1,1000,,LS,Succeeded,0,30,0\n"
         "p1,1000,1024,1,1000,,LS,Succeeded,50,70,50\n";
  const Result r =
      Firstwall("run --quiet " + (dir / "s.yaml").string() + " --out " + (dir / "out").string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(Slurp(dir / "out" / "jobs.csv"),
            "job,tenant,attempt,gpus,nodes,submit_s,queued_s,start_s,end_s,wait_s,ended\n"
            "p0,LS,1,1,1,0.000,0.000,0.000,30.000,0.000,completed\n"
            "p1,LS,1,1,1,25.000,25.000,25.000,45.000,0.000,completed\n"
            "p0@1,LS,1,1,1,50.000,50.000,50.000,80.000,0.000,completed\n"
            "p1@1,LS,1,1,1,75.000,75.000,75.000,95.000,0.000,completed\n"
            "p0@2,LS,1,1,1,100.000,100.000,100.000,130.000,0.000,completed\n"
            "p1@2,LS,1,1,1,125.000,125.000,125.000,145.000,0.000,completed\n"
            "p0@3,LS,1,1,1,150.000,150.000,150.000,180.000,0.000,completed\n"
            "p1@3,LS,1,1,1,175.000,175.000,175.000,195.000,0.000,completed\n");
  const auto j = nlohmann::json::parse(Slurp(dir / "out" / "summary.json"));
  EXPECT_EQ(j["scheduler"]["jobs_submitted"], 8);

  // A window of 1 s at twice the rate repeats every 0.5 s: 3.5e7 copies in 100 days, refused at
  // the key before any is made.
  {
    std::string many_text = text;
    many_text.replace(many_text.find("    length: 100 s\n"), 18, "    length: 1 s\n");
    many_text.replace(many_text.find("duration: 200 s"), 15, "duration: 100 d");
    std::ofstream(dir / "s.yaml") << many_text;
    const Result many = Firstwall("validate " + (dir / "s.yaml").string());
    EXPECT_EQ(many.status, 2) << many.out;
    EXPECT_NE(many.out.find("s.yaml:"), std::string::npos) << many.out;
    EXPECT_NE(many.out.find("the looped trace would queue more than 5000000 jobs"),
              std::string::npos)
        << many.out;
  }

  // Without a length the loop has no period.
  text.replace(text.find("    length: 100 s\n"), 18, "");
  std::ofstream(dir / "s.yaml") << text;
  const Result bad = Firstwall("validate " + (dir / "s.yaml").string());
  EXPECT_EQ(bad.status, 2) << bad.out;
  EXPECT_NE(bad.out.find("s.yaml:"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("a looped trace needs the length of its window"), std::string::npos)
      << bad.out;
}

// simulation.windows: per_tick cuts windows at ticks only. Jobs starting, failing and ending inside
// the ticks keep the same books (jobs.csv, events.csv byte for byte), each tick's IT and GPU power
// (timeseries.csv) and the energies stay those of windows cut at every event, and the windows are
// the ticks.
TEST(ClusterLife, WindowsCutPerTickKeepTheBooksAndTheEnergy) {
  std::string text = kHand;
  text.erase(text.find("workloads:"), text.find("simulation:") - text.find("workloads:"));
  text = ReplaceOnce(text, "simulation:",
                     "job_traces:\n  - file: pods.csv\n    format: alibaba_v2023\n"
                     "    length: 100 s\n    loop: true\nfailures:\n  table: none\n  scripted:\n"
                     "    - component: gpu\n      index: 0\n      at: 59 s\n      repair: 25 s\n"
                     "simulation:");
  text = ReplaceOnce(text, "failure_detection: 2 min", "failure_detection: 9 s");
  text = ReplaceOnce(text, "restart_overhead: 10 min", "restart_overhead: 13 s");
  text = ReplaceOnce(text, "duration: 3 h\n  tick: 1 s", "duration: 600 s\n  tick: 7 s");
  const fs::path dir = WriteScenario("life_per_tick", text);
  // Pods of 8 and 16 GPUs (whole nodes) starting and ending off the 7 s ticks; the failed GPU 0
  // is on node 0, where the first of them runs.
  std::ofstream(dir / "pods.csv")
      << "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,"
         "deletion_time,scheduled_time\n"
         "p0,1000,1024,8,1000,,LS,Succeeded,10,87,10\n"
         "p1,1000,1024,16,1000,,LS,Succeeded,18,47,18\n"
         "p2,1000,1024,8,1000,,LS,Succeeded,19,40,19\n"
         "p3,1000,1024,8,1000,,LS,Succeeded,52,68,52\n";
  const Result per_event =
      Firstwall("run --quiet " + (dir / "s.yaml").string() + " --out " + (dir / "ev").string());
  ASSERT_EQ(per_event.status, 0) << per_event.out;
  std::ofstream(dir / "s.yaml") << ReplaceOnce(text, "  tick: 7 s",
                                               "  tick: 7 s\n  windows: per_tick");
  const Result per_tick =
      Firstwall("run --quiet " + (dir / "s.yaml").string() + " --out " + (dir / "pt").string());
  ASSERT_EQ(per_tick.status, 0) << per_tick.out;

  EXPECT_EQ(Slurp(dir / "pt" / "jobs.csv"), Slurp(dir / "ev" / "jobs.csv"));
  EXPECT_EQ(Slurp(dir / "pt" / "events.csv"), Slurp(dir / "ev" / "events.csv"));
  const auto ev = nlohmann::json::parse(Slurp(dir / "ev" / "summary.json"));
  const auto pt = nlohmann::json::parse(Slurp(dir / "pt" / "summary.json"));
  ASSERT_GT(ev["scheduler"]["failures"].get<int>(), 0) << "the test needs a failure";
  ASSERT_GT(ev["scheduler"]["jobs_started"].get<int>(), 12);
  EXPECT_GT(ev["engine"]["windows"].get<int>(), ev["engine"]["ticks"].get<int>());
  EXPECT_EQ(pt["engine"]["windows"], pt["engine"]["ticks"]);
  std::printf("windows: %d cut at events, %d per tick\n", ev["engine"]["windows"].get<int>(),
              pt["engine"]["windows"].get<int>());
  // The cooling loop's lag (thermal/cooling_plant.h) is fed each tick's mean heat instead of its
  // pieces: the facility's energy differs by that second-order effect only.
  for (const auto& [k, rel] : {std::pair{"it_energy_kwh", 1e-9}, std::pair{"gpu_energy_kwh", 1e-9},
                               std::pair{"facility_energy_kwh", 1e-5}}) {
    const double a = ev[k].get<double>(), b = pt[k].get<double>();
    std::printf("%-20s per event %.9f per tick %.9f (%.1e)\n", k, a, b, std::abs(b - a) / a);
    EXPECT_NEAR(b, a, rel * a) << k;
  }
  // Tick by tick: each row of IT and GPU power is the same mean over its tick.
  const auto rows = [](const std::string& csv) {
    std::vector<std::vector<std::string>> out;
    std::istringstream in(csv);
    for (std::string line; std::getline(in, line);) {
      std::vector<std::string> cells;
      std::istringstream l(line);
      for (std::string c; std::getline(l, c, ',');) cells.push_back(c);
      out.push_back(cells);
    }
    return out;
  };
  const auto a = rows(Slurp(dir / "ev" / "timeseries.csv"));
  const auto b = rows(Slurp(dir / "pt" / "timeseries.csv"));
  ASSERT_EQ(a.size(), b.size());
  ASSERT_FALSE(a.empty());
  int compared = 0;
  for (size_t col = 0; col < a[0].size(); ++col) {
    const std::string& name = a[0][col];
    if (name != "it_power_kw" && name != "gpu_power_kw" && name != "running_jobs") continue;
    for (size_t r = 1; r < a.size(); ++r) {
      EXPECT_NEAR(std::stod(b[r][col]), std::stod(a[r][col]), 2e-3) << name << " row " << r;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 3 * static_cast<int>(a.size() - 1));
}

// A training job that starts and ends inside one 1 h tick: per tick, its chips and its fabric load
// are still followed over the part it ran (the same peak temperature and link utilization as
// windows cut at its start and end), and its energy is the same.
TEST(ClusterLife, AJobInsideOneTickKeepsItsTemperatureAndFabricPeak) {
  std::string text = kHand;
  text = ReplaceOnce(text, "    duration: 1 h\n", "    duration: 7 min\n    start: 13 s\n");
  text.erase(text.find("  - name: b\n"), text.find("failures:") - text.find("  - name: b\n"));
  text = ReplaceOnce(text, "duration: 3 h\n  tick: 1 s", "duration: 2 h\n  tick: 1 h");
  const fs::path dir = WriteScenario("life_tick_inside", text);
  std::ofstream(dir / "t.yaml") << ReplaceOnce(text, "  tick: 1 h",
                                               "  tick: 1 h\n  windows: per_tick");
  nlohmann::json out[2];
  for (int k = 0; k < 2; ++k) {
    const std::string f = k == 0 ? "s.yaml" : "t.yaml", o = k == 0 ? "ev" : "pt";
    const Result r =
        Firstwall("run --quiet " + (dir / f).string() + " --out " + (dir / o).string());
    ASSERT_EQ(r.status, 0) << r.out;
    out[k] = nlohmann::json::parse(Slurp(dir / o / "summary.json"));
  }
  const auto fabric = [](const nlohmann::json& j) {
    for (const auto& res : j["resources"]) {
      if (res["name"] == "fabric") return res["peak"].get<double>();
    }
    return -1.0;
  };
  const double t_ev = out[0]["jobs"][0]["gpu_temperature_peak_c"].get<double>();
  const double t_pt = out[1]["jobs"][0]["gpu_temperature_peak_c"].get<double>();
  std::printf("peak chip %.4f C per event, %.4f C per tick; fabric peak %.4f, %.4f\n", t_ev, t_pt,
              fabric(out[0]), fabric(out[1]));
  EXPECT_GT(t_ev, 30.0);
  EXPECT_NEAR(t_pt, t_ev, 1e-9);
  EXPECT_GT(fabric(out[0]), 0.0);
  EXPECT_NEAR(fabric(out[1]), fabric(out[0]), 1e-12);
  EXPECT_NEAR(out[1]["it_energy_kwh"].get<double>(), out[0]["it_energy_kwh"].get<double>(), 1e-9);
  EXPECT_EQ(out[1]["engine"]["windows"], 2);
}

}  // namespace
}  // namespace firstwall::testing_cli

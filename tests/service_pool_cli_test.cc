// Inference services in the scheduler's pool through the CLI (issue #11, site/life_services.h):
// a replica preempting a job, the rows it leaves in jobs.csv and events.csv, summary.json
// services[].pool, the printed pool line, and the scenario errors of services[].priority.
#include <cstdio>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli_support.h"

namespace firstwall::testing_cli {
namespace {

// Four 8-GPU nodes under the priority policy: job a (24 GPUs, 2 h of work, no checkpoints) and
// service chat (one Llama-3-8B replica of tp 8: one node) from 0; service burst wants one more
// node from 30 min to 60 min at priority 10.
constexpr const char* kPool = R"(firstwall: 1
site:
  name: pool
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
  policy: priority
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
    duration: 2 h
services:
  - name: chat
    model: llama3-8b
    replicas: 1
    tp: 8
    requests:
      - rate: 1 req/s
        prompt_tokens: 500
        output_tokens: 100
  - name: burst
    model: llama3-8b
    replicas: 1
    tp: 8
    priority: 10
    start: 30 min
    duration: 30 min
    requests:
      - rate: 1 req/s
        prompt_tokens: 500
        output_tokens: 100
simulation:
  duration: 4 h
  tick: 10 s
)";

fs::path WriteScenario(const std::string& name, const std::string& text) {
  const fs::path dir = Fresh(name);
  fs::create_directories(dir);
  std::ofstream(dir / "s.yaml") << text;
  return dir;
}

// By hand: at 30 min burst's replica finds no free node and preempts a (priority 0, preemptible),
// which loses its 30 min of work (24 GPUs x 0.5 h = 12 GPU-h) and waits for three nodes until
// burst ends at 60 min; it then reloads for 10 min and computes its 2 h again, ending at
// 60 + 10 + 120 = 190 min = 11,400 s. chat (priority 1: one above the jobs') is never disturbed.
TEST(ServicePoolCli, AReplicaPreemptsAJobThatRestartsWhenItIsReleased) {
  const fs::path dir = WriteScenario("pool_hand", kPool);
  const Result r =
      Firstwall("run " + (dir / "s.yaml").string() + " --out " + (dir / "out").string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(Slurp(dir / "out" / "jobs.csv"),
            "job,tenant,attempt,gpus,nodes,submit_s,queued_s,start_s,end_s,wait_s,ended\n"
            "chat/r0,chat,1,8,1,0.000,0.000,0.000,14400.000,0.000,cut\n"
            "a,a,1,24,3,0.000,0.000,0.000,1800.000,0.000,preempted\n"
            "burst/r0,burst,1,8,1,1800.000,1800.000,1800.000,3600.000,0.000,released\n"
            "a,a,2,24,3,0.000,1800.000,3600.000,11400.000,1800.000,completed\n");
  EXPECT_EQ(Slurp(dir / "out" / "events.csv"),
            "time_s,event,job,component,index,cause,effect,first_node,nodes,repair_s,jobs_hit\n"
            "1800.000,preemption,a,,,burst/r0,,,,,\n"
            "3600.000,restart,a,,,,,,,,\n");
  EXPECT_NE(r.out.find("  pool (priority 10): 0.50 of 0.50 wanted replica-hours granted, short "
                       "0.00 replica-h over 0 s; 1 replica starts, 0 replica failures; caused 1 "
                       "preemptions losing 12.00 GPU-h of jobs' work (latencies assume the "
                       "wanted replicas)"),
            std::string::npos)
      << r.out;
  const auto j = nlohmann::json::parse(Slurp(dir / "out" / "summary.json"));
  const auto& chat = j["services"][0]["pool"];
  EXPECT_EQ(chat["priority"], 1);
  EXPECT_DOUBLE_EQ(chat["replicas_wanted_h"].get<double>(), 4.0);
  EXPECT_DOUBLE_EQ(chat["replicas_granted_h"].get<double>(), 4.0);
  EXPECT_EQ(chat["preemptions_caused"], 0);
  const auto& burst = j["services"][1]["pool"];
  EXPECT_EQ(burst["priority"], 10);
  EXPECT_DOUBLE_EQ(burst["replicas_wanted_h"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(burst["shortfall_replica_h"].get<double>(), 0.0);
  EXPECT_EQ(burst["preemptions_caused"], 1);
  EXPECT_DOUBLE_EQ(burst["preempted_lost_gpu_h"].get<double>(), 12.0);
  EXPECT_EQ(burst["latencies_assume"], "wanted replicas");
  EXPECT_TRUE(burst["with_granted_replicas"].is_null());  // nothing short: nothing to re-run
  // Goodput is the jobs': a's 48 useful GPU-h, 12 lost, 24 x 10 min of restart.
  const auto& g = j["goodput"];
  EXPECT_DOUBLE_EQ(g["useful_gpu_h"].get<double>(), 48.0);
  EXPECT_DOUBLE_EQ(g["badput_gpu_h"]["lost_progress"].get<double>(), 12.0);
  EXPECT_NEAR(g["badput_gpu_h"]["restart"].get<double>(), 4.0, 1e-9);
  // The pool's allocation counts the replicas' nodes: a 24 x (0.5 + 2 h 10 min), chat 8 x 4 h,
  // burst 8 x 0.5 h = 64 + 32 + 4 = 100 GPU-h; the job counts do not.
  const auto& s = j["scheduler"];
  EXPECT_NEAR(s["allocated_gpu_h"].get<double>(), 100.0, 1e-9);
  EXPECT_EQ(s["jobs_submitted"], 1);
  EXPECT_EQ(s["preemptions"], 1);
}

// A pool too small for the wanted replicas: job a (priority 10, not preemptible) holds three of
// the four nodes from 0 (chat's replicas, at priority 5, come after it in the pass at 0), and chat
// wants four one-node replicas: one is granted for the 2 h.
// By hand: the site draws for chat its 8 granted GPUs at idle plus one serving replica's share
// (a quarter, it wanted four) of the wanted run's power above idle: a quarter of the wanted run's
// energy (its phases, which keep the wanted run's figures). 1 replica x 2 h = 2 replica-hours. At
// most 8 GPUs x 700 W x 2 h = 11.2 kWh could be drawn on its node; the wanted run's ~18.8 kWh (what
// the block reported before) could not.
TEST(ServicePoolCli, AShortServiceReportsTheEnergyOfItsGrantedReplicas) {
  std::string text =
      ReplaceOnce(kPool, "    duration: 2 h\n", "    priority: 10\n    preemptible: false\n");
  text = ReplaceOnce(text, "    replicas: 1\n    tp: 8\n    requests:\n      - rate: 1 req/s",
                     "    replicas: 4\n    priority: 5\n    tp: 8\n    requests:\n"
                     "      - rate: 20 req/s");
  text = text.substr(0, text.find("  - name: burst\n")) + text.substr(text.find("simulation:"));
  text = ReplaceOnce(text, "duration: 4 h", "duration: 2 h");
  const fs::path dir = WriteScenario("pool_short", text);
  const Result r =
      Firstwall("run --quiet " + (dir / "s.yaml").string() + " --out " + (dir / "out").string());
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(Slurp(dir / "out" / "summary.json"));
  const auto& chat = j["services"][0];
  EXPECT_DOUBLE_EQ(chat["pool"]["replicas_wanted_h"].get<double>(), 8.0);
  EXPECT_DOUBLE_EQ(chat["pool"]["replicas_granted_h"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(chat["replica_hours"].get<double>(), 2.0);
  double wanted_kwh = 0;
  for (const char* p : {"prefill", "decode", "mixed", "idle"}) {
    wanted_kwh += chat["phases"][p]["gpu_energy_kwh"].get<double>();
  }
  const double kwh = chat["gpu_energy_kwh"].get<double>();
  const double site_kwh = j["gpu_energy_kwh"].get<double>();
  std::printf("chat: wanted run %.4f kWh, drawn %.4f kWh (quarter %.4f), site GPUs %.4f kWh\n",
              wanted_kwh, kwh, wanted_kwh / 4, site_kwh);
  EXPECT_NEAR(kwh, wanted_kwh / 4, 1e-5 * wanted_kwh);
  EXPECT_LT(kwh, 8 * 0.7 * 2);
  double services_kwh = 0;
  for (const auto& s : j["services"]) services_kwh += s["gpu_energy_kwh"].get<double>();
  EXPECT_LE(services_kwh, site_kwh);
}

TEST(ServicePoolCli, PriorityNeedsASchedulerAndAReplicaMustFit) {
  // No scheduler: services[].priority would be ignored.
  std::string text = ReplaceOnce(kPool,
                                 "scheduler:\n  policy: priority\n  failure_detection: 2 min\n"
                                 "  restart_overhead: 10 min\n",
                                 "");
  text = ReplaceOnce(text, "    duration: 2 h\n", "");
  text = ReplaceOnce(text, "gpus: 24\n    global_batch: 24", "gpus: 16\n    global_batch: 16");
  fs::path dir = WriteScenario("pool_noscheduler", text);
  Result r = Firstwall("validate " + (dir / "s.yaml").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("s.yaml:40:15: error: 'services[1].priority' is the replicas' place in a "
                       "scheduler's queue, and there is no scheduler"),
            std::string::npos)
      << r.out;
  // A replica of 8 x 8 GPUs needs 8 nodes of the 4.
  dir = WriteScenario(
      "pool_toobig", ReplaceOnce(kPool, "    tp: 8\n    priority: 10\n", "    tp: 8\n    pp: 8\n"));
  r = Firstwall("validate " + (dir / "s.yaml").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("s.yaml:45:9: error: a replica of service 'burst' could never start: it "
                       "needs 8 nodes, more than the cluster's 4 less its 0 spare nodes"),
            std::string::npos)
      << r.out;
  // Under FCFS replicas queue like jobs: the run says so.
  dir = WriteScenario("pool_fcfs", ReplaceOnce(kPool, "policy: priority", "policy: fcfs"));
  r = Firstwall("run --quiet " + (dir / "s.yaml").string() + " --out " + (dir / "out").string());
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(Slurp(dir / "out" / "summary.json"));
  ASSERT_EQ(j["warnings"].size(), 1u) << j["warnings"];
  EXPECT_NE(j["warnings"][0].get<std::string>().find(
                "s.yaml:20:11: services' replicas under policy fcfs queue behind earlier jobs"),
            std::string::npos)
      << j["warnings"];
  // burst waits for a to end at 2 h and never runs (its lifetime ends at 60 min): 0.5 replica-h
  // short over 1,800 s, nothing preempted.
  const auto& burst = j["services"][1]["pool"];
  EXPECT_DOUBLE_EQ(burst["replicas_granted_h"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(burst["shortfall_replica_h"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(burst["short_s"].get<double>(), 1800.0);
  EXPECT_EQ(burst["preemptions_caused"], 0);
  // Run again with the replicas granted (none), none of its requests finishes.
  const auto& granted = burst["with_granted_replicas"];
  EXPECT_EQ(granted["completed"], 0);
  EXPECT_EQ(granted["unfinished"], j["services"][1]["requests"]);
  EXPECT_TRUE(granted["slo_attainment"].is_null());
  EXPECT_GT(j["services"][1]["completed"].get<double>(), 0);  // all of them with the wanted one
}

TEST(ServicePoolCli, AFleetThatCouldNeverBeGrantedOrASampledOneIsRefused) {
  // 5 replicas of one 8-GPU node on 4 nodes: the last could never start.
  fs::path dir =
      WriteScenario("pool_fleet", ReplaceOnce(kPool, "    replicas: 1\n    tp: 8\n    requests:",
                                              "    replicas: 5\n    tp: 8\n    requests:"));
  Result r = Firstwall("validate " + (dir / "s.yaml").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("s.yaml:35:15: error: service 'chat' would need 5 nodes for its 5 "
                       "replicas, more than the cluster's 4 less its 0 spare nodes"),
            std::string::npos)
      << r.out;
  // Sampling rescales the replicas the pool requests and caps: refused.
  dir = WriteScenario(
      "pool_sampled",
      ReplaceOnce(kPool, "    replicas: 1\n    tp: 8\n    requests:",
                  "    replicas: 1\n    sample_replicas: 1\n    tp: 8\n    requests:"));
  r = Firstwall("validate " + (dir / "s.yaml").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("s.yaml:36:22: error: sample_replicas is not supported for a service in a "
                       "scheduler's pool"),
            std::string::npos)
      << r.out;
}

TEST(ServicePoolCli, ExampleRunsTwiceAlike) {
  const fs::path a = Fresh("pool_example_a"), b = Fresh("pool_example_b");
  ASSERT_EQ(Firstwall("run --quiet examples/service-pool.yaml --out " + a.string()).status, 0);
  ASSERT_EQ(Firstwall("run --quiet examples/service-pool.yaml --out " + b.string()).status, 0);
  for (const char* f : {"summary.json", "timeseries.csv", "jobs.csv", "events.csv"}) {
    EXPECT_EQ(Slurp(a / f), Slurp(b / f)) << f << " differs between two runs";
  }
  const auto j = nlohmann::json::parse(Slurp(a / "summary.json"));
  const auto& pool = j["services"][0]["pool"];
  EXPECT_GT(pool["preemptions_caused"].get<int>(), 0);
  EXPECT_GT(pool["replicas_wanted_peak"].get<int>(), 2);
  // Every wanted replica got nodes at once; the scripted host-3 failure at 9 h hits replica r6,
  // which serves nothing for 5 min (2 min to detect, 3 min to reload) while it holds nodes: the
  // pool granted the wanted replica-hours less 1 x 300 s, and the block's replica_hours (held)
  // are the wanted ones.
  EXPECT_EQ(pool["replica_failures"], 1);
  EXPECT_DOUBLE_EQ(pool["short_s"].get<double>(), 300.0);
  EXPECT_NEAR(pool["shortfall_replica_h"].get<double>(), 300.0 / 3600, 1e-12);
  EXPECT_NEAR(pool["replicas_granted_h"].get<double>(),
              pool["replicas_wanted_h"].get<double>() - 300.0 / 3600, 1e-9);
  EXPECT_NEAR(j["services"][0]["replica_hours"].get<double>(),
              pool["replicas_wanted_h"].get<double>(), 1e-9);
}

}  // namespace
}  // namespace firstwall::testing_cli

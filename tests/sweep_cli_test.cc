// firstwall sweep and collate, end to end: one sweep run on 1 and 2 threads, in 1, 3 and 7
// shards, and resumed, gives the same bytes.
#include <algorithm>
#include <cstdlib>

#include <fcntl.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "tests/cli_support.h"

namespace firstwall::testing_cli {
namespace {

// 3 x 2 design points x 2 replicas on the default hall for 10 minutes: 12 points, each a few
// tens of milliseconds.
const char* kSweep = R"(firstwall_sweep: 1
seed: 7
set:
  simulation.duration: 10 min
  power_swings.start: 1 min
vary:
  - key: workloads[0].gpus
    values: [256, 512, 1024]
  - key: facility.cooling.capacity
    range: {from: 1 MW, to: 2 MW, steps: 2}
replicas: 2
uncertain:
  - key: cluster.node_base_power
    value: 2 kW ± 5%
outputs: [/jobs/0/step_time_s]
)";

fs::path WriteSweep(const std::string& name, const std::string& text) {
  const fs::path dir = Fresh(name);
  fs::create_directories(dir);
  std::ofstream(dir / "sweep.yaml") << text;
  return dir;
}

std::string fmt_ranks(int ranks) {
  return "ran 12 on " + std::to_string(ranks) + " MPI rank" + (ranks == 1 ? "" : "s");
}

void ExpectSameFiles(const fs::path& a, const fs::path& b) {
  for (const char* f : {"results.jsonl", "results.csv", "bands.csv"}) {
    ASSERT_TRUE(fs::exists(b / f)) << b / f;
    EXPECT_EQ(Slurp(a / f), Slurp(b / f)) << a / f << " vs " << b / f;
  }
}

class SweepCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(WriteSweep("sweep", kSweep));
    const Result r = Firstwall("sweep " + (*dir_ / "sweep.yaml").string() + " --threads 1 --out " +
                               (*dir_ / "one").string());
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("12 points; ran 12 on 1 thread, 0 already done"), std::string::npos)
        << r.out;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string Sweep() { return (*dir_ / "sweep.yaml").string(); }
  static fs::path One() { return *dir_ / "one"; }
  static fs::path* dir_;
};
fs::path* SweepCli::dir_ = nullptr;

TEST_F(SweepCli, RowsCarryTheInputsAndHeadlineOutputs) {
  const std::string jsonl = Slurp(One() / "results.jsonl");
  std::vector<nlohmann::json> rows;
  std::istringstream in(jsonl);
  for (std::string line; std::getline(in, line);) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 12u);
  // Point 7: design 3 = (512 GPUs, 2 MW), replica 1.
  EXPECT_EQ(rows[7]["point"], 7);
  EXPECT_EQ(rows[7]["design"], 3);
  EXPECT_EQ(rows[7]["replica"], 1);
  EXPECT_EQ(rows[7]["workloads[0].gpus"], 512);
  EXPECT_EQ(rows[7]["facility.cooling.capacity_w"], 2e6);
  // Replica 1 has one seed and one draw of the node power at every design point.
  EXPECT_EQ(rows[7]["seed"], rows[1]["seed"]);
  EXPECT_EQ(rows[7]["cluster.node_base_power_w"], rows[1]["cluster.node_base_power_w"]);
  EXPECT_NE(rows[7]["seed"], rows[6]["seed"]);
  // Tokens/s: whole steps of 512 sequences x 8,192 tokens in the 600 s (the step time is the
  // extra output /jobs/0/step_time_s, 11.39 s for 512 GPUs: 52 steps).
  const double step_s = rows[7]["/jobs/0/step_time_s"].get<double>();
  EXPECT_NEAR(step_s, 11.39, 0.01);
  EXPECT_DOUBLE_EQ(rows[7]["training_tokens_per_s"].get<double>(),
                   std::floor(600 / step_s) * 512 * 8192 / 600);
  EXPECT_GT(rows[7]["mfu"].get<double>(), 0.3);
  EXPECT_TRUE(rows[7]["ettr"].is_null());  // no scheduler
  EXPECT_EQ(rows[7]["first_wall"], "rack");
  // PUE is facility energy over IT input energy, so above the IT energy's share.
  EXPECT_GT(rows[7]["facility_energy_mwh"].get<double>(), rows[7]["it_energy_mwh"].get<double>());
  // The row's outputs are the point's own run: `firstwall run` with the same values and seed.
  const Result run =
      Firstwall("run --json --out " + (One().parent_path() / "run7").string() +
                " --set 'simulation.duration=10 min' --set 'power_swings.start=1 min'" +
                " --set workloads[0].gpus=512 --set 'facility.cooling.capacity=2 MW' --set " +
                "'cluster.node_base_power=" + rows[7]["cluster.node_base_power_w"].dump() + " W'" +
                " --set simulation.seed=" + rows[7]["seed"].dump());
  ASSERT_EQ(run.status, 0) << run.out;
  const auto summary = nlohmann::json::parse(run.out);
  EXPECT_EQ(rows[7]["peak_facility_mw"].get<double>(),
            summary["peak_facility_power_kw"].get<double>() * 1e-3);
  EXPECT_EQ(rows[7]["facility_energy_mwh"].get<double>(),
            summary["facility_energy_kwh"].get<double>() * 1e-3);
  EXPECT_EQ(rows[7]["pue"], summary["pue"]);
  EXPECT_EQ(rows[7]["carbon_t"], summary["carbon_t"]);
  EXPECT_EQ(rows[7]["mfu"], summary["jobs"][0]["mfu"]);
  EXPECT_EQ(rows[7]["first_wall_utilization"], summary["resources"][0]["peak_utilization"]);
  const std::string csv = Slurp(One() / "results.csv");
  EXPECT_TRUE(
      csv.starts_with("point,design,replica,seed,workloads[0].gpus,"
                      "facility.cooling.capacity_w,cluster.node_base_power_w,"
                      "facility_energy_mwh,it_energy_mwh,peak_facility_mw,"))
      << csv.substr(0, 300);
  const std::string bands = Slurp(One() / "bands.csv");
  EXPECT_TRUE(
      bands.starts_with("design,workloads[0].gpus,facility.cooling.capacity_w,n,"
                        "cluster.node_base_power_w_mean,"))
      << bands.substr(0, 300);
  EXPECT_EQ(std::count(bands.begin(), bands.end(), '\n'), 7);  // header and 6 design points
}

TEST_F(SweepCli, TwoThreadsGiveTheSameBytes) {
  const fs::path two = One().parent_path() / "two";
  const Result r = Firstwall("sweep " + Sweep() + " --threads 2 --quiet --out " + two.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "");
  ExpectSameFiles(One(), two);
}

// --report draws the finished sweep (issue #15: every example writes a report); `firstwall report`
// of the same directory gives the same bytes; a shard cannot, its collated directory can.
TEST_F(SweepCli, ReportDrawsTheSweep) {
  const fs::path rep = One().parent_path() / "report";
  Result r = Firstwall("sweep " + Sweep() + " --threads 2 --report --out " + rep.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find(rep.string() + "/report.html"), std::string::npos) << r.out;
  const std::string page = Slurp(rep / "report.html");
  EXPECT_NE(page.find("\"sweep_only\":true"), std::string::npos);
  EXPECT_NE(page.find("\"design_points\":6"), std::string::npos);
  EXPECT_NE(page.find("\"pue_p95\":"), std::string::npos);
  ASSERT_EQ(Firstwall("report --quiet " + rep.string() + " --out " + (rep / "again.html").string())
                .status,
            0);
  EXPECT_EQ(Slurp(rep / "again.html"), page);
  r = Firstwall("sweep " + Sweep() + " --report --shard 1/3 --out " +
                (One().parent_path() / "report-shard").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--report draws the whole sweep, and this is one shard"), std::string::npos)
      << r.out;
  EXPECT_FALSE(fs::exists(One().parent_path() / "report-shard" / "report.html"));
}

TEST_F(SweepCli, ShardsCollatedGiveTheSameBytes) {
  // 3 shards into one directory.
  const fs::path shared = One().parent_path() / "shared";
  for (int i = 1; i <= 3; ++i) {
    const Result r = Firstwall("sweep " + Sweep() + " --quiet --out " + shared.string() +
                               " --shard " + std::to_string(i) + "/3");
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_TRUE(fs::exists(shared / ("results.shard-" + std::to_string(i) + "-of-3.jsonl")));
  }
  EXPECT_FALSE(fs::exists(shared / "results.csv"));
  Result r = Firstwall("collate " + shared.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("collated 12 of 12 points"), std::string::npos) << r.out;
  ExpectSameFiles(One(), shared);
  ASSERT_EQ(Firstwall("report --quiet " + shared.string()).status, 0);
  EXPECT_TRUE(fs::exists(shared / "report.html"));
  // 7 shards, each in its own directory (as Slurm array tasks: SLURM_ARRAY_TASK_ID from 0).
  std::string dirs;
  for (int i = 0; i < 7; ++i) {
    const fs::path d = One().parent_path() / ("part" + std::to_string(i));
    setenv("SLURM_ARRAY_TASK_ID", std::to_string(i).c_str(), 1);
    setenv("SLURM_ARRAY_TASK_MIN", "0", 1);
    setenv("SLURM_ARRAY_TASK_COUNT", "7", 1);
    r = Firstwall("sweep " + Sweep() + " --quiet --out " + d.string());
    for (const char* v :
         {"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_COUNT"}) {
      unsetenv(v);
    }
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_TRUE(fs::exists(d / ("results.shard-" + std::to_string(i + 1) + "-of-7.jsonl")));
    dirs += " " + d.string();
  }
  const fs::path merged = One().parent_path() / "merged";
  r = Firstwall("collate" + dirs + " --out " + merged.string());
  ASSERT_EQ(r.status, 0) << r.out;
  ExpectSameFiles(One(), merged);
  // Without the last shard: the points it holds are named, exit 2.
  r = Firstwall("collate" + dirs.substr(0, dirs.rfind(' ')) + " --out " +
                (One().parent_path() / "partial").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("error: points missing (nothing written): 6\n"), std::string::npos) << r.out;
  // Nothing is written, so a partial table never replaces a whole one.
  EXPECT_FALSE(fs::exists(One().parent_path() / "partial" / "results.csv"));
}

#ifdef FW_HAVE_MPI
// `mpirun -n K firstwall sweep --mpi`: rank 0 hands out points as ranks ask, so which rank ran
// which point changes from run to run; the files must not.
TEST_F(SweepCli, MpiRanksGiveTheSameBytes) {
  for (int ranks : {1, 3}) {
    const fs::path out = *dir_ / ("mpi" + std::to_string(ranks));
    const std::string cmd = std::string("scripts/mpirun-local ") + std::to_string(ranks) + " " +
                            FIRSTWALL_BIN + " sweep " + Sweep() + " --mpi --out " + out.string() +
                            " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::string text;
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) text.append(buf.data(), n);
    const int st = pclose(p);
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << text;
    EXPECT_NE(text.find(fmt_ranks(ranks)), std::string::npos) << text;
    ExpectSameFiles(One(), out);
  }
}
#endif

TEST_F(SweepCli, ResumeRunsOnlyTheMissingPoints) {
  const fs::path dir = One().parent_path() / "resume";
  fs::create_directories(dir);
  // The journal of a run that crashed: its manifest, half the rows, and a seventh cut short.
  const std::string jsonl = Slurp(One() / "results.jsonl");
  size_t cut = 0;
  for (int i = 0; i < 6; ++i) cut = jsonl.find('\n', cut) + 1;
  std::ofstream(dir / "results.jsonl.part")
      << Slurp(One() / "manifest.json") << jsonl.substr(0, cut) << jsonl.substr(cut, 40);
  const Result r = Firstwall("sweep " + Sweep() + " --resume --threads 2 --out " + dir.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("12 points; ran 6 on 2 threads, 6 already done"), std::string::npos)
      << r.out;
  ExpectSameFiles(One(), dir);
  EXPECT_FALSE(fs::exists(dir / "results.jsonl.part"));
  // Resumed again, nothing is left to run.
  const Result again = Firstwall("sweep " + Sweep() + " --resume --out " + dir.string());
  EXPECT_NE(again.out.find("ran 0 on"), std::string::npos) << again.out;
  ExpectSameFiles(One(), dir);

  // A sweep changed since is refused, and the results stay.
  const fs::path changed = WriteSweep("changed", ReplaceOnce(kSweep, "seed: 7", "seed: 8"));
  const Result refused =
      Firstwall("sweep " + (changed / "sweep.yaml").string() + " --resume --out " + dir.string());
  EXPECT_EQ(refused.status, 2) << refused.out;
  EXPECT_NE(refused.out.find("cannot resume: " + dir.string() +
                             "/manifest.json is of another "
                             "sweep (the sweep file or its scenario changed since"),
            std::string::npos)
      << refused.out;
  ExpectSameFiles(One(), dir);
}

// A fresh sweep into a directory that holds the results of another, stopped by SIGTERM part way:
// the earlier results stay whole, and --resume of the earlier sweep does not mix the two.
TEST_F(SweepCli, AnInterruptedFreshSweepLeavesTheEarlierResults) {
  const fs::path dir = One().parent_path() / "interrupted";
  fs::create_directories(dir);
  const char* finished[] = {"manifest.json", "results.jsonl", "results.csv", "bands.csv"};
  for (const char* f : finished) fs::copy_file(One() / f, dir / f);
  // Another sweep (seed 8) of 600 points: still running when its first row is in the journal.
  const fs::path other = WriteSweep("other", ReplaceOnce(ReplaceOnce(kSweep, "seed: 7", "seed: 8"),
                                                         "replicas: 2", "replicas: 100"));
  const std::string file = (other / "sweep.yaml").string(), out = dir.string();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    execl(FIRSTWALL_BIN, FIRSTWALL_BIN, "sweep", file.c_str(), "--threads", "1", "--out",
          out.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Waits for the journal's manifest line and a first row (a condition, not a time); the bound
  // only keeps a broken build from hanging the test.
  bool started = false;
  for (int i = 0; i < 60000 && !started; ++i) {
    const std::string journal = Slurp(dir / "results.jsonl.part");
    started = std::count(journal.begin(), journal.end(), '\n') >= 2;
    int st = 0;
    if (!started && waitpid(pid, &st, WNOHANG) == pid) FAIL() << "the sweep ended on its own";
    if (!started) usleep(10'000);
  }
  kill(pid, SIGTERM);
  int st = 0;
  ASSERT_EQ(waitpid(pid, &st, 0), pid);
  ASSERT_TRUE(started);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM) << st;
  for (const char* f : finished) EXPECT_EQ(Slurp(dir / f), Slurp(One() / f)) << f;
  // The journal is the other sweep's: the earlier one cannot resume over it, and nothing changes.
  const Result r = Firstwall("sweep " + Sweep() + " --resume --out " + out);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("cannot resume: " + out + "/results.jsonl.part is of another sweep"),
            std::string::npos)
      << r.out;
  for (const char* f : finished) EXPECT_EQ(Slurp(dir / f), Slurp(One() / f)) << f;
}

// `walls:` in a sweep: the first wall's position is a column of every point.
TEST(SweepCliWalls, TheWallsPositionIsAnOutput) {
  const fs::path dir = WriteSweep("walls", R"(firstwall_sweep: 1
set:
  simulation.duration: 20 min
  power_swings.start: 1 min
vary:
  - key: facility.cooling.capacity
    values: [1 MW, 3 MW]
walls:
  grow: gpus
  to: 4096
  steps: 4
)");
  const Result r = Firstwall("sweep " + (dir / "sweep.yaml").string() + " --threads 2 --out " +
                             (dir / "out").string());
  ASSERT_EQ(r.status, 0) << r.out;
  std::istringstream rows(Slurp(dir / "out" / "results.jsonl"));
  std::string line;
  std::vector<nlohmann::json> j;
  while (std::getline(rows, line)) j.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(j.size(), 2u);
  // A 1 MW plant is the first wall, already at 1,024 GPUs; at 3 MW it is not, and the first wall
  // (the UPS, 1.5 MW) binds further out.
  EXPECT_EQ(j[0]["walls_first"], "cooling plant");
  EXPECT_EQ(j[0]["walls_first_binds_at_gpus"].get<double>(), 1024);
  EXPECT_EQ(j[1]["walls_first"], "UPS");
  EXPECT_GT(j[1]["walls_first_binds_at_gpus"].get<double>(), 1024);
  // The axis unit is in the names of the positions' columns.
  EXPECT_NE(Slurp(dir / "out" / "results.csv")
                .find("walls_first,walls_first_binds_at_gpus,walls_second,"
                      "walls_second_binds_at_gpus\n"),
            std::string::npos);
  // A bad axis fails at its line of the sweep file.
  const fs::path bad =
      WriteSweep("walls_bad", ReplaceOnce(Slurp(dir / "sweep.yaml"), "grow: gpus", "grow: gpu"));
  const Result b =
      Firstwall("sweep " + (bad / "sweep.yaml").string() + " --out " + (bad / "out").string());
  EXPECT_EQ(b.status, 2) << b.out;
  EXPECT_NE(b.out.find("sweep.yaml:9:9: error: unknown axis 'gpu'"), std::string::npos) << b.out;
}

TEST(SweepCliErrors, ABadPointFailsTheSweepBeforeAnyOutput) {
  const fs::path dir = WriteSweep("bad", ReplaceOnce(kSweep, "[256, 512, 1024]", "[256, 0]"));
  const fs::path out = dir / "out";
  Result r = Firstwall("sweep " + (dir / "sweep.yaml").string() + " --out " + out.string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find((dir / "sweep.yaml").string() +
                       ":8:19: error: 'workloads[0].gpus' is 0, out of range"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(fs::exists(out));
  const fs::path good = WriteSweep("good", kSweep);
  r = Firstwall("sweep " + (good / "sweep.yaml").string() + " --shard 4/3 --out " +
                (good / "out").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--shard: error: '4/3' is not a shard"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(good / "out"));
}

}  // namespace
}  // namespace firstwall::testing_cli

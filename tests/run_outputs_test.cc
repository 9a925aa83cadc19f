// The outputs of `firstwall run` as a set: one run's files replace all of an earlier run's
// together, and a run that fails or is stopped by a signal leaves the directory as it found it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/cli_support.h"

namespace {
namespace fs = std::filesystem;
using namespace firstwall::testing_cli;

// The default example with `edit` applied (line-wise replacements), its weather by absolute path.
fs::path Scenario(const std::string& name, const std::map<std::string, std::string>& edit) {
  std::string text = Slurp("examples/default.yaml");
  auto replace = [&](const std::string& from, const std::string& to) {
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
  };
  replace("../data/weather/", (fs::current_path() / "data/weather/").string());
  for (const auto& [from, to] : edit) {
    if (from == "power_swings") {  // the whole window, up to the next section
      const size_t a = text.find("power_swings:"), b = text.find("\nsimulation:");
      EXPECT_TRUE(a != std::string::npos && b != std::string::npos);
      text.erase(a, b + 1 - a);
    } else {
      replace(from, to);
    }
  }
  const fs::path p =
      fs::path(::testing::TempDir()) / ("fw_runout_" + std::to_string(getpid()) + name + ".yaml");
  std::ofstream(p) << text;
  return p;
}

// Starts `firstwall run SCENARIO --out DIR --quiet`; returns its pid.
pid_t Start(const fs::path& scenario, const fs::path& out) {
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string s = scenario.string(), o = out.string();
    freopen("/dev/null", "w", stdout);
    execl(FIRSTWALL_BIN, FIRSTWALL_BIN, "run", s.c_str(), "--out", o.c_str(), "--quiet",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

int Wait(pid_t pid) {
  int st = 0;
  waitpid(pid, &st, 0);
  return st;
}

// Every entry of `dir` with its contents.
std::map<std::string, std::string> Contents(const fs::path& dir) {
  std::map<std::string, std::string> m;
  for (const auto& e : fs::directory_iterator(dir)) {
    m[e.path().filename().string()] = e.is_regular_file() ? Slurp(e.path()) : "<dir>";
  }
  return m;
}

// An earlier run's outputs in `out`.
std::map<std::string, std::string> EarlierRun(const fs::path& out) {
  const fs::path sc =
      Scenario("short", {{"duration: 24 h", "duration: 10 min"}, {"start: 2 h", "start: 1 min"}});
  EXPECT_EQ(WEXITSTATUS(Wait(Start(sc, out))), 0);
  auto before = Contents(out);
  EXPECT_EQ(before.size(), 3u);  // summary.json, timeseries.csv, swings.csv
  return before;
}

TEST(RunOutputs, SignalsLeaveTheEarlierRunAsItWas) {
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
    const fs::path out = Fresh("signal" + std::to_string(sig));
    const auto before = EarlierRun(out);
    // Long enough to be running when the signal comes (a month, rows of an hour).
    const fs::path sc = Scenario("long", {{"duration: 24 h", "duration: 30 d"},
                                          {"tick: 1 s", "tick: 1 s\n  output_interval: 1 h"}});
    const pid_t pid = Start(sc, out);
    // Wait until the run has staged its files, then stop it.
    for (int i = 0; i < 200; ++i) {
      bool staged = false;
      for (const auto& e : fs::directory_iterator(out)) {
        staged |= e.path().filename().string().rfind(".firstwall-staging-", 0) == 0;
      }
      if (staged) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    kill(pid, sig);
    const int st = Wait(pid);
    ASSERT_TRUE(WIFSIGNALED(st)) << "exit " << WEXITSTATUS(st);
    EXPECT_EQ(WTERMSIG(st), sig);
    EXPECT_EQ(Contents(out), before) << "signal " << sig;
    fs::remove_all(out);
  }
}

TEST(RunOutputs, AFailedRunLeavesTheEarlierRunAsItWas) {
  const fs::path out = Fresh("failed");
  const auto before = EarlierRun(out);
  // Refused at load: nothing is written.
  const fs::path bad = Scenario("bad", {{"duration: 24 h", "duration: 24 parsecs"}});
  EXPECT_EQ(WEXITSTATUS(Wait(Start(bad, out))), 2);
  // Fails after the simulation (the summary cannot be written as JSON, exit 70 before the loader
  // refused such names): nothing of it lands either.
  const fs::path late = Scenario("late", {{"duration: 24 h", "duration: 10 min"},
                                          {"start: 2 h", "start: 1 min"},
                                          {"name: default H100 hall", "name: caf\xe9"}});
  EXPECT_NE(WEXITSTATUS(Wait(Start(late, out))), 0);
  EXPECT_EQ(Contents(out), before);
  EXPECT_EQ(Contents(out), before);
  fs::remove_all(out);
}

TEST(RunOutputs, ALaterRunReplacesEveryFile) {
  const fs::path out = Fresh("later");
  EarlierRun(out);
  // Without a swing window the later run writes no swings.csv: the earlier one must go too.
  const fs::path sc =
      Scenario("noswings", {{"duration: 24 h", "duration: 20 min"}, {"power_swings", ""}});
  ASSERT_EQ(WEXITSTATUS(Wait(Start(sc, out))), 0);
  const auto after = Contents(out);
  EXPECT_EQ(after.count("swings.csv"), 0u);
  EXPECT_EQ(after.size(), 2u);
  fs::remove_all(out);
}

TEST(RunOutputs, NothingChangesWhenAnOutputNameIsTakenByADirectory) {
  const fs::path out = Fresh("taken");
  auto before = EarlierRun(out);
  fs::remove(out / "summary.json");
  fs::create_directory(out / "summary.json");
  before = Contents(out);
  // This run writes no swings.csv: the earlier one must survive the refused swap too.
  const fs::path sc =
      Scenario("taken", {{"duration: 24 h", "duration: 10 min"}, {"power_swings", ""}});
  EXPECT_EQ(WEXITSTATUS(Wait(Start(sc, out))), 2);
  EXPECT_EQ(Contents(out), before);
  fs::remove_all(out);
}

TEST(RunOutputs, AScenarioPathThatIsNotUtf8IsWrittenWithAReplacementCharacter) {
  const fs::path out = Fresh("latin1");
  const fs::path sc =
      Scenario("caf\xe9", {{"duration: 24 h", "duration: 10 min"}, {"start: 2 h", "start: 1 min"}});
  EXPECT_EQ(WEXITSTATUS(Wait(Start(sc, out))), 0);
  const std::string json = Slurp(out / "summary.json");
  EXPECT_NE(json.find("caf\xef\xbf\xbd"), std::string::npos);  // U+FFFD in UTF-8
  fs::remove_all(out);
}

TEST(RunOutputs, AStandardOutputThatCannotBeWrittenIsAnError) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  EXPECT_EQ(Firstwall("catalog --json > /dev/full").status, 74);
  EXPECT_EQ(Firstwall("catalog --json > /dev/null").status, 0);
}

TEST(RunOutputs, StagingLeftByAKilledRunIsRemovedByTheNext) {
  const fs::path out = Fresh("stale");
  fs::create_directories(out / ".firstwall-staging-999999999");  // above any pid_max
  std::ofstream(out / ".firstwall-staging-999999999" / "timeseries.csv.partial") << "half";
  EarlierRun(out);
  EXPECT_FALSE(fs::exists(out / ".firstwall-staging-999999999"));
  fs::remove_all(out);
}

}  // namespace

// The operations loop end to end on loopback (issue #14, docs/operations.md "Apply" and
// "Verify"): `firstwall emulate --modbus` runs the test hall 4 times faster than real time,
// `firstwall ingest` reads its registers into an SQLite store, an operator proposes a coolant
// supply setpoint of 18 C (the hall's is 32 C), two approvers approve, the operator applies it
// through Modbus (holding register 200), the emulator's telemetry follows, and `verify` measures
// the realized change from the store against the prediction. Waits are sleeps between steps;
// no timing is asserted.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "ops/measure.h"
#include "tests/cli_support.h"
#include "tests/emulator_process.h"

namespace firstwall::testing_cli {
namespace {

TEST(OpsLoopCli, ASetpointPlanIsAppliedThroughModbusAndVerifiedFromTheStore) {
  const fs::path dir = Fresh("ops_loop");
  fs::create_directories(dir);
  const std::string db = (dir / "site.db").string();
  const std::string s = " --store " + db;
  // The users, each added by the admin with a password from the environment.
  unsetenv("FIRSTWALL_PASSWORD");
  setenv("FIRSTWALL_NEW_PASSWORD", "password-ada", 1);
  ASSERT_EQ(Firstwall("ops user add --name ada --role admin" + s).status, 0);
  setenv("FIRSTWALL_PASSWORD", "password-ada", 1);
  for (const char* user : {"otto operator", "anna approver", "abel approver"}) {
    const std::string name = std::string(user).substr(0, 4);
    setenv("FIRSTWALL_NEW_PASSWORD", ("password-" + name).c_str(), 1);
    const Result r = Firstwall("ops user add --user ada --name " + name + " --role " +
                               std::string(user).substr(5) + s);
    ASSERT_EQ(r.status, 0) << r.out;
  }
  unsetenv("FIRSTWALL_NEW_PASSWORD");
  auto as = [&](const std::string& name, const std::string& args) {
    setenv("FIRSTWALL_PASSWORD", ("password-" + name).c_str(), 1);
    return Firstwall(args + " --user " + name + s);
  };

  // 120 s of site at 4x: 30 s of wall time. Ingest reads the shipped Modbus map at 1 s, in
  // wall time (--speed 1), so the store's times are this machine's, as ops commands' are.
  EmulatorProcess emulator("tests/inputs/live-emulate.yaml --speed 4");
  ASSERT_GT(emulator.modbus_port, 0) << emulator.head;
  const std::string port = std::to_string(emulator.modbus_port);
  std::ofstream(dir / "map.yaml") << ReplaceOnce(Slurp("tests/inputs/live-site-map-modbus.yaml"),
                                                 "modbus-tcp://127.0.0.1:5020",
                                                 "modbus-tcp://127.0.0.1:" + port);
  FILE* ingest = popen((std::string(FIRSTWALL_BIN) + " ingest " + (dir / "map.yaml").string() +
                        " --db " + db + " --for 27s --quiet 2>&1")
                           .c_str(),
                       "r");
  ASSERT_NE(ingest, nullptr);

  // The plan: the CDU's supply from 32 to 18 C; predicted: its coolant 14 K colder (the cold
  // plates' coolant is the supply plus the CDU's approach), +- 3 K.
  Result r = as("otto",
                "ops plan propose --class setpoint --target cdu/cdu --value '18 C' --reason "
                "'test the chillers' --effect '-14 C' --uncertainty '3 C' --expires 10min");
  ASSERT_EQ(r.status, 0) << r.out;
  // No write without its approvals: refused before anything goes out.
  r = as("otto", "ops plan apply --plan 1 --max-age 1min --write modbus://127.0.0.1:" + port);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("refused: plan 1 is proposed"), std::string::npos) << r.out;
  ASSERT_EQ(as("anna", "ops plan approve --plan 1").status, 0);
  ASSERT_EQ(as("abel", "ops plan approve --plan 1").status, 0);
  std::this_thread::sleep_for(std::chrono::seconds(8));  // telemetry before the change
  r = as("otto",
         "ops plan apply --plan 1 --max-age 1min --write modbus://127.0.0.1:" + port + "/1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("applied: wrote 18 C to holding register 200 at modbus://127.0.0.1:" + port +
                       "/1, read back 18 C"),
            std::string::npos)
      << r.out;
  std::this_thread::sleep_for(std::chrono::seconds(9));  // telemetry after it
  // A read just after the apply may still see the tick before it: the after window starts 1 s on.
  r = as("otto", "ops plan verify --plan 1 --window 6s --settle 1s");
  ASSERT_EQ(r.status, 0) << r.out;
  std::cout << r.out;
  EXPECT_NE(r.out.find("within the predicted interval"), std::string::npos) << r.out;

  std::string rest;
  char line[512] = {};
  while (fgets(line, sizeof line, ingest)) rest += line;
  const int ingest_status = pclose(ingest);
  EXPECT_TRUE(WIFEXITED(ingest_status) && WEXITSTATUS(ingest_status) == 0) << rest;
  rest.clear();
  EXPECT_EQ(emulator.Wait(rest), 0) << rest;

  // The plan, verified, with the measured change next to the prediction.
  r = Firstwall("ops plan list --json" + s);
  const auto plan = nlohmann::json::parse(r.out)[0];
  EXPECT_EQ(plan["state"], "verified");
  EXPECT_NEAR(plan["realized"].get<double>(), -14, 3);
  r = Firstwall("ops audit export" + s);
  int64_t applied_ms = 0;
  std::istringstream lines(r.out);
  for (std::string entry; std::getline(lines, entry);) {
    const auto e = nlohmann::json::parse(entry);
    if (e["action"] != "plan_applied") continue;
    applied_ms = e["t_ms"];
    EXPECT_EQ(e["actor"], "otto");
    EXPECT_EQ(e["detail"]["write"]["read_back_c"], 18.0);
    EXPECT_EQ(e["detail"]["approvers"], (std::vector<std::string>{"anna", "abel"}));
  }
  ASSERT_GT(applied_ms, 0);
  // The cooling plant's electricity rose with the chillers the colder supply needs.
  const ops::Measurement cooling = ops::MeasureEffect(db, "meter/cooling", "W", applied_ms, 6000,
                                                      applied_ms + 7000, "--window", 1000);
  std::cout << "cooling power: " << cooling.before << " W before, " << cooling.after
            << " W after\n";
  EXPECT_GT(cooling.after, cooling.before);
  EXPECT_EQ(Firstwall("ops audit verify" + s).status, 0);
}

}  // namespace
}  // namespace firstwall::testing_cli

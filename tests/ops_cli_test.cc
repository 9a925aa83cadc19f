// `firstwall ops` end to end on an SQLite store (docs/operations.md): users added with passwords
// from the environment and standard input, a risky plan through every state, refusals with exit
// status 2, the audit chain verified, exported and, after an edit of the file, broken at the entry
// edited.
#include <sqlite3.h>

#include <chrono>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "live/store.h"
#include "tests/cli_support.h"

namespace firstwall::testing_cli {
namespace {

TEST(OpsCli, ARiskyPlanFromProposalToVerificationWithEveryStepAudited) {
  const fs::path dir = Fresh("ops");
  fs::create_directories(dir);
  const std::string store = (dir / "site.db").string();
  const std::string s = " --store " + store;
  auto as = [](const std::string& password) { setenv("FIRSTWALL_PASSWORD", password.c_str(), 1); };
  unsetenv("FIRSTWALL_PASSWORD");
  setenv("FIRSTWALL_NEW_PASSWORD", "correct horse", 1);
  Result r = Firstwall("ops user add --name ada --role admin" + s);
  ASSERT_EQ(r.status, 0) << r.out;
  unsetenv("FIRSTWALL_NEW_PASSWORD");
  // The admin's password and the new user's, one line each on standard input.
  for (const auto& [name, role] : std::vector<std::pair<std::string, std::string>>{
           {"otto", "operator"}, {"anna", "approver"}, {"abel", "approver"}}) {
    std::ofstream(dir / "pw") << "correct horse\npassword-" << name << "\n";
    r = Firstwall("ops user add --user ada --name " + name + " --role " + role + s + " < " +
                  (dir / "pw").string());
    ASSERT_EQ(r.status, 0) << r.out;
  }
  // Bad input is refused before any password is asked for.
  r = Firstwall(
      "ops plan propose --user otto --class reboot --target cdu/cdu-1 --value '18 C' "
      "--reason x --effect '-12 kW' --uncertainty '3 kW'" +
      s + " < /dev/null");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--class: error: 'reboot' is not a plan class"), std::string::npos) << r.out;

  as("password-otto");
  r = Firstwall(
      "ops plan propose --user otto --class setpoint --target cdu/cdu-1 --value '18 C' "
      "--reason 'warm week' --effect '-12 kW' --uncertainty '3 kW' --expires 2h" +
      s);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("1  proposed  setpoint"), std::string::npos) << r.out;
  // A plan id past int64 is refused, never clamped to the largest id.
  r = Firstwall("ops plan approve --user otto --plan 99999999999999999999" + s);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--plan: error: '99999999999999999999' is not a plan id"), std::string::npos)
      << r.out;
  // So is a setpoint of a power on a CDU.
  r = Firstwall(
      "ops plan propose --user otto --class setpoint --target cdu/cdu-1 --value '18 kW' "
      "--reason x --effect '-12 kW' --uncertainty '3 kW'" +
      s);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--value: error: '18 kW' is no temperature"), std::string::npos) << r.out;
  r = Firstwall("ops plan approve --user otto --plan 1" + s);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("refused: otto is operator"), std::string::npos) << r.out;
  as("password-anna");
  ASSERT_EQ(Firstwall("ops plan approve --user anna --plan 1" + s).status, 0);
  as("password-abel");
  r = Firstwall("ops plan approve --user abel --plan 1" + s);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("approved by anna,abel of 2"), std::string::npos) << r.out;
  as("password-otto");
  r = Firstwall("ops plan apply --user otto --plan 1" + s);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("stale: the store holds no sample of cdu/cdu-1 temperature"),
            std::string::npos)
      << r.out;
  {
    // The CDU reports now.
    auto st = live::OpenStore(store);
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    const std::vector<live::SamplePoint> p = {{now, 18.2, 0}};
    st->Append(st->SeriesId({"cdu", "cdu-1", "temperature", "C", "bms", "cdu_supply_c"}), p);
    st->Flush();
  }
  r = Firstwall("ops plan apply --user otto --plan 1 --max-age 1h" + s);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("not written to the site (no --write"), std::string::npos) << r.out;
  // A figure given leaves nothing to measure: a window with it is refused, not ignored.
  r = Firstwall("ops plan verify --user otto --plan 1 --realized '-10 kW' --window 10min" + s);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--realized excludes --window"), std::string::npos) << r.out;
  ASSERT_EQ(Firstwall("ops plan verify --user otto --plan 1 --realized '-10 kW'" + s).status, 0);
  as("not otto's password");
  r = Firstwall("ops plan verify --user otto --plan 1 --realized '-10 kW'" + s);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--user: error: wrong user or password for 'otto'"), std::string::npos);
  unsetenv("FIRSTWALL_PASSWORD");

  r = Firstwall("ops plan list --json" + s);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto plans = nlohmann::json::parse(r.out);
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_EQ(plans[0]["state"], "verified");
  EXPECT_EQ(plans[0]["approvers"], nlohmann::json({"anna", "abel"}));
  EXPECT_EQ(plans[0]["realized"], -10.0);

  r = Firstwall("ops audit verify" + s);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("audit chain ok: 12 entries"), std::string::npos) << r.out;
  ASSERT_EQ(Firstwall("ops audit export --out " + (dir / "audit.jsonl").string() + s).status, 0);
  std::istringstream lines(Slurp(dir / "audit.jsonl"));
  std::vector<std::string> actions;
  for (std::string line; std::getline(lines, line);) {
    actions.push_back(nlohmann::json::parse(line)["action"]);
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"user_created", "user_created", "user_created",
                                               "user_created", "plan_proposed", "refused",
                                               "plan_approved", "plan_approved", "refused",
                                               "plan_applied", "plan_verified", "login_failed"}));

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(store.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, "UPDATE ops_audit SET t_ms = t_ms - 1 WHERE seq = 10", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  r = Firstwall("ops audit verify" + s);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("audit chain broken at entry 10: entry 10 was changed"), std::string::npos)
      << r.out;
  // Reads still work on a broken chain, with a warning (stderr) instead of silence.
  r = Firstwall("ops plan list" + s);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("warning: the audit chain is broken at entry 10"), std::string::npos)
      << r.out;
}

TEST(OpsCli, BadInputExitsWithStatus2NamingTheOption) {
  const fs::path dir = Fresh("ops_bad");
  fs::create_directories(dir);
  const std::string s = " --store " + (dir / "site.db").string();
  setenv("FIRSTWALL_NEW_PASSWORD", "correct horse", 1);
  Result r = Firstwall("ops user add --name ada --role root" + s);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--role: error: 'root' is not a role"), std::string::npos) << r.out;
  r = Firstwall("ops user add --name ada --role operator" + s);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("the store's first user must be an admin"), std::string::npos) << r.out;
  unsetenv("FIRSTWALL_NEW_PASSWORD");
  r = Firstwall("ops user add --name ada --role admin" + s + " < /dev/null");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("no password for the new user ada"), std::string::npos) << r.out;
  r = Firstwall("ops audit verify --store " + (dir / "absent.db").string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("no store"), std::string::npos) << r.out;
  r = Firstwall("ops plan approve --user ada" + s);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--plan is required"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace firstwall::testing_cli

// `firstwall mcp` through the CLI: bad options exit 2; a stdio session answers line by line on
// standard output (logs only on standard error); the agent's login from FIRSTWALL_PASSWORD, and
// only as an operator.
#include <gtest/gtest.h>

#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/cli_support.h"

namespace firstwall::testing_cli {
namespace {

using nlohmann::json;

constexpr const char* kScenario = "tests/inputs/live-emulate.yaml";

// The answers (one JSON per line of standard output) to `lines` sent on standard input.
std::vector<json> Session(const std::string& args, const std::string& lines,
                          const std::string& env = "") {
  const fs::path in = Fresh("session.jsonl");
  std::ofstream(in) << lines;
  // Standard error dropped inside the braces (Shell adds 2>&1 after them).
  const Result r = Shell(
      fmt::format("{{ {} {} mcp {} < {} 2>/dev/null; }}", env, FIRSTWALL_BIN, args, in.string()));
  EXPECT_EQ(r.status, 0) << r.out;
  std::vector<json> out;
  std::istringstream s(r.out);
  for (std::string line; std::getline(s, line);) {
    out.push_back(json::parse(line, nullptr, false));
    EXPECT_FALSE(out.back().is_discarded()) << "not JSON on standard output: " << line;
  }
  return out;
}

std::string Store() {
  const fs::path store = Fresh("mcp.db");
  EXPECT_EQ(Shell(fmt::format("FIRSTWALL_NEW_PASSWORD=adminpass1 {} ops user add --store {} --name "
                              "ada --role admin",
                              FIRSTWALL_BIN, store.string()))
                .status,
            0);
  for (const char* role : {"operator", "approver"}) {
    EXPECT_EQ(Shell(fmt::format("FIRSTWALL_PASSWORD=adminpass1 FIRSTWALL_NEW_PASSWORD={0}pass1 {1} "
                                "ops user add --store {2} --user ada --name {0} --role {0}",
                                role, FIRSTWALL_BIN, store.string()))
                  .status,
              0);
  }
  return store.string();
}

TEST(McpCli, BadOptionsExit2) {
  EXPECT_EQ(Firstwall("mcp --bogus").status, 2);
  EXPECT_EQ(Firstwall("mcp no-such-scenario.yaml").status, 2);
  EXPECT_EQ(Firstwall("mcp \"\"").status, 2);
  const Result http = Firstwall("mcp --http nonsense");
  EXPECT_EQ(http.status, 2);
  EXPECT_NE(http.out.find("--http"), std::string::npos) << http.out;
  EXPECT_EQ(Firstwall("mcp --store " + Fresh("absent.db").string()).status, 2);
}

TEST(McpCli, StdioSession) {
  const std::vector<json> a = Session(
      kScenario,
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
      "\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}\n"
      "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n"
      "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}\n"
      "this is not json\n"
      "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
      "\"describe_scenario\",\"arguments\":{}}}\n"
      "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":"
      "\"propose_plan\",\"arguments\":{}}}\n");
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a[0]["result"]["protocolVersion"], "2025-06-18");
  ASSERT_EQ(a[1]["result"]["tools"].size(), 2u);  // a scenario alone: no store tools
  EXPECT_EQ(a[1]["result"]["tools"][0]["name"], "describe_scenario");
  EXPECT_EQ(a[2]["error"]["code"], -32700);
  const json d = a[3]["result"]["structuredContent"];
  EXPECT_EQ(d["keys"]["cluster.nodes"]["value"], "2");
  EXPECT_EQ(d["keys"]["facility.cooling.liquid_supply"]["value"], "32 C");
  EXPECT_EQ(a[4]["error"]["code"], -32602);  // no such tool without a store
}

TEST(McpCli, AgentLogin) {
  const std::string store = Store();
  const std::string call =
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
      "\"propose_plan\",\"arguments\":{\"class\":\"drain\",\"target\":\"node/node1\",\"value\":"
      "\"0 %\",\"reason\":\"test\",\"effect\":\"-5 kW\",\"uncertainty\":\"1 kW\"}}}\n";
  // Without FIRSTWALL_PASSWORD: read-only; propose_plan says why it cannot.
  std::vector<json> a =
      Session("--store " + store + " --user operator", call, "env -u FIRSTWALL_PASSWORD");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0]["result"]["isError"], true);
  EXPECT_NE(a[0]["result"]["content"][0]["text"].get<std::string>().find("FIRSTWALL_PASSWORD"),
            std::string::npos);
  // As the operator: proposed, and unchecked (no scenario served with --store).
  a = Session("--store " + store + " --user operator", call, "FIRSTWALL_PASSWORD=operatorpass1");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0]["result"]["structuredContent"]["plan"]["state"], "proposed");
  EXPECT_EQ(a[0]["result"]["structuredContent"]["check"]["status"], "unchecked");
  // A wrong password, and a user with more rights than an operator's: exit 2.
  Result r = Shell(
      fmt::format("FIRSTWALL_PASSWORD=wrongpass {} mcp --store {} --user operator < /dev/null",
                  FIRSTWALL_BIN, store));
  EXPECT_EQ(r.status, 2) << r.out;
  r = Shell(
      fmt::format("FIRSTWALL_PASSWORD=approverpass1 {} mcp --store {} --user approver < /dev/null",
                  FIRSTWALL_BIN, store));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("an agent proposes as an operator"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace firstwall::testing_cli

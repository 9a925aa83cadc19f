// The MCP server (and its HTTP transport on loopback): JSON-RPC handling, the lifecycle, tool calls
// and their errors, malformed lines (mutated messages, deep nesting), the stdio loop, and the
// twin's tools on an SQLite store and a small scenario.
#include "ops/mcp.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdint>
#include <sstream>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "core/error.h"
#include "live/quality.h"
#include "live/store.h"
#include "live/temp_path_test_util.h"
#include "ops/audit.h"
#include "ops/mcp_http.h"
#include "ops/mcp_tools.h"
#include "ops/what_if.h"

namespace firstwall::ops {
namespace {

using nlohmann::json;

json Answer(McpServer& s, const std::string& text) {
  const std::optional<std::string> a = s.Handle(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a ? json::parse(*a) : json();
}

json Call(McpServer& s, const std::string& tool, const json& args, int id = 7) {
  return Answer(s, JsonLine({{"jsonrpc", "2.0"},
                             {"id", id},
                             {"method", "tools/call"},
                             {"params", {{"name", tool}, {"arguments", args}}}}));
}

// A server with one tool, "add": {a, b} numbers -> {sum}; b < 0 is a failure of the tool.
void AddAdder(McpServer& s) {
  s.AddTool({"add", "a + b", json::parse(R"({"type":"object","properties":{"a":{"type":"number"},
               "b":{"type":"number"}},"required":["a","b"],"additionalProperties":false})"),
             [](const json& a) {
               if (a["b"].get<double>() < 0)
                 throw InputError({"b", 0, 0}, "b must not be negative");
               return json{{"sum", a["a"].get<double>() + a["b"].get<double>()}};
             }});
}

TEST(McpProtocol, InitializeAgreesOnAVersion) {
  McpServer s("test", "0.1", "adds");
  AddAdder(s);
  for (const auto& [asked, agreed] : {std::pair{"2025-06-18", "2025-06-18"},
                                      {"2025-03-26", "2025-03-26"},
                                      {"2099-01-01", "2025-06-18"}}) {
    const json a = Answer(s, fmt::format(R"({{"jsonrpc":"2.0","id":1,"method":"initialize",
      "params":{{"protocolVersion":"{}","capabilities":{{}},"clientInfo":{{"name":"t","version":"1"}}}}}})",
                                         asked));
    EXPECT_EQ(a["id"], 1);
    EXPECT_EQ(a["result"]["protocolVersion"], agreed);
    EXPECT_TRUE(a["result"]["capabilities"]["tools"].is_object());
    EXPECT_EQ(a["result"]["serverInfo"]["name"], "test");
    EXPECT_EQ(s.version(), agreed);
  }
  // The initialized notification, and any notification, has no answer.
  EXPECT_FALSE(s.Handle(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"));
  EXPECT_FALSE(s.Handle(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{}})"));
  // A response (to a request the server never sent) has none either.
  EXPECT_FALSE(s.Handle(R"({"jsonrpc":"2.0","id":3,"result":{}})"));
  const json missing = Answer(s, R"({"jsonrpc":"2.0","id":2,"method":"initialize","params":{}})");
  EXPECT_EQ(missing["error"]["code"], -32602);
}

TEST(McpProtocol, PingAndIds) {
  McpServer s("test", "0.1", "adds");
  AddAdder(s);
  const json a = Answer(s, R"({"jsonrpc":"2.0","id":"abc","method":"ping"})");
  EXPECT_EQ(a["id"], "abc");
  EXPECT_EQ(a["result"], json::object());
  EXPECT_EQ(a["jsonrpc"], "2.0");
  // Ids are echoed as sent, across 64 bits either way.
  EXPECT_EQ(s.Handle(R"({"jsonrpc":"2.0","id":18446744073709551615,"method":"ping"})"),
            std::string(R"({"id":18446744073709551615,"jsonrpc":"2.0","result":{}})"));
  EXPECT_EQ(s.Handle(R"({"jsonrpc":"2.0","id":-9223372036854775808,"method":"ping"})"),
            std::string(R"({"id":-9223372036854775808,"jsonrpc":"2.0","result":{}})"));
}

TEST(McpProtocol, ErrorsOfJsonRpc) {
  McpServer s("test", "0.1", "adds");
  AddAdder(s);
  auto code = [&](const std::string& text) { return Answer(s, text)["error"]["code"].get<int>(); };
  EXPECT_EQ(code("{not json"), -32700);
  EXPECT_EQ(code(""), -32700);
  EXPECT_EQ(code("\xff\xfe"), -32700);  // not UTF-8
  EXPECT_EQ(Answer(s, "{not json")["id"], nullptr);
  EXPECT_EQ(code("42"), -32600);
  EXPECT_EQ(code(R"("ping")"), -32600);
  EXPECT_EQ(code("[]"), -32600);  // no batches in 2025-06-18
  EXPECT_EQ(code(R"({"jsonrpc":"1.0","id":1,"method":"ping"})"), -32600);
  EXPECT_EQ(code(R"({"id":1,"method":"ping"})"), -32600);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":null,"method":"ping"})"), -32600);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":{"a":1},"method":"ping"})"), -32600);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})"), -32600);
  // Beyond 64 bits the id would be read as a double and echoed as another number.
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":99999999999999999999999,"method":"ping"})"), -32600);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":1e300,"method":"ping"})"), -32600);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":9007199254740993.0,"method":"ping"})"), -32600);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":1e3,"method":"ping"})"), -32600);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":1.0,"method":"ping"})"), -32600);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":1,"method":7})"), -32600);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":1})"), -32600);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":[1]})"), -32602);
  EXPECT_EQ(code(R"({"jsonrpc":"2.0","id":1,"method":"resources/list"})"), -32601);
  EXPECT_EQ(code(std::string(kMcpMaxMessageBytes + 1, ' ')), -32600);
}

TEST(McpProtocol, BatchesOnlyUnder20250326) {
  McpServer s("test", "0.1", "adds");
  AddAdder(s);
  const std::string batch =
      R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"},
          {"jsonrpc":"2.0","id":2,"method":"nope"}])";
  EXPECT_EQ(Answer(s, batch)["error"]["code"], -32600);
  Answer(
      s,
      R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-03-26"}})");
  const json a = Answer(s, batch);
  ASSERT_TRUE(a.is_array());
  ASSERT_EQ(a.size(), 2u);  // the notification is not answered
  EXPECT_EQ(a[0]["result"], json::object());
  EXPECT_EQ(a[1]["error"]["code"], -32601);
}

TEST(McpProtocol, ToolsListAndCall) {
  McpServer s("test", "0.1", "adds");
  AddAdder(s);
  const json list = Answer(s, R"({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}})");
  ASSERT_EQ(list["result"]["tools"].size(), 1u);
  EXPECT_EQ(list["result"]["tools"][0]["name"], "add");
  EXPECT_EQ(list["result"]["tools"][0]["inputSchema"]["type"], "object");

  const json ok = Call(s, "add", {{"a", 2}, {"b", 40.5}});
  EXPECT_EQ(ok["result"]["isError"], false);
  EXPECT_EQ(ok["result"]["structuredContent"]["sum"], 42.5);
  EXPECT_EQ(json::parse(ok["result"]["content"][0]["text"].get<std::string>())["sum"], 42.5);

  // A tool that is not there (an agent trying to approve): the protocol's invalid params.
  const json unknown = Call(s, "approve_plan", {{"plan", 1}});
  EXPECT_EQ(unknown["error"]["code"], -32602);
  EXPECT_NE(unknown["error"]["message"].get<std::string>().find("unknown tool: \"approve_plan\""),
            std::string::npos);
  // Arguments the schema refuses: invalid params, naming the argument.
  auto message = [&](const json& args) {
    const json a = Call(s, "add", args);
    EXPECT_EQ(a["error"]["code"], -32602) << args;
    return a["error"]["message"].get<std::string>();
  };
  EXPECT_EQ(message({{"a", 1}}), "add: arguments.b is required");
  EXPECT_EQ(message({{"a", 1}, {"b", "2"}}), "add: arguments.b must be a number, got a string");
  EXPECT_EQ(message({{"a", 1}, {"b", 2}, {"c", 3}}),
            "add: arguments.c is not known here (expected: a, b)");
  EXPECT_EQ(
      Answer(
          s,
          R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":[1]}})")
          ["error"]["code"],
      -32602);
  EXPECT_EQ(
      Answer(s, R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}})")["error"]["code"],
      -32602);
  // A failure of the tool itself: a result with isError, the reason as text for the agent.
  const json failed = Call(s, "add", {{"a", 1}, {"b", -1}});
  EXPECT_EQ(failed["result"]["isError"], true);
  EXPECT_EQ(failed["result"]["content"][0]["text"], "b: b must not be negative");
}

TEST(McpProtocol, SchemaSubset) {
  const json s = json::parse(R"({"type":"object","properties":{
    "n":{"type":"integer","minimum":1,"maximum":10},
    "e":{"type":"string","enum":["x","y"]},
    "m":{"type":"object","additionalProperties":{"type":"string"}},
    "l":{"type":"array","items":{"type":"boolean"}}}})");
  EXPECT_EQ(McpSchemaError(s, json::parse(R"({"n":3,"e":"x","m":{"k":"v"},"l":[true]})"), "a"), "");
  EXPECT_EQ(McpSchemaError(s, json::parse(R"({"n":3.0})"), "a"), "");  // a whole number
  EXPECT_EQ(McpSchemaError(s, json::parse(R"({"n":2.5})"), "a"),
            "a.n must be an integer, got a number");
  EXPECT_EQ(McpSchemaError(s, json::parse(R"({"n":11})"), "a"), "a.n must be at most 10, got 11");
  EXPECT_EQ(McpSchemaError(s, json::parse(R"({"n":0})"), "a"), "a.n must be at least 1, got 0");
  EXPECT_EQ(McpSchemaError(s, json::parse(R"({"e":"z"})"), "a"),
            "a.e must be one of \"x\", \"y\", got \"z\"");
  EXPECT_EQ(McpSchemaError(s, json::parse(R"({"m":{"k":1}})"), "a"),
            "a.m.k must be a string, got a number");
  EXPECT_EQ(McpSchemaError(s, json::parse(R"({"l":[true,1]})"), "a"),
            "a.l[1] must be a boolean, got a number");
}

// Deterministic mutations of valid messages: every answer is JSON-RPC (or none), never a throw.
TEST(McpProtocol, MalformedLinesNeverThrow) {
  McpServer s("test", "0.1", "adds");
  AddAdder(s);
  const std::vector<std::string> seeds = {
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}})",
      R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}})",
      R"({"jsonrpc":"2.0","id":"x","method":"tools/list"})",
      R"({"jsonrpc":"2.0","method":"notifications/initialized"})",
  };
  uint64_t state = 0x9e3779b97f4a7c15ull;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<size_t>(state >> 33);
  };
  const std::string alphabet = "{}[]\",:0123456789.eE+-truefalsnl \\u\x80\xff\x00";
  int answered = 0, parse_errors = 0;
  auto check = [&](const std::string& text) {
    std::optional<std::string> a;
    ASSERT_NO_THROW(a = s.Handle(text)) << text;
    if (!a) return;
    ++answered;
    const json j = json::parse(*a, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << *a;
    const json one = j.is_array() && !j.empty() ? j[0] : j;
    ASSERT_EQ(one["jsonrpc"], "2.0") << *a;
    ASSERT_TRUE(one.contains("result") != one.contains("error")) << *a;
    parse_errors += one.contains("error") && one["error"]["code"] == -32700;
  };
  for (const std::string& seed : seeds) {
    for (size_t cut = 0; cut <= seed.size(); ++cut) check(seed.substr(0, cut));
    for (int i = 0; i < 2000; ++i) {
      std::string m = seed;
      for (int k = 0, n = 1 + static_cast<int>(next() % 4); k < n; ++k) {
        const size_t at = next() % (m.size() + 1);
        switch (next() % 3) {
          case 0:
            m.insert(at, 1, alphabet[next() % alphabet.size()]);
            break;
          case 1:
            if (at < m.size()) m.erase(at, 1);
            break;
          default:
            if (at < m.size()) m[at] = alphabet[next() % alphabet.size()];
            break;
        }
      }
      check(m);
    }
  }
  check(std::string(100000, '['));
  check(std::string(100000, '[') + std::string(100000, ']'));
  check(
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"add\","
      "\"arguments\":{\"a\":" +
      std::string(50000, '[') + "}}}");
  EXPECT_GT(answered, 1000);
  EXPECT_GT(parse_errors, 100);
}

TEST(McpProtocol, StdioLines) {
  McpServer s("test", "0.1", "adds");
  AddAdder(s);
  std::istringstream in(
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r\n"
      "\n   \n"
      "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n"
      "oops\n"
      "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"add\","
      "\"arguments\":{\"a\":1,\"b\":1}}}");  // the last line without its newline
  std::ostringstream out;
  ServeStdio(s, in, out);
  std::istringstream lines(out.str());
  std::vector<json> answers;
  for (std::string line; std::getline(lines, line);) answers.push_back(json::parse(line));
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(answers[0]["id"], 1);
  EXPECT_EQ(answers[1]["error"]["code"], -32700);
  EXPECT_EQ(answers[2]["result"]["structuredContent"]["sum"], 2);
}

TEST(McpHttp, Origins) {
  struct Case {
    const char *origin, *host;
    bool allowed;
  };
  for (const Case& c : {Case{"http://localhost:3000", "127.0.0.1", true},
                        {"http://127.0.0.1", "127.0.0.1", true},
                        {"http://[::1]:80", "::1", true},
                        {"https://twin.example:8443", "twin.example", true},
                        {"http://evil.example", "127.0.0.1", false},
                        {"http://localhost.evil.example", "127.0.0.1", false},
                        {"null", "127.0.0.1", false}}) {
    EXPECT_EQ(McpOriginAllowed(c.origin, c.host), c.allowed) << c.origin;
  }
}

// Over HTTP each POST carries its own version: a batch is answered under a 2025-03-26 header (or
// none, which means 2025-03-26), refused under 2025-06-18, whatever another client agreed; a body
// over the limit gets 413 with a JSON-RPC error, not an empty body.
TEST(McpHttp, EachRequestsVersionAndAnOversizedBody) {
  McpServer s("test", "0.1", "adds");
  AddAdder(s);
  McpHttpServer http(s);
  const int port = http.Bind("127.0.0.1", 0, "--http");
  std::thread serving([&] { http.Serve(); });
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(5, 0);
  // Another client agrees on 2025-06-18 first.
  ASSERT_TRUE(c.Post("/mcp", {{"MCP-Protocol-Version", "2025-06-18"}},
                     R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":)"
                     R"({"protocolVersion":"2025-06-18"}})",
                     "application/json"));
  const std::string batch =
      R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}])";
  auto post = [&](const httplib::Headers& h, const std::string& body) {
    const httplib::Result r = c.Post("/mcp", h, body, "application/json");
    EXPECT_TRUE(r);
    return r ? std::pair{r->status, json::parse(r->body, nullptr, false)} : std::pair{0, json()};
  };
  auto [status, a] = post({{"MCP-Protocol-Version", "2025-03-26"}}, batch);
  EXPECT_EQ(status, 200);
  ASSERT_TRUE(a.is_array());
  EXPECT_EQ(a.size(), 2u);
  std::tie(status, a) = post({}, batch);
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(a.is_array());
  std::tie(status, a) = post({{"MCP-Protocol-Version", "2025-06-18"}}, batch);
  EXPECT_EQ(a["error"]["code"], -32600);
  std::tie(status, a) = post({}, std::string(kMcpMaxMessageBytes + 1, ' '));
  EXPECT_EQ(status, 413);
  EXPECT_EQ(a["error"]["code"], -32600) << a;
  EXPECT_NE(a["error"]["message"].get<std::string>().find("over the limit"), std::string::npos);
  http.Stop();
  serving.join();
}

TEST(WhatIfFigures, FromAHandMadeSummary) {
  report::Summary s;
  s.sim_time_s = 7200;
  s.it_energy_j = 3.6e9;         // 1000 kWh over 2 h: 500 kW
  s.it_input_energy_j = 3.75e9;  // the losses of the IT equipment's own PSUs on top
  s.facility_energy_j = 4.5e9;   // 1250 kWh: 625 kW, PUE 4.5 / 3.75 = 1.2
  s.peak_it_w = 600e3;
  const json f = KeyFigures(s);
  EXPECT_EQ(f["it_energy_kwh"], 1000);
  EXPECT_EQ(f["mean_it_power_kw"], 500);
  EXPECT_EQ(f["mean_facility_power_kw"], 625);
  EXPECT_EQ(f["peak_it_power_kw"], 600);
  EXPECT_DOUBLE_EQ(f["pue"].get<double>(), 1.2);
  report::Summary t = s;
  t.facility_energy_j = 4.32e9;  // 600 kW
  const json d = FiguresDifference(KeyFigures(t), f);
  EXPECT_DOUBLE_EQ(d["mean_facility_power_kw"].get<double>(), -25);
  EXPECT_DOUBLE_EQ(d["pue"].get<double>(), -0.048);  // 4.32 / 3.75 - 1.2
  EXPECT_EQ(d["it_energy_kwh"], 0);
  EXPECT_FALSE(d.contains("duration_s"));
}

TEST(WhatIfFigures, CheckOfAClaimedEffect) {
  const json d = {{"mean_facility_power_kw", -10.2}, {"pue", -0.004}};
  json c = CheckEffect({-12, "kW"}, 3, d);
  EXPECT_EQ(c["status"], "agree");  // |-10.2 - -12| = 1.8 <= 3
  EXPECT_DOUBLE_EQ(c["twin_value"].get<double>(), -10.2);
  c = CheckEffect({-12000, "W"}, 1000, d);
  EXPECT_EQ(c["status"], "disagree");  // 1800 W > 1000 W
  EXPECT_DOUBLE_EQ(c["twin_value"].get<double>(), -10200);
  c = CheckEffect({-0.005, "ratio"}, 0.002, d);
  EXPECT_EQ(c["status"], "agree");
  c = CheckEffect({-1, "C"}, 0.5, d);
  EXPECT_EQ(c["status"], "unchecked");
  EXPECT_NE(c["why"].get<std::string>().find("'C'"), std::string::npos);
}

TEST(WhatIfFigures, ScenarioChangeOfAPlan) {
  PlanRequest r;
  r.plan_class = "setpoint";
  r.target = "cdu/cdu-1";
  r.value = {27, "C"};
  EXPECT_EQ(ScenarioChangeOf(r).at("facility.cooling.liquid_supply"), "27 C");
  r.plan_class = "power_cap";
  r.target = "gpu/node0/gpu3";
  r.value = {0.5, "kW"};
  // One GPU's cap is no scenario key (capping them all would price a claim 16 times too large).
  EXPECT_TRUE(ScenarioChangeOf(r).empty());
  r.target = "facility/site";
  EXPECT_EQ(ScenarioChangeOf(r).at("cluster.gpu_power_cap"), "0.5 kW");
  r.plan_class = "drain";
  EXPECT_TRUE(ScenarioChangeOf(r).empty());
  // Flexible jobs held at 55 % of the grid limit: the gate's margin is the other 45 %.
  r.plan_class = "job_move";
  r.value = {55, "%"};
  const std::map<std::string, std::string> hold = ScenarioChangeOf(r);
  EXPECT_EQ(hold.at("scheduler.flexibility.grid_margin"), "45 %");
  EXPECT_EQ(hold.at("scheduler.flexibility.defer"), "true");
  r.target = "node/node1";  // a share of one node's load is no scenario key
  EXPECT_TRUE(ScenarioChangeOf(r).empty());
}

// The twin's tools on an SQLite store with an agent (operator), an admin and an approver.
class TwinTools : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = live::TempPath(
        std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ".db");
    auto store = live::OpenStore(path_);
    const int64_t power =
        store->SeriesId({"cdu", "cdu-1", "power", "W", "plant", "cdu_power_watts"});
    const int64_t temp =
        store->SeriesId({"cdu", "cdu-1", "temperature", "C", "plant", "cdu_supply"});
    std::vector<live::SamplePoint> p, t;
    for (int i = 0; i < 10; ++i) {
      p.push_back({kStart + i * 1000, 1000.0 + i, 0});
      t.push_back({kStart + i * 1000, 30.0, 0});
    }
    p.back().value = std::nan("");
    store->Append(power, p);
    store->Append(temp, t);
    store->Flush();
    twin_.now_ms = [] { return kStart + 20000; };
    twin_.store = std::move(store);
    twin_.operations = std::make_unique<Operations>(OpenSqlDb(path_), twin_.now_ms);
    twin_.operations->AddUser(std::nullopt, "ada", Role::kAdmin, "ada password");
    const User ada = twin_.operations->Login("ada", "ada password");
    twin_.operations->AddUser(ada, "agent", Role::kOperator, "agent password");
    twin_.agent = twin_.operations->Login("agent", "agent password");
  }
  static constexpr int64_t kStart = 1'700'000'000'000;
  std::string path_;
  McpTwin twin_;
};

TEST_F(TwinTools, ReadTelemetryWithUnits) {
  McpServer s("t", "1", "");
  AddTwinTools(s, twin_);
  json a = Call(s, "read_telemetry", {{"entity", "cdu"}, {"id", "cdu-1"}, {"quantity", "power"}});
  json r = a["result"]["structuredContent"];
  ASSERT_EQ(r["series"].size(), 1u) << a;
  EXPECT_EQ(r["series"][0]["unit"], "W");
  EXPECT_EQ(r["series"][0]["samples"].size(), 10u);
  EXPECT_EQ(r["series"][0]["samples"][0], json::array({kStart, 1000.0}));
  EXPECT_EQ(r["series"][0]["samples"][9][1], nullptr);  // NaN
  // The last 3 s before the newest sample, at most 2 points: the newest two.
  a = Call(s, "read_telemetry", {{"entity", "cdu"}, {"last_s", 3}, {"max_points", 2}});
  r = a["result"]["structuredContent"];
  ASSERT_EQ(r["series"].size(), 2u);
  EXPECT_EQ(r["series"][0]["samples_in_window"], 4);
  EXPECT_EQ(r["series"][0]["truncated"], true);
  EXPECT_EQ(r["series"][0]["samples"][0][0], kStart + 8000);
  EXPECT_EQ(
      Call(s, "read_telemetry",
           {{"entity", "cdu"},
            {"from_ms", kStart + 9001}})["result"]["structuredContent"]["series"][0]["samples"]
          .size(),
      0u);
  EXPECT_EQ(Call(s, "read_telemetry", {{"entity", "toaster"}})["error"]["code"], -32602);
  EXPECT_EQ(Call(s, "read_telemetry", {{"entity", "cdu"}, {"max_points", 0}})["error"]["code"],
            -32602);
}

TEST_F(TwinTools, QualityPlansAnomalies) {
  McpServer s("t", "1", "");
  AddTwinTools(s, twin_);
  const json q = Call(s, "data_quality", {{"entity", "cdu"}})["result"]["structuredContent"];
  ASSERT_EQ(q["streams"].size(), 2u);
  ASSERT_EQ(q["entities"].size(), 1u);
  for (const char* d : live::kDimensions) EXPECT_TRUE(q["entities"][0]["scores"].contains(d)) << d;
  EXPECT_EQ(Call(s, "list_plans", json::object())["result"]["structuredContent"]["plans"].size(),
            0u);
  const json an = Call(s, "list_anomalies", json::object())["result"]["structuredContent"];
  EXPECT_EQ(an["anomalies"].size(), 0u);
  EXPECT_NE(an["note"].get<std::string>().find("needs both --store and a scenario"),
            std::string::npos)
      << an;
  // No tool approves, rejects, applies or verifies.
  const json list = Answer(s, R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
  std::vector<std::string> names;
  for (const json& t : list["result"]["tools"]) names.push_back(t["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"read_telemetry", "data_quality", "list_plans",
                                             "list_anomalies", "propose_plan"}));
}

TEST_F(TwinTools, ProposeWithoutAScenarioIsUnchecked) {
  McpServer s("t", "1", "");
  AddTwinTools(s, twin_);
  const json args = {{"class", "setpoint"}, {"target", "cdu/cdu-1"},
                     {"value", "27 C"},     {"reason", "warm water, fewer chiller hours"},
                     {"effect", "-12 kW"},  {"uncertainty", "3 kW"}};
  const json a = Call(s, "propose_plan", args);
  ASSERT_EQ(a["result"]["isError"], false) << a;
  const json r = a["result"]["structuredContent"];
  EXPECT_EQ(r["check"]["status"], "unchecked");
  EXPECT_NE(r["check"]["why"].get<std::string>().find("no scenario"), std::string::npos);
  EXPECT_EQ(r["plan"]["state"], "proposed");
  EXPECT_EQ(r["plan"]["proposer"], "agent");
  EXPECT_EQ(r["plan"]["expires_ms"], kStart + 20000 + 3600000);
  // Proposed through Operations: audited, and the check is in the reason the audit keeps.
  const std::vector<AuditEntry> audit = ReadAudit(twin_.operations->db());
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit.back().action, "plan_proposed");
  EXPECT_EQ(audit.back().actor, "agent");
  EXPECT_NE(audit.back().detail.find("twin check: unchecked"), std::string::npos);
  EXPECT_TRUE(VerifyAudit(audit).ok);
  // Bad amounts are the tool's errors, for the agent to read; bad shapes the protocol's.
  json bad = args;
  bad["uncertainty"] = "3 C";
  const json e = Call(s, "propose_plan", bad);
  EXPECT_EQ(e["result"]["isError"], true);
  EXPECT_NE(e["result"]["content"][0]["text"].get<std::string>().find("same unit"),
            std::string::npos);
  bad = args;
  bad["value"] = "warm";
  EXPECT_EQ(Call(s, "propose_plan", bad)["result"]["isError"], true);
  bad = args;
  bad.erase("effect");
  EXPECT_EQ(Call(s, "propose_plan", bad)["error"]["code"], -32602);
  // Without a login the server cannot propose.
  twin_.agent.reset();
  twin_.no_agent_why = "no password";
  EXPECT_EQ(Call(s, "propose_plan", args)["result"]["content"][0]["text"],
            "propose_plan: no password");
}

// The small hall of the live tests (two nodes, 2 min): the twin checks a power cap's effect.
TEST_F(TwinTools, ProposeWithAScenarioIsChecked) {
  twin_.what_if = std::make_unique<WhatIf>("tests/inputs/live-emulate.yaml");
  McpServer s("t", "1", "");
  AddTwinTools(s, twin_);
  const json run =
      Call(s, "run_what_if",
           {{"overrides", {{"cluster.gpu_power_cap", "400 W"}}}})["result"]["structuredContent"];
  const double twin_kw = run["difference"]["mean_facility_power_kw"].get<double>();
  EXPECT_LT(twin_kw, -0.5) << run;  // 16 GPUs capped from 700 W TDP
  EXPECT_NEAR(run["figures"]["mean_facility_power_kw"].get<double>() -
                  run["baseline"]["mean_facility_power_kw"].get<double>(),
              twin_kw, 1e-6);
  // An empty what-if is the baseline (the same run, deterministic).
  const json same =
      Call(s, "run_what_if", {{"overrides", json::object()}})["result"]["structuredContent"];
  EXPECT_EQ(same["difference"]["mean_facility_power_kw"], 0);
  EXPECT_EQ(same["figures"], same["baseline"]);
  // A bad key is the tool's error, naming it.
  const json bad = Call(s, "run_what_if", {{"overrides", {{"cluster.gpu_power_cup", "400 W"}}}});
  EXPECT_EQ(bad["result"]["isError"], true);
  EXPECT_NE(bad["result"]["content"][0]["text"].get<std::string>().find("gpu_power_cup"),
            std::string::npos);

  // A what-if far longer than the scenario's run is refused (2 min at 1 s: 120 ticks; 1 h: 3600).
  // A key naming a file is refused whatever the path: which files exist stays the server's.
  const json file = Call(s, "run_what_if", {{"overrides", {{"site.weather_file", "/etc/passwd"}}}});
  EXPECT_EQ(file["result"]["isError"], true);
  EXPECT_NE(file["result"]["content"][0]["text"].get<std::string>().find("names a file"),
            std::string::npos)
      << file;
  const json longer = Call(s, "run_what_if", {{"overrides", {{"simulation.duration", "1 h"}}}});
  EXPECT_EQ(longer["result"]["isError"], true);
  EXPECT_NE(longer["result"]["content"][0]["text"].get<std::string>().find(
                "3600 ticks, more than 4 times the scenario's 120"),
            std::string::npos)
      << longer;

  json args = {{"class", "power_cap"},    {"target", "facility/site"},
               {"value", "400 W"},        {"reason", "price peak"},
               {"uncertainty", "0.1 kW"}, {"effect", fmt::format("{} kW", twin_kw)}};
  json r = Call(s, "propose_plan", args)["result"]["structuredContent"];
  EXPECT_EQ(r["check"]["status"], "agree") << r;
  EXPECT_EQ(r["what_if"]["overrides"]["cluster.gpu_power_cap"], "400 W");
  args["effect"] = fmt::format("{} kW", twin_kw * 3);
  r = Call(s, "propose_plan", args)["result"]["structuredContent"];
  EXPECT_EQ(r["check"]["status"], "disagree");
  EXPECT_NE(r["plan"]["reason"].get<std::string>().find("[twin check: disagree"),
            std::string::npos);
  // A change the server cannot map and no what_if: unchecked, and why.
  args["class"] = "drain";
  args["target"] = "node/node0";
  args["value"] = "0 %";
  r = Call(s, "propose_plan", args)["result"]["structuredContent"];
  EXPECT_EQ(r["check"]["status"], "unchecked");
  EXPECT_NE(r["check"]["why"].get<std::string>().find("give what_if"), std::string::npos);
  EXPECT_EQ(twin_.operations->Plans().size(), 3u);
}

}  // namespace
}  // namespace firstwall::ops

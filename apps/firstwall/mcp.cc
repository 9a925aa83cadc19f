// firstwall mcp [SCENARIO] [--store URL] [--user NAME] [--http HOST:PORT]
// The twin over the Model Context Protocol for LLM agents (docs/operations.md, "MCP"): on standard
// input and output (newline-delimited JSON-RPC; logs on standard error), or with --http on
// http://HOST:PORT/mcp (Streamable HTTP). The agent's password comes from FIRSTWALL_PASSWORD of
// this process's environment, never from a client.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "apps/firstwall/commands.h"
#include "apps/firstwall/scenario_arg.h"
#include "live/listen_address.h"
#include "live/store.h"
#include "ops/mcp.h"
#include "ops/mcp_http.h"
#include "ops/mcp_tools.h"

namespace firstwall::cli {
namespace {

struct McpOptions {
  std::string scenario, store, user = "agent", http;
};

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr const char* kInstructions =
    "firstwall is a digital twin of an AI data center. With a scenario: describe_scenario, then "
    "run_what_if with overrides of scenario keys (values with units) to see the key figures and "
    "their change. With a live store: read_telemetry and data_quality to see what is measured "
    "and how far to trust it, list_plans, list_anomalies, and propose_plan to propose a change "
    "with your predicted effect: the twin checks that prediction, and a person approves or "
    "rejects the plan. You cannot approve or apply plans.";

// The store's side: opened, and the agent logged in when FIRSTWALL_PASSWORD is set.
void OpenStore(const McpOptions& o, ops::McpTwin& twin) {
  twin.store = live::OpenExistingStore(o.store);
  twin.operations = std::make_unique<ops::Operations>(ops::OpenSqlDb(o.store), WallMs);
  const char* password = std::getenv("FIRSTWALL_PASSWORD");
  if (!password || !*password) {
    twin.no_agent_why =
        "this server was started without FIRSTWALL_PASSWORD, so it has no agent login and "
        "cannot propose plans (read-only tools work)";
    return;
  }
  const ops::User agent = twin.operations->Login(o.user, password);
  if (agent.role != ops::Role::kOperator) {
    throw InputError(
        {"--user", 0, 0},
        fmt::format("{} is a{} {}; an agent proposes as an operator, nothing more", agent.name,
                    agent.role == ops::Role::kAdmin ? "n" : "", ops::RoleName(agent.role)),
        "add a user with --role operator for the agent (firstwall ops user add)");
  }
  twin.agent = agent;
}

int Mcp(const McpOptions& o) {
  ops::McpTwin twin;
  twin.now_ms = WallMs;
  // Without --store the scenario defaults to the built-in hall; with it, only a named one.
  if (!o.scenario.empty() || o.store.empty()) {
    twin.what_if = std::make_unique<ops::WhatIf>(o.scenario);
  }
  if (!o.store.empty()) OpenStore(o, twin);
  ops::McpServer server("firstwall", FIRSTWALL_VERSION, kInstructions);
  ops::AddTwinTools(server, twin);
  const std::string what =
      fmt::format("scenario {}, store {}{}",
                  twin.what_if ? (o.scenario.empty() ? "<built-in default>" : o.scenario) : "none",
                  o.store.empty() ? "none" : live::RedactUrl(o.store),
                  twin.agent ? ", agent " + twin.agent->name : "");
  if (o.http.empty()) {
    std::cerr << "firstwall mcp: on standard input and output (" << what << ")" << std::endl;
    ops::ServeStdio(server, std::cin, std::cout);
    return kOk;
  }
  const live::ListenAddress at = live::ParseListenAddress(o.http, "--http", "127.0.0.1:8765");
  ops::McpHttpServer http(server);
  const int port = http.Bind(at.host, at.port, "--http");
  if (at.host != "127.0.0.1" && at.host != "::1" && at.host != "localhost") {
    std::cerr << "firstwall mcp: warning: " << at.host
              << " is not loopback and this server authenticates no client: whoever reaches it "
                 "acts as the agent"
              << std::endl;
  }
  std::cerr << "firstwall mcp: serving http://" << live::HostPort(at.host, port) << "/mcp (" << what
            << ")" << std::endl;
  http.Serve();
  return kOk;
}

}  // namespace

Action RegisterMcp(CLI::App& app) {
  auto o = std::make_shared<McpOptions>();
  CLI::App* cmd = app.add_subcommand(
      "mcp",
      "Serve the twin to LLM agents over the Model Context Protocol: what-ifs of a scenario, and "
      "with --store a live site's telemetry, data quality, plans and anomalies, and proposing "
      "plans (never approving or applying them). On standard input and output, or HTTP with "
      "--http (docs/operations.md, \"MCP\").");
  cmd->add_option("scenario", o->scenario,
                  "Scenario YAML file for what-ifs (default without --store: the built-in hall; "
                  "with --store: none unless given)")
      ->check(NonEmptyScenarioPath());
  cmd->add_option("--store", o->store,
                  "Live store (an SQLite file or a postgresql:// URL) for the store's tools");
  cmd->add_option("--user", o->user,
                  "The agent's user in the store, an operator; its password from "
                  "FIRSTWALL_PASSWORD")
      ->capture_default_str();
  cmd->add_option("--http", o->http,
                  "Serve Streamable HTTP on HOST:PORT (port 0: any free port, printed on "
                  "standard error) instead of standard input and output");
  return [o] { return Mcp(*o); };
}

}  // namespace firstwall::cli

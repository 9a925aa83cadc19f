// Loading the scenario a subcommand names, or the built-in default.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "scenario/loader.h"
#include "scenario/overrides.h"

namespace firstwall::cli {

// The check of a scenario argument: an empty path (`firstwall run "$UNSET"`) is an error, never
// the built-in default, which only leaving the argument out selects. CLI11 runs it only on an
// argument that was given; a failure exits with status 2.
// `default_allowed`: whether leaving the argument out selects the built-in default (run), which
// the message then offers.
inline CLI::Validator NonEmptyScenarioPath(bool default_allowed = true) {
  return CLI::Validator(
      [default_allowed](std::string& path) -> std::string {
        if (!path.empty()) return {};
        return std::string(
                   "the scenario path is empty (an unset shell variable?); give a "
                   "scenario file") +
               (default_allowed ? ", or leave the argument out for the built-in default" : "");
      },
      "");
}

// `--set KEY=VALUE` (repeatable) on a subcommand that reads a scenario: the overrides of
// scenario/overrides.h, each located at the option in messages.
inline void AddSetOption(CLI::App* cmd, std::vector<std::string>& sets) {
  cmd->add_option("--set", sets,
                  "Change one scenario value before it is read, as if written in the file: "
                  "KEY=VALUE with KEY a path (cluster.nodes, facility.power_chain[UPS].rating, "
                  "workloads[0].gpus); repeatable")
      ->allow_extra_args(false);
}

inline std::vector<scenario::Override> ParseSets(const std::vector<std::string>& sets) {
  std::vector<scenario::Override> out;
  for (const std::string& s : sets) out.push_back(scenario::ParseOverride(s, {"--set " + s, 0, 0}));
  return out;
}

// `path` as checked by NonEmptyScenarioPath: empty only when the argument was left out.
inline scenario::Scenario LoadScenarioArg(const std::string& path,
                                          const std::vector<std::string>& sets = {}) {
  const std::vector<scenario::Override> overrides = ParseSets(sets);
  if (path.empty()) {
    return scenario::LoadScenarioText(scenario::DefaultScenarioText(),
                                      scenario::kDefaultScenarioName, scenario::kBuiltinDir,
                                      overrides);
  }
  return scenario::LoadScenarioFile(path, overrides);
}

}  // namespace firstwall::cli

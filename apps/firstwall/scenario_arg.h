// Loading the scenario a subcommand names, or the built-in default.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "scenario/loader.h"

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

// `path` as checked by NonEmptyScenarioPath: empty only when the argument was left out.
inline scenario::Scenario LoadScenarioArg(const std::string& path) {
  if (path.empty()) {
    return scenario::LoadScenarioText(scenario::DefaultScenarioText(),
                                      scenario::kDefaultScenarioName, scenario::kBuiltinDir);
  }
  return scenario::LoadScenarioFile(path);
}

}  // namespace firstwall::cli

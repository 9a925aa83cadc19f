// Loading the scenario a subcommand names, or the built-in default.
#pragma once

#include <string>

#include "scenario/loader.h"

namespace firstwall::cli {

inline scenario::Scenario LoadScenarioArg(const std::string& path) {
  if (path.empty()) {
    return scenario::LoadScenarioText(scenario::DefaultScenarioText(),
                                      scenario::kDefaultScenarioName, scenario::kBuiltinDir);
  }
  return scenario::LoadScenarioFile(path);
}

}  // namespace firstwall::cli

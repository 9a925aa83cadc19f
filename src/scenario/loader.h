// Scenario files to SiteConfig. All validation of user input happens here, before any simulation
// starts, so a bad scenario never leaves partial outputs.
#pragma once

#include <string>

#include "scenario/catalog.h"
#include "site/site_config.h"

namespace firstwall::scenario {

struct Scenario {
  std::string file;  // as named by the user, or "<built-in default>"
  site::SiteConfig site;
  Catalog catalog;  // the built-in catalog with the scenario's additions
};

// Throws InputError (with file:line:col) for anything wrong with the scenario or files it names.
Scenario LoadScenarioFile(const std::string& path);
// `base_dir` resolves relative paths in the scenario; "" for the current directory.
Scenario LoadScenarioText(const std::string& text, const std::string& file,
                          const std::string& base_dir);

// The built-in default scenario (examples/default.yaml, compiled in).
std::string DefaultScenarioText();
inline constexpr const char* kDefaultScenarioName = "<built-in default>";

}  // namespace firstwall::scenario

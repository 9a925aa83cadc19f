// Scenario files to SiteConfig. All validation of user input happens here, before any simulation
// starts, so a bad scenario never leaves partial outputs.
#pragma once

#include <string>

#include "network/fabric.h"
#include "scenario/catalog.h"
#include "site/site_config.h"

namespace firstwall::scenario {

struct Scenario {
  std::string file;  // as named by the user, or "<built-in default>"
  site::SiteConfig site;
  Catalog catalog;  // the built-in catalog with the scenario's additions
  // Rows of timeseries.csv (a whole number of ticks) and the largest file a run may write.
  SimTime output_interval;
  double max_output_bytes = 0;
  SourceLocation output_at;  // simulation.max_output_size, or the simulation section
};

// Throws InputError (with file:line:col) for anything wrong with the scenario or files it names.
Scenario LoadScenarioFile(const std::string& path);
// `base_dir` resolves relative paths in the scenario; "" for the current directory.
Scenario LoadScenarioText(const std::string& text, const std::string& file,
                          const std::string& base_dir);

// A parsed scenario (reader.h's Document, perhaps changed by overrides.h) to a Scenario.
Scenario LoadScenarioDocument(const Document& doc, const std::string& base_dir);
// The text of a scenario file, with LoadScenarioFile's checks of the path.
std::string ReadScenarioFile(const std::string& path);

// Reads the switch keys (leaf_radix, oversubscription, switch_latency) of a fabric section, in a
// scenario's cluster.fabric or a `--fabric` file, into `spec`.
void ReadFabricSwitches(const Section& s, network::FabricSpec& spec);

// The built-in default scenario (examples/default.yaml, compiled in).
std::string DefaultScenarioText();
// A compiled-in file by its path from the project root ("data/weather/...").
std::string EmbeddedText(const std::string& path);
inline constexpr const char* kDefaultScenarioName = "<built-in default>";
// The directory the built-in default scenario stands for: the files it names are looked up among
// the compiled-in files (examples/default.yaml names ../data/weather/...).
inline constexpr const char* kBuiltinDir = "<built-in>/examples";

}  // namespace firstwall::scenario

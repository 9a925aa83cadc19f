// Scenario files: YAML syntax, the schema, units, cross-checks and the catalog additions. Relative
// paths resolve from examples/ (scripts/fuzz runs from the project root), as for the examples in
// the seed corpus, so their traces and tariff are read; their weather files are left out of the
// seeds, since a year of hours would slow every run.
#include "fuzz/fuzz_main.h"
#include "scenario/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return firstwall::fuzz::Run(data, size, [](const std::string& text) {
    firstwall::scenario::LoadScenarioText(text, "fuzz.yaml", "examples");
  });
}

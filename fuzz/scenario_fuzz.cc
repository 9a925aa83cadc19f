// Scenario files: YAML syntax, the schema, units, cross-checks and the catalog additions. Files a
// scenario names are looked up under a directory that does not exist, so only the text is fuzzed.
#include "fuzz/fuzz_main.h"
#include "scenario/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return firstwall::fuzz::Run(data, size, [](const std::string& text) {
    firstwall::scenario::LoadScenarioText(text, "fuzz.yaml", "/nonexistent-fuzz-dir");
  });
}

// Sweep files (study/sweep.h): YAML syntax, the sweep schema, keys looked up in the scenario,
// ranges, designs and distributions, and the first points made from them (not loaded: each load
// is a scenario fuzzed by scenario_fuzz). Relative paths resolve from examples/, as for the
// example sweep in the seed corpus.
#include <algorithm>

#include "fuzz/fuzz_main.h"
#include "study/sweep.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return firstwall::fuzz::Run(data, size, [](const std::string& text) {
    const firstwall::study::Sweep s =
        firstwall::study::ReadSweepText(text, "fuzz.yaml", "examples");
    for (int64_t p = 0; p < std::min<int64_t>(s.points(), 16); ++p) {
      (void)firstwall::study::MakePoint(s, p);
    }
  });
}

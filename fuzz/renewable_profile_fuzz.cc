// Solar and wind profiles in every layout firstwall reads (power/published_profiles.h): a first
// byte picks the PVWatts column (even: AC, odd: DC), the rest is the file.
#include "fuzz/fuzz_main.h"
#include "power/published_profiles.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto output =
      data[0] % 2 ? firstwall::power::ProfileOutput::kDc : firstwall::power::ProfileOutput::kAc;
  return firstwall::fuzz::Run(data + 1, size - 1, [&](const std::string& text) {
    firstwall::power::ReadRenewableProfile(text, "fuzz.csv", output);
  });
}

// EnergyPlus weather (EPW) files.
#include "fuzz/fuzz_main.h"
#include "thermal/weather.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return firstwall::fuzz::Run(
      data, size, [](const std::string& text) { firstwall::thermal::ReadEpw(text, "fuzz.epw"); });
}

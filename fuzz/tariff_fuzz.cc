// Hourly tariff CSV files.
#include "fuzz/fuzz_main.h"
#include "power/tariff.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return firstwall::fuzz::Run(data, size, [](const std::string& text) {
    firstwall::power::Tariff::FromCsv(text, "fuzz.csv", 0);
  });
}

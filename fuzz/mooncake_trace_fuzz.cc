// Mooncake traces (JSON lines).
#include "fuzz/fuzz_main.h"
#include "workload/requests.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return firstwall::fuzz::Run(data, size, [](const std::string& text) {
    firstwall::workload::ParseMooncakeTrace(text, "fuzz.jsonl", "fuzz");
  });
}

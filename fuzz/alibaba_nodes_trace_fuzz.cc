// Alibaba GPU v2023 node lists (CSV).
#include "fuzz/job_trace_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return firstwall::fuzz::Run(data, size, [](const std::string& text) {
    firstwall::scheduler::ParseAlibabaNodes(text, "fuzz.csv");
  });
}

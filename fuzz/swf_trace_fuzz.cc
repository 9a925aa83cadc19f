// Standard Workload Format 2.2 logs.
#include "fuzz/job_trace_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return firstwall::fuzz::Run(data, size, [](const std::string& text) {
    firstwall::scheduler::ParseSwf(text, "fuzz.swf", firstwall::fuzz::EveryTraceOption());
  });
}

// Philly cluster_job_log (a JSON list of jobs).
#include "fuzz/job_trace_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return firstwall::fuzz::Run(data, size, [](const std::string& text) {
    firstwall::scheduler::ParsePhillyJobLog(text, "fuzz.json", firstwall::fuzz::EveryTraceOption());
  });
}

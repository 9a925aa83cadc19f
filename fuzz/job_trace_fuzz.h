// What the job trace fuzz targets share: options that take every path after parsing (a window, a
// rate, a GPU cap that clips, a processor-to-GPU factor).
#pragma once

#include "fuzz/fuzz_main.h"
#include "scheduler/job_traces.h"

namespace firstwall::fuzz {

inline scheduler::TraceOptions EveryTraceOption() {
  scheduler::TraceOptions options;
  options.rate_factor = 3;
  options.window_from = SimTime::FromNanoseconds(1'000'000'000);
  options.max_gpus = 8;
  options.oversize = scheduler::TraceOptions::Oversize::kClip;
  options.gpus_per_processor = 0.125;
  return options;
}

}  // namespace firstwall::fuzz

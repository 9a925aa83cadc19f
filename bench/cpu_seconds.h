// CPU seconds of this process (RUSAGE_SELF) or of its ended, waited-for children
// (RUSAGE_CHILDREN: the forecast's runs, ops::ForecastTwin), for the benchmarks' counters.
#pragma once

#include <sys/resource.h>

namespace firstwall::bench {

inline double CpuSeconds(int who) {
  rusage u{};
  getrusage(who, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

}  // namespace firstwall::bench

// Running the points of a study (a sweep) on local threads. The MPI twin (RunPointsOnMpi) has the
// same shape, so a command builds `run` and `done` once and hands them to either.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace firstwall::study {

// Runs `run(p)` for every p in `points` on `threads` threads (at least 1); `done(p, row)` is called
// on the calling thread, serially, as points finish (any order). `run` returns the point's result
// as one JSON line and must not share mutable state with other calls; `done` may.
//
// With one thread (or one point) the calling thread runs the points itself, in the given order.
// When `run` or `done` throws, no further point is started, the points running finish, and the
// first exception is rethrown on the calling thread (the other results are dropped).
void RunPointsOnThreads(const std::vector<int64_t>& points, int threads,
                        const std::function<std::string(int64_t)>& run,
                        const std::function<void(int64_t, const std::string&)>& done);

// The CPUs this process may run on (its affinity mask: a Slurm allocation or `taskset`), at
// least 1.
int AvailableCpus();

}  // namespace firstwall::study

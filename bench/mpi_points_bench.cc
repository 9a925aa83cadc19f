// What RunPointsOnMpi costs beyond the points themselves: run it under mpirun
// (scripts/mpirun-local 3 build/bench/mpi_points_bench) and rank 0 prints, for points that do no
// work, the wall time per point (one dispatch round trip: order out, row back, `done` called) and,
// for large rows, the bytes per second rank 0 collects. A measurement, not a test: nothing is
// asserted. Last, points that sleep 50 ms: rank 0's CPU time while it waits for them (it naps
// between polls instead of spinning). (Not Google Benchmark: its adaptive repetition runs on one
// process, while every rank must make the same collective calls.)
#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "study/mpi_points.h"

namespace {

using firstwall::study::MpiSession;
using firstwall::study::RunPointsOnMpi;

// Runs `count` points whose rows are `row_bytes` long; returns rank 0's wall seconds.
double TimePoints(const MpiSession& mpi, int64_t count, size_t row_bytes) {
  std::vector<int64_t> points;
  for (int64_t p = 0; p < count; ++p) points.push_back(p);
  const std::string row(row_bytes, 'r');
  int64_t rows = 0;
  const auto start = std::chrono::steady_clock::now();
  RunPointsOnMpi(
      mpi, points, [&row](int64_t) { return row; },
      [&rows](int64_t, const std::string&) { ++rows; });
  const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - start;
  if (mpi.rank() == 0 && rows != count) fmt::print("error: {} rows of {}\n", rows, count);
  return wall.count();
}

}  // namespace

int main() {
  MpiSession mpi;
  TimePoints(mpi, 1000, 0);  // warm-up: connections, buffers
  struct Case {
    int64_t points;
    size_t row_bytes;
  };
  const std::vector<Case> cases = {{20000, 0}, {20000, 1000}, {2000, 100000}, {200, 10000000}};
  if (mpi.rank() == 0) {
    fmt::print("RunPointsOnMpi on {} ranks ({} workers; rank 0 dispatches)\n", mpi.size(),
               mpi.size() > 1 ? mpi.size() - 1 : 0);
    fmt::print("{:>8} {:>12} {:>12} {:>16} {:>12}\n", "points", "row_bytes", "wall_s",
               "us_per_point", "MB_per_s");
  }
  for (const Case& c : cases) {
    const double wall_s = TimePoints(mpi, c.points, c.row_bytes);
    if (mpi.rank() != 0) continue;
    const double us_per_point = wall_s / static_cast<double>(c.points) * 1e6;
    const double mb_per_s =
        static_cast<double>(c.row_bytes) * static_cast<double>(c.points) / wall_s / 1e6;
    fmt::print("{:>8} {:>12} {:>12.3f} {:>16.2f} {:>12.1f}\n", c.points, c.row_bytes, wall_s,
               us_per_point, mb_per_s);
  }
  // Rank 0 waiting through long points: CPU seconds of the process (std::clock) against wall.
  std::vector<int64_t> sleepers;
  for (int64_t p = 0; p < 20; ++p) sleepers.push_back(p);
  const std::clock_t cpu_start = std::clock();
  const auto wall_start = std::chrono::steady_clock::now();
  RunPointsOnMpi(
      mpi, sleepers,
      [](int64_t) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return std::string();
      },
      [](int64_t, const std::string&) {});
  const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - wall_start;
  const double cpu_s = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  if (mpi.rank() == 0) {
    fmt::print(
        "20 points sleeping 50 ms each: {:.3f} s wall, rank 0 used {:.3f} s of CPU ({:.1f}%)\n",
        wall.count(), cpu_s, 100 * cpu_s / wall.count());
  }
  return 0;
}

// RunPointsOnMpi on local ranks (CTest runs this under scripts/mpirun-local with 1, 3 and 5
// ranks). Every test is collective: all ranks run the same cases in the same order and make the
// same RunPointsOnMpi calls; the checks of what came back are made on rank 0.
//
// `mpi_points_test --fail-at P` is the end-to-end failure case instead: point P throws on a
// worker and every rank must end with a non-zero status (as the CLI would), without hanging.
// `mpi_points_test --mismatched-points`: the last resort, a broken protocol aborts the job.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "study/mpi_points.h"

namespace firstwall::study {
namespace {

namespace fs = std::filesystem;

const MpiSession* g_mpi = nullptr;

// A deterministic row for point p, of a length that varies with p from 0 bytes up to 1 MiB:
// "p=<p>;" then letters that depend on p and the position (so a row cut short, shifted or mixed
// up with another point's differs).
std::string FakeRow(int64_t p) {
  constexpr size_t kMiB = size_t{1} << 20;
  const size_t length = p % 10 == 0 ? 0 : p % 10 == 9 ? kMiB : static_cast<size_t>(p * 7919) % kMiB;
  std::string row = "p=" + std::to_string(p) + ";";
  row.resize(std::max(length, row.size()));
  for (size_t i = row.find(';') + 1; i < row.size(); ++i) {
    row[i] = static_cast<char>('a' + static_cast<size_t>(p * 31 + static_cast<int64_t>(i)) % 26);
  }
  if (length == 0) row.clear();
  return row;
}

std::vector<int64_t> Range(int64_t from, int64_t count, int64_t step) {
  std::vector<int64_t> v;
  for (int64_t i = 0; i < count; ++i) v.push_back(from + i * step);
  return v;
}

// Runs `points` through FakeRow; returns how often each point came back and checks each row.
std::map<int64_t, int> RunFake(const std::vector<int64_t>& points) {
  std::map<int64_t, int> seen;
  RunPointsOnMpi(*g_mpi, points, FakeRow, [&](int64_t p, const std::string& row) {
    ++seen[p];
    EXPECT_EQ(row.size(), FakeRow(p).size()) << "point " << p;
    EXPECT_TRUE(row == FakeRow(p)) << "point " << p << ": the row differs from what run returned";
  });
  return seen;
}

void ExpectEachOnce(const std::map<int64_t, int>& seen, const std::vector<int64_t>& points) {
  if (g_mpi->rank() != 0) {
    EXPECT_TRUE(seen.empty()) << "done is called on rank 0 only";
    return;
  }
  ASSERT_EQ(seen.size(), points.size());
  for (const int64_t p : points) EXPECT_EQ(seen.at(p), 1) << "point " << p;
}

TEST(MpiPoints, FakeRowsHaveTheLengthsTheTestsNeed) {
  EXPECT_EQ(FakeRow(10), "");
  EXPECT_EQ(FakeRow(19).size(), size_t{1} << 20);
  EXPECT_EQ(FakeRow(1).size(), 7919u);
  EXPECT_EQ(FakeRow(3).size(), 23757u);  // 3 * 7919
  // After "p=3;": 'a' + (3 * 31 + 4) % 26 = 'a' + 19, then 'a' + 20.
  EXPECT_EQ(FakeRow(3).substr(0, 6), "p=3;tu");
}

TEST(MpiPoints, EveryPointComesBackOnceWithItsRow) {
  // 40 points of rows from 0 bytes to 1 MiB; values that are not their positions in the list.
  const std::vector<int64_t> points = Range(1000, 40, 3);
  ExpectEachOnce(RunFake(points), points);
}

TEST(MpiPoints, TwoPointsOnMoreRanksThanPoints) {
  const std::vector<int64_t> points = {7, 9};
  ExpectEachOnce(RunFake(points), points);
}

TEST(MpiPoints, ZeroPoints) { ExpectEachOnce(RunFake({}), {}); }

TEST(MpiPoints, RankZeroOnlyDispatchesWhenThereAreWorkers) {
  const std::vector<int64_t> points = Range(0, 12, 1);
  std::map<int64_t, std::string> ran_on;
  const int rank = g_mpi->rank();
  RunPointsOnMpi(
      *g_mpi, points, [rank](int64_t) { return std::to_string(rank); },
      [&](int64_t p, const std::string& row) { ran_on[p] = row; });
  if (rank != 0) return;
  ASSERT_EQ(ran_on.size(), 12u);
  for (const auto& [p, r] : ran_on) {
    if (g_mpi->size() == 1) {
      EXPECT_EQ(r, "0") << "point " << p;
    } else {
      EXPECT_NE(r, "0") << "point " << p;
      EXPECT_LT(std::stoi(r), g_mpi->size()) << "point " << p;
    }
  }
}

// Dynamic hand-out, without timing: worker 1 holds its first point until the other workers have
// finished every other point (they leave a file per point in a directory all ranks share), so
// a static split (a share of the points per rank) would never end, while dynamic dispatch gives
// worker 1 that one point and the others the rest. The wait is bounded (a failure, not a hang).
TEST(MpiPoints, AFastRankTakesMorePoints) {
  const std::vector<int64_t> points = Range(0, 20, 1);
  const int rank = g_mpi->rank();
  // Local ranks are children of the same mpirun: its pid names the directory for this job only.
  const fs::path shared = fs::temp_directory_path() / fmt::format("fw_mpi_points_{}", getppid());
  fs::create_directories(shared);
  const bool has_slow_worker = g_mpi->size() >= 3;
  std::map<int64_t, int> ran_on;
  RunPointsOnMpi(
      *g_mpi, points,
      [&](int64_t p) {
        if (has_slow_worker && rank == 1) {
          const auto others_done = [&] {
            return std::distance(fs::directory_iterator(shared), fs::directory_iterator()) ==
                   static_cast<std::ptrdiff_t>(points.size() - 1);
          };
          for (int tries = 0; !others_done(); ++tries) {
            if (tries == 6000) throw std::runtime_error("the other workers did not finish in 60 s");
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          }
        } else {
          std::ofstream(shared / std::to_string(p)) << p;
        }
        return std::to_string(rank);
      },
      [&](int64_t p, const std::string& row) { ran_on[p] = std::stoi(row); });
  if (rank != 0) return;
  fs::remove_all(shared);
  ASSERT_EQ(ran_on.size(), points.size());
  if (has_slow_worker) {
    int on_worker_1 = 0;
    for (const auto& [p, r] : ran_on) on_worker_1 += r == 1 ? 1 : 0;
    EXPECT_LE(on_worker_1, 1);
  }
}

// Point 6 of 0..9 throws an InputError on whichever rank runs it.
TEST(MpiPoints, AnInputErrorOnAWorkerReachesRankZeroWithItsPlace) {
  const std::vector<int64_t> points = Range(0, 10, 1);
  std::map<int64_t, int> seen;
  try {
    RunPointsOnMpi(
        *g_mpi, points,
        [](int64_t p) -> std::string {
          if (p == 6) throw InputError({"sweep.yaml", 3, 5}, "bad value 6", "use 5");
          return FakeRow(p);
        },
        [&](int64_t p, const std::string&) { ++seen[p]; });
    ADD_FAILURE() << "no exception on rank " << g_mpi->rank();
  } catch (const InputError& e) {
    EXPECT_EQ(g_mpi->rank(), 0) << "only rank 0 throws the point's error";
    EXPECT_EQ(e.where().ToString(), "sweep.yaml:3:5");
    EXPECT_EQ(e.hint(), "use 5");
    const std::string prefix = "point 6 failed on MPI rank ";
    EXPECT_EQ(e.message().substr(0, prefix.size()), prefix) << e.message();
    EXPECT_TRUE(e.message().ends_with(": bad value 6")) << e.message();
    const int failed_on = std::stoi(e.message().substr(prefix.size()));
    if (g_mpi->size() == 1) {
      EXPECT_EQ(failed_on, 0);
    } else {
      EXPECT_GE(failed_on, 1);
      EXPECT_LT(failed_on, g_mpi->size());
    }
  } catch (const MpiWorkStopped& e) {
    EXPECT_NE(g_mpi->rank(), 0);
    EXPECT_EQ(std::string(e.what()).substr(0, 29), "stopped: point 6 failed on MP") << e.what();
  }
  EXPECT_EQ(seen.count(6), 0u);
  // One rank runs in list order, so exactly the points before 6 were done.
  if (g_mpi->size() == 1) {
    EXPECT_EQ(seen.size(), 6u);
  }
}

TEST(MpiPoints, OtherErrorsKeepTheirKind) {
  const std::vector<int64_t> points = {1, 2, 3};
  auto run_throwing = [](bool internal) {
    return [internal](int64_t p) -> std::string {
      if (p != 2) return "ok";
      if (internal) throw InternalError("broken invariant");
      throw std::out_of_range("no such table row");
    };
  };
  auto ignore = [](int64_t, const std::string&) {};
  if (g_mpi->rank() == 0) {
    EXPECT_THROW(RunPointsOnMpi(*g_mpi, points, run_throwing(true), ignore), InternalError);
    try {
      RunPointsOnMpi(*g_mpi, points, run_throwing(false), ignore);
      ADD_FAILURE() << "no exception";
    } catch (const InputError&) {
      ADD_FAILURE() << "not an input error";
    } catch (const InternalError&) {
      ADD_FAILURE() << "not an internal error";
    } catch (const std::runtime_error& e) {
      EXPECT_TRUE(std::string(e.what()).ends_with(": no such table row")) << e.what();
    }
  } else {
    EXPECT_THROW(RunPointsOnMpi(*g_mpi, points, run_throwing(true), ignore), MpiWorkStopped);
    EXPECT_THROW(RunPointsOnMpi(*g_mpi, points, run_throwing(false), ignore), MpiWorkStopped);
  }
}

struct HandlerFailed {
  int64_t point;
};

TEST(MpiPoints, AFailingHandlerOnRankZeroStopsTheWorkers) {
  const std::vector<int64_t> points = Range(0, 8, 1);
  try {
    RunPointsOnMpi(*g_mpi, points, FakeRow,
                   [](int64_t p, const std::string&) { throw HandlerFailed{p}; });
    ADD_FAILURE() << "no exception on rank " << g_mpi->rank();
  } catch (const HandlerFailed&) {
    EXPECT_EQ(g_mpi->rank(), 0) << "rank 0 rethrows the handler's exception as it was";
  } catch (const MpiWorkStopped& e) {
    EXPECT_NE(g_mpi->rank(), 0);
    EXPECT_EQ(std::string(e.what()),
              "stopped: rank 0 failed while handling a result (it reports why)");
  }
}

TEST(MpiPoints, AfterFailuresTheRanksAreStillInStep) {
  const std::vector<int64_t> points = Range(20, 9, 1);
  ExpectEachOnce(RunFake(points), points);
}

// The failure case as a program: rank 0 reports the point and exits 2 (an input error), the
// workers exit 1.
int FailAt(int64_t failing_point) {
  try {
    RunPointsOnMpi(
        *g_mpi, Range(0, 10, 1),
        [failing_point](int64_t p) -> std::string {
          if (p == failing_point)
            throw InputError({"sweep.yaml", 2, 1}, fmt::format("no such value {}", p));
          return FakeRow(p);
        },
        [](int64_t, const std::string&) {});
  } catch (const MpiWorkStopped& e) {
    std::cerr << "rank " << g_mpi->rank() << ": " << e.what() << "\n";
    return 1;
  } catch (const InputError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  std::cerr << "rank " << g_mpi->rank() << ": no failure\n";
  return 0;
}

// A broken protocol as a program: the workers are given a shorter list than rank 0 (a caller's
// bug), so the second point's order names an entry a worker does not have. The worker cannot
// answer; rather than leave rank 0 waiting, it ends the whole job (MPI_Abort).
int MismatchedPoints() {
  const std::vector<int64_t> points = g_mpi->rank() == 0 ? Range(0, 4, 1) : Range(0, 1, 1);
  RunPointsOnMpi(*g_mpi, points, FakeRow, [](int64_t, const std::string&) {});
  std::cerr << "rank " << g_mpi->rank() << ": the mismatch went unnoticed\n";
  return 0;
}

}  // namespace
}  // namespace firstwall::study

int main(int argc, char** argv) {
  firstwall::study::MpiSession mpi;
  firstwall::study::g_mpi = &mpi;
  if (argc == 3 && std::strcmp(argv[1], "--fail-at") == 0) {
    return firstwall::study::FailAt(std::stoll(argv[2]));
  }
  if (argc == 2 && std::strcmp(argv[1], "--mismatched-points") == 0) {
    return firstwall::study::MismatchedPoints();
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}

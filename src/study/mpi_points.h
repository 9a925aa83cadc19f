// Points of a sweep spread over MPI ranks (OpenMPI, `mpirun -n K firstwall sweep --mpi ...`).
//
// Rank 0 is the dispatcher: it hands out one point at a time to whichever worker rank asks next
// (so a fast rank or a cheap point takes more), receives each point's result row and passes it to
// `done` on rank 0. The workers (ranks 1..K-1) run the points. The rows arrive in completion
// order, which depends on timing; a caller that needs deterministic output sorts by point.
//
// This header needs no MPI headers and links in every build; MPI itself lives in one translation
// unit (mpi_points.cc). In a build without MPI (-DFW_MPI=OFF, or OpenMPI not installed) the
// functions exist, MpiCompiledIn() is false and an MpiSession cannot be created (it throws an
// InputError saying the program was built without MPI).
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace firstwall::study {

// True when this program was built with MPI (CMake option FW_MPI).
bool MpiCompiledIn();

// MPI for the lifetime of the process: the constructor initializes MPI (MPI_Init_thread asking
// for MPI_THREAD_FUNNELED: a point may use threads, only the calling thread talks MPI), the
// destructor finalizes it. MPI can be initialized once per process, so create exactly one, early
// in main and outside any loop. Without `mpirun` a process is a single rank (size() == 1).
// Errors: InputError when built without MPI; InternalError when MPI was already initialized or
// does not give the thread level.
class MpiSession {
 public:
  MpiSession();
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }  // 0-based rank in MPI_COMM_WORLD
  int size() const { return size_; }  // number of ranks in MPI_COMM_WORLD, >= 1

 private:
  int rank_ = 0;
  int size_ = 1;
};

// Thrown on a worker rank (rank != 0) when rank 0 stopped the work because a point failed
// (on any rank) or rank 0's `done` threw. Rank 0 throws the failure itself, with its detail; the
// workers only need to end with a non-zero status, so a CLI may print this one line and exit.
class MpiWorkStopped : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs `run(p)` once for every entry p of `points`, spread over the ranks of `mpi`, and calls
// `done(p, row)` on rank 0 with the row `run` returned for p, once per entry, in arrival order.
// Collective: every rank calls it with the same `points` (same length and order); `run` is used
// on the workers only (on rank 0 too when there is one rank); `done` is called on rank 0 only.
//  - One rank: rank 0 runs every point itself, in list order.
//  - K > 1 ranks: rank 0 only dispatches and collects; K-1 workers run the points. More workers
//    than points is fine (the extra ones are told to stop at once); so are zero points.
//  - Rows may have any length (0 bytes to more than 2 GiB: sent in pieces).
//  - Failure: if `run` throws on any rank, rank 0 hands out no more points, waits for the points
//    already running (their rows are dropped, `done` is not called for them), tells every worker
//    to stop, and then throws on every rank: on rank 0 the same kind of error (InputError keeps
//    its file:line:col and hint; InternalError stays an InternalError; anything else becomes a
//    std::runtime_error) with "point P failed on MPI rank R: " before the message; on the workers
//    MpiWorkStopped. If `done` throws on rank 0, the workers are stopped the same way and rank 0
//    rethrows that exception as it was. After a failure every rank is back in step, so MPI may be
//    used again (e.g. by the next sweep in the same process).
//  - If something breaks the protocol itself (out of memory while receiving a row), the function
//    calls MPI_Abort: the whole job ends with a non-zero status instead of hanging.
// Returns normally on every rank when all points are done; on workers that is after rank 0's
// "no more work".
void RunPointsOnMpi(const MpiSession& mpi, const std::vector<int64_t>& points,
                    const std::function<std::string(int64_t)>& run,
                    const std::function<void(int64_t, const std::string&)>& done);

}  // namespace firstwall::study

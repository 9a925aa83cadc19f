// The only translation unit that includes <mpi.h> (MPI's C API; the C++ bindings are deprecated).
// FW_HAVE_MPI is defined for this file alone when the build has MPI (CMake option FW_MPI).
#include "study/mpi_points.h"

#include <fmt/format.h>

#include <exception>
#include <utility>

#include "core/error.h"

#ifdef FW_HAVE_MPI
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <iostream>
#include <limits>
#include <thread>
#endif

namespace firstwall::study {
namespace {

// What a point's failure carries from a worker to rank 0, so rank 0 throws the same kind of error
// (an InputError keeps its place and hint: the CLI still exits 2 on bad input).
enum class ErrorKind : int64_t { kInput = 1, kInternal = 2, kOther = 3 };

struct ErrorRecord {
  ErrorKind kind = ErrorKind::kOther;
  SourceLocation where;
  std::string message;
  std::string hint;
};

// The exception in flight (call inside a catch block) as a record.
ErrorRecord CaptureCurrent() {
  try {
    throw;
  } catch (const InputError& e) {
    return {ErrorKind::kInput, e.where(), e.message(), e.hint()};
  } catch (const InternalError& e) {
    return {ErrorKind::kInternal, {}, e.what(), {}};
  } catch (const std::exception& e) {
    return {ErrorKind::kOther, {}, e.what(), {}};
  } catch (...) {
    return {ErrorKind::kOther, {}, "an exception that is not a std::exception", {}};
  }
}

// The error rank 0 throws for a point that failed: the same kind, the point and rank first.
std::exception_ptr PointFailure(const ErrorRecord& r, int64_t point, int rank) {
  const std::string what =
      fmt::format("point {} failed on MPI rank {}: {}", point, rank, r.message);
  switch (r.kind) {
    case ErrorKind::kInput:
      return std::make_exception_ptr(InputError(r.where, what, r.hint));
    case ErrorKind::kInternal:
      return std::make_exception_ptr(InternalError(what));
    case ErrorKind::kOther:
      break;
  }
  return std::make_exception_ptr(std::runtime_error(what));
}

// One rank: run every point here, in list order.
void RunPointsHere(const std::vector<int64_t>& points,
                   const std::function<std::string(int64_t)>& run,
                   const std::function<void(int64_t, const std::string&)>& done) {
  for (const int64_t p : points) {
    std::string row;
    try {
      row = run(p);
    } catch (...) {
      std::rethrow_exception(PointFailure(CaptureCurrent(), p, 0));
    }
    done(p, row);
  }
}

}  // namespace

#ifndef FW_HAVE_MPI

bool MpiCompiledIn() { return false; }

MpiSession::MpiSession() {
  throw InputError({"--mpi"}, "this firstwall was built without MPI",
                   "install OpenMPI (scripts/setup-deps installs libopenmpi-dev and openmpi-bin), "
                   "then configure again with -DFW_MPI=ON and rebuild");
}

MpiSession::~MpiSession() = default;

void RunPointsOnMpi(const MpiSession& mpi, const std::vector<int64_t>& points,
                    const std::function<std::string(int64_t)>& run,
                    const std::function<void(int64_t, const std::string&)>& done) {
  FW_CHECK(mpi.size() == 1, "a build without MPI has a single rank");
  RunPointsHere(points, run, done);
}

#else

namespace {

// Message tags. Workers send kToRoot headers (and a row's bytes as kRowBytes); rank 0 answers each
// with one kToWorker header.
constexpr int kToRoot = 1;
constexpr int kRowBytes = 2;
constexpr int kToWorker = 3;

// Every header is four int64 values: {kind, a, b, c}.
//   worker -> 0: kReady {-, -, -}; kRow {index, bytes, -}; kFailed {index, bytes, -}
//                (kFailed's bytes are an encoded ErrorRecord)
//   0 -> worker: kWork {index, -, -}; kStop {-, -, -}
// and, broadcast by rank 0 to all at the end of a call, the outcome:
//   kSucceeded {-, -, -}; kPointFailed {point, rank, -}; kDoneFailed {-, -, -}
enum Kind : int64_t {
  kReady = 1,
  kRow,
  kFailed,
  kWork,
  kStop,
  kSucceeded,
  kPointFailed,
  kDoneFailed
};
using Header = std::array<int64_t, 4>;

// MPI counts are int: bytes go in pieces of at most 1 GiB.
constexpr int64_t kPieceBytes = int64_t{1} << 30;

// Last resort when the protocol itself broke (not a point's failure, which the protocol carries):
// say why, and end every rank of the job rather than leave some waiting forever.
[[noreturn]] void AbortJob(const std::string& why) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::cerr << "firstwall: error: MPI point runner on rank " << rank << ": " << why
            << "; aborting every rank\n";
  std::cerr.flush();
  MPI_Abort(MPI_COMM_WORLD, 70);
  std::terminate();  // MPI_Abort does not return; this only tells the compiler so
}

void SendHeader(const Header& h, int to, int tag) {
  MPI_Send(h.data(), static_cast<int>(h.size()), MPI_INT64_T, to, tag, MPI_COMM_WORLD);
}

void SendBytes(const std::string& bytes, int to) {
  for (size_t at = 0; at < bytes.size();) {
    const size_t n = std::min(bytes.size() - at, static_cast<size_t>(kPieceBytes));
    MPI_Send(bytes.data() + at, static_cast<int>(n), MPI_BYTE, to, kRowBytes, MPI_COMM_WORLD);
    at += n;
  }
}

// The `size` bytes `from` sends after its header (MPI keeps messages between two ranks with the
// same tag in order, so the pieces arrive in order).
std::string ReceiveBytes(int64_t size, int from) {
  std::string bytes(static_cast<size_t>(size), '\0');
  for (size_t at = 0; at < bytes.size();) {
    const size_t n = std::min(bytes.size() - at, static_cast<size_t>(kPieceBytes));
    MPI_Recv(bytes.data() + at, static_cast<int>(n), MPI_BYTE, from, kRowBytes, MPI_COMM_WORLD,
             MPI_STATUS_IGNORE);
    at += n;
  }
  return bytes;
}

// Waits for a request to complete. OpenMPI's blocking calls poll without sleeping, so a rank
// waiting through minutes-long points (rank 0 for rows, an idle worker for the end of the call)
// would hold a core that a running worker could use: rank 0 usually shares a machine with workers,
// and ranks may outnumber cores. Instead: poll for 100 us (a reply to a short point is caught at
// once), then sleep between polls, doubling the sleep up to 1 ms. A message is noticed at most
// 1 ms late, which is nothing next to a wait long enough to be slept through.
MPI_Status WaitNapping(MPI_Request* request) {
  const auto start = std::chrono::steady_clock::now();
  auto nap = std::chrono::microseconds(20);
  MPI_Status status;
  for (int arrived = 0;;) {
    MPI_Test(request, &arrived, &status);
    if (arrived) return status;
    if (std::chrono::steady_clock::now() - start < std::chrono::microseconds(100)) continue;
    std::this_thread::sleep_for(nap);
    nap = std::min(nap * 2, std::chrono::microseconds(1000));
  }
}

// A header from any worker; `from` is its rank.
Header ReceiveHeaderFromAnyWorker(int* from) {
  Header h{};
  MPI_Request request;
  MPI_Irecv(h.data(), static_cast<int>(h.size()), MPI_INT64_T, MPI_ANY_SOURCE, kToRoot,
            MPI_COMM_WORLD, &request);
  *from = WaitNapping(&request).MPI_SOURCE;
  return h;
}

std::string Field(const std::string& s) { return fmt::format("{}:{}", s.size(), s); }

std::string Encode(const ErrorRecord& r) {
  return Field(std::to_string(static_cast<int64_t>(r.kind))) + Field(r.where.file) +
         Field(std::to_string(r.where.line)) + Field(std::to_string(r.where.column)) +
         Field(r.message) + Field(r.hint);
}

// Reads Encode's fields back. The bytes come from our own workers; a malformed record is a bug.
ErrorRecord Decode(const std::string& bytes) {
  size_t at = 0;
  auto next = [&]() {
    const size_t colon = bytes.find(':', at);
    FW_CHECK(colon != std::string::npos, "an error record from a worker is cut short");
    const size_t n = std::stoul(bytes.substr(at, colon - at));
    FW_CHECK(colon + 1 + n <= bytes.size(), "an error record from a worker is cut short");
    std::string field = bytes.substr(colon + 1, n);
    at = colon + 1 + n;
    return field;
  };
  ErrorRecord r;
  r.kind = static_cast<ErrorKind>(std::stoll(next()));
  r.where.file = next();
  r.where.line = std::stoi(next());
  r.where.column = std::stoi(next());
  r.message = next();
  r.hint = next();
  return r;
}

// Rank 0 with workers: hand out points, collect rows, stop every worker exactly once. Returns the
// failure to throw (null when every point succeeded) and sets the outcome to broadcast.
std::exception_ptr Dispatch(const MpiSession& mpi, const std::vector<int64_t>& points,
                            const std::function<void(int64_t, const std::string&)>& done,
                            Header* outcome) {
  const int workers = mpi.size() - 1;
  size_t next = 0;
  int stopped = 0;
  std::exception_ptr failure;  // what rank 0 throws once every worker has stopped
  *outcome = {kSucceeded, 0, 0, 0};
  while (stopped < workers) {
    int from = 0;
    const Header h = ReceiveHeaderFromAnyWorker(&from);
    if (h[0] == kRow || h[0] == kFailed) {
      FW_CHECK(h[1] >= 0 && static_cast<size_t>(h[1]) < points.size(),
               "a worker sent back a point it was not given");
      const std::string bytes = ReceiveBytes(h[2], from);
      const int64_t point = points[static_cast<size_t>(h[1])];
      // After a failure the rows of points still running are dropped: the run failed as a whole.
      if (failure == nullptr && h[0] == kRow) {
        try {
          done(point, bytes);
        } catch (...) {
          failure = std::current_exception();
          *outcome = {kDoneFailed, 0, 0, 0};
        }
      } else if (failure == nullptr) {
        failure = PointFailure(Decode(bytes), point, from);
        *outcome = {kPointFailed, point, from, 0};
      }
    } else {
      FW_CHECK(h[0] == kReady, "a worker sent a header of unknown kind");
    }
    if (failure == nullptr && next < points.size()) {
      SendHeader({kWork, static_cast<int64_t>(next++), 0, 0}, from, kToWorker);
    } else {
      SendHeader({kStop, 0, 0, 0}, from, kToWorker);
      ++stopped;
    }
  }
  return failure;
}

// A worker: ask, run, send the row back (or the error), until told to stop.
void Work(const std::vector<int64_t>& points, const std::function<std::string(int64_t)>& run) {
  SendHeader({kReady, 0, 0, 0}, 0, kToRoot);
  for (;;) {
    Header order{};
    MPI_Recv(order.data(), static_cast<int>(order.size()), MPI_INT64_T, 0, kToWorker,
             MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (order[0] == kStop) return;
    FW_CHECK(order[0] == kWork && order[1] >= 0 && static_cast<size_t>(order[1]) < points.size(),
             "rank 0 sent an order this rank cannot follow (are `points` the same on every rank?)");
    std::string bytes;
    Header reply{kRow, order[1], 0, 0};
    try {
      bytes = run(points[static_cast<size_t>(order[1])]);
    } catch (...) {
      bytes = Encode(CaptureCurrent());
      reply[0] = kFailed;
    }
    reply[2] = static_cast<int64_t>(bytes.size());
    SendHeader(reply, 0, kToRoot);
    SendBytes(bytes, 0);
  }
}

}  // namespace

bool MpiCompiledIn() { return true; }

MpiSession::MpiSession() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  FW_CHECK(!initialized, "MPI is initialized once per process: create one MpiSession");
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    FW_CHECK(false, "this MPI library does not support MPI_THREAD_FUNNELED");
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

void RunPointsOnMpi(const MpiSession& mpi, const std::vector<int64_t>& points,
                    const std::function<std::string(int64_t)>& run,
                    const std::function<void(int64_t, const std::string&)>& done) {
  if (mpi.size() == 1) {
    RunPointsHere(points, run, done);
    return;
  }
  // The protocol carries a point's failure and `done`'s. Anything else escaping here (out of
  // memory, a garbled message) leaves other ranks waiting on this one, so it ends the job.
  std::exception_ptr failure;
  Header outcome{kSucceeded, 0, 0, 0};
  try {
    if (mpi.rank() == 0) {
      failure = Dispatch(mpi, points, done, &outcome);
    } else {
      Work(points, run);
    }
  } catch (const std::exception& e) {
    AbortJob(e.what());
  } catch (...) {
    AbortJob("an exception that is not a std::exception");
  }
  // The outcome reaches every worker, also those stopped before a point failed (more workers than
  // points). Being collective, it also keeps calls apart: no worker sends its "ready" for the next
  // call while rank 0 still collects this one (it would be counted in the wrong call).
  MPI_Request request;
  MPI_Ibcast(outcome.data(), static_cast<int>(outcome.size()), MPI_INT64_T, 0, MPI_COMM_WORLD,
             &request);
  WaitNapping(&request);
  if (failure != nullptr) std::rethrow_exception(failure);
  if (outcome[0] == kPointFailed) {
    throw MpiWorkStopped(fmt::format("stopped: point {} failed on MPI rank {} (rank 0 reports why)",
                                     outcome[1], outcome[2]));
  }
  if (outcome[0] == kDoneFailed) {
    throw MpiWorkStopped("stopped: rank 0 failed while handling a result (it reports why)");
  }
}

#endif

}  // namespace firstwall::study

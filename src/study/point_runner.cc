#include "study/point_runner.h"

#include <sched.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

namespace firstwall::study {

void RunPointsOnThreads(const std::vector<int64_t>& points, int threads,
                        const std::function<std::string(int64_t)>& run,
                        const std::function<void(int64_t, const std::string&)>& done) {
  const size_t workers = std::min(points.size(), static_cast<size_t>(std::max(threads, 1)));
  if (workers <= 1) {
    // One thread: the calling thread runs the points itself, in order.
    for (int64_t p : points) done(p, run(p));
    return;
  }
  std::mutex mu;
  std::condition_variable cv;
  size_t next = 0;      // index of the next point to hand out
  size_t finished = 0;  // workers that have left their loop
  bool stop = false;    // a failure: hand out no more points
  std::exception_ptr failure;
  std::deque<std::pair<int64_t, std::string>> results;

  auto work = [&] {
    for (;;) {
      int64_t p = 0;
      {
        std::lock_guard lock(mu);
        if (stop || next == points.size()) break;
        p = points[next++];
      }
      // Notified under the lock: legal either way, but race checkers (helgrind) flag a signal
      // sent without it.
      try {
        std::string row = run(p);
        std::lock_guard lock(mu);
        results.emplace_back(p, std::move(row));
        cv.notify_one();
      } catch (...) {
        std::lock_guard lock(mu);
        if (!failure) failure = std::current_exception();
        stop = true;
        cv.notify_one();
      }
    }
    std::lock_guard lock(mu);
    ++finished;
    cv.notify_one();
  };

  std::vector<std::thread> pool;
  pool.reserve(workers);
  for (size_t i = 0; i < workers; ++i) pool.emplace_back(work);
  // The calling thread hands finished rows to `done` as they come, outside the lock, so a slow
  // `done` (a file append) never holds up the workers.
  for (;;) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return !results.empty() || finished == workers; });
    if (results.empty()) break;
    auto [p, row] = std::move(results.front());
    results.pop_front();
    if (stop) continue;  // a failure: drop what remains
    lock.unlock();
    try {
      done(p, row);
    } catch (...) {
      lock.lock();
      if (!failure) failure = std::current_exception();
      stop = true;
    }
  }
  for (std::thread& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

int AvailableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace firstwall::study

// How every HTTP server of the live twin (the emulator's /metrics and Redfish, ingest's
// remote-write listener) holds up against peers that connect and then say nothing: cpp-httplib
// serves each connection on a thread of a fixed pool until it closes or its read times out, so
// idle connections could otherwise hold every thread (a breaker's 60 idle sockets kept a valid
// POST unanswered for over 10 s). A wider pool and short idle timeouts bound that: up to kThreads
// idle connections cost nothing, and each further wave waits at most kIdleSeconds.
#pragma once

#include <httplib.h>

namespace firstwall::live {

inline constexpr size_t kHttpThreads = 64;
inline constexpr time_t kHttpIdleSeconds = 2;

inline void LimitIdleConnections(httplib::Server& server) {
  server.new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  server.set_keep_alive_timeout(kHttpIdleSeconds);
  server.set_read_timeout(kHttpIdleSeconds, 0);
  server.set_write_timeout(5, 0);
}

}  // namespace firstwall::live

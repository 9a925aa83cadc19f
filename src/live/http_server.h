// How every HTTP server of the live twin (the emulator's /metrics and Redfish, ingest's
// remote-write listener) is set up.
//
// Its socket: only SO_REUSEADDR. httplib's default adds SO_REUSEPORT, with which a second
// listener on a port in use starts without an error and takes a share of the connections (two
// `firstwall emulate` on one port both said "serving"). TCP_NODELAY because headers and body go
// out in two writes: without it the second waits for the client's delayed ACK (about 40 ms a
// request).
//
// Against peers that connect and then say nothing: cpp-httplib
// serves each connection on a thread of a fixed pool until it closes or its read times out, so
// idle connections could otherwise hold every thread (a breaker's 60 idle sockets kept a valid
// POST unanswered for over 10 s). A wider pool and short idle timeouts bound that: up to kThreads
// idle connections cost nothing, and each further wave waits at most kIdleSeconds.
#pragma once

#include <httplib.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <string>

#include "live/listen_address.h"

namespace firstwall::live {

inline constexpr size_t kHttpThreads = 64;
inline constexpr time_t kHttpIdleSeconds = 2;

inline void SetUpHttpServer(httplib::Server& server) {
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  });
  server.new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  server.set_keep_alive_timeout(kHttpIdleSeconds);
  server.set_read_timeout(kHttpIdleSeconds, 0);
  server.set_write_timeout(5, 0);
}

// Binds `server` to host:port (port 0: any free port) and returns the port; InputError at `option`
// naming `what` when it cannot (listen_address.h's words).
inline int BindHttpServer(httplib::Server& server, const std::string& host, int port,
                          const std::string& option, const std::string& what) {
  const int bound =
      port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound < 0) ThrowCannotListen(option, what, host, port);
  return bound;
}

}  // namespace firstwall::live

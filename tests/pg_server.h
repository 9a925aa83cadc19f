// A private PostgreSQL 15 server for tests (Debian postgresql; .ci/run installs it): data, log and
// unix socket in a directory of the test's, TCP on a free loopback port, run as the `postgres`
// user when the tests run as root. Used by tests/live_postgres_test.cc and
// src/ops/ops_postgres_test.cc.
#pragma once

#include <unistd.h>

#include <string>

#include "tests/live_support.h"

namespace firstwall::testing_cli {

inline constexpr const char* kPgBin = "/usr/lib/postgresql/15/bin";

// A private PostgreSQL server: data, log and unix socket under `dir`, TCP on 127.0.0.1:port, the
// role `fw` trusted (nothing else can reach a loopback port of a test machine's own server).
class PgServer {
 public:
  explicit PgServer(const fs::path& dir) : dir_(dir) {
    fs::create_directories(dir_);
    if (geteuid() == 0) {
      // initdb and postgres refuse to run as root: the package's user runs them and owns the
      // directory.
      if (Shell("id -u postgres").status != 0) {
        error_ = "running as root and there is no user postgres to run the server as";
        return;
      }
      as_ = "runuser -u postgres -- ";
      Shell("chown -R postgres '" + dir_.string() + "'");
    }
    port_ = FreePort();
    const Result r = Shell(as_ + kPgBin + "/initdb -D '" + (dir_ / "data").string() +
                           "' -U fw --auth=trust -E UTF8 --no-sync");
    if (r.status != 0) {
      error_ = "initdb failed:\n" + r.out;
      return;
    }
    if (!Start()) error_ = "the server did not start:\n" + Slurp(dir_ / "server.log");
  }
  ~PgServer() {
    if (port_ > 0) Stop("fast");
  }
  bool Start() {
    return Shell(as_ + kPgBin + "/pg_ctl -D '" + (dir_ / "data").string() + "' -l '" +
                 (dir_ / "server.log").string() + "' -w -t 120 -o '-p " + std::to_string(port_) +
                 " -k " + dir_.string() + " -c listen_addresses=127.0.0.1' start")
               .status == 0;
  }
  // mode: "immediate" ends every server process at once, as a crash would.
  bool Stop(const std::string& mode) {
    return Shell(as_ + kPgBin + "/pg_ctl -D '" + (dir_ / "data").string() + "' -m " + mode +
                 " -w stop")
               .status == 0;
  }
  const std::string& error() const { return error_; }
  std::string Url() const {
    return "postgresql://fw@127.0.0.1:" + std::to_string(port_) + "/postgres";
  }

 private:
  fs::path dir_;
  std::string as_, error_;
  int port_ = 0;
};

}  // namespace firstwall::testing_cli

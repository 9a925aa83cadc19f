// firstwall serve --store STORE [--scenario SCENARIO] [--listen HOST:PORT]
// The live twin's dashboard (docs/dashboard.md): the page, its JSON API (docs/openapi.yaml) and
// /metrics, on loopback unless told otherwise. Runs until SIGINT or SIGTERM.
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "apps/firstwall/commands.h"
#include "apps/firstwall/scenario_arg.h"
#include "live/listen_address.h"
#include "live/store.h"
#include "serve/client_address.h"
#include "serve/dashboard.h"
#include "serve/origins.h"

namespace firstwall::cli {
namespace {

struct ServeOptions {
  std::string store, scenario, listen = "127.0.0.1:8080";
  std::vector<std::string> allow_origins, trusted_proxies;
  std::string proxy_header = "x-forwarded-for";
};

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// How long a stop waits for the requests under way (a slow client's) before it ends without them.
constexpr int kDrainS = 10;

int Serve(const ServeOptions& o) {
  const live::ListenAddress at = live::ParseListenAddress(o.listen, "--listen", "127.0.0.1:8080");
  serve::DashboardConfig config;
  config.store = o.store;
  config.scenario = o.scenario;
  config.allowed_origins = o.allow_origins;
  for (const std::string& p : o.trusted_proxies) {
    config.trusted_proxies.push_back(serve::TrustedProxy(p, "--trusted-proxy"));
  }
  config.proxy_header = serve::ParseProxyHeader(o.proxy_header, "--proxy-header");
  config.now_ms = WallMs;
  // SIGINT and SIGTERM are waited for by one thread, which stops the server: a clean end, the
  // store closed and the forecast's child processes reaped. They are blocked before any other
  // thread starts (the dashboard's forecast worker starts with it), as threads inherit the mask,
  // and so are the forecast's children (ops::ForecastTwin): a Ctrl-C to the terminal's process
  // group reaches only the waiter. A second signal while the server ends ends it at once (exit
  // 128 + the signal), as a second Ctrl-C is meant. A SIGINT the parent ignores (a background
  // job of a non-interactive shell) stays ignored.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  struct sigaction inherited {};
  if (sigaction(SIGINT, nullptr, &inherited) != 0 || inherited.sa_handler != SIG_IGN) {
    sigaddset(&stop_signals, SIGINT);
  }
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  auto dashboard = std::make_unique<serve::Dashboard>(config);
  const int port = dashboard->Bind(at.host, at.port, "--listen");
  std::mutex serving;   // held while the waiter stops the server, so it outlives the call
  bool served = false;  // Serve returned (guarded by `serving`)
  std::atomic<bool> ended = false;  // the server was torn down: the waiter's wake-up is ours
  std::thread waiter([&] {
    int got = 0;
    sigwait(&stop_signals, &got);
    if (ended) return;
    // Stop until Serve returns (httplib's stop does nothing before it listens, and Serve waits
    // for the requests under way), listening for a second signal meanwhile. A connection that
    // never finishes its request would hold the server forever: past kDrainS it is not waited for.
    const auto drain_until = std::chrono::steady_clock::now() + std::chrono::seconds(kDrainS);
    while (true) {
      {
        std::lock_guard lock(serving);
        if (!served) dashboard->Stop();
      }
      const timespec tick{0, 50'000'000};
      const int again = sigtimedwait(&stop_signals, nullptr, &tick);
      if (ended) return;
      if (again > 0) {
        std::cerr << "firstwall serve: a second signal: ending now, without waiting for a clean "
                     "stop"
                  << std::endl;
        std::_Exit(128 + again);
      }
      if (std::chrono::steady_clock::now() > drain_until) {
        std::cerr << "firstwall serve: requests still open " << kDrainS
                  << " s after the signal: ending now without them" << std::endl;
        std::_Exit(128 + got);
      }
    }
  });
  if (config.proxy_header == serve::ProxyHeader::kForwarded && config.trusted_proxies.empty()) {
    std::cerr << "firstwall serve: warning: --proxy-header forwarded without --trusted-proxy: no "
                 "peer's header is believed, every peer is counted as the client"
              << std::endl;
  }
  if (!serve::OriginPolicy::IsLoopbackName(at.host)) {
    std::cerr << "firstwall serve: warning: " << at.host
              << " is not loopback: anyone who reaches it may try passwords (use TLS in front)"
              << std::endl;
  }
  // 0.0.0.0 and :: are every address of the machine, not one to browse to.
  const bool any = at.host == "0.0.0.0" || at.host == "::";
  std::cout << "firstwall serve: http://" << live::HostPort(any ? "127.0.0.1" : at.host, port)
            << "/" << (any ? " and every other address of this machine" : "") << " (store "
            << live::RedactUrl(o.store) << ", scenario "
            << (o.scenario.empty() ? "none" : o.scenario) << ")" << std::endl;
  // Served until Stop: from the waiter (a signal), or the server failing.
  dashboard->Serve();
  {
    std::lock_guard lock(serving);
    served = true;
  }
  dashboard.reset();  // the forecast worker, its children and the store, while signals are waited
  ended = true;
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  return kOk;
}

}  // namespace

Action RegisterServe(CLI::App& app) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "Serve the live twin's dashboard: telemetry, data quality, the plans queue with approve and "
      "reject, the audit log, a JSON API and Prometheus /metrics, for the store's users "
      "(docs/dashboard.md).");
  cmd->add_option("--store", o->store, "Live store (an SQLite file or a postgresql:// URL)")
      ->required();
  cmd->add_option("--scenario", o->scenario,
                  "The site's scenario: the telemetry against the twin and the anomalies")
      ->check(NonEmptyScenarioPath());
  cmd->add_option("--listen", o->listen, "HOST:PORT to serve on (port 0: any free port, printed)")
      ->capture_default_str();
  cmd->add_option("--allow-origin", o->allow_origins,
                  "An origin besides the page's own that may use it, as a reverse proxy's "
                  "https://dashboard.example.com (repeatable)");
  cmd->add_option("--trusted-proxy", o->trusted_proxies,
                  "A reverse proxy's address (as this server sees it): its X-Forwarded-For names "
                  "the client whose failed log-ins are counted (repeatable)");
  cmd->add_option("--proxy-header", o->proxy_header,
                  "The header a trusted proxy names the client in: x-forwarded-for or forwarded "
                  "(RFC 7239); only that one is read")
      ->capture_default_str();
  return [o] { return Serve(*o); };
}

}  // namespace firstwall::cli

// `firstwall serve`: the live twin's dashboard (docs/dashboard.md) over HTTP, for people and for
// Prometheus. One page (dashboard.html, with uPlot, compiled in: nothing is fetched from
// elsewhere) over a JSON API under /api (docs/openapi.yaml):
//  - POST /api/session {user, password}: log in (ops::Operations::Login, audited when it fails);
//    sets the session cookie and answers {user, role, csrf}; 429 with Retry-After after too many
//    failures (login_throttle.h). GET /api/session: the same for the
//    cookie's session ({user: null} without one); DELETE /api/session: log out.
//  - GET /api/plans, /api/audit, /api/quality, /api/telemetry: any logged-in user (a viewer and
//  up).
//  - POST /api/plans/{id}/approve and /api/plans/{id}/reject {reason}: the Operations rules
//    decide (an approver, not the proposer; two for a risky class); a refusal is 403 and audited.
//  - GET /api/latest?entity=&quantity=: each id's newest reading as columns (the heat maps').
//  - GET /api/twin, /api/forecast, /api/anomalies (with a scenario): the telemetry against the
//    twin (twin_view.h), the next 24 h (forecast_view.h), the detector's findings.
//  - GET /metrics: Prometheus text of the plans by state, the audit chain, the sessions, the
//    store's quality scores and, with a scenario, the twin's predictions and the walls now
//    (metrics.h), without a log-in (it shows no plan, user or sample).
//  - GET /api/openapi.yaml: the API's description.
// Security: the session cookie is HttpOnly and SameSite=Strict; every request that changes
// something must carry the session's CSRF token in X-CSRF-Token and a JSON body
// (application/json, which no cross-site form can send) of a stated Content-Length; the Host and
// Origin headers are checked (origins.h) before anything else. Status codes: 400 a bad body or
// parameter, 401 no (or an expired) session or a wrong password, 403 a refusal, 404 no such plan or
// path, 405 a path asked with a method it does not answer (with Allow).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "serve/client_address.h"

namespace firstwall::serve {

struct DashboardConfig {
  std::string store;  // an SQLite file or a postgresql:// URL that exists (live::OpenExistingStore)
  // The site's scenario, or "": with one, GET /api/twin (the telemetry against the twin,
  // twin_view.h) and GET /api/anomalies (ops/anomaly.h's detector, recomputed at most once a
  // minute) answer; without, they answer an empty list and a note saying why.
  std::string scenario;
  // Origins (scheme://host[:port]) besides the page's own that may use the server: a reverse
  // proxy's public URL (origins.h).
  std::vector<std::string> allowed_origins;
  // Reverse proxies whose header (proxy_header) names the client the log-in throttle counts
  // (client_address.h), as TrustedProxy normalizes them; empty: every peer is the client.
  std::vector<std::string> trusted_proxies;
  // Which header of a trusted proxy names the client: X-Forwarded-For or RFC 7239's Forwarded.
  ProxyHeader proxy_header = ProxyHeader::kXForwardedFor;
  std::function<int64_t()> now_ms;        // the time of every action, ms since the Unix epoch
  int64_t session_idle_ms = 30 * 60'000;  // a session unused this long must log in again
};

class Dashboard {
 public:
  // Opens the store and its operations; InputError when the store is absent or unreadable.
  explicit Dashboard(DashboardConfig config);
  ~Dashboard();
  // Binds HOST:PORT (port 0: any free port) and returns the port; InputError at `option` when it
  // cannot.
  int Bind(const std::string& host, int port, const std::string& option);
  // Serves until Stop (from another thread or a signal handler's thread).
  void Serve();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace firstwall::serve

#include "serve/dashboard.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <string_view>

#include <fmt/format.h>
#include <sodium.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "live/http_server.h"
#include "live/listen_address.h"
#include "live/quality.h"
#include "live/store.h"
#include "live/vocabulary.h"
#include "ops/anomaly_watch.h"
#include "ops/audit.h"
#include "ops/mcp_tools.h"
#include "ops/ops.h"
#include "ops/store_queries.h"
#include "serve/client_address.h"
#include "serve/forecast_view.h"
#include "serve/login_throttle.h"
#include "serve/metrics.h"
#include "serve/origins.h"
#include "serve/sessions.h"
#include "serve/twin_view.h"

namespace firstwall::serve {
namespace assets {
std::string_view Asset(std::string_view name);  // generated: embedded_assets.cc
}  // namespace assets

using nlohmann::json;

namespace {

constexpr const char* kCookie = "fw_session";
constexpr const char* kJson = "application/json";
constexpr size_t kMaxBodyBytes = 64 * 1024;
constexpr int64_t kMaxAuditEntries = 10000;

void Send(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), kJson);
}

void Fail(httplib::Response& res, int status, const std::string& why) {
  Send(res, status, {{"error", why}});
}

// A refusal's or bad input's words, without the CLI's option name (the API has none).
std::string Words(const InputError& e) {
  return e.hint().empty() ? e.message() : e.message() + " (" + e.hint() + ")";
}

// The media type, before any parameter, is application/json (in any case).
bool IsJsonBody(const httplib::Request& req) {
  std::string type = req.get_header_value("Content-Type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type == kJson;
}

// Whether `text` is UTF-8 (nlohmann's writer refuses anything else, and the answers and cache
// keys are JSON).
bool IsUtf8(const std::string& text) {
  try {
    (void)json(text).dump();
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

// The JSON object of a POST's body; nullopt (and the answer written) when it is not one.
std::optional<json> BodyObject(const httplib::Request& req, httplib::Response& res) {
  json body = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
  if (!body.is_object()) {
    Fail(res, 400, "the body must be a JSON object");
    return std::nullopt;
  }
  return body;
}

// The string at `key` of a JSON object; nullopt when absent or not a string (operator[] of a
// const json with an absent key is undefined behaviour: an assertion in a debug build).
std::optional<std::string> StringAt(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// A query parameter as a number within [lo, hi]; `fallback` when absent. Throws InputError.
// The latest time a query may name, ms since the Unix epoch: MCP's read_telemetry's bound.
constexpr double kMaxEpochMs = 1e15;

double NumberParam(const httplib::Request& req, const char* name, double fallback, double lo,
                   double hi, bool whole = false) {
  if (!req.has_param(name)) return fallback;
  const std::string text = req.get_param_value(name);
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v) || v < lo ||
      v > hi || (whole && v != std::floor(v))) {
    throw InputError({name, 0, 0}, fmt::format("{}={} is not a {} from {:g} to {:g}", name, text,
                                               whole ? "whole number" : "number", lo, hi));
  }
  return v;
}

json SessionJson(const Session& s) {
  return {{"user", s.user.name}, {"role", ops::RoleName(s.user.role)}, {"csrf", s.csrf}};
}

json PlanRow(const ops::Plan& p) {
  json row = ops::PlanSummary(p);
  const ops::PlanClass* c = ops::FindPlanClass(p.request.plan_class);
  row["approvals_needed"] = c && c->risky ? 2 : 1;
  return row;
}

// An entry as stored; a detail that is not JSON (a row changed by hand) is given as its text.
json AuditJson(const ops::AuditEntry& e) {
  json detail = json::parse(e.detail, nullptr, false);
  if (detail.is_discarded()) detail = e.detail;
  return {{"seq", e.seq},         {"t_ms", e.t_ms},   {"actor", e.actor}, {"action", e.action},
          {"subject", e.subject}, {"detail", detail}, {"hash", e.hash}};
}

// GET /api/latest: each id's newest reading of an entity kind's quantity, as columns (10,000 GPUs'
// are 0.3 MB this way, 2 MB as /api/telemetry's rows), one series per id as a heat map draws one
// cell an id.
json LatestJson(live::Store& store, const std::string& entity, const std::string& quantity) {
  const std::vector<live::Store::SeriesNewest> all = store.NewestOf(entity, quantity);
  json ids = json::array(), t = json::array(), values = json::array();
  const live::QuantityKind* kind = live::FindQuantity(quantity);
  std::string unit = kind ? std::string(kind->base_unit) : "";
  // Of an id's series (one per source, sorted by source), the one with the newest sample: a
  // source that stopped reporting does not hide one that still does.
  for (size_t i = 0; i < all.size(); ++i) {
    const std::string& id = all[i].series.key.entity_id;
    size_t pick = i;
    for (; i + 1 < all.size() && all[i + 1].series.key.entity_id == id; ++i) {
      const auto& next = all[i + 1].newest;
      const auto& best = all[pick].newest;
      if (next && (!best || next->t_ms > best->t_ms)) pick = i + 1;
    }
    const live::Store::SeriesNewest& s = all[pick];
    if (unit.empty()) unit = s.series.key.unit;
    ids.push_back(s.series.key.entity_id);
    t.push_back(s.newest ? json(s.newest->t_ms) : json());
    values.push_back(s.newest && std::isfinite(s.newest->value) ? json(s.newest->value) : json());
  }
  return {{"entity", entity},
          {"quantity", quantity},
          {"unit", unit},
          {"series_total", all.size()},
          {"ids", std::move(ids)},
          {"t_ms", std::move(t)},
          {"values", std::move(values)},
          {"note", all.empty() ? "no series of this entity and quantity in the store"
                               : "each id's newest sample: t_ms (ms since the Unix epoch, null "
                                 "where the series has none) and its value in unit (null where "
                                 "none or not finite); one series per id: of several sources, "
                                 "the one with the newest sample"}};
}

// Base64 of the SHA-256 of `text`: a Content-Security-Policy source for one inline script.
std::string CspHash(std::string_view text) {
  FW_CHECK(sodium_init() >= 0, "libsodium could not start");
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  char b64[sodium_base64_ENCODED_LEN(sizeof digest, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(b64, sizeof b64, digest, sizeof digest, sodium_base64_VARIANT_ORIGINAL);
  return fmt::format("'sha256-{}'", b64);
}

void Replace(std::string& page, std::string_view marker, std::string_view with) {
  const size_t at = page.find(marker);
  FW_CHECK(at != std::string::npos, "the dashboard page lacks a marker");
  page.replace(at, marker.size(), with);
}

}  // namespace

struct Dashboard::Impl {
  explicit Impl(const DashboardConfig& c)
      : config(c),
        policy("127.0.0.1", c.allowed_origins),
        sessions(c.session_idle_ms, c.now_ms),
        throttle(c.now_ms) {
    if (!c.scenario.empty()) {
      twin.what_if = std::make_unique<ops::WhatIf>(c.scenario);
      site = twin.what_if->Site();
    }
    twin.store = live::OpenExistingStore(c.store);
    twin.operations = std::make_unique<ops::Operations>(ops::OpenSqlDb(c.store), c.now_ms);
    twin.now_ms = c.now_ms;
    twin.no_agent_why = "the dashboard proposes nothing";
    store = twin.store.get();
    operations = twin.operations.get();
    if (twin.what_if) {
      anomaly_watch = std::make_unique<ops::AnomalyWatch>(site, kAnomalyCalibrateS);
      forecaster = std::make_unique<ForecastWorker>(site);
      // Started now, so that a small site's first page already has it.
      if (const std::optional<ForecastClock> clock = clock_reader.Read(*store)) {
        forecaster->Ask(*clock);
      }
    }
  }

  DashboardConfig config;
  OriginPolicy policy;  // of the address bound (Bind); until then, of loopback
  ops::McpTwin twin;    // the store, its operations and the scenario, as MCP's tools hold them
  site::SiteConfig site;
  live::Store* store = nullptr;
  ops::Operations* operations = nullptr;
  Sessions sessions;
  LoginThrottle throttle;
  // The costly answers, computed at most once per their period and shared by every session,
  // keyed by what they were computed from (the checked arguments): telemetry's 5 s, the twin's
  // 15 s, the anomalies' 60 s, the quality scores' (Quality()). Expired ones are dropped as others
  // come in, and at most kMaxCached are kept (beyond, an answer is computed and not kept).
  struct Cached {
    std::shared_ptr<const json> value;
    // The answer as sent, written once: 10,000 GPUs' rows cost more to write than to copy.
    std::shared_ptr<const std::string> body;
    int64_t at_ms = 0, every_ms = 0;
  };
  std::map<std::string, Cached> cache;
  static constexpr size_t kMaxCached = 64;
  static constexpr int64_t kTelemetryEveryMs = 5'000, kTwinEveryMs = 15'000,
                           kQualityOfWindowsEveryMs = 300'000, kQualityOfSamplesEveryMs = 60'000,
                           kAnomaliesEveryMs = 60'000;
  // Whether an answer computed at `at_ms` is past its period at `now` (a clock stepped back
  // counts as past too).
  static bool Expired(int64_t at_ms, int64_t every_ms, int64_t now) {
    return now - at_ms >= every_ms || now < at_ms;
  }
  Cached FreshEntry(const std::string& key, int64_t every_ms,
                    const std::function<json()>& compute) {
    const int64_t now = config.now_ms();
    const auto expired = [&](const Cached& c) { return Expired(c.at_ms, c.every_ms, now); };
    if (auto it = cache.find(key); it != cache.end() && !expired(it->second)) return it->second;
    json value = compute();
    value["computed_ms"] = now;
    Cached c{nullptr,
             std::make_shared<const std::string>(
                 value.dump(-1, ' ', false, json::error_handler_t::replace)),
             now, every_ms};
    c.value = std::make_shared<const json>(std::move(value));
    std::erase_if(cache, [&](const auto& kv) { return expired(kv.second); });
    if (cache.size() < kMaxCached) cache[key] = c;
    return c;
  }
  std::shared_ptr<const json> Fresh(const std::string& key, int64_t every_ms,
                                    const std::function<json()>& compute) {
    return FreshEntry(key, every_ms, compute).value;
  }
  // Answers 200 with Fresh's answer as it was written when computed.
  void SendFresh(httplib::Response& res, const std::string& key, int64_t every_ms,
                 const std::function<json()>& compute) {
    const Cached c = FreshEntry(key, every_ms, compute);
    res.status = 200;
    res.set_header("Cache-Control", "no-store");
    res.set_content(*c.body, kJson);
  }
  // The twin against the meters over the last `last_s` (twin_view.h), at most every
  // kTwinEveryMs per request shape; /metrics reads the default one (the last hour).
  static constexpr double kTwinLastS = 3600;
  static constexpr double kTwinMaxPoints = 1000;
  std::shared_ptr<const json> TwinOfLast(double last_s, size_t max_points) {
    return Fresh(fmt::format("twin {} {}", last_s, max_points), kTwinEveryMs, [&]() -> json {
      try {
        return TwinView(*store, site, last_s, max_points);
      } catch (const InputError& e) {
        return {{"signals", json::array()},
                {"note", "the twin could not run on this store: " + Words(e)}};
      }
    });
  }
  // The store's quality scores, shared by /api/quality and /metrics: from the windows ingest
  // scored over the last hour when the store has them, kept 5 min (ingest stores its windows per
  // 15 min bucket: a minute's recomputation found the same rows, at a quarter of the 10,000-GPU
  // dashboard's CPU); else from every sample, kept a minute; none scored (a store ingest has not
  // filled yet) is not kept.
  struct QualityNow {
    live::QualityReport report;
    std::string scored_from;
    int64_t at_ms = 0, every_ms = 0;
  };
  std::shared_ptr<const QualityNow> quality;
  std::shared_ptr<const QualityNow> Quality() {
    const int64_t now = config.now_ms();
    if (!quality || Expired(quality->at_ms, quality->every_ms, now)) {
      auto q = std::make_shared<QualityNow>();
      const std::vector<live::QualityWindowRecord> w = store->QualityWindows(now - 3'600'000, now);
      q->report = w.empty() ? live::AssessQuality(live::StreamsOf(*store))
                            : live::MergeWindows(w, store->Series());
      q->scored_from = w.empty() ? "every sample in the store"
                                 : "the quality windows ingest scored in the last hour";
      q->at_ms = now;
      q->every_ms = q->report.entities.empty() ? 0
                    : w.empty()                ? kQualityOfSamplesEveryMs
                                               : kQualityOfWindowsEveryMs;
      quality = std::move(q);
    }
    return quality;
  }
  // The detector over the store's new steps only (ops/anomaly_watch.h), with --scenario; its
  // thresholds learned on the store's first hour, as `firstwall anomalies` by default.
  static constexpr double kAnomalyCalibrateS = 3600;
  std::unique_ptr<ops::AnomalyWatch> anomaly_watch;
  // The forecast's clock on the store, and the thread that runs the twin forward (forecast_view.h).
  ForecastClockReader clock_reader;
  std::unique_ptr<ForecastWorker> forecaster;
  std::mutex db;  // the store and its operations: one request at a time
  httplib::Server http;
  std::string host;
  std::string page, csp;

  using Handler = std::function<void(const httplib::Request&, httplib::Response&, const Session&)>;
  // A handler for a logged-in user; `changes`: it must carry the session's CSRF token (and a JSON
  // body when it is a POST).
  httplib::Server::Handler Guarded(bool changes, Handler handler) {
    return [this, changes, handler](const httplib::Request& req, httplib::Response& res) {
      const std::optional<Session> s =
          sessions.Find(CookieValue(req.get_header_value("Cookie"), kCookie));
      if (!s) return Fail(res, 401, "log in first (POST /api/session)");
      for (const auto& [name, value] : req.params) {
        if (!IsUtf8(name) || !IsUtf8(value)) {
          return Fail(res, 400, "a query parameter is not UTF-8 text");
        }
      }
      if (changes && !SameSecret(req.get_header_value("X-CSRF-Token"), s->csrf)) {
        return Fail(res, 403, "missing or wrong X-CSRF-Token: send the csrf /api/session gave");
      }
      if (changes && req.method == "POST" && !IsJsonBody(req)) {
        return Fail(res, 415, "the body must be application/json");
      }
      Locked(res, [&] { handler(req, res, *s); });
    };
  }

  // Runs `act` holding the store. A failure of the store (a lost PostgreSQL connection) is
  // answered 503 without its text (it may hold SQL and the URL), logged on standard error, and
  // the store and its operations are opened again for the next request.
  void Locked(httplib::Response& res, const std::function<void()>& act) {
    std::lock_guard lock(db);
    try {
      if (reopen) {
        twin.store = live::OpenExistingStore(config.store);
        twin.operations =
            std::make_unique<ops::Operations>(ops::OpenSqlDb(config.store), config.now_ms);
        store = twin.store.get();
        operations = twin.operations.get();
        cache.clear();
        quality.reset();
        clock_reader = {};
        reopen = false;
      }
      act();
    } catch (const ops::Refused& e) {
      Fail(res, 403, Words(e));
    } catch (const InputError& e) {
      if (!reopen) return Fail(res, 400, Words(e));
      std::cerr << "firstwall serve: the store could not be opened again: " << e.what()
                << std::endl;
      Fail(res, 503,
           "the store is unavailable (the server's log says why); tried again on the next "
           "request");
    } catch (const std::exception& e) {
      std::cerr << "firstwall serve: the store failed: " << e.what() << std::endl;
      reopen = true;
      Fail(res, 503,
           "the store failed (the server's log says why); it is opened again on the next "
           "request");
    }
  }
  bool reopen = false;

  // The plan of the path's id, or nullopt with 404 written.
  std::optional<ops::Plan> PlanOf(const httplib::Request& req, httplib::Response& res) {
    int64_t id = 0;
    const std::string text = req.matches[1];
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec == std::errc() && end == text.data() + text.size()) {
      for (const ops::Plan& p : operations->Plans()) {
        if (p.id == id) return p;
      }
    }
    Fail(res, 404, fmt::format("no plan {}", text));
    return std::nullopt;
  }

  // Each route's path pattern (httplib's regex) and the methods it answers, so that a known path
  // asked with another method gets 405 with Allow (RFC 9110, section 15.5.6), not 404.
  struct Route {
    std::string pattern;
    std::regex re;
    std::string methods;  // "GET, HEAD", ...
  };
  std::vector<Route> routes;
  void Allow(const std::string& pattern, const char* method) {
    for (Route& r : routes) {
      if (r.pattern == pattern) {
        r.methods += std::string(", ") + method;
        return;
      }
    }
    routes.push_back({pattern, std::regex(pattern), method});
  }
  // Whether `methods` ("GET, HEAD") names `method`.
  static bool Answers(const std::string& methods, const std::string& method) {
    size_t at = 0;
    while (at <= methods.size()) {
      const size_t comma = std::min(methods.find(", ", at), methods.size());
      if (methods.compare(at, comma - at, method) == 0) return true;
      at = comma + 2;
    }
    return false;
  }
  // The methods `path` answers, "" when it is no route's.
  std::string AllowedOn(const std::string& path) const {
    for (const Route& r : routes) {
      if (std::regex_match(path, r.re)) return r.methods;
    }
    return "";
  }
  template <class H>
  void Get(const std::string& pattern, H handler) {
    Allow(pattern, "GET, HEAD");  // httplib answers HEAD from the GET route
    http.Get(pattern, std::move(handler));
  }
  template <class H>
  void Post(const std::string& pattern, H handler) {
    Allow(pattern, "POST");
    http.Post(pattern, std::move(handler));
  }
  template <class H>
  void Delete(const std::string& pattern, H handler) {
    Allow(pattern, "DELETE");
    http.Delete(pattern, std::move(handler));
  }

  void Routes();
};

void Dashboard::Impl::Routes() {
  Get("/", [this](const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Security-Policy", csp);
    res.set_header("Cache-Control", "no-store");
    res.set_content(page, "text/html; charset=utf-8");
  });
  Get("/api/openapi.yaml", [](const httplib::Request&, httplib::Response& res) {
    const std::string_view spec = assets::Asset("openapi");
    res.set_content(spec.data(), spec.size(), "application/yaml");
  });
  Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    Locked(res, [&] {
      // The twin's view of the last hour, shared with GET /api/twin's default request.
      std::shared_ptr<const json> view;
      if (twin.what_if) view = TwinOfLast(kTwinLastS, kTwinMaxPoints);
      res.set_content(MetricsText(Quality()->report, *operations, sessions.Count(), view.get()),
                      "text/plain; version=0.0.4; charset=utf-8");
    });
  });

  Post("/api/session", [this](const httplib::Request& req, httplib::Response& res) {
    if (!IsJsonBody(req)) return Fail(res, 415, "the body must be application/json");
    const std::optional<json> body = BodyObject(req, res);
    if (!body) return;
    const std::optional<std::string> name = StringAt(*body, "user");
    const std::optional<std::string> password = StringAt(*body, "password");
    if (!name || !password) {
      return Fail(res, 400, "give user and password, as strings");
    }
    // Guessing is slowed down before the password is looked at (login_throttle.h); a name no
    // user can have is counted for its address alone.
    const std::string counted = ops::IsUserName(*name) ? *name : "";
    // Every line of the header, in order, as one list (RFC 9110, section 5.3).
    std::string forwarded;
    const auto [first, last] = req.headers.equal_range(ProxyHeaderName(config.proxy_header));
    for (auto it = first; it != last; ++it)
      forwarded += (forwarded.empty() ? "" : ", ") + it->second;
    const std::string client =
        ClientAddress(req.remote_addr, forwarded, config.trusted_proxies, config.proxy_header);
    const LoginThrottle::Attempt attempt = throttle.Begin(counted, client);
    if (attempt.wait_ms) {
      const int64_t seconds = (*attempt.wait_ms + 999) / 1000;
      res.set_header("Retry-After", std::to_string(seconds));
      return Fail(res, 429,
                  fmt::format("too many failed log-ins {} from this address: try again in {} s",
                              attempt.by_address || counted.empty() ? "for any user"
                                                                    : "for '" + counted + "'",
                              seconds));
    }
    bool decided = false;  // a password checked, right or wrong
    Locked(res, [&] {
      // A log-in is refused alike for every user and password while the audit log does not
      // verify (Operations would say so only after a right password).
      const ops::AuditVerdict chain = ops::VerifyAudit(ops::ReadAudit(operations->db()));
      if (!chain.ok) {
        return Fail(res, 503,
                    fmt::format("the audit log does not verify (entry {}): no one can act until an "
                                "admin looks (firstwall ops audit verify)",
                                chain.first_bad));
      }
      ops::User user;
      try {
        user = operations->Login(*name, *password);
      } catch (const ops::Refused& e) {
        decided = true;
        return Fail(res, 401, e.message());
      }
      decided = true;
      throttle.Succeeded(counted, client, attempt.at_ms);
      const Session s = sessions.Open(user);
      res.set_header("Set-Cookie",
                     fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict", kCookie, s.token));
      Send(res, 200, SessionJson(s));
    });
    if (!decided) throttle.Cancel(counted, client, attempt.at_ms);
  });
  // Answered 200 either way: the page asks it on every load, and a browser logs a 401 as an error.
  Get("/api/session", [this](const httplib::Request& req, httplib::Response& res) {
    const std::optional<Session> s =
        sessions.Find(CookieValue(req.get_header_value("Cookie"), kCookie));
    Send(res, 200, s ? SessionJson(*s) : json{{"user", nullptr}});
  });
  Delete("/api/session",
         Guarded(true, [this](const httplib::Request&, httplib::Response& res, const Session& s) {
           sessions.Close(s.token);
           res.set_header(
               "Set-Cookie",
               fmt::format("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0", kCookie));
           Send(res, 200, {{"user", s.user.name}, {"logged_out", true}});
         }));

  Get("/api/plans",
      Guarded(false, [this](const httplib::Request&, httplib::Response& res, const Session&) {
        json plans = json::array();
        for (const ops::Plan& p : operations->Plans()) plans.push_back(PlanRow(p));
        Send(res, 200, {{"plans", plans}});
      }));
  Post(R"(/api/plans/([^/]+)/approve)",
       Guarded(true, [this](const httplib::Request& req, httplib::Response& res, const Session& s) {
         const std::optional<ops::Plan> p = PlanOf(req, res);
         if (!p) return;
         operations->Approve(s.user, p->id);
         Send(res, 200, {{"plan", PlanRow(operations->Get(p->id))}});
       }));
  Post(R"(/api/plans/([^/]+)/reject)",
       Guarded(true, [this](const httplib::Request& req, httplib::Response& res, const Session& s) {
         const std::optional<json> body = BodyObject(req, res);
         if (!body) return;
         const std::optional<std::string> why = StringAt(*body, "reason");
         if (!why || why->find_first_not_of(" \t\r\n") == std::string::npos) {
           return Fail(res, 400, "give the reason for rejecting, as a string");
         }
         const std::optional<ops::Plan> p = PlanOf(req, res);
         if (!p) return;
         operations->Reject(s.user, p->id, *why);
         Send(res, 200, {{"plan", PlanRow(operations->Get(p->id))}});
       }));

  Get("/api/audit",
      Guarded(false, [this](const httplib::Request& req, httplib::Response& res, const Session&) {
        const auto last = static_cast<int64_t>(
            NumberParam(req, "last", 100, 1, static_cast<double>(kMaxAuditEntries), true));
        const std::vector<ops::AuditEntry> all = ops::ReadAudit(operations->db());
        const ops::AuditVerdict v = ops::VerifyAudit(all);
        json entries = json::array();
        const size_t from =
            all.size() > static_cast<size_t>(last) ? all.size() - static_cast<size_t>(last) : 0;
        for (size_t i = all.size(); i-- > from;) entries.push_back(AuditJson(all[i]));
        Send(res, 200,
             {{"chain",
               {{"ok", v.ok},
                {"entries", v.entries},
                {"first_bad", v.first_bad},
                {"problem", v.problem},
                {"head", v.head}}},
              {"entries", entries}});
      }));
  Get("/api/twin",
      Guarded(false, [this](const httplib::Request& req, httplib::Response& res, const Session&) {
        const double last_s = NumberParam(req, "last_s", kTwinLastS, 60, 3.2e7);
        const auto max_points =
            static_cast<size_t>(NumberParam(req, "max_points", kTwinMaxPoints, 10, 1e5, true));
        if (!twin.what_if) {
          return Send(res, 200,
                      {{"signals", json::array()},
                       {"loads", json::array()},
                       {"note",
                        "serve was started without --scenario: the twin has nothing to "
                        "predict with"}});
        }
        Send(res, 200, *TwinOfLast(last_s, max_points));
      }));
  Get("/api/forecast",
      Guarded(false, [this](const httplib::Request&, httplib::Response& res, const Session&) {
        // No forecast to show: an empty one, whether one is being computed, and why.
        const auto none = [&](bool computing, const char* why) {
          Send(res, 200, {{"t_ms", json::array()}, {"computing", computing}, {"note", why}});
        };
        if (!forecaster) {
          return none(false,
                      "serve was started without --scenario: the twin has nothing to "
                      "forecast with");
        }
        const std::optional<ForecastClock> clock = clock_reader.Read(*store);
        if (!clock) {
          return none(false,
                      "the store has no facility power: the forecast has no clock to start "
                      "from");
        }
        const ForecastWorker::Answer a = forecaster->Ask(*clock);
        if (!a.last) {
          return none(true,
                      "the first forecast is being computed (the twin runs forward three "
                      "times; a site of 10,000 GPUs takes about a minute)");
        }
        json out = *a.last;
        out["computing"] = a.computing;
        out["current"] = a.last_clock == clock && !out.value("failed", false);
        out["against_meter"] = AgainstMeter(*store, out);
        Send(res, 200, out);
      }));
  Get("/api/anomalies",
      Guarded(false, [this](const httplib::Request&, httplib::Response& res, const Session&) {
        SendFresh(res, "anomalies", kAnomaliesEveryMs, [&] {
          json found = anomaly_watch ? ops::WatchedAnomalies(*anomaly_watch, *store)
                                     : ops::ListAnomalies(twin, json::object());
          for (json& a : found["anomalies"]) {
            const live::QuantityKind* q = live::FindQuantity(a["quantity"].get<std::string>());
            a["residual_unit"] = q ? std::string(q->base_unit) : "";
          }
          return found;
        });
      }));
  Get("/api/quality",
      Guarded(false, [this](const httplib::Request& req, httplib::Response& res, const Session&) {
        json args = json::object();
        if (req.has_param("entity")) args["entity"] = req.get_param_value("entity");
        if (req.has_param("id")) args["id"] = req.get_param_value("id");
        const std::string streams_text =
            req.has_param("streams") ? req.get_param_value("streams") : "0";
        if (streams_text != "0" && streams_text != "1") {
          return Fail(res, 400, "streams=" + streams_text + ": give 0 or 1");
        }
        const auto worst = static_cast<size_t>(NumberParam(req, "worst", 0, 0, 1e9, true));
        // The answer is kept as long as the scores it is made of (10,000 GPUs' rows cost
        // more to write and sort than to send).
        const std::shared_ptr<const QualityNow> now = Quality();
        const std::string key =
            fmt::format("quality {} {} {} {}", now->at_ms, args.dump(), streams_text, worst);
        SendFresh(res, key, now->every_ms, [&] {
          json q = ops::QualityJson(now->report, args, streams_text == "1");
          json& e = q["entities"];
          q["entities_total"] = e.size();
          if (worst > 0) {
            std::stable_sort(e.begin(), e.end(), [](const json& a, const json& b) {
              return a["scores"]["overall"].get<double>() < b["scores"]["overall"].get<double>();
            });
            if (e.size() > worst) e.erase(e.begin() + static_cast<std::ptrdiff_t>(worst), e.end());
          }
          q["scored_from"] = now->scored_from;
          q["scored_ms"] = now->at_ms;
          return q;
        });
      }));
  Get("/api/latest",
      Guarded(false, [this](const httplib::Request& req, httplib::Response& res, const Session&) {
        if (!req.has_param("entity") || !req.has_param("quantity")) {
          return Fail(res, 400, "give entity and quantity (gpu and power, ...)");
        }
        const std::string entity = req.get_param_value("entity");
        const std::string quantity = req.get_param_value("quantity");
        SendFresh(res, fmt::format("latest {} {}", json(entity).dump(), json(quantity).dump()),
                  kTelemetryEveryMs, [&] { return LatestJson(*store, entity, quantity); });
      }));
  Get("/api/telemetry",
      Guarded(false, [this](const httplib::Request& req, httplib::Response& res, const Session&) {
        if (!req.has_param("entity")) return Fail(res, 400, "give entity (gpu, facility, ...)");
        json args = {{"entity", req.get_param_value("entity")}};
        for (const char* key : {"id", "quantity"}) {
          if (req.has_param(key)) args[key] = req.get_param_value(key);
        }
        args["max_points"] =
            static_cast<int64_t>(NumberParam(req, "max_points", 1000, 1, 1e5, true));
        if (req.has_param("last_s")) args["last_s"] = NumberParam(req, "last_s", 0, 1, 3.2e7);
        // A window in ms since the Unix epoch, as MCP's read_telemetry takes it (last_s wins).
        for (const char* key : {"from_ms", "to_ms"}) {
          if (req.has_param(key)) {
            args[key] = static_cast<int64_t>(NumberParam(req, key, 0, 0, kMaxEpochMs, true));
          }
        }
        SendFresh(res, "telemetry " + args.dump(), kTelemetryEveryMs,
                  [&] { return ops::ReadTelemetry(*store, args); });
      }));
}

Dashboard::Dashboard(DashboardConfig config) : impl_(std::make_unique<Impl>(config)) {
  Impl& d = *impl_;
  // One script: uPlot, then the page's own; the policy allows exactly it (by its hash).
  const std::string script =
      std::string(assets::Asset("uplot_js")) + "\n" + std::string(assets::Asset("dashboard_js"));
  FW_CHECK(script.find("</script") == std::string::npos, "a script holds </script");
  d.page = std::string(assets::Asset("dashboard_html"));
  Replace(d.page, "/*FW_UPLOT_CSS*/", assets::Asset("uplot_css"));
  std::string license(assets::Asset("uplot_license"));
  for (size_t at = license.find("--"); at != std::string::npos; at = license.find("--", at)) {
    license.replace(at, 2, "- -");  // "--" may not stand in an HTML comment
  }
  Replace(d.page, "FW_LICENSE", license);
  Replace(d.page, "/*FW_SCRIPT*/", script);
  d.csp = fmt::format(
      "default-src 'none'; script-src {}; style-src 'unsafe-inline'; connect-src 'self'; "
      "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      CspHash(script));
  live::SetUpHttpServer(d.http);
  d.http.set_payload_max_length(kMaxBodyBytes);
  Impl* impl = impl_.get();
  // Against cross-site requests and DNS rebinding: another site's Origin is refused outright.
  // Before a body is read: who may ask (origins.h), and only bodies of a stated length (a chunked
  // one would be read whole before the length limit applies).
  // Whether the request is refused before its body is read: then `res` is the answer, and the
  // connection is closed after it, or the body's bytes would be read as the next request on it.
  const auto refused = [impl](const httplib::Request& req, httplib::Response& res) {
    auto refuse = [&](int status, const std::string& why) {
      Fail(res, status, why);
      // httplib says close itself when the client asked to.
      if (req.get_header_value("Connection") != "close") res.set_header("Connection", "close");
      return true;
    };
    // HTTP/1.1 asks for exactly one Host (RFC 9112, section 3.2).
    if (req.get_header_value_count("Host") > 1 ||
        (req.version == "HTTP/1.1" && req.get_header_value("Host").empty())) {
      return refuse(400, "one Host header, please");
    }
    const std::string host = req.get_header_value("Host");
    if (const std::string why = impl->policy.HostRefusal(host); !why.empty()) {
      return refuse(403, why);
    }
    if (req.has_header("Origin") &&
        !impl->policy.OriginAllowed(req.get_header_value("Origin"), host)) {
      return refuse(403,
                    fmt::format("origin {} may not use this server (allow it with --allow-origin)",
                                req.get_header_value("Origin")));
    }
    // An unknown path, or a known one asked with a method it does not answer, before its body
    // is looked at (a PUT without Content-Length would otherwise get httplib's 400).
    const std::string methods = impl->AllowedOn(req.path);
    if (methods.empty()) {
      return refuse(404, fmt::format("no such path: {} {}", req.method, req.path));
    }
    if (!impl->Answers(methods, req.method)) {
      res.set_header("Allow", methods);
      return refuse(405, fmt::format("{} answers {}, not {}", req.path, methods, req.method));
    }
    if (req.has_header("Transfer-Encoding") ||
        (req.method == "POST" && !req.has_header("Content-Length"))) {
      return refuse(411, "a body needs a Content-Length (chunked bodies are refused)");
    }
    return false;
  };
  d.http.set_pre_routing_handler([refused](const httplib::Request& req, httplib::Response& res) {
    return refused(req, res) ? httplib::Server::HandlerResponse::Handled
                             : httplib::Server::HandlerResponse::Unhandled;
  });
  // A client that waits for 100 Continue before sending its body is not invited to send one
  // that would be refused: it gets the refusal instead (RFC 9110, section 10.1.1).
  d.http.set_expect_100_continue_handler(
      [refused](const httplib::Request& req, httplib::Response& res) {
        return refused(req, res) ? res.status : 100;
      });
  d.http.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("Referrer-Policy", "no-referrer");
  });
  d.http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    // Unknown paths and methods were answered (404, 405) before routing.
    if (res.status == 413) Fail(res, 413, fmt::format("a body over {} bytes", kMaxBodyBytes));
  });
  d.Routes();
}

Dashboard::~Dashboard() = default;

int Dashboard::Bind(const std::string& host, int port, const std::string& option) {
  impl_->host = host;
  impl_->policy = OriginPolicy(host, impl_->config.allowed_origins);
  return live::BindHttpServer(impl_->http, host, port, option, "the dashboard: ");
}

void Dashboard::Serve() { impl_->http.listen_after_bind(); }

void Dashboard::Stop() { impl_->http.stop(); }

}  // namespace firstwall::serve

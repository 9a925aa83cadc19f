// The dashboard's forecast (GET /api/forecast, docs/dashboard.md): the next 24 h of the site from
// the twin run forward (ops/forecast.h, with its weather interval), on the store's clock. A large
// site's forecast takes a while (three runs of the twin over a day: about a minute for 10,000
// GPUs serving requests), so a worker thread computes it when the origin moves and the server
// answers with the last one finished.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "live/store.h"
#include "site/site_config.h"

namespace firstwall::serve {

// The scenario's clock on the store: its time zero is the first sample of the store's facility
// power (as `firstwall forecast --db` takes it: the emulator starts the scenario when it starts
// serving); the origin is that series' newest sample, down to the hour of scenario time (the
// forecast's steps are 15 min).
struct ForecastClock {
  int64_t zero_ms = 0;  // ms since the Unix epoch
  double origin_s = 0;  // scenario time
  bool operator==(const ForecastClock&) const = default;
};

// Reads the clock (the facility series' first sample once, then its newest each time); nullopt
// when the store has no facility power. Not thread-safe: call it under the store's lock.
class ForecastClockReader {
 public:
  std::optional<ForecastClock> Read(live::Store& store);

 private:
  std::optional<int64_t> series_, zero_ms_;
};

// The forecast from `clock`: {origin_ms, step_s, horizon_s, t_ms: [step starts],
// facility_power_w: {value, lo, hi}, it_power_w: [...], pue: [...], outdoor_c: [...],
// grid_import_limit_w (null when unrated), peak: {facility_power_w, hi_w, at_ms,
// over_grid_limit}, weather, interval} in W, C and ms since the Unix epoch; or {t_ms: [], note}
// when the origin is past 366 d (the twin would replay all of it) or the twin cannot run.
//
// `ahead`, when given, keeps `config` with its services' serving simulations between calls: run
// kServeAheadS past the forecast's end and reused while they reach it (the serving simulation is
// causal, so the bins are the same: ops::RunForecast), so the request-level replay, nine tenths
// of a serving fleet's forecast, runs once a day for the hourly forecasts instead of every hour.
// The caller passes the same `config` every time.
struct ServedAhead {
  std::optional<site::SiteConfig> config;  // `config`, its services served (site::ServeOnce)
};
inline constexpr double kServeAheadS = 24 * 3600.0;
nlohmann::json ForecastJson(const site::SiteConfig& config, const std::string& scenario_file,
                            const ForecastClock& clock, ServedAhead* ahead = nullptr);

// A thread that computes ForecastJson for the newest clock asked, one at a time; Ask returns the
// last finished answer (nullptr before the first) and whether one is being computed.
class ForecastWorker {
 public:
  ForecastWorker(site::SiteConfig config, std::string scenario_file);
  ~ForecastWorker();  // waits for a forecast being computed
  struct Answer {
    std::shared_ptr<const nlohmann::json> last;  // its clock is last_clock
    std::optional<ForecastClock> last_clock;
    bool computing = false;
  };
  Answer Ask(const ForecastClock& clock);

 private:
  void Run();
  const site::SiteConfig config_;
  const std::string scenario_file_;
  std::mutex m_;
  std::condition_variable cv_;
  std::optional<ForecastClock> wanted_, last_clock_, computing_;
  std::shared_ptr<const nlohmann::json> last_;
  ServedAhead ahead_;  // the worker thread's alone
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace firstwall::serve

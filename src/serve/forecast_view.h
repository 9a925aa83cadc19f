// The dashboard's forecast (GET /api/forecast, docs/dashboard.md): the next 24 h of the site from
// the twin run forward (ops/forecast.h, with its weather interval), on the store's clock. A large
// site's forecast takes a while (three runs of the twin over a day, and the services' serving
// simulations when the kept twin is made), so a worker thread computes it when the origin moves
// and the server answers with the last one finished.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "live/store.h"
#include "ops/forecast.h"
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
// when the origin is past 366 d (firstwall forecast's bound) or the twin cannot run.
//
// `kept`, when given, holds the twin at the last origin between calls (ops::ForecastTwin): each
// call steps it on to the new origin and runs the forecast from there, so an hourly forecast's
// cost does not grow with the store's age. It is made again (the scenario replayed from time
// zero once) when the origin moved back or the forecast would end past its reach; it reaches
// kServeAheadS or kServeAheadShare of the origin's age past the forecast's end, whichever is
// more, so a store made again at age A is made again at about 1.25 A (the services' serving
// simulations, nine tenths of a serving fleet's forecast, run to that reach each time): the
// cost per hour does not grow with the age, and the first forecast of a server on an old store
// serves only a quarter more than its age. The caller passes the same `config`.
inline constexpr double kServeAheadS = 24 * 3600.0;
inline constexpr double kServeAheadShare = 0.25;
// `cancel` (with `kept`): ops::ForecastTwin's, for a worker that is ending.
nlohmann::json ForecastJson(const site::SiteConfig& config, const ForecastClock& clock,
                            std::unique_ptr<ops::ForecastTwin>* kept = nullptr,
                            const std::atomic<bool>* cancel = nullptr);

// The forecast against the facility meter since its origin: the store's facility power samples
// from the origin on (the origin is the newest sample down to the hour, so up to an hour of them)
// against the forecast's steps over the same span, each step weighted by the time it overlaps:
// {since_ms, until_ms, samples (the finite ones, averaged), unreadable_samples (NaN or infinite,
// left out), measured_w, forecast_w, difference_pct (forecast over measured, less 1, in %; null
// when the meter averaged 0 W, with warning when the forecast is not 0), warning}; null when the
// store has no sample since the origin. When every sample since the origin is unreadable,
// samples is 0 and measured_w, forecast_w and difference_pct are null: nothing was checked, and
// warning is false. `warning` when
// they differ by more than kMeterWarnPct: a forecast that far off in its first hour is of another
// site (a scenario that is not this store's) more likely than of the weather, whose interval is a
// few per cent of the facility here. The threshold is this project's choice.
inline constexpr double kMeterWarnPct = 15;
nlohmann::json AgainstMeter(live::Store& store, const nlohmann::json& forecast);

// Computes ForecastJson for the newest clock asked, one at a time; Ask returns the last finished
// answer (nullptr before the first) and whether one is being computed. A forecast that failed is
// asked again kRetryAfter after, not only when the origin moves.
//
// The kept twin (ForecastJson's `kept`) lives in a process of its own, the forecaster, forked
// when the worker is made, and a thread of the server asks it over a socket. The forecaster
// forks the forecast's runs (ops::ForecastTwin), and a fork is safe only from a process with one
// thread: forked from the server's threads, a child could find a lock another thread held at
// the fork (the sanitizers' allocator's, seen in CI; a static's initialization) and wait on it
// forever. So make the worker while the process has one thread (firstwall serve makes it before
// the server's threads start), on a thread that lives as long as it: the forecaster ends with
// that thread (PR_SET_PDEATHSIG), and with the server however it ends. Ending the worker kills
// the forecaster (its runs with it, PR_SET_PDEATHSIG). A forecaster that died (out of memory,
// say) is not made again: the answer says so. Linux only (prctl).
class ForecastWorker {
 public:
  explicit ForecastWorker(site::SiteConfig config);
  ~ForecastWorker();  // kills the forecaster and waits for it
  static constexpr std::chrono::seconds kRetryAfter{60};
  struct Answer {
    std::shared_ptr<const nlohmann::json> last;  // its clock is last_clock
    std::optional<ForecastClock> last_clock;
    bool computing = false;
  };
  Answer Ask(const ForecastClock& clock);

 private:
  void Run();
  // The forecaster's answer to `clock`, or a failure's note when it cannot answer.
  nlohmann::json FromForecaster(const ForecastClock& clock);
  std::mutex m_;
  std::condition_variable cv_;
  std::optional<ForecastClock> wanted_, last_clock_, computing_;
  std::shared_ptr<const nlohmann::json> last_;
  bool failed_ = false;  // the last answer is a failure's note
  std::chrono::steady_clock::time_point failed_at_;
  bool stop_ = false;
  // Whether the forecaster ended (then reaped, once, and gone_ says how). Call with m_ held.
  bool Gone();
  std::string gone_;  // how the forecaster ended; "" while it runs
  int forecaster_pid_ = -1;
  int socket_ = -1;  // this end of the socket pair; the worker thread's alone
  std::thread thread_;
};

}  // namespace firstwall::serve

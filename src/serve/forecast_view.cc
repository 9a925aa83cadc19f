#include "serve/forecast_view.h"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <functional>
#include <stdexcept>

#include <fmt/format.h>

#include "core/error.h"
#include "ops/backtest.h"
#include "site/site.h"

namespace firstwall::serve {
namespace {

using nlohmann::json;

constexpr double kStepS = 900;
// The origin moves by the hour: the weather the twin runs on is hourly (and its anchor fades by
// the hour), and a 10,000-GPU site's forecast is about a minute of CPU (4 to 6 % of a core when
// it was redone every 15 min, 1 to 1.6 % hourly).
constexpr double kOriginEveryS = 3600;
constexpr double kHorizonS = 24 * 3600;
constexpr double kMaxOriginS = 366 * 86400.0;  // firstwall forecast's --from bound

}  // namespace

std::optional<ForecastClock> ForecastClockReader::Read(live::Store& store) {
  if (!series_) {
    const std::optional<live::SeriesInfo> s = ops::FacilityPowerSeries(store);
    if (!s) return std::nullopt;
    for (const live::SamplePoint& p : store.Samples(s->id)) {
      if (!std::isfinite(p.value)) continue;
      series_ = s->id;
      zero_ms_ = p.t_ms;
      break;
    }
    if (!series_) return std::nullopt;
  }
  const std::optional<live::SamplePoint> newest = store.Newest(*series_);
  if (!newest) return std::nullopt;
  const double since_s = static_cast<double>(std::max<int64_t>(0, newest->t_ms - *zero_ms_)) / 1000;
  return ForecastClock{*zero_ms_, std::floor(since_s / kOriginEveryS) * kOriginEveryS};
}

json ForecastJson(const site::SiteConfig& config, const ForecastClock& clock,
                  std::unique_ptr<ops::ForecastTwin>* kept, const std::atomic<bool>* cancel) {
  if (clock.origin_s > kMaxOriginS) {
    return {{"t_ms", json::array()},
            {"note", "the store spans more than 366 days, firstwall forecast's bound"}};
  }
  ops::ForecastOptions o;
  o.step_s = kStepS;
  o.horizon_s = kHorizonS;
  o.from_s = clock.origin_s;
  ops::Forecast f;
  try {
    if (kept) {
      const double end = o.from_s + o.horizon_s;
      if (!*kept || (*kept)->origin_s() > o.from_s || (*kept)->reach_s() < end) {
        kept->reset();  // its memory goes before the new one's is taken
        site::SiteConfig twin = config;
        twin.duration = SimTime::From(
            units::Seconds(end + std::max(kServeAheadS, kServeAheadShare * o.from_s)));
        if (!twin.services.empty()) site::ServeOnce(twin, cancel);
        *kept = std::make_unique<ops::ForecastTwin>(std::move(twin), cancel);
      }
      f = (*kept)->Run(o);
    } else {
      f = ops::RunForecast(config, o);
    }
  } catch (const InputError& e) {
    if (kept) kept->reset();  // where a failed step left it is not known: made again next time
    return {{"t_ms", json::array()},
            {"note", std::string("the twin could not run forward: ") + e.what()}};
  } catch (...) {
    if (kept) kept->reset();
    throw;
  }
  const auto at_ms = [&](double scenario_s) {
    return clock.zero_ms + static_cast<int64_t>(std::llround(scenario_s * 1000));
  };
  json t = json::array(), value = json::array(), lo = json::array(), hi = json::array(),
       it = json::array(), pue = json::array(), outdoor = json::array();
  for (const ops::ForecastStep& s : f.steps) {
    t.push_back(at_ms(s.start_s));
    value.push_back(s.value[ops::kFacilityPower]);
    lo.push_back(s.lo[ops::kFacilityPower]);
    hi.push_back(s.hi[ops::kFacilityPower]);
    it.push_back(s.value[ops::kItPower]);
    pue.push_back(s.value[ops::kPue]);
    outdoor.push_back(s.outdoor_c);
  }
  const ops::ForecastPeak peak = ops::PeakOf(f, ops::kFacilityPower);
  return {{"origin_ms", at_ms(o.from_s)},
          {"step_s", kStepS},
          {"horizon_s", kHorizonS},
          {"t_ms", t},
          {"facility_power_w", {{"value", value}, {"lo", lo}, {"hi", hi}}},
          {"it_power_w", it},
          {"pue", pue},
          {"outdoor_c", outdoor},
          {"grid_import_limit_w", f.grid_limit_w > 0 ? json(f.grid_limit_w) : json()},
          {"peak",
           {{"facility_power_w", peak.value},
            {"hi_w", peak.hi},
            {"at_ms", at_ms(peak.at_s)},
            {"over_grid_limit", f.grid_limit_w > 0 && peak.hi > f.grid_limit_w}}},
          {"weather", f.weather_from},
          {"interval", f.interval_from}};
}

json AgainstMeter(live::Store& store, const json& forecast) {
  if (!forecast.contains("origin_ms") || forecast["t_ms"].empty()) return nullptr;
  const std::optional<live::SeriesInfo> s = ops::FacilityPowerSeries(store);
  if (!s) return nullptr;
  const auto origin = forecast["origin_ms"].get<int64_t>();
  const double step_ms = forecast["step_s"].get<double>() * 1000;
  const json& t = forecast["t_ms"];
  const json& value = forecast["facility_power_w"]["value"];
  double measured = 0;
  int64_t n = 0, unreadable = 0, until = origin;
  for (const live::SamplePoint& p : store.SamplesSince(s->id, origin)) {
    until = std::max(until, p.t_ms);
    if (!std::isfinite(p.value)) {
      ++unreadable;
      continue;
    }
    measured += p.value;
    ++n;
  }
  if (n == 0 && unreadable == 0) return nullptr;
  if (n == 0) {
    // Samples came, none of them a number: nothing to check the forecast against, and said so.
    return {{"since_ms", origin},
            {"until_ms", until},
            {"samples", 0},
            {"unreadable_samples", unreadable},
            {"measured_w", nullptr},
            {"forecast_w", nullptr},
            {"difference_pct", nullptr},
            {"warning", false}};
  }
  measured /= static_cast<double>(n);
  // The forecast's mean over [origin, until] (the first step's value when until is the origin).
  double energy = 0, span = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    const double a = t[i].get<double>(), b = a + step_ms;
    const double overlap = std::min(b, static_cast<double>(until)) - a;
    if (overlap <= 0) break;
    energy += value[i].get<double>() * overlap;
    span += overlap;
  }
  const double predicted = span > 0 ? energy / span : value[0].get<double>();
  // A meter at zero has no relative difference: any forecast above it is as far off as can be.
  const json pct = measured != 0 ? json(100 * (predicted / measured - 1)) : json();
  const bool warning = measured != 0 ? std::abs(pct.get<double>()) > kMeterWarnPct : predicted != 0;
  return {{"since_ms", origin},     {"until_ms", until},
          {"samples", n},           {"unreadable_samples", unreadable},
          {"measured_w", measured}, {"forecast_w", predicted},
          {"difference_pct", pct},  {"warning", warning}};
}

namespace {

// Every byte of `n` at `data` to the socket; false when it closed. MSG_NOSIGNAL: a closed peer is
// an error, not a SIGPIPE.
bool SendAll(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

// Exactly `n` bytes to `data`; false at the end or an error. `stop`, when given, is looked at
// every 250 ms while waiting: true ends the read (false).
bool ReceiveAll(int fd, void* data, size_t n, const std::function<bool()>& stop = {}) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    if (stop) {
      pollfd w{fd, POLLIN, 0};
      const int ready = ::poll(&w, 1, 250);
      if (ready < 0 && errno != EINTR) return false;
      if (ready <= 0) {
        if (stop()) return false;
        continue;
      }
    }
    const ssize_t k = ::recv(fd, p, n, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

// The forecaster's life: a clock in (zero_ms, origin_s), a forecast's JSON text out (its length,
// then its bytes), until the server's end of the socket closes.
[[noreturn]] void Forecaster(const site::SiteConfig& config, int fd) {
  std::unique_ptr<ops::ForecastTwin> kept;
  while (true) {
    ForecastClock clock;
    if (!ReceiveAll(fd, &clock.zero_ms, sizeof clock.zero_ms) ||
        !ReceiveAll(fd, &clock.origin_s, sizeof clock.origin_s)) {
      ::_exit(0);
    }
    std::string text;
    try {
      text = ForecastJson(config, clock, &kept).dump();
    } catch (const std::exception& e) {
      kept.reset();  // where the failure left it is not known
      text = json{
          {"t_ms", json::array()},
          {"note", std::string("the forecast failed: ") + e.what() + " (tried again in a minute)"},
          {"failed",
           true}}.dump();
    }
    const uint64_t size = text.size();
    if (!SendAll(fd, &size, sizeof size) || !SendAll(fd, text.data(), text.size())) ::_exit(1);
  }
}

}  // namespace

ForecastWorker::ForecastWorker(site::SiteConfig config) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    throw std::runtime_error("cannot make a socket pair for the forecaster");
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pair[0]);
    ::close(pair[1]);
    throw std::runtime_error("cannot start the forecaster process (fork failed)");
  }
  if (pid == 0) {
    ::close(pair[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(0);
    Forecaster(config, pair[1]);
  }
  ::close(pair[1]);
  forecaster_pid_ = pid;
  socket_ = pair[0];
  thread_ = std::thread([this] { Run(); });
}

ForecastWorker::~ForecastWorker() {
  bool reaped = false;
  {
    std::lock_guard lock(m_);
    stop_ = true;
    reaped = !gone_.empty();
    // Killed only while not reaped: a reaped process's id may be another's by now.
    if (!reaped) ::kill(forecaster_pid_, SIGKILL);  // a read the worker thread waits in ends
  }
  cv_.notify_all();
  thread_.join();
  ::close(socket_);
  if (!reaped) {
    while (::waitpid(forecaster_pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

bool ForecastWorker::Gone() {
  if (!gone_.empty()) return true;
  int status = 0;
  if (::waitpid(forecaster_pid_, &status, WNOHANG) != forecaster_pid_) return false;
  gone_ =
      fmt::format("the forecaster process {}: no forecast until firstwall serve is started again",
                  WIFSIGNALED(status) ? fmt::format("was ended by signal {}", WTERMSIG(status))
                                      : fmt::format("ended (status {})", WEXITSTATUS(status)));
  return true;
}

json ForecastWorker::FromForecaster(const ForecastClock& clock) {
  const auto stopping = [this] {
    std::lock_guard lock(m_);
    return stop_;
  };
  uint64_t size = 0;
  std::string text;
  bool ok = SendAll(socket_, &clock.zero_ms, sizeof clock.zero_ms) &&
            SendAll(socket_, &clock.origin_s, sizeof clock.origin_s) &&
            ReceiveAll(socket_, &size, sizeof size, stopping);
  if (ok) {
    text.resize(size);
    ok = ReceiveAll(socket_, text.data(), size, stopping);
  }
  if (!ok) {
    // Its end may not have been reported yet: wait for it a little.
    for (int i = 0; i < 20; ++i) {
      {
        std::lock_guard lock(m_);
        if (Gone()) return {{"t_ms", json::array()}, {"note", gone_}, {"failed", true}};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return {{"t_ms", json::array()},
            {"note", "the forecaster process does not answer"},
            {"failed", true}};
  }
  return json::parse(text);
}

ForecastWorker::Answer ForecastWorker::Ask(const ForecastClock& clock) {
  std::lock_guard lock(m_);
  if (Gone()) {
    // Said at once, not after the next hour's forecast fails; reaped, not left a zombie.
    return {std::make_shared<const json>(
                json{{"t_ms", json::array()}, {"note", gone_}, {"failed", true}}),
            std::nullopt, false};
  }
  const bool retry = failed_ && std::chrono::steady_clock::now() - failed_at_ >= kRetryAfter;
  if ((last_clock_ != clock || retry) && computing_ != clock) {
    wanted_ = clock;
    cv_.notify_all();
  }
  return {last_, last_clock_, computing_.has_value() || wanted_.has_value()};
}

void ForecastWorker::Run() {
  std::unique_lock lock(m_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || wanted_.has_value(); });
    if (stop_) return;
    computing_ = wanted_;
    wanted_.reset();
    const ForecastClock clock = *computing_;
    lock.unlock();
    const auto answer = std::make_shared<const json>(FromForecaster(clock));
    lock.lock();
    failed_ = answer->contains("failed");
    failed_at_ = std::chrono::steady_clock::now();
    last_ = std::move(answer);
    last_clock_ = clock;
    computing_.reset();
  }
}

}  // namespace firstwall::serve

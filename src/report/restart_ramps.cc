#include "report/restart_ramps.h"

#include <algorithm>

#include "report/text_format.h"

namespace firstwall::report {
namespace {
using scheduler::Attempt;
using scheduler::AttemptEnd;
using scheduler::LifeEvent;
using scheduler::LifeEventKind;

double Sec(SimTime t) { return static_cast<double>(t.ns()) / 1e9; }

void Raise(Rise& r, double mw, SimTime at) {
  if (mw > r.mw) r = {mw, Sec(at)};
}

nlohmann::ordered_json RiseJson(const Rise& r, double per_min) {
  return {{"mw", r.mw}, {"mw_per_min", r.mw * per_min}, {"at_s", r.at_s}};
}

}  // namespace

RestartRampWatch::RestartRampWatch(const scheduler::ClusterLife& life, SimTime tick,
                                   SimTime stagger)
    : life_(life), tick_(tick) {
  ramps_.tick_s = Sec(tick);
  ramps_.stagger_s = Sec(stagger);
}

std::pair<double, double> RestartRampWatch::Trail::Push(SimTime t, SimTime last_tick, double v) {
  while (!min.empty() && min.front().first < t - kRampWindow) min.pop_front();
  const double rise = min.empty() ? 0.0 : std::max(0.0, v - min.front().second);
  const double step = any ? v - last : 0.0;
  while (!min.empty() && min.back().second >= v) min.pop_back();
  min.emplace_back(last_tick, v);
  last = v;
  any = true;
  return {rise, step};
}

void RestartRampWatch::PullRestarts() {
  const std::vector<LifeEvent>& events = life_.events();
  const std::vector<Attempt>& attempts = life_.attempts();
  for (; next_event_ < events.size(); ++next_event_) {
    const LifeEvent& e = events[next_event_];
    if (e.kind != LifeEventKind::kRestart) continue;
    ++ramps_.restarts;
    // The attempt it began: the job's latest start at that instant.
    size_t a = attempts.size();
    while (a > 0 && !(attempts[a - 1].job == e.job && attempts[a - 1].start == e.at)) --a;
    if (a == 0) continue;  // cannot happen: StartJob logs the restart after the attempt
    const size_t attempt = a - 1;
    const bool joins = !open_.empty() && open_.back().burst + 1 == ramps_.bursts.size() &&
                       e.at - open_.back().at < kBurstWindow;
    if (!joins) {
      RestartBurst b;
      b.at_s = Sec(e.at);
      ramps_.bursts.push_back(b);
      members_.emplace_back();
      open_.push_back({ramps_.bursts.size() - 1, e.at});
    }
    Open& o = open_.back();
    members_[o.burst].push_back(attempt);
    o.close = SimTime::Never();  // a new member: resolve again
    RestartBurst& b = ramps_.bursts[o.burst];
    ++b.jobs;
    b.gpus += attempts[attempt].gpus;
  }
}

// The burst's watch ends kRampWindow after its last member computed again, once every member has
// computed or ended.
void RestartRampWatch::Resolve(Open& o) const {
  const std::vector<Attempt>& attempts = life_.attempts();
  SimTime first = SimTime::Never(), last = SimTime::Never();
  for (size_t a : members_[o.burst]) {
    const Attempt& at = attempts[a];
    if (at.computing_from != SimTime::Never()) {
      first = std::min(first, at.computing_from);
      last = last == SimTime::Never() ? at.computing_from : std::max(last, at.computing_from);
    } else if (at.how == AttemptEnd::kCutByEnd) {
      return;  // still on its way back
    }
  }
  o.close = (last == SimTime::Never() ? o.at : last) + kRampWindow;
}

void RestartRampWatch::OnTick(const TickRow& row, int64_t repeat) {
  PullRestarts();
  const SimTime t = row.start;
  const SimTime last = t + SimTime::FromNanoseconds(tick_.ns() * (repeat - 1));
  // A run of identical ticks rises most at its first tick (its trailing minimum only grows).
  const auto [f_rise, f_step] = facility_.Push(t, last, row.facility_w / 1e6);
  const auto [i_rise, i_step] = it_.Push(t, last, row.it_w / 1e6);
  for (Open& o : open_) {
    if (o.close == SimTime::Never()) Resolve(o);
    if (t + tick_ <= o.at) continue;  // a tick before the burst (cannot happen: events cut ticks)
    if (t > o.close) continue;        // done; erased below
    RestartBurst& b = ramps_.bursts[o.burst];
    Raise(b.facility_1min, f_rise, t);
    Raise(b.it_1min, i_rise, t);
    Raise(b.facility_tick, f_step, t);
    Raise(b.it_tick, i_step, t);
  }
  std::erase_if(open_,
                [&](const Open& o) { return o.close != SimTime::Never() && last > o.close; });
}

RestartRamps RestartRampWatch::Finish() {
  PullRestarts();
  const std::vector<Attempt>& attempts = life_.attempts();
  for (size_t k = 0; k < ramps_.bursts.size(); ++k) {
    RestartBurst& b = ramps_.bursts[k];
    for (size_t a : members_[k]) {
      const SimTime c = attempts[a].computing_from;
      if (c == SimTime::Never()) continue;
      b.computing_first_s =
          b.computing_first_s < 0 ? Sec(c) : std::min(b.computing_first_s, Sec(c));
      b.computing_last_s = std::max(b.computing_last_s, Sec(c));
    }
  }
  open_.clear();
  return ramps_;
}

nlohmann::ordered_json RestartRampsJson(const RestartRamps& r) {
  nlohmann::ordered_json j;
  const double per_tick_min = r.tick_s > 0 ? 60.0 / r.tick_s : 0.0;
  j["restarts"] = r.restarts;
  int multi = 0;
  for (const RestartBurst& b : r.bursts) multi += b.jobs >= 2;
  j["multi_job_bursts"] = multi;
  j["burst_window_s"] = Sec(kBurstWindow);
  j["stagger_s"] = r.stagger_s;
  j["tick_s"] = r.tick_s;
  const bool measured = r.measured();  // else none reported
  const auto rise = [&](const Rise& x, double per_min) {
    return measured ? RiseJson(x, per_min) : nlohmann::ordered_json(nullptr);
  };
  // The largest of each over every burst (a single job's restart too), with its burst's size.
  auto largest = [&](Rise RestartBurst::*m, double per_min) {
    const RestartBurst* top = nullptr;
    for (const RestartBurst& b : r.bursts) {
      if (top == nullptr || (b.*m).mw > (top->*m).mw) top = &b;
    }
    if (top == nullptr || !measured) return nlohmann::ordered_json(nullptr);
    nlohmann::ordered_json e = RiseJson(top->*m, per_min);
    e["jobs"] = top->jobs;
    e["burst_at_s"] = top->at_s;
    return e;
  };
  j["largest"] = {{"facility_rise_1min", largest(&RestartBurst::facility_1min, 1.0)},
                  {"it_rise_1min", largest(&RestartBurst::it_1min, 1.0)},
                  {"facility_step_1tick", largest(&RestartBurst::facility_tick, per_tick_min)},
                  {"it_step_1tick", largest(&RestartBurst::it_tick, per_tick_min)}};
  // The multi-job bursts with the largest facility rise, listed in time order.
  std::vector<const RestartBurst*> listed;
  for (const RestartBurst& b : r.bursts) {
    if (b.jobs >= 2) listed.push_back(&b);
  }
  std::stable_sort(listed.begin(), listed.end(), [](const RestartBurst* a, const RestartBurst* b) {
    return a->facility_1min.mw > b->facility_1min.mw;
  });
  if (listed.size() > kListedBursts) listed.resize(kListedBursts);
  std::stable_sort(listed.begin(), listed.end(),
                   [](const RestartBurst* a, const RestartBurst* b) { return a->at_s < b->at_s; });
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const RestartBurst* b : listed) {
    nlohmann::ordered_json e;
    e["at_s"] = b->at_s;
    e["jobs"] = b->jobs;
    e["gpus"] = b->gpus;
    e["computing_first_s"] = b->computing_first_s >= 0
                                 ? nlohmann::ordered_json(b->computing_first_s)
                                 : nlohmann::ordered_json(nullptr);
    e["computing_last_s"] = b->computing_last_s >= 0 ? nlohmann::ordered_json(b->computing_last_s)
                                                     : nlohmann::ordered_json(nullptr);
    e["facility_rise_1min"] = rise(b->facility_1min, 1.0);
    e["it_rise_1min"] = rise(b->it_1min, 1.0);
    e["facility_step_1tick"] = rise(b->facility_tick, per_tick_min);
    e["it_step_1tick"] = rise(b->it_tick, per_tick_min);
    list.push_back(std::move(e));
  }
  j["bursts"] = std::move(list);
  return j;
}

std::string RestartRampsText(const RestartRamps& r) {
  if (r.restarts == 0) return {};
  const RestartBurst* top = nullptr;
  int multi = 0;
  for (const RestartBurst& b : r.bursts) {
    multi += b.jobs >= 2;
    if (top == nullptr || b.facility_1min.mw > top->facility_1min.mw) top = &b;
  }
  const double per_tick_min = r.tick_s > 0 ? 60.0 / r.tick_s : 0.0;
  if (r.tick_s > Sec(kRampWindow)) {
    return txt::format(
        "restarts: {} (bursts of several jobs: {}; stagger {:.0f} s); power ramps not measured: "
        "the {:.0f} s tick is longer than the {:.0f} s they are measured over\n",
        r.restarts, multi, r.stagger_s, r.tick_s, Sec(kRampWindow));
  }
  return txt::format(
      "restarts: {} (bursts of several jobs: {}; stagger {:.0f} s); largest rise at the meter "
      "{} within a minute at {:.0f} s (jobs restarting together: {}; {} in one tick = {}), IT {} "
      "within a minute\n",
      r.restarts, multi, r.stagger_s, txt::power(1e6 * top->facility_1min.mw),
      top->facility_1min.at_s, top->jobs, txt::power(1e6 * top->facility_tick.mw),
      txt::power(1e6 * top->facility_tick.mw * per_tick_min, 1, "/min"),
      txt::power(1e6 * top->it_1min.mw));
}

}  // namespace firstwall::report

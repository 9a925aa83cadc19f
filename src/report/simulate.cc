#include "report/simulate.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "report/outputs.h"
#include "report/restart_ramps.h"
#include "report/stepped_run.h"
#include "report/text_format.h"
#include "report/tick_series.h"
#include "site/life.h"
#include "site/site.h"

namespace firstwall::report {
namespace {

// The scale-out links' load changes, kept in an anonymous temporary file (std::tmpfile: gone when
// the process ends, however it ends) until the run ends, for the hot-link columns of
// timeseries.csv: which links are the hottest is known only then, and a big training job
// restarting often changes millions of link loads (12 M, 290 MB in memory, over 5 days of a
// 16k-GPU job), of which the columns read a few links'.
class LinkChangeSpill {
 public:
  LinkChangeSpill() : file_(std::tmpfile()) {
    if (!file_) throw InputError({"(temporary file)", 0, 0}, "cannot create a temporary file");
  }
  ~LinkChangeSpill() { std::fclose(file_); }
  LinkChangeSpill(const LinkChangeSpill&) = delete;
  LinkChangeSpill& operator=(const LinkChangeSpill&) = delete;

  void Add(const site::LinkLoadChange& c) {
    buf_.push_back(c);
    if (buf_.size() == kBatch) Flush();
  }
  // Every change added, in the order added.
  template <class F>
  void ForEach(F&& f) {
    Flush();
    std::rewind(file_);
    buf_.resize(kBatch);
    for (size_t n; (n = std::fread(buf_.data(), sizeof(buf_[0]), kBatch, file_)) > 0;) {
      for (size_t i = 0; i < n; ++i) f(buf_[i]);
    }
    if (std::ferror(file_)) throw InputError({"(temporary file)", 0, 0}, "read failed");
    buf_.clear();
  }

 private:
  static constexpr size_t kBatch = 1 << 14;
  void Flush() {
    if (buf_.empty()) return;  // fwrite of an empty vector's null data() is undefined
    if (std::fwrite(buf_.data(), sizeof(buf_[0]), buf_.size(), file_) != buf_.size()) {
      throw InputError({"(temporary file)", 0, 0}, "write failed (disk full?)");
    }
    buf_.clear();
  }
  std::FILE* file_;
  std::vector<site::LinkLoadChange> buf_;
};

FlexRun FlexRunOf(const Summary& s, std::vector<SimTime> first_starts) {
  FlexRun r;
  r.energy_cost_usd = s.energy_cost_usd;
  r.carbon_kg = s.carbon_kg;
  r.facility_energy_j = s.facility_energy_j;
  r.grid_energy_j = s.grid_energy_j;
  r.peak_facility_w = s.peak_facility_w;
  r.peak_grid_w = s.peak_grid_w;
  if (s.life) {
    r.useful_gpu_h = s.life->goodput.useful_gpu_h;
    r.jobs_completed = s.life->stats.jobs_completed;
  }
  r.first_start = std::move(first_starts);
  return r;
}

// The same scenario without flexibility, for the comparison.
FlexibilitySummary CompareWithBaseline(const site::SiteConfig& config,
                                       const std::string& scenario_file, const Summary& run,
                                       const site::LifeHost& host) {
  site::SiteConfig base = config;
  base.life->flexibility.reset();
  std::vector<SimTime> base_starts;
  SimulateOptions o;
  o.first_starts = &base_starts;
  const Summary b = Simulate(base, scenario_file, o);
  return SummarizeFlexibility(*config.life->flexibility, host.life(), config.duration,
                              host.flexibility()->Stats(config.duration),
                              FlexRunOf(run, FirstStarts(host.life())),
                              FlexRunOf(b, std::move(base_starts)));
}

}  // namespace

Summary Simulate(const site::SiteConfig& config, const std::string& scenario_file,
                 const SimulateOptions& options) {
  std::optional<Meter> meter;  // it reads the run's site: made once the run is
  std::unique_ptr<TimeSeriesCsv> csv;
  SteppedRun run(config, [&](const TickRow& row, int64_t n) {
    meter->OnTick(row, n);
    if (csv) csv->OnTick(row, n);
    if (options.on_tick) options.on_tick(row, n);
  });
  site::Site& site = run.site();
  site::LifeHost* host = run.host();
  meter.emplace(site);
  if (!options.timeseries_csv.empty()) {
    const SimTime every = options.output_interval.ns() > 0 ? options.output_interval : config.tick;
    FW_CHECK(every.ns() % config.tick.ns() == 0, "the output interval is a whole number of ticks");
    csv = std::make_unique<TimeSeriesCsv>(options.timeseries_csv, config.tick,
                                          every.ns() / config.tick.ns());
  }
  // Link load changes only where asked for: all of them for links.csv (which also serves the
  // hot-link columns), else the scale-out links' in a temporary file for those columns.
  std::vector<site::LinkLoadChange> link_changes;
  std::unique_ptr<LinkChangeSpill> spill;
  if (options.link_table) {
    site.OnLinkChange([&](const site::LinkLoadChange& c) { link_changes.push_back(c); }, SimTime());
  } else if (csv && options.hot_link_columns > 0) {
    spill = std::make_unique<LinkChangeSpill>();
    site.OnLinkChange(
        [&](const site::LinkLoadChange& c) {
          if (!site.fabric().IsNvlink(c.link)) spill->Add(c);  // the columns are scale-out links'
        },
        SimTime());
  }
  run.AdvanceTo(config.duration, options.progress);
  run.Finish();
  if (csv) {
    std::vector<LinkSeries> hot;
    std::vector<size_t> column(site.fabric().link_count(), SIZE_MAX);
    for (const site::LinkLoad& l :
         site.HottestLinks(static_cast<size_t>(options.hot_link_columns))) {
      column[static_cast<size_t>(l.link)] = hot.size();
      hot.push_back({site.fabric().LinkName(l.link), {}});
    }
    auto take = [&](const site::LinkLoadChange& c) {
      const size_t k = column[static_cast<size_t>(c.link)];
      if (k != SIZE_MAX) hot[k].changes.push_back({c.at.seconds(), c.utilization});
    };
    if (spill) {
      spill->ForEach(take);
    } else {
      for (const site::LinkLoadChange& c : link_changes) take(c);
    }
    csv->Commit(
        hot, (options.output_interval.ns() > 0 ? options.output_interval : config.tick).seconds());
  }
  if (options.link_table) {
    std::string& t = *options.link_table;
    t = "time_s,link,capacity_bytes_per_s,utilization\n";
    for (const site::LinkLoadChange& c : link_changes) {
      t += txt::format("{:.3f},{},{:.6g},{:.6f}\n", c.at.seconds(), site.fabric().LinkName(c.link),
                       site.fabric().nominal()[static_cast<size_t>(c.link)], c.utilization);
    }
  }
  Summary summary = meter->Finish(scenario_file, run.engine().stats());
  summary.warnings = config.warnings;
  if (host) {
    const scheduler::ClusterLife& life = host->life();
    // Trace jobs (no model) are in jobs.csv; the per-job list keeps the scenario's workloads.
    std::erase_if(summary.jobs, [](const JobSummary& j) { return j.model.empty(); });
    summary.life =
        SummarizeLife(life, config.life->scheduler.policy, config.jobs.size(), config.life->traces,
                      config.cluster.gpus_per_node, config.life->failure_model);
    summary.life->restarts = run.ramps()->Finish();
    // A queued job's steps are those it kept: work lost to failures and preemptions was redone.
    for (const LifeJob& w : summary.life->workloads) {
      for (JobSummary& js : summary.jobs) {
        if (js.name != w.name) continue;
        const double step_s = units::ToSeconds(js.estimate.step_time);
        js.steps_completed = static_cast<int64_t>(std::floor(w.life.useful_s / step_s + 1e-9));
        js.tokens = static_cast<double>(js.steps_completed) * js.estimate.tokens_per_step;
        js.average_tokens_per_s = js.running_s > 0 ? js.tokens / js.running_s : 0;
        // The queue clocks its checkpoints (the site writes none of its own for it).
        js.checkpoints = w.life.checkpoints;
        js.checkpoint_time_s = w.life.checkpoint_s;
      }
    }
    if (host->pool()) {
      summary.service_pools = host->pool()->Stats(config.duration);
      // Every service is pooled under a scheduler (same index): its block reports what ran.
      for (size_t k = 0; k < summary.service_pools.size(); ++k) {
        site::ReportGranted(summary.service_pools[k], summary.services.at(k).result);
      }
    }
    if (options.jobs_table) *options.jobs_table = JobsCsv(life);
    if (options.events_table) *options.events_table = EventsCsv(life);
    if (options.first_starts) *options.first_starts = FirstStarts(life);
  }
  if (config.swings.enabled) {
    summary.swings = RecordSwings(site);
    if (options.swing_table) *options.swing_table = SwingCsv(*summary.swings);
  }
  if (host && host->flexibility()) {
    summary.flexibility = CompareWithBaseline(config, scenario_file, summary, *host);
  }
  return summary;
}

}  // namespace firstwall::report

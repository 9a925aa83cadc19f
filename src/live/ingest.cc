#include "live/ingest.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "core/error.h"
#include "live/gpu_rollup.h"
#include "live/quality_windows.h"
#include "live/reader.h"

namespace firstwall::live {
namespace {

using Wall = std::chrono::steady_clock;
constexpr double kLatestStamp_ms = 7258118400000.0;  // 2200-01-01 00:00 UTC
// How late (or early) a GPU sample may reach ingest and still count in its rollup bucket: a
// Prometheus server batches remote-write for up to 5 s by default (batch_send_deadline).
constexpr double kRollupLateness_s = 10;
// A commit per scrape costs PostgreSQL a WAL flush each: 100 exporters at 1 s are 100 commits a
// second, which bounded ingest at 44 k samples/s. Scrapes that follow one another without a wait
// (a round of sources due together) share one transaction instead; an ingest that never waits
// (behind schedule) still commits at least this often, so a crash loses at most this much wall
// time of samples (plus the round in flight).
constexpr auto kMaxCommitGap = std::chrono::seconds(1);
constexpr double kSlowRead_s = 0.25;

struct Stream {
  int64_t id = 0;  // the store's series; 0: no binding claims the stream
  double to_base = 1;
  bool shared = false;  // bound to a series another stream of the source already fills
  int rollup = -1;      // its GPU's slot in the GPU rollups, -1: none
};

struct SourceState {
  const Source* source = nullptr;
  Wall::time_point due;
  int failures = 0;
  // Its last read failed or took over kSlowRead_s of wall time: the next may hang up to its
  // timeout, so the round's rows are committed before it. (A source that hangs at its first read
  // holds its round once: assuming every unread source slow put a commit before each source of the
  // first round, 100 commits for 100 exporters.)
  bool slow = false;
  std::vector<const Binding*> bindings;
  // Known streams of this source (bound or not), by metric and labels.
  std::unordered_map<std::string, Stream> series;
  std::map<int64_t, std::string> claimed;  // store series -> the stream that fills it
  std::unique_ptr<SourceReader> reader;
};

}  // namespace

std::string SeriesName(std::string_view metric, const std::vector<Label>& labels) {
  std::string line = FormatSampleLine(metric, labels, 0);
  return line.substr(0, line.size() - 2);  // without " 0"
}

IngestStats Ingest(const SiteMap& map, Store& store, const IngestOptions& o) {
  FW_CHECK(o.speed > 0, "speed must be positive");
  IngestStats stats;
  const Wall::time_point wall0 = Wall::now();
  const int64_t epoch0_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  // Site time (ms since the epoch) at a wall instant.
  auto site_ms = [&](Wall::time_point w) {
    return epoch0_ms + static_cast<int64_t>(std::llround(
                           std::chrono::duration<double, std::milli>(w - wall0).count() * o.speed));
  };
  auto wall_after = [&](double site_s) {
    return std::chrono::duration_cast<Wall::duration>(
        std::chrono::duration<double>(site_s / o.speed));
  };
  const Wall::time_point end = wall0 + wall_after(o.for_s);

  ReaderContext ctx;
  ctx.speed = o.speed;
  ctx.max_body_bytes = o.max_body_bytes;
  ctx.site_now_ms = [&] { return site_ms(Wall::now()); };
  ctx.log = o.log;
  std::vector<SourceState> states;
  for (const Source& s : map.sources) {
    SourceState st;
    st.source = &s;
    st.reader = MakeReader(s, ctx);
    st.due = wall0;
    for (const Binding& b : map.bindings) {
      if (b.source == s.name) st.bindings.push_back(&b);
    }
    // A password in the URL (user:secret@) stays out of the store.
    store.PutSource({s.name, s.kind, RedactUrl(s.url), s.interval_s});
    states.push_back(std::move(st));
  }
  store.Flush();
  if (states.empty()) return stats;
  std::optional<QualityWindows> windows;
  if (o.quality_window_s > 0) windows.emplace(store, o.quality_window_s, map.balances);
  std::optional<GpuRollup> rollup;
  {
    double shortest = 0, longest = 0;
    for (const Binding& b : map.bindings) {
      if (!GpuRollup::Rolls(b.entity, b.quantity->name)) continue;
      for (const Source& s : map.sources) {
        if (s.name != b.source) continue;
        shortest = shortest > 0 ? std::min(shortest, s.interval_s) : s.interval_s;
        longest = std::max(longest, s.interval_s);
      }
    }
    const double bucket_s = o.gpu_rollup_s < 0 ? shortest : o.gpu_rollup_s;
    if (bucket_s > 0 && longest > 0) {
      rollup.emplace(store, bucket_s, longest + bucket_s + kRollupLateness_s);
    }
  }
  // Until --for, or a stop: each turn reads the source due first.
  bool unflushed = false;
  Wall::time_point flushed_at = Wall::now();
  auto flush = [&] {
    store.Flush();
    unflushed = false;
    flushed_at = Wall::now();
  };
  // One read of a source, its samples appended and its scrape recorded.
  auto scrape = [&](SourceState& st) {
    const Source& src = *st.source;
    const Wall::time_point started = Wall::now();
    ScrapeRecord rec;
    rec.source = src.name;
    rec.t_ms = site_ms(started);
    ReadResult read = st.reader->Read();
    rec.ok = read.ok;
    rec.error = read.error;
    const Wall::time_point done = Wall::now();
    rec.duration_ms = std::chrono::duration<double, std::milli>(done - started).count() * o.speed;
    st.slow = !read.ok || std::chrono::duration<double>(done - started).count() > kSlowRead_s;
    ++stats.scrapes;
    if (windows) windows->AddRead(src.name, rec.t_ms, rec.ok, rec.duration_ms);
    if (rollup) rollup->AddRead(rec.t_ms);
    rec.rejected = read.rejected;
    stats.rejected_lines += read.rejected;
    stats.dropped += read.dropped;
    if (read.rejected > 0 && o.log && !read.rejects.empty()) {
      o.log(fmt::format("{}: {} malformed line(s) refused; line {}: {}", src.name, read.rejected,
                        read.rejects[0].line, read.rejects[0].reason));
    }
    if (read.dropped > 0 && o.log) {
      o.log(fmt::format("{}: {} samples dropped: more arrived than the buffer holds", src.name,
                        read.dropped));
    }
    if (rec.ok) {
      rec.samples = static_cast<int>(read.samples.size());
      std::string entity_id, key;
      for (const PromSample& s : read.samples) {
        // The stream's key: metric and labels as sent (cheap to build; the readable name and the
        // binding are worked out once per stream).
        key.assign(s.metric);
        for (const Label& l : s.labels) {
          key += '\x1f';
          key += l.name;
          key += '\x1e';
          key += l.value;
        }
        auto it = st.series.find(key);
        if (it == st.series.end()) {
          const Binding* bound = nullptr;
          for (const Binding* b : st.bindings) {
            if (b->Matches(s, entity_id)) {
              bound = b;
              break;
            }
          }
          if (st.series.size() >= o.max_series_per_source) {
            ++(bound ? stats.over_series_limit : stats.unbound);
            continue;
          }
          Stream known;  // an unbound stream is remembered too, so it is not matched again
          if (bound) {
            const SeriesKey series{bound->entity,
                                   entity_id,
                                   std::string(bound->quantity->name),
                                   std::string(bound->quantity->base_unit),
                                   src.name,
                                   SeriesName(s.metric, s.labels)};
            const int64_t id = store.SeriesId(series);
            // Two streams of one source bound to one entity, id and quantity would be stored as
            // one: the second is refused (a binding's id needs a placeholder to tell them
            // apart).
            if (const auto [first, fresh] = st.claimed.emplace(id, series.metric); !fresh) {
              known.shared = true;
              if (o.log) {
                o.log(fmt::format(
                    "{}: {} is refused: it is bound to {} '{}' {} like {} (binding at {}; give "
                    "its id a {{label}} that tells them apart)",
                    src.name, series.metric, bound->entity, entity_id, bound->quantity->name,
                    first->second, bound->where));
              }
            } else {
              known.id = id;
              known.to_base = bound->unit->to_base;
              ++stats.series;
              if (windows) windows->AddSeries({id, series}, src.interval_s);
              if (rollup) known.rollup = rollup->AddSeries(id, series);
            }
          }
          it = st.series.emplace(key, known).first;
        }
        if (it->second.shared) {
          ++stats.shared;
          continue;
        }
        if (it->second.id == 0) {
          ++stats.unbound;
          continue;
        }
        // A source's own time is its wall clock: mapped to site time as arrival times are.
        int64_t t = rec.t_ms;
        if (s.timestamp_ms) {
          const double mapped =
              static_cast<double>(epoch0_ms) +
              (static_cast<double>(*s.timestamp_ms) - static_cast<double>(epoch0_ms)) * o.speed;
          // Old stamps are kept (a backfill), but not a clock gone wild: beyond 2200 a stamp
          // is no site's, and mapped at --speed far enough out it would not fit the store's
          // milliseconds.
          if (!(*s.timestamp_ms >= 0 && static_cast<double>(*s.timestamp_ms) <= kLatestStamp_ms &&
                std::abs(mapped) <= kLatestStamp_ms * 1000)) {
            if (stats.bad_stamps++ == 0 && o.log) {
              o.log(
                  fmt::format("{}: {} is stamped {} ms since the epoch: before 1970 or after "
                              "2200, refused (and counted)",
                              src.name, SeriesName(s.metric, s.labels), *s.timestamp_ms));
            }
            continue;
          }
          t = static_cast<int64_t>(std::llround(mapped));
        }
        const SamplePoint pt{t, s.value * it->second.to_base, rec.t_ms};
        store.Append(it->second.id, {&pt, 1});
        if (windows) windows->AddSample(it->second.id, pt);
        if (rollup) rollup->AddSample(it->second.rollup, pt);
        ++stats.samples;
      }
      st.failures = 0;
      st.due += wall_after(src.interval_s);
      if (st.due < done) st.due = done;  // fell behind: scrape again now, do not burst
    } else {
      ++stats.failed;
      ++st.failures;
      const double backoff =
          std::min(30.0, src.interval_s * std::pow(2.0, std::min(st.failures, 16)));
      st.due = done + wall_after(backoff);
      if (o.log) {
        o.log(fmt::format("{}: scrape failed ({}); retrying in {:g} s", src.name, rec.error,
                          backoff));
      }
    }
    store.RecordScrape(rec);
    unflushed = true;
  };
  auto loop = [&] {
    while (true) {
      auto next = std::min_element(
          states.begin(), states.end(),
          [](const SourceState& a, const SourceState& b) { return a.due < b.due; });
      // About to wait, or committed too long ago: the scrapes so far go in as one transaction.
      if (unflushed && (Wall::now() < next->due || Wall::now() - flushed_at >= kMaxCommitGap)) {
        flush();
      }
      // Sleep in short steps so a stop request is heard.
      while (Wall::now() < next->due) {
        if (o.stop && o.stop()) return;
        if (o.for_s > 0 && Wall::now() >= end) return;
        std::this_thread::sleep_until(
            std::min(next->due, Wall::now() + std::chrono::milliseconds(50)));
      }
      if (o.stop && o.stop()) return;
      if (o.for_s > 0 && Wall::now() >= end) return;

      // A source read slowly or not at all last time may hang up to its timeout: what the round
      // has read so far is committed first, so a stuck read holds none of it.
      if (unflushed && next->slow) flush();
      scrape(*next);
      if (o.commit_each_scrape) flush();
    }
  };
  loop();
  // Push sources (remote-write, MQTT) hold what arrived since their last read, already
  // acknowledged to the sender: one last read stores it.
  for (SourceState& st : states) {
    if (st.reader->Pushed()) scrape(st);
  }
  if (unflushed) flush();
  if (rollup) {
    rollup->Finish();
    store.Flush();
    stats.rollup_buckets = rollup->buckets_stored();
    stats.rollup_late = rollup->late();
    stats.rollup_ahead = rollup->ahead();
  }
  if (windows) {
    windows->Finish();
    store.Flush();
    stats.quality_windows = windows->windows_closed();
  }
  return stats;
}

}  // namespace firstwall::live

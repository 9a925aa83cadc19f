// The ingest loop: reads every source of a site map at its interval (reader.h: one reader per
// protocol), keeps the samples its bindings claim (converted to the quantity's base unit) and
// records every read ("scrape"), answered or not, in a Store. One thread; a source that fails is
// retried with exponential backoff (its interval doubled per failure, at most 30 s of site time)
// and never stops the others. Memory stays bounded: a body above `max_body_bytes` is refused
// mid-transfer, and samples go to the store after each scrape.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "live/site_map.h"
#include "live/store.h"

namespace firstwall::live {

struct IngestOptions {
  double for_s = 0;  // site time to run; 0: until `stop`
  // Site seconds per wall second, for an emulated site running faster than real time
  // (`firstwall emulate --speed`): sample times advance `speed` ms per wall ms from the start,
  // and sources are scraped every interval / speed of wall time.
  double speed = 1;
  size_t max_body_bytes = size_t{64} << 20;
  // Streams one source may create (a source flooding new label values would otherwise grow the
  // store's series without end); samples of further streams are counted as refused.
  size_t max_series_per_source = 100000;
  // Site seconds per quality window (quality_windows.h), scored and stored as ingest runs, with
  // the site map's balances; 0: none.
  double quality_window_s = 0;
  // Site seconds per bucket of the GPU rollups (gpu_rollup.h) kept for the twin against reality;
  // below 0: the shortest interval of the sources that GPU power or temperature bindings read;
  // 0: none.
  double gpu_rollup_s = -1;
  // Commit after every scrape instead of once per round of sources due together. SQLite wants
  // it: its write lock is held from a transaction's first row to its commit, so a round held open
  // across a slow read would lock `firstwall quality` out; its commits are cheap (WAL). A
  // PostgreSQL batch holds no lock until it is sent, and a commit costs a WAL flush.
  bool commit_each_scrape = false;
  std::function<bool()> stop;
  std::function<void(const std::string&)> log;  // one line per event worth telling (failures)
};

struct IngestStats {
  int64_t scrapes = 0, failed = 0, samples = 0, unbound = 0, rejected_lines = 0, series = 0;
  int64_t over_series_limit = 0;  // samples of streams beyond max_series_per_source
  int64_t dropped = 0;            // push sources: samples dropped by a full buffer
  int64_t quality_windows = 0;    // windows scored and stored
  // Samples of a stream bound to the same entity, id and quantity as another stream of its
  // source: refused, not mixed into that series.
  int64_t shared = 0;
  // GPU rollups: buckets stored, and samples left out of them (late for a closed bucket, or too
  // far ahead of their read).
  int64_t rollup_buckets = 0, rollup_late = 0, rollup_ahead = 0;
  // Samples whose own timestamp falls before 1970 or after 2200: refused.
  int64_t bad_stamps = 0;
};

IngestStats Ingest(const SiteMap& map, Store& store, const IngestOptions& options);

// `metric{a="1",b="2"}`: how a stream is named in the store and in messages.
std::string SeriesName(std::string_view metric, const std::vector<Label>& labels);

}  // namespace firstwall::live

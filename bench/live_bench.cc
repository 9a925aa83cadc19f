// The live twin's costs (docs/live.md): reading a scrape, writing samples into SQLite and
// PostgreSQL, scoring quality, the twin against reality. Issue #13's targets: a 10,000-GPU site at
// 1 s (about 150,000 samples/s) ingested in real time on one core, and a day of it scored and
// compared with the twin in under 60 s.
#include <libpq-fe.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <httplib.h>

#include <chrono>
#include <thread>

#include "live/gpu_rollup.h"
#include "live/ingest.h"
#include "live/prometheus_text.h"
#include "live/quality.h"
#include "live/site_map.h"
#include "live/store.h"
#include "live/store_buffer.h"
#include "live/twin_check.h"
#include "scenario/loader.h"

namespace {
using namespace firstwall::live;

// dcgm-exporter's four default GPU fields for `gpus` GPUs, 8 to a node.
std::string Exposition(int gpus) {
  std::string out;
  for (const char* m : {"DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
                        "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_GPU_UTIL"}) {
    out += fmt::format("# TYPE {} gauge\n", m);
    for (int g = 0; g < gpus; ++g) {
      out += FormatSampleLine(
                 m,
                 {{"gpu", std::to_string(g % 8)},
                  {"UUID", fmt::format("GPU-{:08x}-0000-4000-8000-{:012x}", g / 8, g % 8)},
                  {"device", fmt::format("nvidia{}", g % 8)},
                  {"modelName", "H100-SXM5-80GB"},
                  {"Hostname", fmt::format("node{}", g / 8)}},
                 512.25 + g) +
             "\n";
    }
  }
  return out;
}

void BM_ParseScrape(benchmark::State& state) {
  const std::string text = Exposition(static_cast<int>(state.range(0)));
  int64_t samples = 0;
  for (auto _ : state) {
    const PromText p = ParsePrometheusText(text);
    samples += static_cast<int64_t>(p.samples.size());
    benchmark::DoNotOptimize(p);
  }
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ParseScrape)->Arg(10000)->Unit(benchmark::kMillisecond);

// One scrape's worth of samples (range(0) streams, one sample each) per transaction.
void BM_SqliteAppend(benchmark::State& state) {
  const auto path =
      std::filesystem::temp_directory_path() / fmt::format("fw_live_bench_{}.db", getpid());
  std::filesystem::remove(path);
  auto store = OpenSqliteStore(path.string());
  const int streams = static_cast<int>(state.range(0));
  std::vector<int64_t> ids;
  for (int i = 0; i < streams; ++i) {
    ids.push_back(store->SeriesId({"gpu", std::to_string(i), "power", "W", "s", "m"}));
  }
  int64_t t = 0, samples = 0;
  for (auto _ : state) {
    t += 1000;
    for (int64_t id : ids) {
      const SamplePoint p{t, 500.0};
      store->Append(id, {&p, 1});
    }
    store->Flush();
    samples += streams;
  }
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
  store.reset();
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}
// 40,000: the streams of a 10,000-GPU site's dcgm-exporter default fields; 150,000: a scrape-sized
// batch of the issue's target rate (the samples of one second).
BENCHMARK(BM_SqliteAppend)->Arg(40000)->Arg(150000)->Unit(benchmark::kMillisecond);

// The same into PostgreSQL at FW_BENCH_PG_URL (scripts/bench-postgres starts a private server and
// sets it): one COPY and one commit per batch. The series are made in one statement first (the
// store's SeriesId makes one at a time, a round trip each).
void BM_PostgresAppend(benchmark::State& state) {
  const char* url = std::getenv("FW_BENCH_PG_URL");
  if (!url || !*url) {
    state.SkipWithError("FW_BENCH_PG_URL not set (scripts/bench-postgres sets it)");
    return;
  }
  static int run = 0;  // the function runs more than once per argument: fresh series each time
  auto store = OpenPostgresStore(url);
  const int streams = static_cast<int>(state.range(0));
  std::vector<int64_t> ids;
  std::string made_error;
  {
    PGconn* c = PQconnectdb(url);
    const std::string sql = fmt::format(
        "INSERT INTO series(entity, entity_id, quantity, unit, source, metric) SELECT 'gpu', "
        "g::text, 'power', 'W', 'bench-{}-{}', 'm' FROM generate_series(1, {}) g RETURNING id",
        getpid(), run++, streams);
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
      for (int i = 0; i < PQntuples(r); ++i) ids.push_back(std::atoll(PQgetvalue(r, i, 0)));
    } else {
      made_error = PQresultErrorMessage(r);
    }
    PQclear(r);
    PQfinish(c);
  }
  if (ids.size() != static_cast<size_t>(streams)) {
    state.SkipWithError(("could not make the series: " + made_error).c_str());
    return;
  }
  int64_t t = 0, samples = 0;
  for (auto _ : state) {
    t += 1000;
    for (int64_t id : ids) {
      const SamplePoint p{t, 500.0};
      store->Append(id, {&p, 1});
    }
    store->Flush();
    samples += streams;
  }
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PostgresAppend)->Arg(40000)->Arg(150000)->Unit(benchmark::kMillisecond)->UseRealTime();

// New series one at a time through SeriesId, as the ingest meets streams on its first scrape:
// a lookup and an insert, committed, per series.
void BM_PostgresSeriesId(benchmark::State& state) {
  const char* url = std::getenv("FW_BENCH_PG_URL");
  if (!url || !*url) {
    state.SkipWithError("FW_BENCH_PG_URL not set (scripts/bench-postgres sets it)");
    return;
  }
  static int run = 0;
  auto store = OpenPostgresStore(url);
  const std::string source = fmt::format("bench-ids-{}-{}", getpid(), run++);
  int64_t n = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        store->SeriesId({"gpu", std::to_string(n++), "power", "W", source, "m"}));
  }
  state.counters["series/s"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PostgresSeriesId)->Unit(benchmark::kMicrosecond)->UseRealTime();

// range(0) GPU power streams of an hour at 1 s, with their energy counters.
void BM_Quality(benchmark::State& state) {
  const int gpus = static_cast<int>(state.range(0));
  std::vector<StreamInput> in;
  for (int g = 0; g < gpus; ++g) {
    StreamInput p, e;
    p.series = {2 * g + 1, {"gpu", std::to_string(g), "power", "W", "s", "m"}};
    e.series = {2 * g + 2, {"gpu", std::to_string(g), "energy", "J", "s", "m"}};
    double energy = 0;
    for (int s = 0; s < 3600; ++s) {
      const double w = 500 + 100 * std::sin(s * 0.1 + g);
      p.samples.push_back({s * 1000, w});
      energy += w;
      e.samples.push_back({s * 1000, energy});
    }
    for (StreamInput* x : {&p, &e}) {
      x->interval_s = 1;
      x->window_end_ms = 3599000;
    }
    in.push_back(std::move(p));
    in.push_back(std::move(e));
  }
  for (auto _ : state) benchmark::DoNotOptimize(AssessQuality(in));
  state.counters["samples/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * gpus * 2 * 3600, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Quality)->Arg(100)->Unit(benchmark::kMillisecond);

// Quality over a day of a 10,000-GPU site (range(0) streams: 150,000 is 15 fields a GPU) from the
// rows ingest's quality windows stored (15 min each: 96 a stream), one in a hundred with reasons:
// reading them from SQLite and merging (`firstwall quality --windows`). Issue #13's target: a day
// in under 60 s.
void BM_QualityDay(benchmark::State& state) {
  const int streams = static_cast<int>(state.range(0));
  const auto path =
      std::filesystem::temp_directory_path() / fmt::format("fw_quality_day_{}.db", getpid());
  std::filesystem::remove(path);
  auto store = OpenSqliteStore(path.string());
  std::vector<SeriesInfo> series;
  for (int i = 0; i < streams; ++i) {
    const SeriesKey k{"gpu", std::to_string(i / 15), fmt::format("f{}", i % 15), "W", "s", "m"};
    series.push_back({store->SeriesId(k), k});
  }
  std::vector<QualityWindowRecord> rows;
  for (int b = 0; b < 96; ++b) {
    rows.clear();
    for (int i = 0; i < streams; ++i) {
      QualityWindowRecord w;
      w.series = series[static_cast<size_t>(i)].id;
      w.start_ms = int64_t{b} * 900000;
      w.end_ms = w.start_ms + 900000;
      w.score = {1, 1, 1, 1, 0.5};
      w.weight = {900, 900, 900, 900, 1};
      if (i % 100 == 0) {
        w.score[2] = 0.9;
        w.reasons[2] =
            R"(["stuck at 500 for 90 samples (+10 s..+100 s) while its siblings changed 40 times"])";
      }
      rows.push_back(std::move(w));
    }
    store->PutQualityWindows(rows);
    store->Flush();
  }
  for (auto _ : state) {
    WindowMerge merge;
    store->VisitQualityWindows(INT64_MIN, INT64_MAX,
                               [&](const QualityWindowRecord& w) { merge.Add(w); });
    const QualityReport r = merge.Report(store->Series());
    benchmark::DoNotOptimize(r);
  }
  state.counters["rows/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * streams * 96, benchmark::Counter::kIsRate);
  store.reset();
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}
BENCHMARK(BM_QualityDay)->Arg(150000)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

// dcgm-exporter's default GPU fields (its default-counters.csv: clocks, temperatures, power,
// energy, utilizations, memory, PCIe replays, XID errors, NVLink bandwidth; 15 per GPU) for `gpus`
// GPUs.
constexpr const char* kDefaultFields[] = {"DCGM_FI_DEV_SM_CLOCK",
                                          "DCGM_FI_DEV_MEM_CLOCK",
                                          "DCGM_FI_DEV_MEMORY_TEMP",
                                          "DCGM_FI_DEV_GPU_TEMP",
                                          "DCGM_FI_DEV_POWER_USAGE",
                                          "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
                                          "DCGM_FI_DEV_PCIE_REPLAY_COUNTER",
                                          "DCGM_FI_DEV_GPU_UTIL",
                                          "DCGM_FI_DEV_MEM_COPY_UTIL",
                                          "DCGM_FI_DEV_ENC_UTIL",
                                          "DCGM_FI_DEV_DEC_UTIL",
                                          "DCGM_FI_DEV_XID_ERRORS",
                                          "DCGM_FI_DEV_FB_FREE",
                                          "DCGM_FI_DEV_FB_USED",
                                          "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL"};

std::string DefaultFieldsExposition(int gpus, int nodes_from) {
  std::string out;
  for (const char* m : kDefaultFields) {
    out += fmt::format("# TYPE {} gauge\n", m);
    for (int g = 0; g < gpus; ++g) {
      const int node = nodes_from + g / 8;
      out +=
          FormatSampleLine(m,
                           {{"gpu", std::to_string(g % 8)},
                            {"UUID", fmt::format("GPU-{:08x}-0000-4000-8000-{:012x}", node, g % 8)},
                            {"device", fmt::format("nvidia{}", g % 8)},
                            {"modelName", "H100-SXM5-80GB"},
                            {"Hostname", fmt::format("node{}", node)}},
                           512.25 + g) +
          "\n";
    }
  }
  return out;
}

// The whole ingest path on one thread: HTTP scrapes of 10,000 GPUs' default fields (150,000
// samples a round) from `exporters` exporters (one for the site, or one per 10 nodes), bindings,
// the GPU rollups (gpu_rollup.h) and the store. Scrapes run back to back (interval 1 s at 1000x):
// samples/s, per CPU second of the ingest thread (the benchmark's own time), is what one core
// sustains; s/round (wall) is the lag a 1 s interval would see. A first run, not timed, makes the
// series.
// `commit_each_scrape` as `firstwall ingest` sets it: on for SQLite, off for PostgreSQL.
void IngestSite(benchmark::State& state, int exporters, Store& store, bool commit_each_scrape) {
  const int gpus = 10000 / exporters;
  std::vector<std::unique_ptr<httplib::Server>> servers;
  std::vector<std::thread> threads;
  std::string map = "firstwall_site_map: 1\nsources:\n";
  for (int e = 0; e < exporters; ++e) {
    auto srv = std::make_unique<httplib::Server>();
    const std::string body = DefaultFieldsExposition(gpus, e * gpus / 8);
    srv->Get("/metrics", [body](const httplib::Request&, httplib::Response& res) {
      res.set_content(body, "text/plain");
    });
    const int port = srv->bind_to_any_port("127.0.0.1");
    map += fmt::format(
        "  - {{name: e{}, kind: prometheus, url: \"http://127.0.0.1:{}/metrics\", "
        "interval: 1 s}}\n",
        e, port);
    threads.emplace_back([s = srv.get()] { s->listen_after_bind(); });
    servers.push_back(std::move(srv));
  }
  map += "bindings:\n";
  for (int e = 0; e < exporters; ++e) {
    for (const char* m : kDefaultFields) {
      const std::string_view f(m);
      const bool power = f == "DCGM_FI_DEV_POWER_USAGE", temp = f == "DCGM_FI_DEV_GPU_TEMP";
      map += fmt::format(
          "  - {{source: e{}, series: {}, entity: gpu, id: \"{{Hostname}}/gpu{{gpu}}{}\", "
          "quantity: {}, unit: \"{}\"}}\n",
          e, m, power || temp ? "" : fmt::format("/{}", m),
          power  ? "power"
          : temp ? "temperature"
                 : "utilization",
          power  ? "W"
          : temp ? "C"
                 : "%");
    }
  }
  const SiteMap site = ParseSiteMap(map, "bench-site-map.yaml");
  IngestOptions o;
  o.speed = 1000;
  o.for_s = 3000;  // 3 s of wall time, every source always due
  o.commit_each_scrape = commit_each_scrape;
  // The first scrapes make the 150,000 series: not the steady state measured.
  Ingest(site, store, o);
  int64_t samples = 0, rounds = 0, buckets = 0;
  double wall_s = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const IngestStats st = Ingest(site, store, o);
    samples += st.samples;
    rounds += st.scrapes;
    buckets += st.rollup_buckets;
    wall_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
  // Per wall second: with PostgreSQL the server's own work is in another process.
  state.counters["samples/wall-s"] = static_cast<double>(samples) / std::max(wall_s, 1e-9);
  // Wall time of one scrape of every exporter: the lag a 1 s interval would see.
  state.counters["s/round"] =
      wall_s * exporters / static_cast<double>(std::max<int64_t>(rounds, 1));
  state.counters["rollup buckets"] = static_cast<double>(buckets);
  for (auto& s : servers) s->stop();
  for (auto& t : threads) t.join();
}

void BM_IngestSite(benchmark::State& state) {
  const auto path =
      std::filesystem::temp_directory_path() / fmt::format("fw_ingest_bench_{}.db", getpid());
  std::filesystem::remove(path);
  auto store = OpenSqliteStore(path.string());
  IngestSite(state, static_cast<int>(state.range(0)), *store, true);
  store.reset();
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}
BENCHMARK(BM_IngestSite)->Arg(1)->Arg(100)->Unit(benchmark::kMillisecond)->Iterations(1);

// The same into PostgreSQL at FW_BENCH_PG_URL through the spool (store_buffer.h), as `firstwall
// ingest --db postgresql://... --spool FILE` runs: the 150,000 series are made on the first
// scrapes (ids reserved 1024 at a time), then one COPY and commit per round (at least one a wall
// second: with --speed 1000 every source is always due).
void BM_IngestSitePostgres(benchmark::State& state) {
  const char* url = std::getenv("FW_BENCH_PG_URL");
  if (!url || !*url) {
    state.SkipWithError("FW_BENCH_PG_URL not set (scripts/bench-postgres sets it)");
    return;
  }
  const auto spool =
      std::filesystem::temp_directory_path() / fmt::format("fw_ingest_bench_{}.spool", getpid());
  std::filesystem::remove(spool);
  BufferOptions b;
  b.spool_path = spool.string();
  b.store_name = "bench";
  BufferedStore store(OpenPostgresStore(url), b);
  IngestSite(state, static_cast<int>(state.range(0)), store, false);
  std::filesystem::remove(spool);
}
BENCHMARK(BM_IngestSitePostgres)->Arg(100)->Unit(benchmark::kMillisecond)->Iterations(1);

// The twin against reality over a day of a 10,000-GPU site at 1 s (bench/inference-fleet-10k.yaml;
// 86,400 steps): `firstwall compare`'s reading of the store, the twin's predictions and the
// judgement per hour. The GPU power and temperature come from ingest's rollups (2 series each
// instead of 10,000); the facility meters, the UPS stage and the outdoor air are 6 series of
// 86,400 samples. Issue #13's target: a day in under 60 s.
void BM_CompareDay(benchmark::State& state) {
  const auto sc = firstwall::scenario::LoadScenarioFile("bench/inference-fleet-10k.yaml");
  const int gpus = sc.site.cluster.gpu_count();
  const auto path =
      std::filesystem::temp_directory_path() / fmt::format("fw_compare_day_{}.db", getpid());
  std::filesystem::remove(path);
  auto store = OpenSqliteStore(path.string());
  store->PutSource({kRollupSource, kRollupKind, "", 1});
  for (int g = 0; g < gpus; ++g) {
    for (const char* q : {"power", "temperature"}) {
      store->SeriesId({"gpu", fmt::format("node{}/gpu{}", g / 8, g % 8), q, q[0] == 'p' ? "W" : "C",
                       "dcgm", "m"});
    }
  }
  const int64_t day0 = int64_t{1764547200} * 1000;  // 2025-12-01 00:00 UTC
  auto fill = [&](const SeriesKey& key, auto value) {
    std::vector<SamplePoint> v;
    for (int k = 0; k < 86400; ++k) v.push_back({day0 + int64_t{k} * 1000, value(k)});
    store->Append(store->SeriesId(key), v);
  };
  auto swing = [](int k) { return std::sin(k * 2 * M_PI / 3600); };
  auto it_w = [&](int k) { return gpus * (500 + 150 * swing(k)) + 1250 * 2500.0; };
  fill(RollupKey("power", false), [&](int k) { return gpus * (500 + 150 * swing(k)); });
  fill(RollupKey("power", true), [&](int) { return static_cast<double>(gpus); });
  fill(RollupKey("temperature", false), [&](int k) { return gpus * (40 + 5 * swing(k)); });
  fill(RollupKey("temperature", true), [&](int) { return static_cast<double>(gpus); });
  fill({"facility", "site", "power", "W", "meters", "f"}, [&](int k) { return 1.3 * it_w(k); });
  fill({"meter", "it-input", "power", "W", "meters", "i"}, [&](int k) { return 1.04 * it_w(k); });
  fill({"meter", "cooling", "power", "W", "meters", "c"},
       [&](int k) { return 5e5 + 1e5 * swing(k); });
  fill({"facility", "site", "pue", "ratio", "meters", "p"}, [&](int) { return 1.25; });
  fill({"ups", "ups", "power", "W", "meters", "u"}, [&](int k) { return 1.1 * it_w(k); });
  fill({"weather_station", "outdoor", "temperature", "C", "weather", "t"},
       [&](int k) { return 20 + 8 * std::sin(k * 2 * M_PI / 86400); });
  store->Flush();
  size_t steps = 0, fits = 0;
  for (auto _ : state) {
    const MeasuredSite m = AssembleMeasured(*store, sc.site, {});
    const auto predicted = PredictSignals(sc.site, m);
    for (const Window& w : SplitWindows(m, 3600)) {
      fits += JudgeWindow(m, predicted, w, {}).size();
    }
    steps += m.t_ms.size();
    if (m.gpu_from.rfind("rollup", 0) != 0) state.SkipWithError(m.gpu_from.c_str());
  }
  state.counters["steps/s"] =
      benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate);
  state.counters["signal-hours"] = static_cast<double>(fits);
  store.reset();
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}
BENCHMARK(BM_CompareDay)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

// The live twin's commands (docs/live.md):
//   firstwall emulate [SCENARIO] [--speed N] [--listen HOST:PORT] [--fault KIND:TARGET:FROM:TO ...]
//                     [--modbus HOST:PORT] [--redfish HOST:PORT] [--snmp-agentx SOCKET]
//   firstwall ingest SITE_MAP --db FILE|URL [--spool FILE] [--for DURATION] [--speed N]
//                    [--quality-window DURATION] [--gpu-rollup DURATION]
//   firstwall quality --db FILE|URL [--site-map MAP | --windows] [--json] [--out DIR]
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "apps/firstwall/commands.h"
#include "apps/firstwall/duration_option.h"
#include "apps/firstwall/scenario_arg.h"
#include "live/emulator.h"
#include "live/ingest.h"
#include "live/listen_address.h"
#include "live/modbus_server.h"
#include "live/mqtt_server.h"
#include "live/quality.h"
#include "live/redfish.h"
#include "live/site_map.h"
#include "live/snmp_server.h"
#include "live/store.h"
#include "live/store_buffer.h"
#include "report/output_set.h"
#include "report/outputs.h"
#include "report/text_format.h"
#include "units/parse.h"

namespace firstwall::cli {
namespace {

// SIGINT and SIGTERM end emulate and ingest cleanly: the store is flushed, the server stopped.
volatile std::sig_atomic_t g_stop = 0;
void OnStop(int) { g_stop = 1; }
struct StopOnSignals {
  StopOnSignals() {
    g_stop = 0;
    std::signal(SIGINT, OnStop);
    std::signal(SIGTERM, OnStop);
  }
  ~StopOnSignals() {
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
  }
};

CLI::Validator PositiveSpeed() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        try {
          size_t used = 0;
          const double v = std::stod(text, &used);
          if (used == text.size() && v > 0 && v <= 1e6) return {};
        } catch (const std::exception&) {  // NOLINT: the message below says it
        }
        return fmt::format(
            "expected a number above 0 and at most 1e6 (simulated seconds per wall second), "
            "got '{}'",
            text);
      },
      "");
}

struct EmulateArgs {
  std::string scenario;
  std::vector<std::string> sets, faults;
  double speed = 1;
  std::string listen = "127.0.0.1:9400";
  std::string modbus;       // HOST:PORT of the Modbus TCP server; "" for none
  std::string redfish;      // HOST:PORT of the emulated BMCs, when given
  std::string snmp_agentx;  // --snmp-agentx SOCKET: serve SNMP through that snmpd
  std::string mqtt;         // broker URL; "" = none
};

int Emulate(const EmulateArgs& a) {
  std::vector<live::FaultSpec> faults;
  for (const std::string& f : a.faults) faults.push_back(live::ParseFault(f));
  live::EmulateOptions o;
  o.speed = a.speed;
  o.faults = faults;
  const live::ListenAddress listen =
      live::ParseListenAddress(a.listen, "--listen", "127.0.0.1:9400");
  o.host = listen.host;
  o.port = listen.port;
  scenario::Scenario sc = LoadScenarioArg(a.scenario, a.sets);
  live::CheckFaultTargets(sc.site, faults);
  // The other protocols (emulator.h's TelemetryServer), listening before the start-up lines.
  std::vector<std::unique_ptr<live::TelemetryServer>> servers;
  if (!a.modbus.empty()) {
    std::vector<std::string> stages;
    for (const auto& stage : sc.site.facility.power_chain) stages.push_back(stage.name);
    auto modbus = std::make_unique<live::ModbusServer>(
        a.modbus, stages, "--modbus", units::ToCelsius(sc.site.facility.cooling.liquid_supply));
    // The coolant supply setpoint written to holding register 200 steers the emulation.
    o.coolant_setpoint_c = [m = modbus.get()] { return m->coolant_setpoint_c(); };
    servers.push_back(std::move(modbus));
  }
  if (!a.redfish.empty()) {
    servers.push_back(live::StartRedfishServer(a.redfish, sc.site.cluster.nodes));
  }
  if (!a.snmp_agentx.empty()) servers.push_back(live::StartSnmpAgentx(a.snmp_agentx));
  if (!a.mqtt.empty()) servers.push_back(live::StartMqttPublisher(a.mqtt, sc.site.name));
  for (const auto& s : servers) o.servers.push_back(s.get());
  StopOnSignals signals;
  o.stop = [] { return g_stop != 0; };
  o.on_listen = [&](int port) {
    std::cout << fmt::format(
                     "serving http://{}/metrics: {} GPUs, {:g} x real time, {} "
                     "fault(s)",
                     live::HostPort(o.host, port), sc.site.cluster.gpu_count(), a.speed,
                     faults.size())
              << std::endl;
    for (const live::TelemetryServer* s : o.servers) {
      std::cout << "serving " << s->Describe() << std::endl;
    }
  };
  const live::EmulateResult r = live::Emulate(sc.site, sc.file, o);
  for (const auto& s : servers) s->Stop();
  std::cout << fmt::format("emulated {:g} s in {} ticks{}; served {} scrapes", r.simulated_s,
                           r.ticks, r.stopped ? " (stopped)" : "", r.scrapes)
            << std::endl;
  return kOk;
}

// One ingest per SQLite store: two would interleave their scrapes and each its own quality windows
// and rollups. An flock on the store file, held until the store is closed (flock and SQLite's
// fcntl locks do not meet on Linux; the descriptor is closed only after the store's, since closing
// any descriptor of the file would drop SQLite's fcntl locks) and dropped with the process.
class IngestLock {
 public:
  IngestLock() = default;
  IngestLock(const IngestLock&) = delete;
  IngestLock& operator=(const IngestLock&) = delete;
  ~IngestLock() {
    if (fd_ >= 0) close(fd_);
  }
  void Take(const std::string& path) {
    fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ >= 0 && flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      throw InputError({path, 0, 0}, "another firstwall ingest is writing to this store",
                       "one ingest per store: stop the other, or give this one another --db");
    }
  }

 private:
  int fd_ = -1;
};

struct IngestArgs {
  std::string site_map, db, for_text, spool, spool_limit = "1 GiB", quality_window = "1 min",
                                             gpu_rollup = "auto";
  double speed = 1;
  bool quiet = false;
};

int Ingest(const IngestArgs& a) {
  const live::SiteMap map = live::LoadSiteMap(a.site_map);
  live::IngestOptions o;
  o.speed = a.speed;
  if (!a.for_text.empty()) o.for_s = DurationOption("--for", a.for_text, false);
  o.quality_window_s = DurationOption("--quality-window", a.quality_window, true);
  // Shorter windows score too few samples to say anything, and store a row per stream each time.
  if (o.quality_window_s > 0 && o.quality_window_s < 1) {
    throw InputError({"--quality-window", 0, 0},
                     fmt::format("'{}' is shorter than 1 s", a.quality_window),
                     "a window of at least 1 s (1 min unless told), or 0 for none");
  }
  if (a.gpu_rollup != "auto") {
    o.gpu_rollup_s = DurationOption("--gpu-rollup", a.gpu_rollup, true);
    if (o.gpu_rollup_s > 0 && o.gpu_rollup_s < 0.1) {
      throw InputError({"--gpu-rollup", 0, 0},
                       fmt::format("'{}' is shorter than 100 ms", a.gpu_rollup),
                       "auto (the GPU sources' shortest interval), a duration of at least "
                       "100 ms, or 0 for none");
    }
  }
  if (a.db.empty()) {
    throw InputError({"--db", 0, 0}, "an empty path names no store",
                     "an SQLite file (created when absent) or a postgresql:// URL");
  }
  IngestLock lock;  // declared first: released after the store is closed
  std::unique_ptr<live::Store> store;
  live::BufferedStore* buffered = nullptr;
  if (live::IsPostgresUrl(a.db)) {
    if (a.spool.empty()) {
      throw InputError({"--spool", 0, 0},
                       "a PostgreSQL --db needs --spool FILE: where batches wait while the "
                       "database cannot be reached",
                       "a file on local disk, one per ingest; it is created when absent");
    }
    live::BufferOptions b;
    b.spool_path = a.spool;
    b.store_name = live::RedactUrl(a.db);
    try {
      b.spool_limit_bytes =
          std::llround(units::ParseBase(a.spool_limit, units::Dimension::kDataSize));
    } catch (const units::UnitParseError& e) {
      throw InputError({"--spool-limit", 0, 0}, fmt::format("'{}': {}", a.spool_limit, e.what()),
                       e.hint());
    }
    if (b.spool_limit_bytes < 1) {
      throw InputError({"--spool-limit", 0, 0},
                       fmt::format("'{}' is not a positive size", a.spool_limit));
    }
    // Outages and drops are told even with --quiet: they are about the data, not the sources.
    b.log = [](const std::string& line) { std::cerr << "ingest: " << line << "\n"; };
    auto opened = std::make_unique<live::BufferedStore>(live::OpenPostgresStore(a.db), b);
    buffered = opened.get();
    store = std::move(opened);
  } else {
    if (!a.spool.empty()) {
      throw InputError({"--spool", 0, 0}, "only for a PostgreSQL --db (postgresql://...)",
                       "an SQLite store is a local file: nothing to wait for");
    }
    store = live::OpenSqliteStore(a.db);
    lock.Take(a.db);
    o.commit_each_scrape = true;  // see IngestOptions
  }
  StopOnSignals signals;
  o.stop = [] { return g_stop != 0; };
  if (!a.quiet) o.log = [](const std::string& line) { std::cerr << "ingest: " << line << "\n"; };
  const live::IngestStats s = live::Ingest(map, *store, o);
  store->Flush();
  // What waits in the spool gets a last chance (the database may be on its way back); a signal
  // now leaves it for the next run.
  constexpr double kDrainWait_s = 30;
  bool drained = true;
  if (buffered) {
    if (buffered->waiting() > 0) {
      g_stop = 0;
      std::cerr << fmt::format(
                       "ingest: {} spooled sample(s) wait for the database: trying for up to "
                       "{:g} s (SIGINT/SIGTERM leaves them in {} for the next run)",
                       buffered->waiting(), kDrainWait_s, a.spool)
                << std::endl;
      drained = buffered->Drain(kDrainWait_s, [] { return g_stop != 0; });
    }
  }
  std::cout << fmt::format(
      "{} scrapes ({} failed), {} samples in {} series, {} unbound samples, {} malformed "
      "lines{}{}{}{}; {} quality windows; {} GPU rollup buckets{}; store {}\n",
      s.scrapes, s.failed, s.samples, s.series, s.unbound, s.rejected_lines,
      s.over_series_limit ? fmt::format(", {} samples over the series limit", s.over_series_limit)
                          : std::string(),
      s.dropped ? fmt::format(", {} samples dropped by full buffers", s.dropped) : std::string(),
      s.shared ? fmt::format(", {} samples refused: their stream shares an entity, id and quantity "
                             "with another",
                             s.shared)
               : std::string(),
      s.bad_stamps
          ? fmt::format(", {} samples refused: stamped before 1970 or after 2200", s.bad_stamps)
          : std::string(),
      s.quality_windows, s.rollup_buckets,
      s.rollup_late || s.rollup_ahead
          ? fmt::format(" ({} samples too late for them, {} too far ahead)", s.rollup_late,
                        s.rollup_ahead)
          : std::string(),
      live::RedactUrl(a.db));
  if (buffered) {
    const live::BufferStats& b = buffered->stats();
    std::cout << fmt::format(
        "spool {}: {} outage(s), {} samples spooled, {} replayed, {} dropped (spool full), {} "
        "waiting\n",
        a.spool, b.outages, b.spooled_samples, b.replayed_samples, b.dropped_samples,
        b.waiting_samples);
    if (!drained) {
      std::cout << fmt::format(
          "{} samples wait in {}: the next firstwall ingest with --spool {} replays them first\n",
          b.waiting_samples, a.spool, a.spool);
    }
  }
  return kOk;
}

struct QualityArgs {
  std::string db, out, site_map;
  bool json = false, windows = false;
};

int Quality(const QualityArgs& a) {
  std::vector<live::Balance> balances;
  if (!a.site_map.empty()) balances = live::LoadSiteMap(a.site_map).balances;
  auto store = live::OpenExistingStore(a.db);
  live::QualityReport r;
  if (a.windows) {
    if (!a.site_map.empty()) {
      throw InputError({"--site-map", 0, 0},
                       "--windows merges scores ingest stored, balances included: no site map",
                       "give the site map to ingest instead");
    }
    live::WindowMerge merge;
    int64_t rows = 0;
    store->VisitQualityWindows(INT64_MIN, INT64_MAX, [&](const live::QualityWindowRecord& w) {
      merge.Add(w);
      ++rows;
    });
    if (rows == 0) {
      throw InputError({a.db, 0, 0}, "no quality windows in the store",
                       "firstwall ingest stores them (--quality-window, 1 min unless 0)");
    }
    r = merge.Report(store->Series());
  } else {
    r = live::AssessQuality(live::StreamsOf(*store), balances);
  }
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  store->PutQuality(now_ms, live::QualityRecords(r));
  const std::string json = txt::json_text(live::QualityJson(r)) + "\n";
  const std::string text = live::QualityText(r);
  if (!a.out.empty()) {
    report::OutputSet outputs(a.out, {"quality.json", "quality.txt"});
    for (const auto& [name, body] : {std::pair{"quality.json", &json}, {"quality.txt", &text}}) {
      report::AtomicFile f(outputs.Stage(name));
      f.Write(*body);
      f.Commit();
    }
    outputs.Commit();
  }
  std::cout << (a.json ? json : text);
  return kOk;
}

}  // namespace

Action RegisterEmulate(CLI::App& app) {
  auto a = std::make_shared<EmulateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "emulate",
      "Run a scenario paced against the wall clock and serve its telemetry at "
      "http://HOST:PORT/metrics in Prometheus text format, with dcgm-exporter's field names "
      "(docs/live.md); ends with the simulation or on SIGINT/SIGTERM");
  cmd->add_option("scenario", a->scenario, "Scenario YAML file (default: the built-in scenario)")
      ->check(NonEmptyScenarioPath());
  AddSetOption(cmd, a->sets);
  cmd->add_option("--speed", a->speed, "Simulated seconds per wall second")
      ->check(PositiveSpeed())
      ->capture_default_str();
  cmd->add_option("--listen", a->listen,
                  "HOST:PORT to serve on (loopback by default; port 0: any free port, printed)")
      ->capture_default_str();
  cmd->add_option("--mqtt", a->mqtt,
                  "Also publish the building-management values (cooling plant, temperatures, "
                  "weather) each tick to the MQTT broker at mqtt://HOST[:PORT] (docs/live.md)");
  cmd->add_option(
      "--snmp-agentx", a->snmp_agentx,
      "Also serve the UPS and power stages over SNMP as an AgentX subagent of the snmpd "
      "whose agentXSocket is SOCKET (docs/live.md, SNMP)");
  cmd->add_option(
         "--fault", a->faults,
         fmt::format("KIND:TARGET:FROM:TO, repeatable: KIND one of {}", live::FaultKinds()) +
             "; TARGET a metric with label matchers; FROM and TO simulated times (30s)")
      ->allow_extra_args(false);
  cmd->add_option("--modbus", a->modbus,
                  "Also serve the facility meters over Modbus TCP on HOST:PORT (an IPv4 address; "
                  "port 0: any free port, printed; register map in docs/live.md)");
  cmd->add_option("--redfish", a->redfish,
                  "Also serve each node's Redfish Power and Thermal at http://HOST:PORT/redfish/v1 "
                  "(port 0: any free port, printed)");
  return [a] { return Emulate(*a); };
}

Action RegisterIngest(CLI::App& app) {
  auto a = std::make_shared<IngestArgs>();
  CLI::App* cmd = app.add_subcommand(
      "ingest",
      "Scrape the sources of a site map at their intervals and store the bound streams in an "
      "SQLite file or a PostgreSQL database (docs/live.md); runs until --for has passed or "
      "SIGINT/SIGTERM");
  cmd->add_option("site_map", a->site_map, "Site map YAML file")->required();
  cmd->add_option("--db", a->db,
                  "SQLite file (created when absent) or PostgreSQL URL "
                  "postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME (tables created when absent; "
                  "needs --spool)")
      ->required();
  cmd->add_option("--spool", a->spool,
                  "For a PostgreSQL --db: the file where batches wait while the database cannot "
                  "be reached, replayed in order when it answers (created when absent)");
  cmd->add_option("--spool-limit", a->spool_limit,
                  "Largest the spool may grow (\"512 MiB\"); samples beyond it are dropped and "
                  "counted")
      ->capture_default_str();
  cmd->add_option("--for", a->for_text, "How long to run, in site time (\"10 min\")");
  cmd->add_option("--quality-window", a->quality_window,
                  "Score quality every window of site time as samples arrive and store it, for "
                  "'firstwall quality --windows'; 0: do not")
      ->capture_default_str();
  cmd->add_option("--gpu-rollup", a->gpu_rollup,
                  "Bucket of the GPU power and temperature rollups 'firstwall compare' reads "
                  "instead of every GPU's samples: auto (the GPU sources' shortest interval), a "
                  "duration, or 0 for none")
      ->capture_default_str();
  cmd->add_option("--speed", a->speed,
                  "Site seconds per wall second, for a site emulated faster than real time")
      ->check(PositiveSpeed())
      ->capture_default_str();
  cmd->add_flag("--quiet", a->quiet, "Do not log failed scrapes and malformed lines");
  return [a] { return Ingest(*a); };
}

Action RegisterQuality(CLI::App& app) {
  auto a = std::make_shared<QualityArgs>();
  CLI::App* cmd = app.add_subcommand(
      "quality",
      "Score every stream and entity of a store on timeliness, completeness, consistency, "
      "accuracy and resolution (0-1, with reasons; docs/live.md); stores the scores");
  cmd->add_option("--db", a->db,
                  "Store written by firstwall ingest: SQLite file or PostgreSQL URL "
                  "postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME")
      ->required();
  cmd->add_flag("--json", a->json, "Print quality.json instead of the table");
  cmd->add_option("--out", a->out, "Also write DIR/quality.json and DIR/quality.txt");
  cmd->add_option("--site-map", a->site_map,
                  "The site map, for its balances (a meter against the meters it feeds)");
  cmd->add_flag("--windows", a->windows,
                "Merge the quality windows ingest stored instead of reading every sample again "
                "(fast over long spans; docs/live.md)");
  return [a] { return Quality(*a); };
}

}  // namespace firstwall::cli

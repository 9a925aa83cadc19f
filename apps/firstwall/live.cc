// The live twin's commands (docs/live.md):
//   firstwall emulate [SCENARIO] [--speed N] [--listen HOST:PORT] [--fault KIND:TARGET:FROM:TO ...]
//   firstwall ingest SITE_MAP --db FILE [--for DURATION] [--speed N]
//   firstwall quality --db FILE [--json] [--out DIR]
#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "apps/firstwall/commands.h"
#include "apps/firstwall/scenario_arg.h"
#include "live/emulator.h"
#include "live/ingest.h"
#include "live/mqtt_server.h"
#include "live/quality.h"
#include "live/site_map.h"
#include "live/store.h"
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
  std::string mqtt;  // broker URL; "" = none
};

int Emulate(const EmulateArgs& a) {
  std::vector<live::FaultSpec> faults;
  for (const std::string& f : a.faults) faults.push_back(live::ParseFault(f));
  const size_t colon = a.listen.rfind(':');
  live::EmulateOptions o;
  o.speed = a.speed;
  o.faults = faults;
  bool port_ok = colon != std::string::npos && colon > 0 && colon + 1 < a.listen.size() &&
                 a.listen.find_first_not_of("0123456789", colon + 1) == std::string::npos &&
                 a.listen.size() - colon - 1 <= 5;
  if (port_ok) {
    o.host = a.listen.substr(0, colon);
    o.port = std::stoi(a.listen.substr(colon + 1));
    port_ok = o.port <= 65535;
  }
  if (!port_ok) {
    throw InputError({"--listen", 0, 0}, fmt::format("'{}' is not HOST:PORT", a.listen),
                     "for example 127.0.0.1:9400; port 0 takes any free port");
  }
  scenario::Scenario sc = LoadScenarioArg(a.scenario, a.sets);
  std::unique_ptr<live::TelemetryServer> mqtt;
  if (!a.mqtt.empty()) mqtt = live::StartMqttPublisher(a.mqtt, sc.site.name);
  if (mqtt) o.servers.push_back(mqtt.get());
  StopOnSignals signals;
  o.stop = [] { return g_stop != 0; };
  o.on_listen = [&](int port) {
    std::cout << fmt::format(
                     "serving http://{}:{}/metrics: {} GPUs, {:g} x real time, {} "
                     "fault(s)",
                     o.host, port, sc.site.cluster.gpu_count(), a.speed, faults.size())
              << std::endl;
    for (const live::TelemetryServer* s : o.servers)
      std::cout << "publishing " << s->Describe() << std::endl;
  };
  const live::EmulateResult r = live::Emulate(sc.site, sc.file, o);
  for (live::TelemetryServer* s : o.servers) s->Stop();
  std::cout << fmt::format("emulated {:g} s in {} ticks{}; served {} scrapes", r.simulated_s,
                           r.ticks, r.stopped ? " (stopped)" : "", r.scrapes)
            << std::endl;
  return kOk;
}

struct IngestArgs {
  std::string site_map, db, for_text;
  double speed = 1;
  bool quiet = false;
};

int Ingest(const IngestArgs& a) {
  const live::SiteMap map = live::LoadSiteMap(a.site_map);
  live::IngestOptions o;
  o.speed = a.speed;
  if (!a.for_text.empty()) {
    try {
      o.for_s = units::ParseBase(a.for_text, units::Dimension::kDuration);
    } catch (const units::UnitParseError& e) {
      throw InputError({"--for", 0, 0}, fmt::format("'{}': {}", a.for_text, e.what()), e.hint());
    }
    if (!(o.for_s > 0)) {
      throw InputError({"--for", 0, 0}, fmt::format("'{}' is not a positive duration", a.for_text));
    }
  }
  auto store = live::OpenSqliteStore(a.db);
  StopOnSignals signals;
  o.stop = [] { return g_stop != 0; };
  if (!a.quiet) o.log = [](const std::string& line) { std::cerr << "ingest: " << line << "\n"; };
  const live::IngestStats s = live::Ingest(map, *store, o);
  store->Flush();
  std::cout << fmt::format(
      "{} scrapes ({} failed), {} samples in {} series, {} unbound samples, {} malformed "
      "lines{}; store {}\n",
      s.scrapes, s.failed, s.samples, s.series, s.unbound, s.rejected_lines,
      s.over_series_limit ? fmt::format(", {} samples over the series limit", s.over_series_limit)
                          : std::string(),
      a.db);
  return kOk;
}

struct QualityArgs {
  std::string db, out;
  bool json = false;
};

int Quality(const QualityArgs& a) {
  if (const std::string why = scenario::FileProblem(a.db); !why.empty()) {
    throw InputError({a.db, 0, 0}, fmt::format("no store: the file {}", why),
                     "firstwall ingest SITE_MAP --db FILE fills one");
  }
  auto store = live::OpenSqliteStore(a.db);
  const live::QualityReport r = live::AssessQuality(live::StreamsOf(*store));
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
         "--fault", a->faults,
         fmt::format("KIND:TARGET:FROM:TO, repeatable: KIND one of {}", live::FaultKinds()) +
             "; TARGET a metric with label matchers; FROM and TO simulated times (30s)")
      ->allow_extra_args(false);
  return [a] { return Emulate(*a); };
}

Action RegisterIngest(CLI::App& app) {
  auto a = std::make_shared<IngestArgs>();
  CLI::App* cmd = app.add_subcommand(
      "ingest",
      "Scrape the sources of a site map at their intervals and store the bound streams in an "
      "SQLite file (docs/live.md); runs until --for has passed or SIGINT/SIGTERM");
  cmd->add_option("site_map", a->site_map, "Site map YAML file")->required();
  cmd->add_option("--db", a->db, "SQLite store (created when absent)")->required();
  cmd->add_option("--for", a->for_text, "How long to run, in site time (\"10 min\")");
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
  cmd->add_option("--db", a->db, "SQLite store written by firstwall ingest")->required();
  cmd->add_flag("--json", a->json, "Print quality.json instead of the table");
  cmd->add_option("--out", a->out, "Also write DIR/quality.json and DIR/quality.txt");
  return [a] { return Quality(*a); };
}

}  // namespace firstwall::cli

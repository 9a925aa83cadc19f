// firstwall validate SCENARIO
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "apps/firstwall/commands.h"
#include "apps/firstwall/scenario_arg.h"
#include "hardware/torus.h"
#include "report/outputs.h"
#include "units/parse.h"

namespace firstwall::cli {
namespace {

// "1 rack", "3 racks"; `plural` for irregular words.
std::string Count(long long n, const std::string& one, const std::string& plural = "") {
  return fmt::format("{} {}", n, n == 1 ? one : (plural.empty() ? one + "s" : plural));
}

// One line: what the scenario builds and runs, with the same loader as `run`.
std::string Describe(const scenario::Scenario& sc) {
  const site::SiteConfig& s = sc.site;
  long long job_gpus = 0;
  for (const site::JobConfig& j : s.jobs) {
    job_gpus += static_cast<long long>(j.setup.tp) * j.setup.pp * j.setup.cp * j.setup.dp;
  }
  long long replicas = 0, service_gpus = 0;
  for (const site::ServiceConfig& v : s.services) {
    replicas += v.setup.replicas;
    service_gpus +=
        static_cast<long long>(v.setup.replicas) * workload::ReplicaGpus(v.setup.replica);
  }
  std::string line = fmt::format(
      "{}: ok: '{}', {} x {} in {} and {}; ", sc.file, s.name, s.cluster.gpu_count(),
      s.cluster.gpu.name, Count(s.cluster.nodes, "node"), Count(s.cluster.rack_count(), "rack"));
  if (!s.cluster.torus_dims.empty()) {
    line.insert(line.size() - 2,
                fmt::format(", a {}{} ICI torus", hardware::TorusDimsText(s.cluster.torus_dims),
                            s.cluster.torus_twisted ? " twisted" : ""));
  }
  line += Count(static_cast<long long>(s.jobs.size()), "training job");
  if (!s.jobs.empty()) line += " on " + Count(job_gpus, "GPU");
  line += ", " + Count(static_cast<long long>(s.services.size()), "service");
  if (!s.services.empty()) {
    line += " of " + Count(replicas, "replica") + " on " + Count(service_gpus, "GPU");
  }
  if (s.life) {
    // The queue: its trace jobs and failures (the workloads are in it too).
    const long long traced = static_cast<long long>(s.life->jobs.size() - s.jobs.size());
    line += ", through a queue";
    if (traced > 0) line += " with " + Count(traced, "trace job");
    line += s.life->failures || !s.life->scripted.empty() ? ", failures on" : ", no failures";
  }
  // ns / 1e9 is exact for whole seconds; SimTime::seconds() multiplies by 1e-9, which is not,
  // and a year read "3.1536e+16 ns".
  line += "; " + units::Format(units::Seconds(static_cast<double>(s.duration.ns()) / 1e9)) +
          " simulated";
  return line;
}

}  // namespace

Action RegisterValidate(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto sets = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = app.add_subcommand(
      "validate", "Check a scenario without running it; errors name file:line:col (exit 2)");
  cmd->add_option("scenario", *path, "Scenario YAML file")
      ->required()
      ->check(NonEmptyScenarioPath(false));
  AddSetOption(cmd, *sets);
  return [path, sets] {
    const scenario::Scenario sc = LoadScenarioArg(*path, *sets);
    // As `run` with its default --hot-links.
    report::CheckTimeSeriesSize(sc.site.duration.seconds(), sc.output_interval.seconds(), 3,
                                sc.max_output_bytes, sc.output_at);
    std::cout << Describe(sc) << "\n";
    for (const std::string& w : sc.site.warnings) std::cout << "warning: " << w << "\n";
    return kOk;
  };
}

}  // namespace firstwall::cli

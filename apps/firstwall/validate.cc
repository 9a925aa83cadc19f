// firstwall validate SCENARIO
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "apps/firstwall/commands.h"
#include "apps/firstwall/scenario_arg.h"
#include "report/outputs.h"

namespace firstwall::cli {

Action RegisterValidate(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "validate", "Check a scenario without running it; errors name file:line:col (exit 2)");
  cmd->add_option("scenario", *path, "Scenario YAML file")->required();
  return [path] {
    const scenario::Scenario sc = LoadScenarioArg(*path);
    // As `run` with its default --hot-links.
    report::CheckTimeSeriesSize(sc.site.duration.seconds(), sc.output_interval.seconds(), 3,
                                sc.max_output_bytes, sc.output_at);
    std::cout << fmt::format("{}: ok: '{}', {} x {} in {} nodes, {} workload(s), {:g} h\n", sc.file,
                             sc.site.name, sc.site.cluster.gpu_count(), sc.site.cluster.gpu.name,
                             sc.site.cluster.nodes, sc.site.jobs.size(),
                             sc.site.duration.seconds() / 3600);
    return kOk;
  };
}

}  // namespace firstwall::cli

// firstwall reliability: expected interruptions of a synchronous training job, the checkpoint
// interval that minimises their cost, and the effective training time ratio (ETTR) it leaves.
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "apps/firstwall/catalog_args.h"
#include "apps/firstwall/commands.h"
#include "reliability/checkpoint.h"
#include "reliability/failure_table.h"
#include "report/text_format.h"
#include "scenario/reader.h"
#include "scenario/schema.h"

namespace firstwall::cli {
namespace {
using namespace units;

// Defaults a reader must see: printed with every result, never applied silently.
constexpr const char* kDefaultWrite = "90 s";
constexpr const char* kDefaultRestart = "10 min";

struct ReliabilityOptions {
  std::string gpus, days, gpu = "H100-SXM5-80GB", gpus_per_node = "8";
  std::string write = kDefaultWrite, every, restart = kDefaultRestart;
  bool json = false;
  bool write_given = false, restart_given = false;  // set from the parsed command line
};

const scenario::Schema& OptionSchema() {
  using scenario::ValueType;
  static const scenario::Schema schema(
      "reliability options",
      {{"gpus", ValueType::kInt, Dimension::kPower, true, "", "1", "2147483647", "",
        "GPUs of the job (one synchronous job on all of them)."},
       {"days", ValueType::kNumber, Dimension::kPower, true, "", "0.001", "36500", "",
        "Length of the run in days."},
       {"checkpoint_write", ValueType::kQuantity, Dimension::kDuration, false, kDefaultWrite,
        "1 ms", "30 d", "", "Time the job is blocked writing one checkpoint."},
       {"checkpoint_every", ValueType::kQuantity, Dimension::kDuration, false, "", "1 s", "3650 d",
        "", "Compute time between checkpoints; default: Daly's optimum."},
       {"restart", ValueType::kQuantity, Dimension::kDuration, false, kDefaultRestart, "0 s",
        "30 d", "",
        "Time from an interruption to training again: detection, rescheduling, "
        "reload and warm-up."}});
  return schema;
}

int RunReliability(const ReliabilityOptions& o) {
  const scenario::Schema& schema = OptionSchema();
  const int gpus = scenario::OptionValue(schema, "gpus", "--gpus", o.gpus).Int();
  const double days = scenario::OptionValue(schema, "days", "--days", o.days).Number();
  const hardware::GpuSpec gpu = GpuArg(o.gpu);
  const int per_node = scenario::OptionValue(scenario::ScenarioSchema(), "cluster.gpus_per_node",
                                             "--gpus-per-node", o.gpus_per_node)
                           .Int();
  const double write_s =
      scenario::OptionValue(schema, "checkpoint_write", "--checkpoint-write", o.write)
          .Quantity<Duration>()
          .base();
  const double restart_s =
      scenario::OptionValue(schema, "restart", "--restart", o.restart).Quantity<Duration>().base();
  const reliability::FailureTable& table = reliability::Llama3FailureTable();
  const int per = std::min(per_node, gpus);  // a cluster smaller than a node is one node
  const auto nodes = static_cast<int64_t>(
      reliability::ComponentsPerCluster(reliability::Component::kHost, gpus, per));
  const reliability::InterruptionForecast f = reliability::Forecast(table, gpus, per, days);
  const double mtbi_s = 3600 * f.mtbi_h;
  const double daly_s = reliability::DalyIntervalS(write_s, mtbi_s);
  const bool given = !o.every.empty();
  const double interval_s =
      given ? scenario::OptionValue(schema, "checkpoint_every", "--checkpoint-every", o.every)
                  .Quantity<Duration>()
                  .base()
            : daly_s;
  const double ettr = reliability::DalyEttr(interval_s, write_s, restart_s, mtbi_s);
  // Other GPUs than the table's get the same rates, and the output says so.
  const bool measured_gpu = gpu.name == table.gpu;
  if (o.json) {
    nlohmann::ordered_json by_cause = nlohmann::ordered_json::array();
    for (const auto& c : f.by_cause) {
      by_cause.push_back(
          {{"cause", c.cause->name},
           {"component", std::string(reliability::ComponentName(c.cause->component))},
           {"per_1000_component_days", c.cause->per_1000_component_days},
           {"interruptions_expected", c.interruptions}});
    }
    nlohmann::ordered_json j = {
        {"gpus", gpus},
        {"gpus_per_node", per},
        {"nodes", nodes},
        {"gpu", gpu.name},
        {"days", days},
        {"failure_rates_source", table.source},
        {"failure_rates_measured_on_this_gpu", measured_gpu},
        {"interruptions_expected", f.interruptions},
        {"mtbi_h", f.mtbi_h},
        {"checkpoint_write_s", write_s},
        {"restart_s", restart_s},
        {"checkpoint_interval_s", interval_s},
        {"checkpoint_interval_rule", given ? "given" : "daly"},
        {"checkpoint_interval_young_s", reliability::YoungIntervalS(write_s, mtbi_s)},
        {"ettr", ettr},
        {"by_cause", by_cause}};
    std::cout << txt::json_text(j) << "\n";
    return kOk;
  }
  const double run_s = 86400 * days;
  std::cout << txt::format(
      "{} x {} ({} {} of {}), one synchronous job for {:g} days\n"
      "  failure rates: {}{}\n"
      "  expected interruptions {:.4g}, one every {:.4g} h (MTBI)\n"
      "  checkpoint write {:g} s{}, restart {:g} s{}\n"
      "  checkpoint every {:.1f} s ({}; Young {:.1f} s, Daly {:.1f} s){}\n"
      "  expected ETTR {:.3f} (Daly's expected wall time)\n"
      "  by cause (expected interruptions, share):\n",
      gpus, gpu.name, nodes, nodes == 1 ? "node" : "nodes", per, days, table.source,
      measured_gpu ? "" : "\n  caveat: rates measured on " + table.gpu + ", applied to " + gpu.name,
      f.interruptions, f.mtbi_h, write_s, !o.write_given ? " (default, --checkpoint-write)" : "",
      restart_s, !o.restart_given ? " (default, --restart)" : "", interval_s,
      given ? "given" : "Daly's optimum", reliability::YoungIntervalS(write_s, mtbi_s), daly_s,
      interval_s >= run_s
          ? "\n  note: the interval is longer than the run: no checkpoint before its end"
          : "",
      ettr);
  for (const auto& c : f.by_cause) {
    std::cout << txt::format("    {:<34} {:>9.2f}  {:>5.1f}%\n", c.cause->name, c.interruptions,
                             100 * c.interruptions / f.interruptions);
  }
  return kOk;
}

}  // namespace

Action RegisterReliability(CLI::App& app) {
  auto o = std::make_shared<ReliabilityOptions>();
  CLI::App* cmd = app.add_subcommand(
      "reliability",
      "Expected interruptions of a training job, the optimal checkpoint interval and its ETTR");
  cmd->add_option("--gpus", o->gpus, "GPUs of the job, 1 to 2147483647")->required();
  cmd->add_option("--days", o->days, "Length of the run in days (0.001 to 36500)")->required();
  cmd->add_option("--gpu", o->gpu, "GPU: catalog name (the failure table was measured on H100)")
      ->capture_default_str();
  cmd->add_option("--gpus-per-node", o->gpus_per_node, "GPUs per node")->capture_default_str();
  CLI::Option* write =
      cmd->add_option("--checkpoint-write", o->write,
                      "Time one checkpoint blocks training (an assumption unless given)")
          ->capture_default_str();
  cmd->add_option("--checkpoint-every", o->every,
                  "Compute time between checkpoints (default: Daly's optimum)");
  CLI::Option* restart =
      cmd->add_option(
             "--restart", o->restart,
             "Interruption to training again: detection, rescheduling, reload, warm-up (an "
             "assumption unless given)")
          ->capture_default_str();
  cmd->add_flag("--json", o->json, "Print JSON");
  return [o, write, restart] {
    o->write_given = write->count() > 0;
    o->restart_given = restart->count() > 0;
    return RunReliability(*o);
  };
}

}  // namespace firstwall::cli

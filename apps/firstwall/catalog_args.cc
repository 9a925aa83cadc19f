#include "apps/firstwall/catalog_args.h"

#include <filesystem>

#include "core/error.h"
#include "scenario/catalog.h"
#include "scenario/reader.h"

namespace firstwall::cli {

void BadOption(const std::string& option, const std::string& message, const std::string& hint) {
  throw InputError({option, 0, 0}, message, hint);
}

hardware::GpuSpec GpuArg(const std::string& name) {
  const scenario::Catalog& cat = scenario::BuiltinCatalog();
  auto g = cat.gpus.find(name);
  if (g == cat.gpus.end()) {
    BadOption("--gpu", "unknown GPU '" + name + "'", scenario::UnknownNameHint(name, cat.gpus));
  }
  if (g->second.ici.present()) {
    // These commands know NVLink domains and NICs only; the torus runs in scenarios.
    BadOption("--gpu",
              name + " links its chips by ICI in a torus, which this command does not model",
              "run a scenario with cluster.fabric.kind: torus (examples/tpu-pod.yaml)");
  }
  return g->second;
}

workload::ModelCard ModelArg(const std::string& name, const std::string& option) {
  const scenario::Catalog& cat = scenario::BuiltinCatalog();
  auto m = cat.models.find(name);
  if (m != cat.models.end()) return m->second;
  // Not a catalog name: a path to a model card. A path that names something other than a
  // readable file says what it is (a directory, /dev/null) rather than "unknown model"; an empty
  // file gets the card parser's own message.
  const std::string problem = scenario::FileProblem(name);
  if (problem.empty() || problem == "is empty") return scenario::LoadModelCardFile(name);
  if (problem != "not found") {
    BadOption(
        option,
        "'" + name + "' is not a model in the catalog, and as a model card file it " + problem,
        "give a model name (firstwall catalog) or the path of a model card YAML file, e.g. "
        "catalog/models/llama3-8b.yaml");
  }
  BadOption(option, "unknown model '" + name + "' (and no such file)",
            scenario::UnknownNameHint(name, cat.models));
}

hardware::DataType DtypeArg(const std::string& name, const hardware::GpuSpec& gpu,
                            std::string_view key) {
  const scenario::OptionValue v(scenario::ScenarioSchema(), key, "--dtype", name);
  const scenario::DataTypeChoice c =
      scenario::ChooseDataType(v.Enum(), gpu, scenario::BuiltinCatalog());
  if (!c.problem.empty()) v.Fail(c.problem, c.hint);
  return c.type;
}

}  // namespace firstwall::cli

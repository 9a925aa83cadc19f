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
  return g->second;
}

workload::ModelCard ModelArg(const std::string& name) {
  const scenario::Catalog& cat = scenario::BuiltinCatalog();
  auto m = cat.models.find(name);
  if (m != cat.models.end()) return m->second;
  if (std::filesystem::is_regular_file(name)) return scenario::LoadModelCardFile(name);
  BadOption("--model", "unknown model '" + name + "' (and no such file)",
            scenario::UnknownNameHint(name, cat.models));
}

hardware::DataType DtypeArg(const std::string& name, const hardware::GpuSpec& gpu,
                            std::string_view key) {
  const scenario::OptionValue v(scenario::ScenarioSchema(), key, "--dtype", name);
  const auto dtype = hardware::DataTypeFromName(v.Enum());
  FW_CHECK(dtype.has_value(), "the schema's data types are known: " + name);
  if (!gpu.Peak(*dtype)) v.Fail(gpu.name + " has no " + name + " tensor throughput in the catalog");
  return *dtype;
}

}  // namespace firstwall::cli

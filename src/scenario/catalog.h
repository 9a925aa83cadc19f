// The catalog of hardware and model cards: YAML under catalog/ (compiled into the binary), plus the
// additions and overrides a scenario makes under its `catalog:` key.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hardware/gpu.h"
#include "scenario/reader.h"
#include "workload/model_card.h"

namespace firstwall::scenario {

// A system of the catalog (catalog/systems): a GPU card racked as its vendor builds it, an HGX
// node or a rack-scale NVLink system (GB200/GB300 NVL72). Its figures are the defaults of the
// cluster keys of the same names (cluster.system) and of facility.cooling.liquid_share.
struct SystemSpec {
  std::string name;
  std::string vendor;
  std::string gpu;               // a GPU card's name
  int gpus_per_node = 8;         // an HGX baseboard, or a rack-scale system's compute tray
  int nvlink_domain = 8;         // GPUs of one NVLink fabric
  int nodes_per_rack = 1;        // nodes (compute trays) in a rack
  units::Power node_base_power;  // non-GPU power of a node, its share of switch trays included
  std::optional<units::Power> rack_power;      // rated power of a rack
  std::optional<double> liquid_share;          // share of the rack's IT heat on cold plates
  std::map<std::string, std::string> sources;  // field -> citation
};

struct Catalog {
  std::map<std::string, SystemSpec> systems;
  std::map<std::string, hardware::GpuSpec> gpus;
  std::map<std::string, workload::ModelCard> models;
  std::map<std::string, std::string> origin;  // card name -> file it came from
  std::map<std::string, std::string> notes;   // model card name -> the card's `note:` caveat
};

// The built-in catalog. Every figure of every card must carry a source; a card without one is an
// InputError naming the file.
const Catalog& BuiltinCatalog();

// Reads card files as the built-in catalog is read: (path, text) pairs, a GPU card where the path
// has "gpus/" in it, a system card where it has "systems/" (its GPU must be one of the files'),
// else a model card; every figure needs a source, and GPUs, systems and models share one name
// space. A second card of a name is an InputError at its name naming the first's place.
Catalog ReadCatalogFiles(const std::vector<std::pair<std::string, std::string>>& files);

// Reads a card. With `base`, keys left out keep the base's values (an override); without, the
// schema's required keys must be present. With `require_sources`, every figure needs a source.
hardware::GpuSpec ReadGpuCard(const Section& s, const hardware::GpuSpec* base,
                              bool require_sources);
workload::ModelCard ReadModelCard(const Section& s, const workload::ModelCard* base,
                                  bool require_sources);
// A system card (every key but rack_power and liquid_share required); its GPU is the caller's to
// check against the catalog.
SystemSpec ReadSystemCard(const Section& s, bool require_sources);

// The hint for a name missing from a catalog map: the nearest name if one is close, then the list.
std::string NearestNameHint(const std::string& name, const std::vector<std::string>& known);
template <class Map>
std::string UnknownNameHint(const std::string& name, const Map& known) {
  std::vector<std::string> names;
  for (const auto& entry : known) names.push_back(entry.first);
  return NearestNameHint(name, names);
}

// The data type asked for as `name` (a scenario's or the command line's dtype; "auto": the card's
// default, bf16 where it has it, else fp16) on `gpu`. `problem` is empty when the GPU has it, else
// why not, naming the card's file (from `cat`), with a `hint` of what to ask for instead.
struct DataTypeChoice {
  hardware::DataType type = hardware::DataType::kBf16;
  std::string problem, hint;
};
DataTypeChoice ChooseDataType(const std::string& name, const hardware::GpuSpec& gpu,
                              const Catalog& cat);

// Parses a model card file on its own.
workload::ModelCard LoadModelCardFile(const std::string& path);

}  // namespace firstwall::scenario

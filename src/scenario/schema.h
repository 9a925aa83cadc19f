// Every key of the input formats (scenario, GPU card, model card), declared once with its type,
// unit, default, range and description. The loaders read through this declaration, so a key that is
// not declared cannot be read; docs/scenario.md and `firstwall schema` are generated from it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "units/quantity.h"

namespace firstwall::scenario {

enum class ValueType {
  kSection,  // a mapping of further keys
  kList,     // a sequence of mappings (items: path + "[]")
  kInt,
  kNumber,
  kFraction,  // a number in [0, 1], or a percentage "96 %"
  kBool,
  kString,
  kEnum,
  kQuantity,    // a number with a unit of `dim`
  kFile,        // a path, relative to the file that names it
  kStringMap,   // a mapping of free keys to strings (catalog sources)
  kNumberList,  // a sequence of plain numbers, each within the key's bounds
  kTextList,    // a sequence of scalars, each kept as written (a sweep's values, output names)
};

struct KeySpec {
  std::string path;  // "cluster.gpus_per_node"; list items as "workloads[].tp"
  ValueType type = ValueType::kString;
  units::Dimension dim = units::Dimension::kPower;  // for kQuantity
  bool required = false;
  std::string default_text;  // as written in YAML; "" = none. "= key" names a derived default
  std::string min_text;      // inclusive bounds as written in YAML; "" = unbounded
  std::string max_text;
  std::string choices;  // kEnum: "none|full"
  std::string description;
};

class Schema {
 public:
  Schema(std::string name, std::vector<KeySpec> keys);
  const std::string& name() const { return name_; }
  const KeySpec* Find(std::string_view path) const;
  // Keys directly under `prefix` ("" for the top level, "cluster", "workloads[]").
  std::vector<std::string> ChildNames(std::string_view prefix) const;
  const std::vector<KeySpec>& keys() const { return keys_; }

 private:
  std::string name_;
  std::vector<KeySpec> keys_;
};

const Schema& ScenarioSchema();
const Schema& GpuCardSchema();
const Schema& ModelCardSchema();
// A built-in system (catalog/systems): a GPU card racked as an HGX node or a rack-scale system.
const Schema& SystemCardSchema();
const Schema& FabricSchema();
// A sweep file (`firstwall sweep`, src/study/sweep.h): a base scenario and the keys to vary.
const Schema& SweepSchema();

// Bounds in the key's base unit (kQuantity) or as plain numbers.
std::optional<double> MinOf(const KeySpec& k);
std::optional<double> MaxOf(const KeySpec& k);

// Markdown reference of every schema: the body of docs/scenario.md.
std::string SchemaMarkdown();
// One schema's keys as a Markdown table (key, type, default, range, description): also what other
// documents generated from a schema (docs/live.md) embed.
std::string SchemaTable(const Schema& s);

}  // namespace firstwall::scenario

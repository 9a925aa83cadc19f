// Changing a scenario's values by key path before it is read: what `run --set`, sweeps and
// `firstwall walls` vary. The changed scenario goes through the same loader, so a value set here
// is checked exactly as if it had been written in the file; an error about it is located where
// the override was given (a sweep file's line, a command-line option) and names the key.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "scenario/loader.h"
#include "scenario/schema.h"

namespace firstwall::scenario {

// One change. `key` is a path of mapping keys and list items:
//   cluster.nodes
//   facility.power_chain[1].rating         item by 0-based index
//   facility.power_chain[UPS].rating       item by its `name:`
//   workloads[llama3-70b-pretrain].gpus
// A missing last key is added (a default can be overridden); a missing list item or a path
// through a value that is not a mapping is an error at `where`.
struct Override {
  std::string key;
  std::string value;  // YAML text of the new value: "160", "1.8 MW", "[1, 2]"
  SourceLocation where;
  bool remove = false;  // remove the key instead (a study's own use: drop a weather file)
};

// A `--set` argument "key=value" (spaces around '=' allowed); InputError at `where` otherwise.
Override ParseOverride(const std::string& text, const SourceLocation& where);

// The scenario (as LoadScenarioText / LoadScenarioFile) with the overrides applied in order.
Scenario LoadScenarioText(const std::string& text, const std::string& file,
                          const std::string& base_dir, const std::vector<Override>& overrides);
Scenario LoadScenarioFile(const std::string& path, const std::vector<Override>& overrides);

// What a scenario says of one key, before it is read.
struct KeyValue {
  const KeySpec* spec = nullptr;    // the key's declaration ("workloads[].gpus")
  std::optional<std::string> text;  // the value as written; nullopt when left out
  // The value as a number in the key's base unit (W, s, K, bytes/s ... ; a fraction as 0-1),
  // from the text or else from the declared default; nullopt when neither is a plain number.
  std::optional<double> number;
};
// Throws InputError at `where` when the path names no declared key or no list item. `applied`:
// overrides applied before reading (a value they set is what is read).
KeyValue ReadKey(const std::string& scenario_text, const std::string& file, const std::string& key,
                 const SourceLocation& where, const std::vector<Override>& applied = {});

// The items of a list key ("workloads", "services[chat].requests"): each item's `name:`, or ""
// for an item without one; empty when the list is absent. InputError at `where` for a bad path.
std::vector<std::string> ListItems(const std::string& scenario_text, const std::string& file,
                                   const std::string& list_key, const SourceLocation& where,
                                   const std::vector<Override>& applied = {});

// `text`, a value of the key written as in a scenario ("1.8 MW", "160", "35 %"), as a number in the
// key's base unit; nullopt when the key is not numeric or the text is not a plain number of it.
std::optional<double> NumberOf(const KeySpec& spec, std::string text);

// The schema path of a key path: "facility.power_chain[UPS].rating" ->
// "facility.power_chain[].rating".
std::string SchemaPath(const std::string& key);

// `value` (in the key's base unit) as YAML text the key accepts: "1.8e+06 W", "160", "35 %".
std::string FormatValue(const KeySpec& spec, double value);

}  // namespace firstwall::scenario

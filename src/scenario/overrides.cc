#include "scenario/overrides.h"

#include <charconv>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "scenario/reader.h"
#include "units/parse.h"

namespace firstwall::scenario {
namespace {

// One step of a key path: a mapping key, optionally followed by a list item selector.
struct Step {
  std::string key;
  bool item = false;
  std::string selector;  // "1" or a name
};

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  const size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

std::vector<Step> SplitPath(const std::string& key, const SourceLocation& where) {
  const std::string hint =
      "write the key's path, e.g. cluster.nodes, facility.power_chain[UPS].rating or "
      "workloads[0].gpus";
  std::vector<Step> steps;
  size_t i = 0;
  while (i <= key.size()) {
    Step s;
    while (i < key.size() && key[i] != '.' && key[i] != '[') s.key += key[i++];
    if (s.key.empty()) throw InputError(where, "'" + key + "' is not a key path", hint);
    if (i < key.size() && key[i] == '[') {
      const size_t close = key.find(']', i);
      if (close == std::string::npos) {
        throw InputError(where, "'" + key + "': a '[' is never closed", hint);
      }
      s.item = true;
      s.selector = key.substr(i + 1, close - i - 1);
      if (s.selector.empty()) {
        throw InputError(where, "'" + key + "': '[]' names no list item",
                         "give an index from 0 or the item's name: workloads[0], "
                         "facility.power_chain[UPS]");
      }
      i = close + 1;
    }
    steps.push_back(std::move(s));
    if (i == key.size()) break;
    if (key[i] != '.') throw InputError(where, "'" + key + "' is not a key path", hint);
    ++i;
    if (i == key.size()) throw InputError(where, "'" + key + "' ends with '.'", hint);
  }
  return steps;
}

std::string ShownPath(const std::vector<Step>& steps, size_t upto) {
  std::string p;
  for (size_t i = 0; i < upto && i < steps.size(); ++i) {
    p += (i ? "." : "") + steps[i].key;
    if (steps[i].item) p += "[" + steps[i].selector + "]";
  }
  return p;
}

// The index of the item `selector` picks in `list`, or throws.
size_t FindItem(const YAML::Node& list, const std::vector<Step>& steps, size_t at,
                const SourceLocation& where) {
  const std::string& sel = steps[at].selector;
  const std::string shown = ShownPath(steps, at) + (at ? "." : "") + steps[at].key;
  size_t index = 0;
  const auto [end, ec] = std::from_chars(sel.data(), sel.data() + sel.size(), index);
  if (ec == std::errc() && end == sel.data() + sel.size()) {
    if (index < list.size()) return index;
    throw InputError(where,
                     fmt::format("'{}' has {} items; there is no item {}", shown, list.size(), sel),
                     "items count from 0");
  }
  std::string names;
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node n = list[i].IsMap() ? list[i]["name"] : YAML::Node();
    if (n && n.IsScalar()) {
      if (n.Scalar() == sel) return i;
      names += (names.empty() ? "" : ", ") + n.Scalar();
    }
  }
  throw InputError(where, fmt::format("'{}' has no item named '{}'", shown, sel),
                   names.empty() ? "give its index from 0" : "its items are named: " + names);
}

// The mapping node `steps[0..n-1]` lead to (each step a key, then an item when it has one).
YAML::Node Walk(const Document& doc, const std::vector<Step>& steps, size_t n,
                const SourceLocation& where, bool* found) {
  YAML::Node node = doc.root();
  *found = true;
  for (size_t i = 0; i < n; ++i) {
    YAML::Node next = node[steps[i].key];
    if (!next || next.IsNull()) {
      *found = false;
      return {};
    }
    if (steps[i].item) {
      if (!next.IsSequence()) {
        throw InputError(
            where, "'" + ShownPath(steps, i) + (i ? "." : "") + steps[i].key + "' is not a list");
      }
      next.reset(next[FindItem(next, steps, i, where)]);
    }
    if (!next.IsMap()) {
      throw InputError(where, "'" + ShownPath(steps, i + 1) + "' is not a mapping of keys",
                       "a key path goes through sections and list items");
    }
    node.reset(next);  // operator= would write through to the document
  }
  return node;
}

// Adds the sections on the path that the scenario leaves out (`cluster.fabric` for
// cluster.fabric.oversubscription), as empty mappings; list items are never made up.
void AddMissingSections(Document& doc, const std::vector<Step>& steps,
                        const SourceLocation& where) {
  YAML::Node node = doc.root();
  for (size_t i = 0; i + 1 < steps.size(); ++i) {
    YAML::Node next = node[steps[i].key];
    if ((!next || next.IsNull()) && !steps[i].item) {
      doc.Place(node, steps[i].key, YAML::Node(YAML::NodeType::Map), where);
      next.reset(node[steps[i].key]);
    }
    if (!next || !next.IsMap() || steps[i].item) return;  // Walk says what is wrong
    node.reset(next);
  }
}

void Apply(Document& doc, const Override& o) {
  const std::vector<Step> steps = SplitPath(o.key, o.where);
  if (o.remove) {
    bool found = false;
    YAML::Node parent = Walk(doc, steps, steps.size() - 1, o.where, &found);
    if (found && !steps.back().item) parent.remove(steps.back().key);
    return;
  }
  if (!ScenarioSchema().Find(SchemaPath(o.key))) {
    throw InputError(o.where, "'" + o.key + "' is not a scenario key",
                     "see docs/scenario.md (or `firstwall schema`) for every key");
  }
  if (o.value.find_first_of("\r\n") != std::string::npos) {
    throw InputError(o.where, "the value of '" + o.key + "' spans lines",
                     "give a one-line YAML value: 160, 1.8 MW, [1, 2]");
  }
  // Read as the value of a one-key document, so it gets the scenario's checks of text and YAML.
  YAML::Node value;
  try {
    value = Document::Parse("v: " + o.value, o.where.file, Document::kEmptyIsDefaults).root()["v"];
  } catch (const InputError& e) {
    throw InputError(o.where, "the value of '" + o.key + "': " + e.message(), e.hint());
  }
  if (!value || value.IsNull()) {
    throw InputError(o.where, "'" + o.key + "' is given no value",
                     "give a value after '=', e.g. cluster.nodes=160");
  }
  AddMissingSections(doc, steps, o.where);
  bool found = false;
  YAML::Node parent = Walk(doc, steps, steps.size() - 1, o.where, &found);
  if (!found) {
    throw InputError(o.where, "'" + ShownPath(steps, steps.size() - 1) + "' is not in the scenario",
                     "an override changes or adds one key of a section the scenario has");
  }
  const Step& last = steps.back();
  if (last.item) {
    YAML::Node list = parent[last.key];
    if (!list || !list.IsSequence()) {
      throw InputError(o.where, "'" + ShownPath(steps, steps.size() - 1) +
                                    (steps.size() > 1 ? "." : "") + last.key +
                                    "' is not a list in the scenario");
    }
    doc.PlaceItem(list, FindItem(list, steps, steps.size() - 1, o.where), value, o.where);
    return;
  }
  doc.Place(parent, last.key, value, o.where);
}

Document Parsed(const std::string& text, const std::string& file,
                const std::vector<Override>& overrides) {
  Document doc = Document::Parse(text, file);
  for (const Override& o : overrides) Apply(doc, o);
  return doc;
}

}  // namespace

std::string SchemaPath(const std::string& key) {
  std::string out;
  for (size_t i = 0; i < key.size(); ++i) {
    if (key[i] == '[') {
      const size_t close = key.find(']', i);
      if (close == std::string::npos) return out + key.substr(i);
      out += "[]";
      i = close;
    } else {
      out += key[i];
    }
  }
  return out;
}

Override ParseOverride(const std::string& text, const SourceLocation& where) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos) {
    throw InputError(
        where, "'" + text + "' is not key=value",
        "e.g. --set cluster.nodes=160 or --set 'facility.power_chain[UPS].rating=2 MW'");
  }
  Override o{Trim(text.substr(0, eq)), Trim(text.substr(eq + 1)), where};
  if (o.key.empty()) throw InputError(where, "'" + text + "' names no key before '='");
  if (o.value.empty()) {
    throw InputError(where, "'" + o.key + "' is given no value",
                     "give a value after '=', e.g. cluster.nodes=160");
  }
  return o;
}

Scenario LoadScenarioText(const std::string& text, const std::string& file,
                          const std::string& base_dir, const std::vector<Override>& overrides) {
  if (overrides.empty()) return LoadScenarioText(text, file, base_dir);
  return LoadScenarioDocument(Parsed(text, file, overrides), base_dir);
}

Scenario LoadScenarioFile(const std::string& path, const std::vector<Override>& overrides) {
  if (overrides.empty()) return LoadScenarioFile(path);
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return LoadScenarioText(ReadScenarioFile(path), path, dir, overrides);
}

KeyValue ReadKey(const std::string& scenario_text, const std::string& file, const std::string& key,
                 const SourceLocation& where, const std::vector<Override>& applied) {
  const std::vector<Step> steps = SplitPath(key, where);
  KeyValue kv;
  kv.spec = ScenarioSchema().Find(SchemaPath(key));
  if (!kv.spec || steps.back().item) {
    throw InputError(where, "'" + key + "' is not a scenario key",
                     "see docs/scenario.md (or `firstwall schema`) for every key");
  }
  const Document doc = Parsed(scenario_text, file, applied);
  bool found = false;
  const YAML::Node parent = Walk(doc, steps, steps.size() - 1, where, &found);
  if (found) {
    const YAML::Node v = parent[steps.back().key];
    if (v && v.IsScalar()) kv.text = v.Scalar();
  }
  const std::string t = kv.text.value_or(kv.spec->default_text);
  if (t.empty() || t.starts_with("=")) return kv;
  kv.number = NumberOf(*kv.spec, t);
  return kv;
}

std::optional<double> NumberOf(const KeySpec& spec, std::string t) {
  try {
    switch (spec.type) {
      case ValueType::kQuantity:
        return units::ParseBase(t, spec.dim);
      case ValueType::kInt:
      case ValueType::kNumber:
      case ValueType::kFraction: {
        double scale = 1;
        t = Trim(t);
        if (spec.type == ValueType::kFraction && !t.empty() && t.back() == '%') {
          t.pop_back();
          scale = 0.01;
        }
        double v = 0;
        const std::string s = Trim(t);
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec == std::errc() && end == s.data() + s.size() && std::isfinite(v)) return v * scale;
        return std::nullopt;
      }
      default:
        return std::nullopt;
    }
  } catch (const std::exception&) {
    return std::nullopt;  // the loader will say what is wrong with it
  }
}

std::vector<std::string> ListItems(const std::string& scenario_text, const std::string& file,
                                   const std::string& list_key, const SourceLocation& where,
                                   const std::vector<Override>& applied) {
  const std::vector<Step> steps = SplitPath(list_key, where);
  const Document doc = Parsed(scenario_text, file, applied);
  bool found = false;
  const YAML::Node parent = Walk(doc, steps, steps.size() - 1, where, &found);
  std::vector<std::string> names;
  if (!found || steps.back().item) return names;
  const YAML::Node list = parent[steps.back().key];
  if (!list || !list.IsSequence()) return names;
  for (const auto& item : list) {
    const YAML::Node n = item.IsMap() ? item["name"] : YAML::Node();
    names.push_back(n && n.IsScalar() ? n.Scalar() : "");
  }
  return names;
}

std::string FormatValue(const KeySpec& spec, double value) {
  switch (spec.type) {
    case ValueType::kQuantity:
      return units::FormatBase(value, spec.dim);
    case ValueType::kInt:
      return fmt::format("{}", static_cast<int64_t>(std::llround(value)));
    default:
      return units::ShortestDouble(value);
  }
}

}  // namespace firstwall::scenario

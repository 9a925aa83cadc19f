// Reading YAML through a Schema. Every value is read by key name from a Section, which checks on
// construction that its mapping has no unknown or duplicate keys, no missing required ones, no key
// without a value (a YAML null: `key:` or `key: ~`; leaving the key out is how a default is asked
// for) and no empty list where a list is required; every failure is an InputError that names
// file:line:col and what was expected.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/error.h"
#include "scenario/schema.h"
#include "units/parse.h"

namespace firstwall::scenario {

// Why the file at `path` cannot serve as an input: "" when it can, else "not found", "is a
// directory, not a file", "is not a regular file (...)" (/dev/null, a pipe), "cannot be read" or
// "is empty".
std::string FileProblem(const std::string& path);

// One parsed YAML file.
class Document {
 public:
  // Throws InputError, at the line and column of the fault, for: an empty file (with
  // `empty_hint`, which says what the file should start with; with kEmptyIsDefaults, an empty or
  // comment-only file is an empty mapping instead, every key its default), tabs in indentation,
  // bytes that are not UTF-8, control characters other than tab, newline and carriage return
  // (written as bytes or as escapes such as "\0"), a quote never closed, and YAML syntax errors.
  static Document Parse(const std::string& text, std::string file,
                        const std::string& empty_hint = kScenarioStart);
  static constexpr const char* kScenarioStart =
      "a scenario starts with 'firstwall: 1'; see examples/default.yaml";
  static constexpr const char* kEmptyIsDefaults = "";
  static constexpr const char* kCardStart =
      "a card starts with 'name: ...'; see catalog/gpus/ and catalog/models/";
  const YAML::Node& root() const { return root_; }
  const std::string& file() const { return file_; }
  // Where a node was written: its file:line:col, or, for a value set by `Place`, where that
  // override was given (a sweep file's line, a command-line option).
  SourceLocation At(const YAML::Node& node) const;
  // Puts `value` (and every node under it) at `key` of `parent` (a mapping), replacing what was
  // there; errors about the value are then located at `where`.
  void Place(YAML::Node parent, const std::string& key, YAML::Node value, SourceLocation where);
  // Replaces item `index` of the sequence `parent` with `value` (as Place).
  void PlaceItem(YAML::Node parent, size_t index, YAML::Node value, SourceLocation where);

 private:
  friend class OptionValue;
  void Remember(const YAML::Node& value, const SourceLocation& where);
  YAML::Node root_;
  std::string file_;
  std::vector<std::pair<YAML::Node, SourceLocation>> placed_;
};

class Section {
 public:
  // `node` must be a mapping whose keys are declared under `schema_prefix` in `schema`;
  // `display_prefix` is how messages name it ("workloads[2]").
  Section(const Document& doc, const Schema& schema, YAML::Node node, std::string schema_prefix,
          std::string display_prefix, SourceLocation where);

  bool Has(std::string_view key) const;
  // True when the key's value is the word its declaration allows besides a number ("auto").
  bool IsWord(std::string_view key) const;
  int Int(std::string_view key) const;
  std::optional<int> OptionalInt(std::string_view key) const;
  int64_t Int64(std::string_view key) const;
  double Number(std::string_view key) const;
  double Fraction(std::string_view key) const;
  bool Bool(std::string_view key) const;
  std::string String(std::string_view key) const;
  std::string Enum(std::string_view key) const;
  // A path made relative to `base_dir`; must name an existing, readable, non-empty regular file
  // (FileProblem), else fails at the key's value.
  std::string File(std::string_view key, const std::string& base_dir) const;
  std::map<std::string, std::string> StringMap(std::string_view key) const;
  // The same mapping in file order, each value with where it was written.
  struct Entry {
    std::string key, text;
    SourceLocation at;  // of the value
  };
  std::vector<Entry> StringEntries(std::string_view key) const;
  // A list of scalars (kTextList), each as written; empty when absent. Fails at an item that is
  // not a scalar.
  std::vector<std::string> Texts(std::string_view key) const;
  // A list of plain numbers (kNumberList), each within the key's bounds; empty when absent.
  std::vector<double> Numbers(std::string_view key) const;
  // The same list where every item must be a whole number; fails at the item that is not.
  std::vector<int> Integers(std::string_view key) const;
  // Where item `i` of a list key's value is (the key when absent or not that long).
  SourceLocation ItemAt(std::string_view key, size_t i) const;

  template <class Q>
  Q Quantity(std::string_view key) const {
    return Q::FromBase(QuantityBase(key, Q::kDimension).value());
  }
  template <class Q>
  std::optional<Q> OptionalQuantity(std::string_view key) const {
    auto v = QuantityBase(key, Q::kDimension);
    return v ? std::optional<Q>(Q::FromBase(*v)) : std::nullopt;
  }

  Section Sub(std::string_view key) const;
  std::vector<Section> List(std::string_view key) const;
  // A section of another schema, rooted at this key's value (catalog entries in a scenario).
  std::vector<Section> ListOf(std::string_view key, const Schema& item_schema) const;

  // The location of a key (or of the mapping when the key is absent).
  SourceLocation KeyAt(std::string_view key) const;
  SourceLocation ValueAt(std::string_view key) const;
  std::string Name(std::string_view key) const;  // "workloads[2].tp"
  [[noreturn]] void Fail(std::string_view key, const std::string& message,
                         const std::string& hint = {}) const;
  const SourceLocation& where() const { return where_; }
  const std::string& display_prefix() const { return display_; }
  const Document& document() const { return *doc_; }

 private:
  friend class OptionValue;
  struct OptionTag {};
  // The section of an OptionValue: no checks of its keys; messages name `label`.
  Section(OptionTag, const Document& doc, const Schema& schema, std::string schema_prefix,
          std::string label);
  const KeySpec& Spec(std::string_view key) const;
  // The value node, or an undefined node when absent.
  YAML::Node Value(std::string_view key) const;
  // The scalar text of a present value, checking it is a scalar.
  std::string Scalar(std::string_view key, const YAML::Node& v) const;
  // The text to parse: the value as written, or the declared default; nullopt when neither.
  std::optional<std::string> TextOrDefault(std::string_view key) const;
  // TextOrDefault for keys that always have one (required, or with a default).
  std::string Text(std::string_view key) const;
  std::optional<double> QuantityBase(std::string_view key, units::Dimension dim) const;
  // Throws InputError when `v` (in the key's base unit) is outside its declared bounds; the
  // message echoes `text`, the value as written.
  void CheckRange(std::string_view key, double v, const std::string& text) const;

  const Document* doc_;
  const Schema* schema_;
  YAML::Node node_;
  std::string prefix_;
  std::string display_;
  SourceLocation where_;
  std::string label_;  // an OptionValue's option ("--tp"), which messages name instead of the key
};

// A value given outside a file (a command-line option) read through the declaration of a key, so
// that the option accepts exactly what the key accepts: its type, unit, bounds and the word it
// allows besides a number ("auto"). `key` is the schema path ("workloads[].tp"); errors are
// InputErrors located at and naming `option` ("--tp: error: '--tp' is 0, out of range: expected
// between 1 and 72").
class OptionValue {
 public:
  OptionValue(const Schema& schema, std::string_view key, std::string option, std::string text);
  bool IsWord() const { return Read().IsWord(leaf_); }
  int Int() const { return Read().Int(leaf_); }
  double Number() const { return Read().Number(leaf_); }
  double Fraction() const { return Read().Fraction(leaf_); }
  std::string Enum() const { return Read().Enum(leaf_); }
  // A list key (kNumberList) written as comma-separated items ("7,8,8,7"), each a whole number.
  std::vector<int> Integers() const;
  template <class Q>
  Q Quantity() const {
    return Read().Quantity<Q>(leaf_);
  }
  // A check of the option beyond its declaration, with the option's location.
  [[noreturn]] void Fail(const std::string& message, const std::string& hint = {}) const;

 private:
  Section Read() const;
  const Schema* schema_;
  std::string prefix_, leaf_, option_;
  Document doc_;
};

// Runs `read` on the data file that `key` of `s` names. Its errors keep their place in that file
// (file:line:col) and add which scenario line named the file.
template <class Read>
auto ReadNamedFile(const Section& s, std::string_view key, Read read) -> decltype(read()) {
  try {
    return read();
  } catch (const InputError& e) {
    const std::string note =
        "the file is named by '" + s.Name(key) + "' at " + s.ValueAt(key).ToString();
    throw InputError(e.where(), e.message(),
                     e.hint().empty() ? note : e.hint() + "\n  note: " + note);
  }
}

}  // namespace firstwall::scenario

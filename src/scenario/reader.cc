#include "scenario/reader.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <set>

#include "units/spelling.h"

namespace firstwall::scenario {
namespace {

bool ParseInt64(const std::string& s, int64_t* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

bool ParseDouble(const std::string& s, double* out) {
  const char* b = s.data();
  if (!s.empty() && *b == '+') ++b;
  auto [end, ec] = std::from_chars(b, s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size() && b != s.data() + s.size() &&
         std::isfinite(*out);
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

}  // namespace

Document Document::Parse(const std::string& text, std::string file) {
  // YAML forbids tabs in indentation; yaml-cpp's message for them is cryptic, so look first.
  int line = 1;
  bool at_line_start = true;
  int col = 0;
  for (char c : text) {
    if (c == '\n') {
      ++line;
      col = 0;
      at_line_start = true;
      continue;
    }
    ++col;
    if (at_line_start && c == '\t') {
      throw InputError({file, line, col}, "tab character in indentation",
                       "YAML indents with spaces only; replace the tab with spaces");
    }
    if (c != ' ' && c != '\t') at_line_start = false;
  }
  Document doc;
  doc.file_ = std::move(file);
  try {
    doc.root_ = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw InputError({doc.file_, e.mark.line + 1, e.mark.column + 1}, "invalid YAML: " + e.msg,
                     "the file may be truncated, or a quote or bracket left open");
  }
  if (!doc.root_.IsDefined() || doc.root_.IsNull()) {
    throw InputError({doc.file_, 1, 1}, "the file is empty",
                     "a scenario starts with 'firstwall: 1'; see examples/default.yaml");
  }
  if (!doc.root_.IsMap()) {
    throw InputError(doc.At(doc.root_), "expected a mapping of keys at the top level",
                     "a scenario starts with 'firstwall: 1'; see examples/default.yaml");
  }
  return doc;
}

SourceLocation Document::At(const YAML::Node& node) const {
  const YAML::Mark m = node.Mark();
  if (m.line < 0) return {file_, 0, 0};
  return {file_, m.line + 1, m.column + 1};
}

Section::Section(const Document& doc, const Schema& schema, YAML::Node node,
                 std::string schema_prefix, std::string display_prefix, SourceLocation where)
    : doc_(&doc),
      schema_(&schema),
      node_(node),
      prefix_(std::move(schema_prefix)),
      display_(std::move(display_prefix)),
      where_(std::move(where)) {
  const std::string what = display_.empty() ? "the top level" : "'" + display_ + "'";
  if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap()) {
    throw InputError(where_, "expected a section (a mapping of keys) for " + what,
                     "write the keys of " + what + " indented on the lines below it");
  }
  const std::vector<std::string> known = schema_->ChildNames(prefix_);
  std::set<std::string> seen;
  if (node_.IsMap()) {
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      const SourceLocation at = doc_->At(it->first);
      if (!it->first.IsScalar()) throw InputError(at, "a key must be a plain name");
      const std::string key = it->first.Scalar();
      if (!seen.insert(key).second) {
        throw InputError(at, "duplicate key '" + Name(key) + "'",
                         "each key may appear once; remove or merge the repeated one");
      }
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        const std::string near = units::NearestMatch(key, known);
        throw InputError(
            at, "unknown key '" + key + "' in " + what,
            near.empty() ? "known keys: " + Join(known, ", ") : "did you mean '" + near + "'?");
      }
    }
  }
  for (const std::string& key : known) {
    const KeySpec& spec = Spec(key);
    if (spec.required && !seen.count(key)) {
      throw InputError(where_, "missing required key '" + Name(key) + "'", spec.description);
    }
  }
}

const KeySpec& Section::Spec(std::string_view key) const {
  const std::string path = prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
  const KeySpec* spec = schema_->Find(path);
  FW_CHECK(spec != nullptr, "key not declared in the " + schema_->name() + " schema: " + path);
  return *spec;
}

std::string Section::Name(std::string_view key) const {
  if (!label_.empty()) return label_;
  return display_.empty() ? std::string(key) : display_ + "." + std::string(key);
}

YAML::Node Section::Value(std::string_view key) const {
  if (!node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (it->first.Scalar() == key) return it->second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

bool Section::Has(std::string_view key) const {
  (void)Spec(key);
  const YAML::Node v = Value(key);
  return v.IsDefined() && !v.IsNull();
}

bool Section::IsWord(std::string_view key) const {
  const KeySpec& spec = Spec(key);
  if (spec.type == ValueType::kEnum || spec.choices.empty()) return false;
  const auto text = TextOrDefault(key);
  return text && *text == spec.choices;
}

SourceLocation Section::KeyAt(std::string_view key) const {
  if (node_.IsMap()) {
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      if (it->first.Scalar() == key) return doc_->At(it->first);
    }
  }
  return where_;
}

SourceLocation Section::ValueAt(std::string_view key) const {
  const YAML::Node v = Value(key);
  if (v.IsDefined() && v.Mark().line >= 0 && !v.IsNull()) return doc_->At(v);
  return KeyAt(key);
}

void Section::Fail(std::string_view key, const std::string& message,
                   const std::string& hint) const {
  throw InputError(ValueAt(key), message, hint);
}

std::string Section::Scalar(std::string_view key, const YAML::Node& v) const {
  if (!v.IsScalar()) {
    Fail(key,
         "expected a single value for '" + Name(key) + "', found a " +
             (v.IsMap() ? "section" : "list"),
         Spec(key).description);
  }
  return v.Scalar();
}

std::optional<std::string> Section::TextOrDefault(std::string_view key) const {
  const KeySpec& spec = Spec(key);
  const YAML::Node v = Value(key);
  if (v.IsDefined() && !v.IsNull()) return Scalar(key, v);
  if (v.IsDefined() && v.IsNull() && spec.required) {
    Fail(key, "'" + Name(key) + "' has no value", spec.description);
  }
  if (spec.default_text.empty() || spec.default_text.starts_with("=")) return std::nullopt;
  return spec.default_text;
}

std::string Section::Text(std::string_view key) const {
  auto text = TextOrDefault(key);
  FW_CHECK(text.has_value(), "no value and no default for " + Name(key));
  return *text;
}

void Section::CheckRange(std::string_view key, double v) const {
  const KeySpec& spec = Spec(key);
  const auto lo = MinOf(spec), hi = MaxOf(spec);
  const bool low = lo && v < *lo, high = hi && v > *hi;
  if (!low && !high) return;
  auto show = [&](double x) {
    return spec.type == ValueType::kQuantity ? units::FormatBase(x, spec.dim)
           : spec.type == ValueType::kInt    ? std::to_string(static_cast<int64_t>(x))
                                             : units::ShortestDouble(x);
  };
  std::string expected = "expected ";
  if (lo && hi) {
    expected += "between " + spec.min_text + " and " + spec.max_text;
  } else if (lo) {
    expected += "at least " + spec.min_text;
  } else {
    expected += "at most " + spec.max_text;
  }
  std::string hint = spec.description;
  const bool data =
      spec.type == ValueType::kQuantity &&
      (spec.dim == units::Dimension::kBandwidth || spec.dim == units::Dimension::kDataSize);
  auto in_range = [&](double x) { return (!lo || x >= *lo) && (!hi || x <= *hi); };
  if (data && in_range(v / 8)) {
    hint = "check bits and bytes: 'b' is a bit, 'B' a byte; in bits this would be " + show(v / 8) +
           ", which is in range";
  } else if (data && in_range(v * 8)) {
    hint = "check bits and bytes: 'b' is a bit, 'B' a byte; in bytes this would be " + show(v * 8) +
           ", which is in range";
  }
  Fail(key, "'" + Name(key) + "' is " + show(v) + ", out of range: " + expected, hint);
}

int64_t Section::Int64(std::string_view key) const {
  const std::string text = Text(key);
  int64_t v = 0;
  if (!ParseInt64(text, &v)) {
    const std::string word = Spec(key).choices.empty() ? "" : " or '" + Spec(key).choices + "'";
    Fail(key, "expected an integer" + word + " for '" + Name(key) + "', got '" + text + "'",
         Spec(key).description);
  }
  CheckRange(key, static_cast<double>(v));
  return v;
}

int Section::Int(std::string_view key) const { return static_cast<int>(Int64(key)); }

std::optional<int> Section::OptionalInt(std::string_view key) const {
  if (!TextOrDefault(key)) return std::nullopt;
  return Int(key);
}

double Section::Number(std::string_view key) const {
  const std::string text = Text(key);
  double v = 0;
  if (!ParseDouble(text, &v)) {
    std::string hint = Spec(key).description;
    if (units::DimensionOfUnit(text.substr(std::min(text.size(), text.find(' ') + 1)))) {
      hint = "this key is a plain number without unit";
    }
    Fail(key, "expected a number for '" + Name(key) + "', got '" + text + "'", hint);
  }
  CheckRange(key, v);
  return v;
}

double Section::Fraction(std::string_view key) const {
  const std::string text = Text(key);
  std::string t = text;
  double scale = 1.0;
  if (!t.empty() && t.back() == '%') {
    t.pop_back();
    while (!t.empty() && t.back() == ' ') t.pop_back();
    scale = 0.01;
  }
  double v = 0;
  if (!ParseDouble(t, &v)) {
    Fail(key, "expected a fraction for '" + Name(key) + "' (0.96 or 96 %), got '" + text + "'",
         Spec(key).description);
  }
  v *= scale;
  if (scale == 1.0 && v > 1.0 && v <= 100.0) {
    Fail(key, "'" + Name(key) + "' is " + text + ", but a fraction is at most 1",
         "write " + units::ShortestDouble(v / 100) + " or '" + text + " %'");
  }
  CheckRange(key, v);
  return v;
}

bool Section::Bool(std::string_view key) const {
  const std::string text = Text(key);
  if (text == "true") return true;
  if (text == "false") return false;
  Fail(key, "expected true or false for '" + Name(key) + "', got '" + text + "'");
}

std::string Section::String(std::string_view key) const {
  const auto text = TextOrDefault(key);
  if (!text) return "";
  if (text->empty()) Fail(key, "'" + Name(key) + "' is empty", Spec(key).description);
  return *text;
}

std::string Section::Enum(std::string_view key) const {
  const std::string text = Text(key);
  const std::vector<std::string> choices = Split(Spec(key).choices, '|');
  if (std::find(choices.begin(), choices.end(), text) == choices.end()) {
    const std::string near = units::NearestMatch(text, choices);
    Fail(key, "'" + Name(key) + "' is '" + text + "', expected one of " + Join(choices, ", "),
         near.empty() ? Spec(key).description : "did you mean '" + near + "'?");
  }
  return text;
}

std::string Section::File(std::string_view key, const std::string& base_dir) const {
  const std::string text = String(key);
  if (text.empty()) return "";
  std::filesystem::path p(text);
  if (p.is_relative() && !base_dir.empty()) p = std::filesystem::path(base_dir) / p;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec)) {
    Fail(key, "file not found: '" + p.string() + "' (named by '" + Name(key) + "')",
         "paths are relative to the file that names them");
  }
  return p.lexically_normal().string();
}

std::map<std::string, std::string> Section::StringMap(std::string_view key) const {
  std::map<std::string, std::string> out;
  const YAML::Node v = Value(key);
  if (!v.IsDefined() || v.IsNull()) return out;
  if (!v.IsMap()) Fail(key, "expected a mapping of text for '" + Name(key) + "'");
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it->second.IsScalar() || !it->first.IsScalar()) {
      throw InputError(doc_->At(it->first), "expected 'key: text' in '" + Name(key) + "'");
    }
    out[it->first.Scalar()] = it->second.Scalar();
  }
  return out;
}

std::vector<double> Section::Numbers(std::string_view key) const {
  FW_CHECK(Spec(key).type == ValueType::kNumberList, "not a number list: " + Name(key));
  std::vector<double> out;
  const YAML::Node v = Value(key);
  if (!v.IsDefined() || v.IsNull()) return out;
  if (!v.IsSequence()) Fail(key, "expected a list of numbers for '" + Name(key) + "'");
  const auto lo = MinOf(Spec(key)), hi = MaxOf(Spec(key));
  for (size_t i = 0; i < v.size(); ++i) {
    double x = 0;
    if (!v[i].IsScalar() || !ParseDouble(v[i].Scalar(), &x) || (lo && x < *lo) || (hi && x > *hi)) {
      throw InputError(doc_->At(v[i]), "expected item " + std::to_string(i) + " of '" + Name(key) +
                                           "' as a number from " + Spec(key).min_text + " to " +
                                           Spec(key).max_text);
    }
    out.push_back(x);
  }
  return out;
}

std::optional<double> Section::QuantityBase(std::string_view key, units::Dimension dim) const {
  const KeySpec& spec = Spec(key);
  FW_CHECK(spec.type == ValueType::kQuantity && spec.dim == dim,
           "read with the wrong type: " + Name(key));
  const auto text = TextOrDefault(key);
  if (!text) return std::nullopt;
  double v = 0;
  try {
    v = units::ParseBase(*text, dim);
  } catch (const units::UnitParseError& e) {
    SourceLocation at = ValueAt(key);
    const YAML::Node node = Value(key);
    if (at.column > 0) at.column += static_cast<int>(e.column()) + (node.Tag() == "!" ? 1 : 0);
    throw InputError(at, "'" + Name(key) + "': " + e.what(), e.hint());
  }
  CheckRange(key, v);
  return v;
}

Section Section::Sub(std::string_view key) const {
  const KeySpec& spec = Spec(key);
  FW_CHECK(spec.type == ValueType::kSection, "not a section: " + Name(key));
  return Section(*doc_, *schema_, Value(key), spec.path, Name(key), ValueAt(key));
}

std::vector<Section> Section::List(std::string_view key) const {
  const KeySpec& spec = Spec(key);
  FW_CHECK(spec.type == ValueType::kList, "not a list: " + Name(key));
  return ListOf(key, *schema_);
}

std::vector<Section> Section::ListOf(std::string_view key, const Schema& item_schema) const {
  const KeySpec& spec = Spec(key);
  std::vector<Section> out;
  const YAML::Node v = Value(key);
  if (!v.IsDefined() || v.IsNull()) return out;
  if (!v.IsSequence()) {
    Fail(key, "expected a list for '" + Name(key) + "'",
         "write each item on its own line starting with '- '");
  }
  const std::string item_prefix = &item_schema == schema_ ? spec.path + "[]" : "";
  for (size_t i = 0; i < v.size(); ++i) {
    const YAML::Node item = v[i];
    const std::string name = Name(key) + "[" + std::to_string(i) + "]";
    out.emplace_back(*doc_, item_schema, item, item_prefix, name, doc_->At(item));
  }
  return out;
}

Section::Section(OptionTag, const Document& doc, const Schema& schema, std::string schema_prefix,
                 std::string label)
    : doc_(&doc),
      schema_(&schema),
      node_(doc.root()),
      prefix_(std::move(schema_prefix)),
      where_{label, 0, 0},
      label_(std::move(label)) {}

OptionValue::OptionValue(const Schema& schema, std::string_view key, std::string option,
                         std::string text)
    : schema_(&schema), option_(std::move(option)) {
  const size_t dot = key.rfind('.');
  prefix_ = dot == std::string_view::npos ? "" : std::string(key.substr(0, dot));
  leaf_ = std::string(dot == std::string_view::npos ? key : key.substr(dot + 1));
  FW_CHECK(schema.Find(key) != nullptr,
           "option " + option_ + " reads an undeclared key: " + std::string(key));
  doc_.file_ = option_;
  doc_.root_ = YAML::Node(YAML::NodeType::Map);
  doc_.root_[leaf_] = text;  // a scalar as written, never null: "~" and "" stay text
}

Section OptionValue::Read() const {
  return Section(Section::OptionTag{}, doc_, *schema_, prefix_, option_);
}

void OptionValue::Fail(const std::string& message, const std::string& hint) const {
  throw InputError({option_, 0, 0}, message, hint);
}

}  // namespace firstwall::scenario

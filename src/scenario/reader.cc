#include "scenario/reader.h"

#include <charconv>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "units/spelling.h"

namespace firstwall::scenario {
namespace {

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

// The length of the UTF-8 sequence at text[i], or 0 when it is not valid UTF-8 (a stray
// continuation byte, a truncated sequence, an overlong form, a surrogate, or above U+10FFFF).
size_t Utf8Length(std::string_view text, size_t i, uint32_t* code) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) {
    *code = c;
    return 1;
  }
  size_t len = 0;
  uint32_t cp = 0, min = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  *code = cp;
  return len;
}

// A code point no scenario text may hold: C0 controls except tab, newline and carriage return;
// DEL; C1 controls except NEL (YAML 1.2's printable set).
bool IsForbiddenControl(uint32_t cp) {
  return (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F ||
         (cp >= 0x80 && cp <= 0x9F && cp != 0x85);
}

std::string CodePointName(uint32_t cp) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  std::string name = buf;
  if (cp == 0) name += " (NUL)";
  if (cp == 0x7F) name += " (DEL)";
  return name;
}

// The first fault of a text (a file, or a scalar after YAML's escapes): its byte offset and what
// it is; nullopt when the text is valid UTF-8 without forbidden control characters.
struct TextFault {
  size_t offset;
  std::string what;
};
std::optional<TextFault> FindTextFault(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    const size_t len = Utf8Length(text, i, &cp);
    if (len == 0) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "the byte 0x%02X is not UTF-8",
                    static_cast<unsigned>(static_cast<unsigned char>(text[i])));
      return TextFault{i, buf};
    }
    if (IsForbiddenControl(cp)) return TextFault{i, "control character " + CodePointName(cp)};
    i += len;
  }
  return std::nullopt;
}

// 1-based line and column (in characters) of a byte offset.
std::pair<int, int> LineColumn(std::string_view text, size_t offset) {
  int line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++col;
    }
  }
  return {line, col};
}

// yaml-cpp takes a quote that is never closed as a value running to the end of the file (and a
// quote closed only by a later value's quote as one running over the lines between), and then
// reports a missing key far from the mistake. `open` is the byte offset of a quoted scalar's
// opening quote; throws when the scalar runs to the end of the file, or over a line indented no
// deeper than the line it opened on (which YAML would read as a key of its own). Returns the
// offset of the closing quote.
size_t CheckQuoteCloses(std::string_view text, size_t open, const SourceLocation& at) {
  const char q = text[open];
  size_t i = open + 1;
  for (; i < text.size(); ++i) {
    if (q == '"' && text[i] == '\\') {
      ++i;
    } else if (text[i] == q) {
      if (q == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
        ++i;
      } else {
        break;
      }
    }
  }
  const std::string quote = q == '"' ? "double quote (\")" : "single quote (')";
  if (i >= text.size()) {
    throw InputError(at, "the " + quote + " opened here is never closed",
                     "add the closing quote at the end of the value");
  }
  const size_t line_start =
      text.rfind('\n', open) == std::string_view::npos ? 0 : text.rfind('\n', open) + 1;
  const size_t indent = text.find_first_not_of(' ', line_start) - line_start;
  for (size_t nl = text.find('\n', open); nl != std::string_view::npos && nl < i;
       nl = text.find('\n', nl + 1)) {
    const size_t first = text.find_first_not_of(" \r", nl + 1);
    if (first == std::string_view::npos || first > i || text[first] == '\n') continue;
    if (first - (nl + 1) <= indent) {
      const auto [line, col] = LineColumn(text, i);
      throw InputError(at,
                       "the " + quote + " opened here is closed only on line " +
                           std::to_string(line) + ", column " + std::to_string(col),
                       "a closing quote is probably missing on this line");
    }
  }
  return i;
}

// When yaml-cpp fails, a runaway quote is the likelier mistake than what it reports (a quote
// left open on line 3 read as "end of map not found" on line 18). Scans the raw text for quotes
// that open a value (after indentation, "- ", ": ", "{", "[" or ","; not in a comment or inside
// plain text such as "it's") and throws at the first that runs away; returns when none does.
void FindRunawayQuote(std::string_view text, const std::string& file) {
  bool value_start = true;  // at a place where a quoted scalar may begin
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      value_start = true;
      continue;
    }
    if (c == ' ') continue;
    if (c == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\n')) {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
      continue;
    }
    if ((c == '"' || c == '\'') && value_start) {
      const auto [line, col] = LineColumn(text, i);
      i = CheckQuoteCloses(text, i, {file, line, col});
      value_start = false;
      continue;
    }
    const bool separator = c == '{' || c == '[' || c == ',' ||
                           (c == '-' && (i + 1 == text.size() || text[i + 1] == ' ')) ||
                           (c == ':' && (i + 1 == text.size() || text[i + 1] == ' '));
    value_start = separator;
  }
}

// Every scalar of the tree, keys included: the text after escapes ("\0", "\x01") must be valid,
// and each quoted scalar must close where it should.
// `visited` counts the nodes as the tree expands them: aliases share nodes, so a few lines of
// aliases of aliases stand for billions of values ("billion laughs"); past kMaxYamlNodes the file
// is refused before any reader walks it.
constexpr int64_t kMaxYamlNodes = 1000000;

// Deeper than any scenario or site map nests; an alias inside the node it names (`&a [*a]`)
// makes a loop that would otherwise recurse until the stack runs out.
constexpr int kMaxYamlDepth = 256;

void CheckScalars(const YAML::Node& node, std::string_view text, const Document& doc,
                  int64_t& visited, int depth = 0) {
  if (depth > kMaxYamlDepth) {
    throw InputError(doc.At(node),
                     "values nest deeper than " + std::to_string(kMaxYamlDepth) +
                         " levels, or an alias (*name) sits inside the value it names",
                     "an alias must name a value defined before it, outside itself");
  }
  if (++visited > kMaxYamlNodes) {
    throw InputError(doc.At(node),
                     "the file stands for more than " + std::to_string(kMaxYamlNodes) +
                         " values once its aliases are expanded",
                     "aliases (*name) of anchored lists or mappings multiply; write the values "
                     "out, or use fewer levels of aliases");
  }
  if (node.IsScalar()) {
    const YAML::Mark m = node.Mark();
    const SourceLocation at = doc.At(node);
    if (m.pos >= 0 && static_cast<size_t>(m.pos) < text.size() &&
        (text[static_cast<size_t>(m.pos)] == '"' || text[static_cast<size_t>(m.pos)] == '\'')) {
      CheckQuoteCloses(text, static_cast<size_t>(m.pos), at);
    }
    if (const auto fault = FindTextFault(node.Scalar())) {
      throw InputError(at, "the value holds a " + fault->what + " (written as an escape)",
                       "remove it: values are printable text; tab, newline and carriage return "
                       "are the only control characters allowed");
    }
  } else if (node.IsSequence()) {
    for (const YAML::Node& item : node) CheckScalars(item, text, doc, visited, depth + 1);
  } else if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      CheckScalars(it->first, text, doc, visited, depth + 1);
      CheckScalars(it->second, text, doc, visited, depth + 1);
    }
  }
}

}  // namespace

Document Document::Parse(const std::string& text, std::string file, const std::string& empty_hint) {
  // The raw text first, so that every later message can show it: UTF-8 without control
  // characters (the outputs are UTF-8 JSON and CSV), and no tab in indentation (YAML indents
  // with spaces; yaml-cpp's message for a tab is cryptic).
  if (const auto fault = FindTextFault(text)) {
    const auto [line, col] = LineColumn(text, fault->offset);
    const bool byte = fault->what.starts_with("the byte");
    throw InputError({file, line, col}, byte ? fault->what : "a " + fault->what + " in the text",
                     byte ? "the file must be UTF-8 text; re-save it as UTF-8 (in Latin-1, 'e' "
                            "with an accent is the single byte 0xE9)"
                          : "remove it: tab, newline and carriage return are the only control "
                            "characters a file may hold");
  }
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
  // A second document (a `---` line after content) would be ignored by YAML::Load: refuse it.
  // Found by lines, not by YAML::LoadAll, which yaml-cpp 0.7 can loop in forever on a stray
  // anchor (found by the scenario fuzzer: " &HfaAci,i ye").
  {
    bool content = false;
    int n = 0;
    for (size_t at = 0; at <= text.size();) {
      const size_t end = std::min(text.find('\n', at), text.size());
      const std::string_view l(text.data() + at, end - at);
      ++n;
      const bool marker =
          l.rfind("---", 0) == 0 && (l.size() == 3 || l[3] == ' ' || l[3] == '\r' || l[3] == '\t');
      if (marker && content) {
        throw InputError({file, n, 1}, "a second YAML document (after '---')",
                         "a file holds one document; remove the '---' line and what follows, or "
                         "merge them");
      }
      const size_t first = l.find_first_not_of(" \r");
      if (!marker && first != std::string_view::npos && l[first] != '#') content = true;
      at = end + 1;
    }
  }
  Document doc;
  doc.file_ = std::move(file);
  try {
    doc.root_ = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    FindRunawayQuote(text, doc.file_);
    throw InputError({doc.file_, e.mark.line + 1, e.mark.column + 1}, "invalid YAML: " + e.msg,
                     "the file may be truncated, or a quote or bracket left open");
  }
  if ((!doc.root_.IsDefined() || doc.root_.IsNull()) && empty_hint.empty()) {
    doc.root_ = YAML::Node(YAML::NodeType::Map);
  }
  if (!doc.root_.IsDefined() || doc.root_.IsNull()) {
    throw InputError({doc.file_, 1, 1}, "the file is empty", empty_hint);
  }
  int64_t visited = 0;
  CheckScalars(doc.root_, text, doc, visited);
  if (!doc.root_.IsMap()) {
    throw InputError(doc.At(doc.root_), "expected a mapping of keys at the top level", empty_hint);
  }
  return doc;
}

SourceLocation Document::At(const YAML::Node& node) const {
  for (const auto& [n, where] : placed_) {
    if (n.is(node)) return where;
  }
  const YAML::Mark m = node.Mark();
  if (m.line < 0) return {file_, 0, 0};
  return {file_, m.line + 1, m.column + 1};
}

void Document::Remember(const YAML::Node& value, const SourceLocation& where) {
  placed_.emplace_back(value, where);
  if (value.IsMap()) {
    for (const auto& kv : value) {
      placed_.emplace_back(kv.first, where);
      Remember(kv.second, where);
    }
  } else if (value.IsSequence()) {
    for (const auto& item : value) Remember(item, where);
  }
}

void Document::Place(YAML::Node parent, const std::string& key, YAML::Node value,
                     SourceLocation where) {
  Remember(value, where);
  parent[key] = value;
  // The key node itself, when it is new, is located at the override too.
  for (const auto& kv : parent) {
    if (kv.first.Scalar() == key && kv.first.Mark().line < 0) placed_.emplace_back(kv.first, where);
  }
}

void Document::PlaceItem(YAML::Node parent, size_t index, YAML::Node value, SourceLocation where) {
  Remember(value, where);
  parent[index] = value;
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
      if (key == "firstwall_sweep" && prefix_.empty() &&
          std::find(known.begin(), known.end(), key) == known.end()) {
        // A sweep file handed to a command that reads a scenario.
        throw InputError(at, "this is a sweep file (firstwall_sweep), not a scenario",
                         "run it with `firstwall sweep FILE` (add --report for its charts), or "
                         "give the scenario it names");
      }
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        const std::string near = units::NearestMatch(key, known);
        throw InputError(
            at, "unknown key '" + key + "' in " + what,
            near.empty() ? "known keys: " + Join(known, ", ") : "did you mean '" + near + "'?");
      }
      // One rule for every key: a key written without a value (`key:`, `key: ~`, `key: null`)
      // is refused, never read as "the default" (an absent key is the default) nor as "off".
      const KeySpec& spec = Spec(key);
      if (it->second.IsNull()) {
        std::string hint;
        if (spec.required) {
          hint = "'" + key + "' is required: " + spec.description;
        } else if (spec.type == ValueType::kSection) {
          hint = "remove the key to leave the section out, or write '" + key +
                 ": {}' for a section with every default";
        } else if (spec.type == ValueType::kList || spec.type == ValueType::kNumberList ||
                   spec.type == ValueType::kTextList) {
          hint = "remove the key for no items, or give the items on the lines below it";
        } else if (!spec.default_text.empty() && !spec.default_text.starts_with("=")) {
          hint = "remove the key to use the default (" + spec.default_text + "), or give a value";
        } else {
          hint = "remove the key to leave it unset, or give a value";
        }
        throw InputError(at, "'" + Name(key) + "' has no value", hint);
      }
      if (spec.required && (spec.type == ValueType::kList || spec.type == ValueType::kNumberList) &&
          it->second.IsSequence() && it->second.size() == 0) {
        throw InputError(
            doc_->At(it->second), "'" + Name(key) + "' is an empty list",
            "'" + key + "' is required and needs at least one item: " + spec.description);
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

// Whether a data size or bandwidth was written in bits ("400 Gb/s", "1 Tbit", "10 Gbps"): every
// bit unit has a lower-case 'b', no byte unit has one ("GB", "GiB/s").
static bool WrittenInBits(const std::string& text) {
  const size_t unit = text.find_first_not_of("0123456789+-.eE \t");
  return unit != std::string::npos && text.find('b', unit) != std::string::npos;
}

void Section::CheckRange(std::string_view key, double v, const std::string& text) const {
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
  // Only the other family's reading is a likely slip: bytes written where bits were meant read
  // 8 times too large, bits where bytes were meant 8 times too small.
  if (data && !WrittenInBits(text) && in_range(v / 8)) {
    hint = "check bits and bytes: 'b' is a bit, 'B' a byte; in bits this would be " + show(v / 8) +
           ", which is in range";
  } else if (data && WrittenInBits(text) && in_range(v * 8)) {
    hint = "check bits and bytes: 'b' is a bit, 'B' a byte; in bytes this would be " + show(v * 8) +
           ", which is in range";
  }
  // The value as written: "1601 Gb/s", not its conversion "200.125 GB/s".
  Fail(key,
       "'" + Name(key) + "' is " + (text.empty() ? show(v) : text) + ", out of range: " + expected,
       hint);
}

int64_t Section::Int64(std::string_view key) const {
  const KeySpec& spec = Spec(key);
  FW_CHECK(spec.type == ValueType::kInt, "not an integer key: " + Name(key));
  const std::string text = Text(key);
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  const bool whole = !text.empty() && end == text.data() + text.size();
  if (!whole || (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    const std::string word = spec.choices.empty() ? "" : " or '" + spec.choices + "'";
    Fail(key, "expected an integer" + word + " for '" + Name(key) + "', got '" + text + "'",
         spec.description);
  }
  // Bounds compared as integers: a double holds integers exactly only up to 2^53, so
  // 9007199254740993 passed a bound of 9007199254740992, and any value beyond int64 was
  // misreported as "not an integer".
  const auto bound = [](const std::string& b) {
    int64_t x = 0;
    const auto [e, c] = std::from_chars(b.data(), b.data() + b.size(), x);
    FW_CHECK(c == std::errc() && e == b.data() + b.size(), "integer bound " + b);
    return x;
  };
  const bool low = ec == std::errc::result_out_of_range
                       ? text.starts_with('-')
                       : !spec.min_text.empty() && v < bound(spec.min_text);
  const bool high = ec == std::errc::result_out_of_range
                        ? !text.starts_with('-')
                        : !spec.max_text.empty() && v > bound(spec.max_text);
  if (low || high) {
    std::string expected = "expected ";
    if (!spec.min_text.empty() && !spec.max_text.empty()) {
      expected += "between " + spec.min_text + " and " + spec.max_text;
    } else if (!spec.min_text.empty()) {
      expected += "at least " + spec.min_text;
    } else if (!spec.max_text.empty()) {
      expected += "at most " + spec.max_text;
    } else {
      expected += "an integer from -9223372036854775808 to 9223372036854775807";
    }
    Fail(key, "'" + Name(key) + "' is " + text + ", out of range: " + expected, spec.description);
  }
  return v;
}

int Section::Int(std::string_view key) const {
  const KeySpec& spec = Spec(key);
  // An int key's declared bounds lie inside int, so the range check above covers the cast.
  FW_CHECK(!spec.min_text.empty() && !spec.max_text.empty() && MinOf(spec) >= INT_MIN &&
               MaxOf(spec) <= INT_MAX,
           "int key without int bounds: " + Name(key));
  return static_cast<int>(Int64(key));
}

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
  CheckRange(key, v, text);
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
  CheckRange(key, v, text);
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
  if (text->empty() && Spec(key).type == ValueType::kFile) {
    Fail(key, "'" + Name(key) + "' is empty: a path is needed (an empty one is not the default)",
         "give the file's path, or remove the key; " + Spec(key).description);
  }
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

std::string FileProblem(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) return "not found";
  if (fs::is_directory(st)) return "is a directory, not a file";
  if (!fs::is_regular_file(st)) return "is not a regular file (a device, pipe or socket)";
  if (std::ifstream in(path, std::ios::binary); !in) return "cannot be read";
  if (fs::file_size(path, ec) == 0 && !ec) return "is empty";
  return "";
}

std::string Section::File(std::string_view key, const std::string& base_dir) const {
  const std::string text = String(key);
  if (text.empty()) return "";
  std::filesystem::path p(text);
  if (p.is_relative() && !base_dir.empty()) p = std::filesystem::path(base_dir) / p;
  const std::string problem = FileProblem(p.string());
  if (problem == "not found") {
    Fail(key, "file not found: '" + p.string() + "' (named by '" + Name(key) + "')",
         "paths are relative to the file that names them");
  }
  if (!problem.empty()) {
    Fail(key, Name(key) + ": '" + p.string() + "' " + problem, Spec(key).description);
  }
  return p.lexically_normal().string();
}

std::map<std::string, std::string> Section::StringMap(std::string_view key) const {
  std::map<std::string, std::string> out;
  for (const Entry& e : StringEntries(key)) out[e.key] = e.text;
  return out;
}

std::vector<Section::Entry> Section::StringEntries(std::string_view key) const {
  std::vector<Entry> out;
  const YAML::Node v = Value(key);
  if (!v.IsDefined() || v.IsNull()) return out;
  if (!v.IsMap()) Fail(key, "expected a mapping of text for '" + Name(key) + "'");
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it->second.IsScalar() || !it->first.IsScalar()) {
      throw InputError(doc_->At(it->first), "expected 'key: text' in '" + Name(key) + "'");
    }
    out.push_back({it->first.Scalar(), it->second.Scalar(), doc_->At(it->second)});
  }
  return out;
}

std::vector<std::string> Section::Texts(std::string_view key) const {
  FW_CHECK(Spec(key).type == ValueType::kTextList, "not a text list: " + Name(key));
  std::vector<std::string> out;
  const YAML::Node v = Value(key);
  if (!v.IsDefined() || v.IsNull()) return out;
  if (!v.IsSequence()) Fail(key, "expected a list of values for '" + Name(key) + "'");
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].IsScalar()) {
      throw InputError(doc_->At(v[i]), "expected item " + std::to_string(i) + " of '" + Name(key) +
                                           "' as one value, not a list or a mapping");
    }
    out.push_back(v[i].Scalar());
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

std::vector<int> Section::Integers(std::string_view key) const {
  const std::vector<double> v = Numbers(key);
  std::vector<int> out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != std::floor(v[i])) {
      throw InputError(ItemAt(key, i), "expected item " + std::to_string(i) + " of '" + Name(key) +
                                           "' as a whole number, got " + Value(key)[i].Scalar());
    }
    out.push_back(static_cast<int>(v[i]));
  }
  return out;
}

SourceLocation Section::ItemAt(std::string_view key, size_t i) const {
  const YAML::Node v = Value(key);
  if (v.IsDefined() && v.IsSequence() && i < v.size() && v[i].Mark().line >= 0) {
    return doc_->At(v[i]);
  }
  return ValueAt(key);
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
  CheckRange(key, v, *text);
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
    if (item.IsNull()) {
      // yaml-cpp marks an empty item at the token after it; the list's mark is the first '-'.
      throw InputError(i == 0 ? doc_->At(v) : doc_->At(item), "'" + name + "' has no value",
                       "write the item's keys after '- ', or remove the empty item");
    }
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

std::vector<int> OptionValue::Integers() const {
  // The items as written, each a scalar, in a list node read like the scenario key's value.
  const std::string text = doc_.root_[leaf_].Scalar();
  YAML::Node list(YAML::NodeType::Sequence);
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    list.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  Document doc = doc_;
  doc.root_ = YAML::Node(YAML::NodeType::Map);
  doc.root_[leaf_] = list;
  return Section(Section::OptionTag{}, doc, *schema_, prefix_, option_).Integers(leaf_);
}

Section OptionValue::Read() const {
  return Section(Section::OptionTag{}, doc_, *schema_, prefix_, option_);
}

void OptionValue::Fail(const std::string& message, const std::string& hint) const {
  throw InputError({option_, 0, 0}, message, hint);
}

}  // namespace firstwall::scenario

#include "live/prometheus_text.h"

#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace firstwall::live {
namespace {

bool NameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool NameChar(char c) { return NameStart(c) || (c >= '0' && c <= '9'); }
bool LabelStart(char c) { return NameStart(c) && c != ':'; }
bool LabelChar(char c) { return NameChar(c) && c != ':'; }
bool Blank(char c) { return c == ' ' || c == '\t'; }

// A cursor over one line; every reader returns false with `why` set on a fault.
struct Cursor {
  std::string_view s;
  size_t i = 0;
  std::string why;
  bool End() const { return i >= s.size(); }
  void SkipBlanks() {
    while (!End() && Blank(s[i])) ++i;
  }
  bool Fail(std::string reason) {
    why = std::move(reason);
    return false;
  }
  // [a-zA-Z_:][a-zA-Z0-9_:]* (metric) or without ':' (label).
  bool Name(std::string& out, bool label) {
    const size_t start = i;
    if (End() || !(label ? LabelStart(s[i]) : NameStart(s[i]))) {
      return Fail(
          fmt::format("expected a {} name at column {}", label ? "label" : "metric", i + 1));
    }
    while (!End() && (label ? LabelChar(s[i]) : NameChar(s[i]))) ++i;
    out.assign(s.substr(start, i - start));
    return true;
  }
  bool QuotedValue(std::string& out) {
    if (End() || s[i] != '"') return Fail(fmt::format("expected '\"' at column {}", i + 1));
    ++i;
    out.clear();
    while (true) {
      if (End()) return Fail("label value not closed by '\"'");
      const char c = s[i++];
      if (c == '"') return true;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (End()) return Fail("label value ends in a lone backslash");
      const char e = s[i++];
      if (e == '\\') {
        out += '\\';
      } else if (e == '"') {
        out += '"';
      } else if (e == 'n') {
        out += '\n';
      } else {
        return Fail(fmt::format("unknown escape '\\{}' in a label value (only \\\\, \\\" and \\n)",
                                e == '\0' ? '0' : e));
      }
    }
  }
  std::string_view Token() {
    const size_t start = i;
    while (!End() && !Blank(s[i])) ++i;
    return s.substr(start, i - start);
  }
};

bool ParseValue(std::string_view t, double& v) {
  if (t.empty()) return false;
  std::string_view body = t;
  bool neg = false;
  if (body[0] == '+' || body[0] == '-') {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  auto lower = [](std::string_view a) {
    std::string out(a);
    for (char& c : out) c = static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    return out;
  };
  const std::string l = lower(body);
  if (l == "nan") {
    v = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (l == "inf") {
    v = neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return true;
  }
  if (body.empty() || body[0] == '+' || body[0] == '-') return false;
  double x = 0;
  const auto r = std::from_chars(body.data(), body.data() + body.size(), x);
  if (r.ec != std::errc() || r.ptr != body.data() + body.size()) return false;
  v = neg ? -x : x;
  return true;
}

bool ParseTimestamp(std::string_view t, int64_t& ms) {
  if (t.empty()) return false;
  const auto r = std::from_chars(t.data(), t.data() + t.size(), ms);
  return r.ec == std::errc() && r.ptr == t.data() + t.size();
}

bool KnownType(std::string_view t) {
  return t == "counter" || t == "gauge" || t == "histogram" || t == "summary" || t == "untyped";
}

// A comment line: HELP and TYPE are checked, anything else after '#' is free text.
bool ReadComment(Cursor& c, PromText& out) {
  ++c.i;  // '#'
  c.SkipBlanks();
  const std::string_view word = c.Token();
  if (word != "HELP" && word != "TYPE") return true;
  c.SkipBlanks();
  std::string name;
  if (!c.Name(name, false)) return false;
  if (word == "HELP") {
    // The docstring may be empty or hold anything but a newline.
    return c.End() || Blank(c.s[c.i]) ? true : c.Fail("HELP: a blank must follow the name");
  }
  c.SkipBlanks();
  const std::string_view kind = c.Token();
  c.SkipBlanks();
  if (!KnownType(kind)) {
    return c.Fail(
        fmt::format("TYPE '{}' for {}: expected counter, gauge, histogram, summary or "
                    "untyped",
                    kind, name));
  }
  if (!c.End()) return c.Fail("TYPE: text after the type");
  if (!out.TypeOf(name).empty()) return c.Fail(fmt::format("second TYPE line for {}", name));
  out.types.emplace_back(name, std::string(kind));
  return true;
}

bool ReadSample(Cursor& c, PromSample& s) {
  if (!c.Name(s.metric, false)) return false;
  const size_t after_name = c.i;
  c.SkipBlanks();
  if (c.End() || c.s[c.i] != '{') {
    c.i = after_name;  // the blank before the value
  } else {
    ++c.i;
    while (true) {
      c.SkipBlanks();
      if (c.End()) return c.Fail("labels not closed by '}'");
      if (c.s[c.i] == '}') {
        ++c.i;
        break;
      }
      Label l;
      if (!c.Name(l.name, true)) return false;
      c.SkipBlanks();
      if (c.End() || c.s[c.i] != '=') {
        return c.Fail(fmt::format("expected '=' after label {}", l.name));
      }
      ++c.i;
      c.SkipBlanks();
      if (!c.QuotedValue(l.value)) return false;
      for (const Label& other : s.labels) {
        if (other.name == l.name) return c.Fail(fmt::format("label {} given twice", l.name));
      }
      s.labels.push_back(std::move(l));
      c.SkipBlanks();
      if (c.End()) return c.Fail("labels not closed by '}'");
      if (c.s[c.i] == ',') {
        ++c.i;
      } else if (c.s[c.i] != '}') {
        return c.Fail(fmt::format("expected ',' or '}}' at column {}", c.i + 1));
      }
    }
  }
  if (c.End() || !Blank(c.s[c.i])) return c.Fail("expected a blank and a value after the name");
  c.SkipBlanks();
  const std::string_view value = c.Token();
  if (value.empty()) return c.Fail("no value");
  if (!ParseValue(value, s.value)) {
    return c.Fail(
        fmt::format("value '{}' is not a number (NaN, +Inf, -Inf allowed)", value.substr(0, 40)));
  }
  c.SkipBlanks();
  if (!c.End()) {
    const std::string_view ts = c.Token();
    int64_t ms = 0;
    if (!ParseTimestamp(ts, ms)) {
      return c.Fail(fmt::format("timestamp '{}' is not whole milliseconds", ts.substr(0, 40)));
    }
    s.timestamp_ms = ms;
    c.SkipBlanks();
    if (!c.End()) return c.Fail("text after the timestamp");
  }
  return true;
}

}  // namespace

const std::string* PromSample::Find(std::string_view name) const {
  for (const Label& l : labels) {
    if (l.name == name) return &l.value;
  }
  return nullptr;
}

std::string PromText::TypeOf(std::string_view metric) const {
  for (const auto& [name, kind] : types) {
    if (name == metric) return kind;
  }
  return {};
}

PromText ParsePrometheusText(std::string_view text, size_t max_reasons) {
  PromText out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++out.lines;
    Cursor c;
    c.s = line;
    c.SkipBlanks();
    if (c.End()) continue;
    bool ok = true;
    if (line.find('\r') != std::string_view::npos) {
      ok = c.Fail("carriage return in a line (lines end with a line feed alone)");
    } else if (line.find('\0') != std::string_view::npos) {
      ok = c.Fail("NUL byte in a line");
    } else if (line[c.i] == '#') {
      ok = ReadComment(c, out);
    } else {
      PromSample s;
      ok = ReadSample(c, s);
      if (ok) out.samples.push_back(std::move(s));
    }
    if (!ok) {
      ++out.rejected;
      if (out.rejects.size() < max_reasons) out.rejects.push_back({out.lines, c.why});
    }
  }
  return out;
}

std::string FormatSampleLine(std::string_view metric, const std::vector<Label>& labels,
                             double value) {
  std::string line(metric);
  if (!labels.empty()) {
    line += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i) line += ',';
      line += labels[i].name;
      line += "=\"";
      for (char ch : labels[i].value) {
        if (ch == '\\') {
          line += "\\\\";
        } else if (ch == '"') {
          line += "\\\"";
        } else if (ch == '\n') {
          line += "\\n";
        } else {
          line += ch;
        }
      }
      line += '"';
    }
    line += '}';
  }
  line += ' ';
  if (std::isnan(value)) {
    line += "NaN";
  } else if (std::isinf(value)) {
    line += value > 0 ? "+Inf" : "-Inf";
  } else {
    line += fmt::format("{}", value);
  }
  return line;
}

bool IsMetricName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool IsLabelName(std::string_view s) {
  return IsMetricName(s) && s.find(':') == std::string_view::npos;
}

}  // namespace firstwall::live

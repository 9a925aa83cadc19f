#include "power/published_profiles.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/error.h"
#include "core/text_input.h"
#include "power/renewable.h"

namespace firstwall::power {
namespace {

struct Cell {
  std::string text;
  int column = 1;
};

// One line of quoted CSV (RFC 4180 without line breaks inside fields): PVWatts quotes every field,
// and some of its metadata values hold commas ("Lat, Lng: 41.65, -91.54"). Spaces around a field
// are dropped (the old versions' "Totals", , , row). Throws InputError at an unterminated quote.
std::vector<Cell> SplitQuoted(std::string_view line, const std::string& path, int number) {
  std::vector<Cell> cells(1);
  bool quoted = false;
  size_t opened = 0;
  auto close = [&] {
    std::string& t = cells.back().text;
    const size_t a = t.find_first_not_of(" \t"), b = t.find_last_not_of(" \t");
    t = a == std::string::npos ? std::string() : t.substr(a, b - a + 1);
  };
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c != '"') {
        cells.back().text += c;
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        cells.back().text += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
      opened = i;
    } else if (c == ',') {
      close();
      cells.push_back({"", static_cast<int>(i) + 2});
    } else {
      cells.back().text += c;
    }
  }
  if (quoted) {
    throw InputError({path, number, static_cast<int>(opened) + 1},
                     "a quote opened here is not closed on its line");
  }
  close();
  return cells;
}

// A metadata label without the older versions' trailing colon ("DC System Size (kW):"); the
// cells come trimmed of spaces from SplitQuoted.
std::string Label(std::string_view s) {
  while (!s.empty() && s.back() == ':') s.remove_suffix(1);
  return std::string(s);
}

double CheckedFactor(double v, const std::string& field, double capacity_kw, const char* unit,
                     SourceLocation at) {
  const double cf = v / capacity_kw;
  if (v < 0 || cf > kMaxPublishedCapacityFactor) {
    throw InputError(
        at,
        "output " + field + " " + unit + " is " +
            (v < 0 ? std::string("negative")
                   : "more than " +
                         std::to_string(static_cast<int>(100 * kMaxPublishedCapacityFactor)) +
                         " % of the file's capacity"),
        "the file's capacity is " + std::to_string(capacity_kw) + " kW");
  }
  return cf;
}

void CheckWidth(size_t got, size_t width, const std::string& path, const text::Line& l) {
  if (got != width) {
    throw InputError(
        {path, l.number, static_cast<int>(l.text.size()) + 1},
        "expected " + std::to_string(width) + " fields, as the header, got " + std::to_string(got));
  }
}

std::optional<int64_t> NinjaTime(std::string_view f) {
  // "2014-01-01 00:00": the hour's start, minutes only.
  if (f.size() != 16) return std::nullopt;
  return text::DateTimeSeconds(std::string(f) + ":00");
}

RenewableProfile ReadNinja(const std::vector<text::Line>& lines, const std::string& path) {
  RenewableProfile p;
  p.format = RenewableProfile::Format::kRenewablesNinja;
  int header_line = 0, time_col = -1, local_col = -1, out_col = -1, local_column = 1;
  size_t width = 0;
  std::vector<double> cf;
  int64_t first = 0, previous = 0, least_offset = std::numeric_limits<int64_t>::max();
  int year = 0, last_line = 0;
  for (const text::Line& l : lines) {
    if (text::Blank(l.text)) continue;
    if (l.text.front() == '#') {
      std::string_view body = l.text.substr(1);
      while (!body.empty() && body.front() == ' ') body.remove_prefix(1);
      if (body.empty() || body.front() != '{') continue;
      const nlohmann::json meta = nlohmann::json::parse(body, nullptr, false);
      const SourceLocation at{path, l.number, static_cast<int>(l.text.size() - body.size()) + 1};
      if (meta.is_discarded() || !meta.is_object()) {
        throw InputError(at, "the metadata line of a renewables.ninja file is not a JSON object",
                         "use the file as downloaded");
      }
      const nlohmann::json units = meta.value("units", nlohmann::json::object());
      if (units.is_object() && units.contains("electricity") &&
          units["electricity"] != nlohmann::json("kW")) {
        throw InputError(at, "electricity is in " + units["electricity"].dump() + ", not \"kW\"",
                         "renewables.ninja point downloads give electricity in kW");
      }
      const nlohmann::json params = meta.value("params", nlohmann::json::object());
      if (!params.is_object() || !params.contains("capacity")) continue;
      const nlohmann::json& c = params["capacity"];
      std::optional<double> kw;
      if (c.is_number()) kw = c.get<double>();
      if (c.is_string()) kw = text::FiniteNumber(c.get<std::string>());
      if (!kw || *kw <= 0) {
        throw InputError(at, "params.capacity is " + c.dump() + ": expected a capacity in kW > 0");
      }
      p.file_capacity_kw = *kw;
      continue;
    }
    const std::vector<text::Field> f = text::Split(l.text, ',');
    if (header_line == 0) {
      header_line = l.number;
      width = f.size();
      for (size_t i = 0; i < f.size(); ++i) {
        if (f[i].text == "time") time_col = static_cast<int>(i);
        if (f[i].text == "local_time") {
          local_col = static_cast<int>(i);
          local_column = f[i].column;
        }
        if (f[i].text == "electricity") out_col = static_cast<int>(i);
      }
      if (time_col < 0 || out_col < 0) {
        throw InputError({path, l.number, 1},
                         "expected the header of a renewables.ninja file (time,local_time,"
                         "electricity,...), got '" +
                             std::string(l.text) + "'");
      }
      if (local_col < 0) {
        throw InputError({path, l.number, 1},
                         "this renewables.ninja file has no local_time column: its hours are UTC, "
                         "and firstwall's are the site's local standard time (as the weather file)",
                         "download it again with local time included");
      }
      if (p.file_capacity_kw <= 0) {
        throw InputError({path, l.number, 1},
                         "no '# {\"units\": ..., \"params\": {\"capacity\": ...}}' line before the "
                         "header: the capacity the file's kW are for is unknown",
                         "use the file as downloaded, with its three '#' lines");
      }
      continue;
    }
    last_line = l.number;
    CheckWidth(f.size(), width, path, l);
    const text::Field& tf = f[static_cast<size_t>(time_col)];
    const auto t = NinjaTime(tf.text);
    if (!t) {
      throw InputError(
          {path, l.number, tf.column},
          "expected a time 'YYYY-MM-DD HH:MM' (UTC), got '" + std::string(tf.text) + "'");
    }
    if (cf.empty()) {
      year = std::stoi(std::string(tf.text.substr(0, 4)));
      first = text::DaysFromCivil(year, 1, 1) * 86400;
      if (*t != first) {
        throw InputError({path, l.number, tf.column},
                         "the first hour is " + std::string(tf.text) + ", not " +
                             std::to_string(year) + "-01-01 00:00",
                         "a profile is one calendar year from 1 January 00:00 UTC");
      }
    } else if (*t != previous + 3600) {
      throw InputError({path, l.number, tf.column},
                       "expected the hour after the row before, got " + std::string(tf.text),
                       "one row per hour, in order, without gaps");
    }
    previous = *t;
    const text::Field& lf = f[static_cast<size_t>(local_col)];
    const auto local = NinjaTime(lf.text);
    if (!local) {
      throw InputError(
          {path, l.number, lf.column},
          "expected a local time 'YYYY-MM-DD HH:MM', got '" + std::string(lf.text) + "'");
    }
    least_offset = std::min(least_offset, *local - *t);
    const text::Field& of = f[static_cast<size_t>(out_col)];
    const auto v = text::FiniteNumber(of.text);
    if (!v) {
      throw InputError({path, l.number, of.column},
                       "expected the output in kW, got '" + std::string(of.text) + "'");
    }
    cf.push_back(CheckedFactor(*v, std::string(of.text), p.file_capacity_kw, "kW",
                               {path, l.number, of.column}));
  }
  if (header_line == 0) {
    throw InputError({path, 1, 1}, "a renewables.ninja file without a header or rows");
  }
  if (cf.empty()) {
    throw InputError({path, header_line, 1}, "no hourly rows after the header");
  }
  // Time zones lie between UTC-12 and UTC+14.
  if (least_offset < -12 * 3600 || least_offset > 14 * 3600) {
    throw InputError({path, header_line, local_column},
                     "local_time is " + std::to_string(least_offset / 3600) +
                         " h from time at least; time zones lie from -12 to +14 h",
                     "use the file as downloaded");
  }
  const size_t want = static_cast<size_t>(
      24 * (text::DaysFromCivil(year + 1, 1, 1) - text::DaysFromCivil(year, 1, 1)));
  if (cf.size() != want) {
    throw InputError({path, std::max(last_line, header_line), 1},
                     "the file has " + std::to_string(cf.size()) + " hourly rows; " +
                         std::to_string(year) + " has " + std::to_string(want),
                     "a profile is one whole calendar year (date_from 1 January, date_to 31 "
                     "December)");
  }
  // Local standard hour k is UTC hour k - offset (of the same year, wrapping at its ends).
  p.utc_offset_h = static_cast<int>(std::lround(static_cast<double>(least_offset) / 3600.0));
  const int64_t n = static_cast<int64_t>(cf.size());
  p.capacity_factor.resize(cf.size());
  for (int64_t k = 0; k < n; ++k) {
    p.capacity_factor[static_cast<size_t>(k)] =
        cf[static_cast<size_t>(((k - p.utc_offset_h) % n + n) % n)];
  }
  return p;
}

RenewableProfile ReadPvwatts(const std::vector<text::Line>& lines, const std::string& path,
                             ProfileOutput output) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  RenewableProfile p;
  p.format = RenewableProfile::Format::kPvwatts;
  const char* column =
      output == ProfileOutput::kAc ? "AC System Output (W)" : "DC Array Output (W)";
  int header_line = 0, month_col = -1, day_col = -1, hour_col = -1, out_col = -1, last_line = 0;
  int totals_line = 0;
  size_t width = 0;
  for (const text::Line& l : lines) {
    if (text::Blank(l.text)) continue;
    const std::vector<Cell> f = SplitQuoted(l.text, path, l.number);
    if (header_line == 0) {
      const std::string label = Label(f[0].text);
      if (label == "DC System Size (kW)" && f.size() > 1) {
        const auto kw = text::FiniteNumber(f[1].text);
        if (!kw || *kw <= 0) {
          throw InputError({path, l.number, f[1].column},
                           "expected the DC system size in kW > 0, got '" + f[1].text + "'");
        }
        p.file_capacity_kw = *kw;
      }
      if (label != "Month") continue;
      header_line = l.number;
      width = f.size();
      for (size_t i = 0; i < f.size(); ++i) {
        if (f[i].text == "Month") month_col = static_cast<int>(i);
        if (f[i].text == "Day") day_col = static_cast<int>(i);
        if (f[i].text == "Hour") hour_col = static_cast<int>(i);
        if (f[i].text == column) out_col = static_cast<int>(i);
      }
      if (day_col < 0 || hour_col < 0 || out_col < 0) {
        throw InputError({path, l.number, 1},
                         std::string("expected the PVWatts header with \"Month\", \"Day\", "
                                     "\"Hour\" and \"") +
                             column + "\"");
      }
      if (p.file_capacity_kw <= 0) {
        throw InputError({path, l.number, 1},
                         "no \"DC System Size (kW)\" row before the header: the array the watts "
                         "are for is unknown",
                         "use the file as downloaded, with its metadata rows");
      }
      continue;
    }
    if (f[0].text == "Totals") {  // versions 5 and 6 close with the year's sums
      totals_line = l.number;
      continue;
    }
    if (totals_line > 0) {
      throw InputError({path, l.number, 1},
                       "a row after the \"Totals\" row of line " + std::to_string(totals_line),
                       "the Totals row closes a PVWatts file");
    }
    last_line = l.number;
    CheckWidth(f.size(), width, path, l);
    const size_t k = p.capacity_factor.size();
    if (k >= 8760) {
      throw InputError({path, l.number, 1}, "more than 8,760 hourly rows",
                       "PVWatts writes one typical year of 365 days");
    }
    int day = static_cast<int>(k / 24), month = 0;
    while (day >= kDays[month]) day -= kDays[month++];
    const int want[3] = {month + 1, day + 1, static_cast<int>(k % 24)};
    const int cols[3] = {month_col, day_col, hour_col};
    for (int i = 0; i < 3; ++i) {
      const Cell& c = f[static_cast<size_t>(cols[i])];
      const auto v = text::WholeNumber(c.text);
      if (!v || *v != want[i]) {
        throw InputError({path, l.number, c.column},
                         "expected month " + std::to_string(want[0]) + ", day " +
                             std::to_string(want[1]) + ", hour " + std::to_string(want[2]) +
                             " (row " + std::to_string(k + 1) + " of a 365-day year), got '" +
                             c.text + "'");
      }
    }
    const Cell& c = f[static_cast<size_t>(out_col)];
    const auto w = text::FiniteNumber(c.text);
    if (!w) {
      throw InputError({path, l.number, c.column},
                       "expected the output in W, got '" + c.text + "'");
    }
    p.capacity_factor.push_back(
        CheckedFactor(*w / 1000, c.text, p.file_capacity_kw, "W", {path, l.number, c.column}));
  }
  if (header_line == 0) {
    throw InputError({path, 1, 1}, "a PVWatts file without its \"Month\",\"Day\",\"Hour\" header",
                     "a comma-separated file as downloaded (a re-save with ';' is not read)");
  }
  if (p.capacity_factor.size() != 8760) {
    throw InputError({path, std::max(last_line, header_line), 1},
                     "the file has " + std::to_string(p.capacity_factor.size()) +
                         " hourly rows; PVWatts writes 8,760",
                     "use the hourly download, whole");
  }
  return p;
}

}  // namespace

const char* FormatName(RenewableProfile::Format f) {
  switch (f) {
    case RenewableProfile::Format::kRenewablesNinja:
      return "renewables.ninja";
    case RenewableProfile::Format::kPvwatts:
      return "PVWatts";
    case RenewableProfile::Format::kFirstwall:
      break;
  }
  return "firstwall";
}

RenewableProfile ReadRenewableProfile(const std::string& text, const std::string& path,
                                      ProfileOutput output) {
  const std::vector<text::Line> lines = text::Lines(text, path);
  const auto first = std::find_if(lines.begin(), lines.end(),
                                  [](const text::Line& l) { return !text::Blank(l.text); });
  if (first != lines.end()) {
    const std::string_view head = first->text;
    if (head.front() == '#' || head.starts_with("time,")) return ReadNinja(lines, path);
    if (head.find("PVWatts") != std::string_view::npos) return ReadPvwatts(lines, path, output);
    if (!head.starts_with("hour,")) {
      throw InputError({path, first->number, 1},
                       "not a renewable profile firstwall reads: expected its own header "
                       "'hour,output_kw_per_kw', a renewables.ninja download (starting '# "
                       "Renewables.ninja') or a PVWatts hourly download (starting "
                       "'\"PVWatts')",
                       "docs/models.md, Energy supply, lists the three layouts");
    }
  }
  RenewableProfile p;
  p.capacity_factor = ReadCapacityFactors(text, path);
  return p;
}

}  // namespace firstwall::power

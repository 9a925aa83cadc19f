#include "workload/requests.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/rng.h"
#include "core/text_input.h"

namespace firstwall::workload {
namespace {

constexpr int kMaxTokens = 1 << 24;
const char* const kAtLeastOneToken =
    "a request has at least one prompt and one output token; remove the row or fix its count";

// A positive token count in [begin, end) of `line`; throws naming the column.
int Tokens(const std::string& line, size_t begin, size_t end, const std::string& path, int line_no,
           const char* what) {
  const std::string field = line.substr(begin, end - begin);
  const auto v = text::WholeNumber(field);
  if (!v || *v < 1 || *v > kMaxTokens) {
    throw InputError({path, line_no, static_cast<int>(begin) + 1},
                     std::string("expected ") + what + " as a whole number of tokens from 1 to " +
                         std::to_string(kMaxTokens) + ", got '" + field + "'",
                     v && *v == 0 ? kAtLeastOneToken : "");
  }
  return static_cast<int>(*v);
}

void SortByArrival(RequestSet& set) {
  // Follow-ups keep their place; only first arrivals are ordered. Links are indices, so sort a
  // permutation and renumber them.
  std::vector<size_t> order(set.requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const Request &x = set.requests[a], &y = set.requests[b];
    if (x.follow_up != y.follow_up) return !x.follow_up;
    return !x.follow_up && x.arrival_s < y.arrival_s;
  });
  std::vector<int> where(order.size());
  std::vector<Request> out;
  out.reserve(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    where[order[i]] = static_cast<int>(i);
    out.push_back(set.requests[order[i]]);
  }
  for (Request& r : out) {
    if (r.next >= 0) r.next = where[static_cast<size_t>(r.next)];
  }
  set.requests = std::move(out);
}

int Draw(const LengthDistribution& d, RngStream& rng) {
  double v = d.a;
  switch (d.kind) {
    case LengthDistribution::Kind::kFixed:
      break;
    case LengthDistribution::Kind::kUniform:
      v = d.a + (d.b - d.a + 1) * rng.Uniform();
      break;
    case LengthDistribution::Kind::kLognormal: {
      // Mean m and coefficient of variation c: sigma^2 = ln(1 + c^2), mu = ln m - sigma^2 / 2.
      const double s2 = std::log1p(d.b * d.b);
      v = std::exp(rng.Normal(std::log(d.a) - s2 / 2, std::sqrt(s2)));
      break;
    }
  }
  return std::clamp(static_cast<int>(std::floor(v)), 1, d.max);
}

}  // namespace

RequestSet ParseAzureTrace(const std::string& text, const std::string& path,
                           const std::string& label) {
  RequestSet set;
  set.classes = {label};
  const std::string header = "TIMESTAMP,ContextTokens,GeneratedTokens";
  const std::vector<text::Line> lines = text::Lines(text, path);
  if (text::Blank(lines)) {
    throw InputError(
        {path, 1, 0}, "the trace file is empty",
        "expected the Azure LLM trace header '" + header + "', then one request a row");
  }
  double first = std::nan("");
  int line_no = 0;
  for (const text::Line& l : lines) {
    line_no = l.number;
    const std::string line(l.text);
    if (line_no == 1) {
      if (line != header) {
        throw InputError({path, 1, 1}, "expected the Azure LLM trace header '" + header +
                                           "', got '" + line + "'");
      }
      continue;
    }
    if (line.empty()) continue;
    const size_t c1 = line.find(','), c2 = c1 == std::string::npos ? c1 : line.find(',', c1 + 1);
    if (c2 == std::string::npos || line.find(',', c2 + 1) != std::string::npos) {
      throw InputError({path, line_no, 1}, "expected 3 comma-separated fields, got '" + line + "'");
    }
    int y = 0, mo = 0, d = 0, h = 0, mi = 0;
    double sec = 0;
    int used = 0;
    const std::string ts = line.substr(0, c1);
    if (std::sscanf(ts.c_str(), "%d-%d-%d %d:%d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6 ||
        used != static_cast<int>(ts.size()) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
        mi > 59 || !std::isfinite(sec) || sec < 0 || sec >= 61) {
      throw InputError({path, line_no, 1},
                       "expected a timestamp like '2023-11-16 18:15:46.6805900', got '" + ts + "'");
    }
    const double t =
        static_cast<double>(text::DaysFromCivil(y, mo, d)) * 86400.0 + h * 3600.0 + mi * 60.0 + sec;
    if (std::isnan(first)) first = t;
    Request r;
    r.arrival_s = t - first;
    if (r.arrival_s < 0) {
      throw InputError({path, line_no, 1}, "timestamp before the first request's");
    }
    r.prompt_tokens = Tokens(line, c1 + 1, c2, path, line_no, "ContextTokens");
    r.output_tokens = Tokens(line, c2 + 1, line.size(), path, line_no, "GeneratedTokens");
    set.requests.push_back(r);
  }
  if (set.requests.empty()) throw InputError({path, line_no, 1}, "the trace has no requests");
  SortByArrival(set);
  return set;
}

RequestSet ParseMooncakeTrace(const std::string& text, const std::string& path,
                              const std::string& label) {
  RequestSet set;
  set.classes = {label};
  set.hash_block_tokens = 512;
  const std::vector<text::Line> lines = text::Lines(text, path);
  if (text::Blank(lines)) {
    throw InputError({path, 1, 0}, "the trace file is empty",
                     "expected one JSON object per line: {\"timestamp\": ms, \"input_length\": "
                     "n, \"output_length\": n, \"hash_ids\": [...]}");
  }
  using Event = nlohmann::json::parse_event_t;
  int line_no = 0;
  double previous_ms = 0;     // the previous request's timestamp, in ms
  std::string previous_text;  // and as written
  for (const text::Line& l : lines) {
    line_no = l.number;
    if (text::Blank(l.text)) continue;
    const std::string line(l.text);
    // Keys seen in each object still open; nlohmann keeps the last of duplicates silently.
    std::vector<std::vector<std::string>> open;
    std::string duplicate;
    auto watch = [&](int, Event event, nlohmann::json& parsed) {
      if (event == Event::object_start) open.emplace_back();
      if (event == Event::object_end) open.pop_back();
      if (event == Event::key && duplicate.empty()) {
        const std::string key = parsed.get<std::string>();
        std::vector<std::string>& keys = open.back();
        if (std::find(keys.begin(), keys.end(), key) != keys.end()) duplicate = key;
        keys.push_back(key);
      }
      return true;
    };
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line, watch);
    } catch (const nlohmann::json::parse_error& e) {
      throw InputError({path, line_no, static_cast<int>(e.byte)},
                       "expected one JSON object per line (Mooncake trace format)");
    } catch (const nlohmann::json::out_of_range& e) {
      // "number overflow parsing '1e400'": point at the number.
      const std::string what = e.what();
      const size_t q1 = what.find('\''), q2 = what.rfind('\'');
      const std::string number = q1 < q2 ? what.substr(q1 + 1, q2 - q1 - 1) : "";
      const size_t at = number.empty() ? std::string::npos : line.find(number);
      throw InputError({path, line_no, at == std::string::npos ? 1 : static_cast<int>(at) + 1},
                       "number out of range" + (number.empty() ? "" : ": '" + number + "'"));
    }
    auto col = [&](const char* key) {
      const size_t at = line.find(std::string("\"") + key + "\"");
      return at == std::string::npos ? 1 : static_cast<int>(at) + 1;
    };
    if (!duplicate.empty()) {
      const std::string quoted = "\"" + duplicate + "\"";
      const size_t second = line.find(quoted, line.find(quoted) + 1);
      throw InputError(
          {path, line_no, second == std::string::npos ? 1 : static_cast<int>(second) + 1},
          "duplicate key '" + duplicate + "'", "each key may appear once in a line");
    }
    if (!j.is_object()) throw InputError({path, line_no, 1}, "expected a JSON object");
    for (const auto& [key, value] : j.items()) {
      if (key != "timestamp" && key != "input_length" && key != "output_length" &&
          key != "hash_ids") {
        throw InputError(
            {path, line_no, col(key.c_str())},
            "unknown key '" + key + "'; expected timestamp, input_length, output_length, hash_ids");
      }
    }
    auto present = [&](const char* key) -> const nlohmann::json& {
      if (!j.contains(key)) {
        throw InputError({path, line_no, 1}, std::string("missing '") + key + "'");
      }
      return j[key];
    };
    const nlohmann::json& ts = present("timestamp");
    if (!ts.is_number() || !std::isfinite(ts.get<double>()) || ts.get<double>() < 0 ||
        ts.get<double>() > 1e13) {
      throw InputError({path, line_no, col("timestamp")},
                       "expected 'timestamp' as a number from 0 to 10000000000000");
    }
    auto tokens = [&](const char* key) {
      const nlohmann::json& v = present(key);
      const bool whole = v.is_number_integer();
      const int64_t n = whole ? v.get<int64_t>() : 0;
      if (!whole || n < 1 || n > kMaxTokens) {
        throw InputError({path, line_no, col(key)},
                         std::string("expected '") + key +
                             "' as a whole number of tokens from 1 to " +
                             std::to_string(kMaxTokens) + ", got " + v.dump(),
                         whole && n == 0 ? kAtLeastOneToken : "");
      }
      return static_cast<int>(n);
    };
    // A Mooncake trace lists requests in arrival order; one that goes back in time is a damaged or
    // concatenated trace, refused as the Azure reader refuses one (not silently re-sorted).
    if (!set.requests.empty() && ts.get<double>() < previous_ms) {
      throw InputError(
          {path, line_no, col("timestamp")},
          "timestamp " + ts.dump() + " is before the previous request's (" + previous_text + ")",
          "a Mooncake trace lists requests in arrival order (timestamps in ms)");
    }
    previous_ms = ts.get<double>();
    previous_text = ts.dump();
    Request r;
    r.arrival_s = ts.get<double>() / 1000.0;
    r.prompt_tokens = tokens("input_length");
    r.output_tokens = tokens("output_length");
    if (j.contains("hash_ids")) {
      const auto& ids = j["hash_ids"];
      if (!ids.is_array()) {
        throw InputError({path, line_no, col("hash_ids")}, "expected 'hash_ids' as a list");
      }
      r.prefix_begin = static_cast<uint32_t>(set.hashes.size());
      for (const auto& id : ids) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0) {
          throw InputError({path, line_no, col("hash_ids")},
                           "expected 'hash_ids' as non-negative whole numbers");
        }
        set.hashes.push_back(id.get<uint64_t>());
      }
      r.prefix_count = static_cast<uint32_t>(set.hashes.size()) - r.prefix_begin;
    }
    set.requests.push_back(r);
  }
  if (set.requests.empty()) throw InputError({path, line_no, 0}, "the trace has no requests");
  SortByArrival(set);
  return set;
}

RequestSet ReadAzureTrace(const std::string& path, const std::string& label) {
  return ParseAzureTrace(text::ReadFile(path, "trace file"), path, label);
}
RequestSet ReadMooncakeTrace(const std::string& path, const std::string& label) {
  return ParseMooncakeTrace(text::ReadFile(path, "trace file"), path, label);
}

RequestSet Generate(const std::vector<SyntheticSource>& sources, uint64_t seed) {
  std::vector<RequestSet> sets;
  // Synthetic prefix ids start far above any trace's.
  uint64_t next_hash = uint64_t{1} << 40;
  for (const SyntheticSource& src : sources) {
    FW_CHECK(src.rate_per_s > 0 && src.end_s > src.start_s && src.steps >= 1, "bad source");
    RngStream rng(seed, "requests/" + src.label);
    RequestSet set;
    set.classes = {src.label};
    // Cumulative rate at each hour boundary of a day, the profile normalised to mean 1.
    std::array<double, 25> cum{};
    std::array<double, 24> rel{};
    rel.fill(1.0);
    if (src.diurnal) {
      const double sum = std::accumulate(src.diurnal->begin(), src.diurnal->end(), 0.0);
      FW_CHECK(sum > 0, "diurnal profile sums to zero");
      for (size_t i = 0; i < 24; ++i) rel[i] = (*src.diurnal)[i] * 24.0 / sum;
    }
    for (size_t i = 0; i < 24; ++i) cum[i + 1] = cum[i] + rel[i] * 3600.0 * src.rate_per_s;
    const double per_day = cum[24];
    // Operational time (expected arrivals since t = 0) to wall time, and back.
    auto to_ops = [&](double t) {
      const double days = std::floor(t / 86400.0), in_day = t - days * 86400.0;
      const auto h = std::min<size_t>(23, static_cast<size_t>(in_day / 3600.0));
      return days * per_day + cum[h] +
             (in_day - static_cast<double>(h) * 3600.0) * rel[h] * src.rate_per_s;
    };
    auto to_wall = [&](double ops) {
      const double days = std::floor(ops / per_day);
      double left = ops - days * per_day;
      size_t h = 0;
      while (h < 23 && (cum[h + 1] <= left || rel[h] == 0)) ++h;
      left -= cum[h];
      return days * 86400.0 + static_cast<double>(h) * 3600.0 +
             (rel[h] > 0 ? left / (rel[h] * src.rate_per_s) : 0.0);
    };
    const double shape = 1.0 / (src.cv * src.cv);
    std::vector<uint64_t> shared;
    const int hb = set.hash_block_tokens;
    for (int i = 0; i < src.shared_prefix_tokens / hb; ++i) shared.push_back(next_hash++);
    double ops = to_ops(src.start_s);
    for (;;) {
      ops += src.arrival == SyntheticSource::Arrival::kPoisson ? rng.Exponential(1.0)
                                                               : rng.Gamma(shape, 1.0 / shape);
      const double t = to_wall(ops);
      if (t >= src.end_s) break;
      // A session: the first call, then follow-ups whose prefix is everything before them.
      std::vector<uint64_t> prefix = shared;
      int context = src.shared_prefix_tokens;
      int prev = -1;
      for (int step = 0; step < src.steps; ++step) {
        Request r;
        r.cls = 0;
        r.arrival_s = t;
        r.follow_up = step > 0;
        r.gap_s = src.step_gap_s;
        const int fresh = Draw(step == 0 ? src.prompt : src.step_prompt, rng);
        r.prompt_tokens = context + fresh;
        r.output_tokens = Draw(src.output, rng);
        while (static_cast<int>(prefix.size()) < r.prompt_tokens / hb) {
          prefix.push_back(next_hash++);
        }
        r.prefix_begin = static_cast<uint32_t>(set.hashes.size());
        r.prefix_count = static_cast<uint32_t>(prefix.size());
        set.hashes.insert(set.hashes.end(), prefix.begin(), prefix.end());
        const int index = static_cast<int>(set.requests.size());
        if (prev >= 0) set.requests[static_cast<size_t>(prev)].next = index;
        set.requests.push_back(r);
        prev = index;
        context = r.prompt_tokens + r.output_tokens;
        if (src.steps > 1) {
          // The answer becomes prefix of the next call.
          while (static_cast<int>(prefix.size()) < context / hb) prefix.push_back(next_hash++);
        }
      }
    }
    sets.push_back(std::move(set));
  }
  return Merge(std::move(sets));
}

RequestSet Merge(std::vector<RequestSet> sets) {
  if (sets.size() == 1) return std::move(sets.front());
  RequestSet out;
  out.classes.clear();
  for (RequestSet& s : sets) {
    FW_CHECK(s.hash_block_tokens == sets.front().hash_block_tokens,
             "merged request sets use one prefix block size");
    const int base = static_cast<int>(out.requests.size());
    const auto hash_base = static_cast<uint32_t>(out.hashes.size());
    const int cls_base = static_cast<int>(out.classes.size());
    for (Request r : s.requests) {
      if (r.next >= 0) r.next += base;
      r.prefix_begin += hash_base;
      r.cls += cls_base;
      out.requests.push_back(r);
    }
    out.hashes.insert(out.hashes.end(), s.hashes.begin(), s.hashes.end());
    out.classes.insert(out.classes.end(), s.classes.begin(), s.classes.end());
    out.hash_block_tokens = s.hash_block_tokens;
  }
  SortByArrival(out);
  return out;
}

void ScaleRate(RequestSet& set, double factor) {
  FW_CHECK(factor > 0, "rate factor must be positive");
  for (Request& r : set.requests) {
    r.arrival_s /= factor;
    r.gap_s /= factor;
  }
}

double LoopPeriod(const RequestSet& set) {
  double first = 0, last = 0;
  int64_t n = 0;
  for (const Request& r : set.requests) {
    if (r.follow_up) continue;
    first = n == 0 ? r.arrival_s : std::min(first, r.arrival_s);
    last = n == 0 ? r.arrival_s : std::max(last, r.arrival_s);
    ++n;
  }
  if (n < 2 || !(last > first)) return 0;
  return (last - first) * static_cast<double>(n) / static_cast<double>(n - 1);
}

void Loop(RequestSet& set, double end_s) {
  const double period = LoopPeriod(set);
  FW_CHECK(period > 0, "a request set without a span cannot loop");
  double first = std::numeric_limits<double>::infinity();
  for (const Request& r : set.requests) {
    if (!r.follow_up) first = std::min(first, r.arrival_s);
  }
  // Dense prefix ids: id i of lap k becomes k * distinct + rank(i).
  std::vector<uint64_t> distinct = set.hashes;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::vector<uint64_t> rank(set.hashes.size());
  for (size_t i = 0; i < set.hashes.size(); ++i) {
    rank[i] = static_cast<uint64_t>(
        std::lower_bound(distinct.begin(), distinct.end(), set.hashes[i]) - distinct.begin());
  }
  const auto n = static_cast<int>(set.requests.size());
  const auto n_hashes = static_cast<uint32_t>(set.hashes.size());
  std::vector<Request> requests;
  std::vector<uint64_t> hashes;
  for (int64_t lap = 0; first + static_cast<double>(lap) * period < end_s; ++lap) {
    const double shift = static_cast<double>(lap) * period;
    for (Request r : set.requests) {
      if (!r.follow_up) r.arrival_s += shift;
      if (r.next >= 0) r.next += static_cast<int>(lap) * n;
      r.prefix_begin += static_cast<uint32_t>(lap) * n_hashes;
      requests.push_back(r);
    }
    for (uint64_t id : rank) hashes.push_back(static_cast<uint64_t>(lap) * distinct.size() + id);
  }
  set.requests = std::move(requests);
  set.hashes = std::move(hashes);
  SortByArrival(set);
}

namespace {
// Keeps the sessions whose first call passes `pass`, with their follow-ups, renumbered.
template <class Pass>
void KeepSessions(RequestSet& set, Pass pass) {
  std::vector<char> keep(set.requests.size(), 0);
  for (size_t i = 0; i < set.requests.size(); ++i) {
    const Request& r = set.requests[i];
    if (r.follow_up || !pass(r)) continue;
    for (int k = static_cast<int>(i); k >= 0; k = set.requests[static_cast<size_t>(k)].next) {
      keep[static_cast<size_t>(k)] = 1;
    }
  }
  std::vector<int> where(set.requests.size(), -1);
  std::vector<Request> out;
  for (size_t i = 0; i < set.requests.size(); ++i) {
    if (!keep[i]) continue;
    where[i] = static_cast<int>(out.size());
    out.push_back(set.requests[i]);
  }
  for (Request& r : out) {
    if (r.next >= 0) r.next = where[static_cast<size_t>(r.next)];
  }
  set.requests = std::move(out);
}
}  // namespace

void Window(RequestSet& set, double start_s, double end_s, double offset_s) {
  KeepSessions(set,
               [&](const Request& r) { return r.arrival_s >= start_s && r.arrival_s < end_s; });
  for (Request& r : set.requests) {
    if (!r.follow_up) r.arrival_s += offset_s - start_s;
  }
}

void Thin(RequestSet& set, double fraction, uint64_t seed) {
  RngStream rng(seed, "requests/thin");
  KeepSessions(set, [&](const Request&) { return rng.Uniform() < fraction; });
}

}  // namespace firstwall::workload

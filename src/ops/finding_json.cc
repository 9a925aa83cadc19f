#include "ops/finding_json.h"

#include <limits>
#include <type_traits>

#include <fmt/format.h>

#include "live/vocabulary.h"

namespace firstwall::ops {
namespace {

using nlohmann::json;

// file:line:col of byte offset `at` (0-based) of `text`.
SourceLocation Where(const std::string& text, size_t at, const std::string& file) {
  SourceLocation l{file, 1, 1};
  for (size_t i = 0; i < at && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++l.line;
      l.column = 1;
    } else {
      ++l.column;
    }
  }
  return l;
}

json WhatIfFiguresJson(const WhatIfFigures& f) {
  return {{"facility_power_kw", f.facility_power_w / 1e3},
          {"it_power_kw", f.it_power_w / 1e3},
          {"cooling_power_kw", f.cooling_power_w / 1e3},
          {"pue", f.pue},
          {"peak_facility_power_kw", f.peak_facility_w / 1e3},
          {"peak_it_power_kw", f.peak_it_w / 1e3},
          {"mean_gpu_activity", f.mean_gpu_activity},
          {"inlet_outside_a1_allowable_hours", f.inlet_outside_allowable_h},
          {"unmet_cooling_hours", f.unmet_cooling_h},
          {"cdu_over_capacity_hours", f.cdu_over_capacity_h},
          {"grid_limit_exceeded_hours", f.grid_limit_exceeded_h},
          {"throttled_gpu_hours", f.throttled_gpu_h},
          {"service_requests", f.service_requests},
          {"slo_met_requests", f.slo_met},
          {"jobs_with_deadline", f.jobs_with_deadline},
          {"deadlines_missed", f.deadlines_missed},
          {"useful_gpu_hours", f.useful_gpu_h},
          {"energy_cost_usd", f.energy_cost_usd},
          {"restart_rise_1min_kw", f.restart_rise_1min_w / 1e3},
          {"sim_time_s", f.sim_time_s}};
}

}  // namespace

json FindingJson(const Finding& f) {
  return {{"kind", f.kind},
          {"target", f.target},
          {"quantity", f.quantity},
          {"detector", f.detector},
          {"cause", f.cause},
          {"start_ms", f.start_ms},
          {"detected_ms", f.detected_ms},
          {"residual", f.residual},
          {"score_sigma", f.score_sigma},
          {"limit", f.limit},
          {"detail", f.detail}};
}

std::vector<Finding> ParseFindings(const std::string& text, const std::string& file) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    throw InputError(Where(text, e.byte > 0 ? e.byte - 1 : 0, file), "malformed JSON",
                     "a JSON array of findings (docs/operations.md, \"Experts\")");
  } catch (const json::out_of_range& e) {
    // A number beyond a double's range (1e999): the library names it, not where it is.
    const std::string what = e.what();
    const auto open = what.find('\''), close = what.rfind('\'');
    const std::string number =
        open != std::string::npos && close > open ? what.substr(open + 1, close - open - 1) : "";
    const size_t at = number.empty() ? 0 : text.find(number);
    throw InputError(Where(text, at == std::string::npos ? 0 : at, file),
                     fmt::format("the number {} is beyond a double's range", number),
                     "a finite number");
  }
  const json* list = &doc;
  if (doc.is_object() && doc.contains("findings")) list = &doc["findings"];
  if (!list->is_array()) {
    throw InputError({file, 1, 1}, "expected a JSON array of findings",
                     "[{\"kind\": \"anomaly\", \"target\": \"cdu/cdu-1\", ...}] or "
                     "{\"findings\": [...]}");
  }
  // Locate the n-th element for messages: the n-th '{' at the array's depth.
  auto element_at = [&](size_t n) {
    int level = 0;
    size_t seen = 0;
    bool in_string = false;
    const int want = list == &doc ? 1 : 2;
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (in_string) {
        if (c == '\\')
          ++i;
        else if (c == '"')
          in_string = false;
        continue;
      }
      if (c == '"') in_string = true;
      if (c == '{' || c == '[') {
        if (c == '{' && level == want && seen++ == n) return Where(text, i, file);
        ++level;
      }
      if (c == '}' || c == ']') --level;
    }
    return SourceLocation{file, 0, 0};
  };
  std::vector<Finding> out;
  for (size_t n = 0; n < list->size(); ++n) {
    const json& j = (*list)[n];
    const SourceLocation at = element_at(n);
    if (!j.is_object()) throw InputError(at, "expected a finding object", "{\"kind\": ...}");
    Finding f;
    for (const auto& [key, value] : j.items()) {
      auto text_of = [&](std::string& into) {
        if (!value.is_string()) {
          throw InputError(at, fmt::format("finding key '{}' must be a string", key), "text");
        }
        into = value.get<std::string>();
      };
      auto number_of = [&](auto& into) {
        if (!value.is_number()) {
          throw InputError(at, fmt::format("finding key '{}' must be a number", key), "a number");
        }
        using T = std::remove_reference_t<decltype(into)>;
        // A time is a whole number of ms within 64 bits: 1.5 or 1e30 would be cut or wrapped.
        if constexpr (std::is_integral_v<T>) {
          if (!value.is_number_integer() ||
              (value.is_number_unsigned() &&
               value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<T>::max()))) {
            throw InputError(at, fmt::format("finding key '{}' must be a whole number of ms", key),
                             "an integer within 64 bits (ms since the Unix epoch)");
          }
        }
        into = value.get<T>();
      };
      if (key == "kind")
        text_of(f.kind);
      else if (key == "target")
        text_of(f.target);
      else if (key == "quantity")
        text_of(f.quantity);
      else if (key == "detector")
        text_of(f.detector);
      else if (key == "cause")
        text_of(f.cause);
      else if (key == "detail")
        text_of(f.detail);
      else if (key == "start_ms")
        number_of(f.start_ms);
      else if (key == "detected_ms")
        number_of(f.detected_ms);
      else if (key == "residual")
        number_of(f.residual);
      else if (key == "score_sigma")
        number_of(f.score_sigma);
      else if (key == "limit")
        number_of(f.limit);
      else {
        throw InputError(at, fmt::format("unknown finding key '{}'", key),
                         "kind, target, quantity, detector, cause, start_ms, detected_ms, "
                         "residual, score_sigma, limit, detail");
      }
    }
    if (f.kind.empty() || f.target.empty()) {
      throw InputError(at, "a finding needs a kind and a target", "\"kind\" and \"target\"");
    }
    const auto slash = f.target.find('/');
    if (slash == std::string::npos || slash + 1 == f.target.size() ||
        !live::IsEntityKind(f.target.substr(0, slash))) {
      throw InputError(at, fmt::format("finding target '{}' is not ENTITY/ID", f.target),
                       "ENTITY/ID with ENTITY one of " + live::EntityChoices());
    }
    out.push_back(std::move(f));
  }
  return out;
}

json RecommendationJson(const Recommendation& r) {
  json j = {{"expert", ExpertName(r.expert)},    {"rule", r.rule},         {"advice", r.advice},
            {"finding", FindingJson(r.finding)}, {"plan", nullptr},        {"what_if", nullptr},
            {"unchecked", r.unchecked},          {"checks", json::array()}};
  if (r.plan) {
    const PlanRequest& p = *r.plan;
    j["plan"] = {{"class", p.plan_class},
                 {"target", p.target},
                 {"value", p.value.value},
                 {"value_unit", p.value.unit},
                 {"reason", p.reason},
                 {"effect", p.effect.value},
                 {"effect_uncertainty", p.effect_uncertainty},
                 {"effect_unit", p.effect.unit},
                 {"expires_ms", p.expires_ms}};
  }
  json changes = json::array();
  for (const scenario::Override& o : r.change)
    changes.push_back({{"key", o.key}, {"value", o.value}});
  if (r.what_if) {
    j["what_if"] = {{"changes", changes},
                    {"baseline", WhatIfFiguresJson(r.what_if->baseline)},
                    {"changed", WhatIfFiguresJson(r.what_if->changed)},
                    {"facility_power_change_kw", r.what_if->facility_power_change_w() / 1e3}};
  }
  for (const ConstraintCheck& c : r.checks) {
    j["checks"].push_back({{"name", c.name},
                           {"baseline", c.baseline},
                           {"changed", c.changed},
                           {"unit", c.unit},
                           {"ok", c.ok}});
  }
  return j;
}

}  // namespace firstwall::ops

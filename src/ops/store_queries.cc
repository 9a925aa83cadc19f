#include "ops/store_queries.h"

#include <cmath>
#include <limits>
#include <optional>

#include <fmt/format.h>

namespace firstwall::ops {

using nlohmann::json;

namespace {

bool Matches(const json& args, const std::string& entity, const std::string& id) {
  return (!args.contains("entity") || args["entity"] == entity) &&
         (!args.contains("id") || args["id"] == id);
}

}  // namespace

std::string AmountText(const Amount& a) { return fmt::format("{:g} {}", a.value, a.unit); }

json PlanSummary(const Plan& p) {
  return {{"id", p.id},
          {"state", StateName(p.state)},
          {"class", p.request.plan_class},
          {"target", p.request.target},
          {"value", AmountText(p.request.value)},
          {"reason", p.request.reason},
          {"predicted_effect", AmountText(p.request.effect)},
          {"uncertainty", AmountText({p.request.effect_uncertainty, p.request.effect.unit})},
          {"proposer", p.proposer},
          {"created_ms", p.created_ms},
          {"expires_ms", p.request.expires_ms},
          {"approvers", p.approvers},
          {"realized_effect", p.realized ? json(AmountText(*p.realized)) : json()}};
}

json ScoresJson(const live::Score (&dims)[live::kDimensionCount], double overall) {
  json out = {{"overall", overall}};
  for (int d = 0; d < live::kDimensionCount; ++d) {
    out[live::kDimensions[d]] = {{"score", dims[d].score}, {"reasons", dims[d].reasons}};
  }
  return out;
}

json DataQuality(live::Store& store, const json& args) {
  return QualityJson(live::AssessQuality(live::StreamsOf(store)), args, true);
}

json QualityJson(const live::QualityReport& r, const json& args, bool with_streams) {
  json streams = json::array(), entities = json::array();
  for (const live::StreamQuality& s : r.streams) {
    const live::SeriesKey& k = s.series.key;
    if (!with_streams || !Matches(args, k.entity, k.entity_id)) continue;
    json row = {{"series_id", s.series.id}, {"entity", k.entity}, {"id", k.entity_id},
                {"quantity", k.quantity},   {"source", k.source}, {"unit", k.unit}};
    row["scores"] = ScoresJson(s.dims, s.overall);
    streams.push_back(std::move(row));
  }
  for (const live::EntityQuality& e : r.entities) {
    if (!Matches(args, e.entity, e.entity_id)) continue;
    entities.push_back(
        {{"entity", e.entity}, {"id", e.entity_id}, {"scores", ScoresJson(e.dims, e.overall)}});
  }
  return {{"streams", streams},
          {"entities", entities},
          {"note",
           "scores 0-1 (1 best) per dimension, as `firstwall quality` computes them "
           "(docs/live.md, \"Quality scores\"); an entity's dimension is its worst stream's; "
           "the site map's balances are not known to this server, so meters are not judged "
           "against the meters they feed"}};
}

json ReadTelemetry(live::Store& store, const json& args) {
  const size_t max_points = args.value("max_points", 1000);
  const std::string entity = args["entity"].get<std::string>();
  const std::optional<std::string> id =
      args.contains("id") ? std::optional(args["id"].get<std::string>()) : std::nullopt;
  const std::optional<std::string> quantity =
      args.contains("quantity") ? std::optional(args["quantity"].get<std::string>()) : std::nullopt;
  const int64_t from_arg = args.value("from_ms", std::numeric_limits<int64_t>::min());
  const int64_t to = args.value("to_ms", std::numeric_limits<int64_t>::max());
  // With last_s: each series' own last span, from its newest sample back (ms).
  const bool recent = args.contains("last_s");
  const int64_t last_ms =
      recent ? static_cast<int64_t>(std::llround(args["last_s"].get<double>() * 1e3)) : 0;
  json series = json::array();
  for (const live::SeriesInfo& info : store.SeriesOf(entity)) {
    const live::SeriesKey& k = info.key;
    if ((id && *id != k.entity_id) || (quantity && *quantity != k.quantity)) continue;
    // Only the rows from `from` on are read (a store's index), not the series' whole history;
    // with last_s, the series' own last span (from its newest sample back).
    const std::vector<live::SamplePoint> all = recent ? store.Recent(info.id, last_ms)
                                               : from_arg == std::numeric_limits<int64_t>::min()
                                                   ? store.Samples(info.id)
                                                   : store.SamplesSince(info.id, from_arg);
    const int64_t from = recent && !all.empty() ? all.back().t_ms - last_ms : from_arg;
    json samples = json::array();
    size_t in_window = 0;
    for (const live::SamplePoint& p : all) in_window += p.t_ms >= from && p.t_ms <= to;
    size_t skip = in_window > max_points ? in_window - max_points : 0;
    for (const live::SamplePoint& p : all) {
      if (p.t_ms < from || p.t_ms > to) continue;
      if (skip > 0) {
        --skip;
        continue;
      }
      samples.push_back({p.t_ms, std::isfinite(p.value) ? json(p.value) : json()});
    }
    series.push_back({{"series_id", info.id},
                      {"entity", k.entity},
                      {"id", k.entity_id},
                      {"quantity", k.quantity},
                      {"unit", k.unit},
                      {"source", k.source},
                      {"metric", k.metric},
                      {"samples_in_window", in_window},
                      {"truncated", in_window > max_points},
                      {"samples", std::move(samples)}});
  }
  return {{"series", series},
          {"note", series.empty()
                       ? "no series of this entity, id and quantity in the store"
                       : "samples are [t_ms, value] (ms since the Unix epoch; the value in the "
                         "series' unit, null where the source sent NaN), oldest first; when "
                         "truncated, the newest max_points are kept"}};
}

}  // namespace firstwall::ops

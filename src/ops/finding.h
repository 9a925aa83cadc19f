// A finding: something the twin noticed about a site (an anomaly detector's alarm, a forecast
// peak over a rating, a data-quality problem) or a question a person or an agent asked, in the
// one shape the expert router (docs/operations.md, "Experts") reads. Producers fill it; experts
// turn findings into plans (ops.h's PlanRequest).
#pragma once

#include <cstdint>
#include <string>

namespace firstwall::ops {

struct Finding {
  // What kind of finding, a word of docs/operations.md's routing table: "anomaly",
  // "forecast_peak", "data_quality", "question".
  std::string kind;
  // Where, as ENTITY/ID of the live vocabulary (live/vocabulary.h): "gpu/node0/gpu3",
  // "cdu/cdu-1", "chiller/chiller", "facility/site". Localization gives the narrowest entity.
  std::string target;
  // The quantity it is about, a live vocabulary quantity ("power", "temperature") or empty.
  std::string quantity;
  // The detector or source that raised it ("cusum", "k_sigma", "forecast", "quality", "mcp").
  std::string detector;
  // A short cause in the field's words, when the producer can name one ("slow_gpu",
  // "fouled_cdu", "chiller_stuck", "pdu_drift", "degraded_nic", "peak_over_grid_limit").
  std::string cause;
  int64_t start_ms = 0;     // when the evidence starts (ms since the Unix epoch)
  int64_t detected_ms = 0;  // when it was raised
  // Measured minus expected, in the quantity's base unit (W, C, %; a forecast peak's excess over
  // its limit, USD/MWh for a price), and how many of the learned noise's standard deviations that
  // is; 0 when not a residual.
  double residual = 0;
  double score_sigma = 0;
  // The limit a forecast peak crosses, in the same unit as `residual` (a grid limit or rating in
  // W; a price in USD/MWh for a price peak); 0 when the finding has none.
  double limit = 0;
  std::string detail;  // one line for a person
};

}  // namespace firstwall::ops

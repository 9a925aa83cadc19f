// A reader of the Prometheus text exposition format, version 0.0.4 (what dcgm-exporter and node
// exporters serve at /metrics): `# HELP name text` and `# TYPE name kind` lines, other comments,
// and sample lines `name{label="value",...} value [timestamp_ms]`. Label values take the escapes
// \\, \" and \n; values are floats with NaN, +Inf and -Inf; timestamps are integer milliseconds
// since the Unix epoch.
//
// A scrape comes from a peer we do not control, so a malformed line is counted and refused with its
// line number and a reason, and the rest of the text is still read; nothing in the text can make
// the reader fail, crash or take more than linear time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace firstwall::live {

struct Label {
  std::string name, value;
  bool operator==(const Label&) const = default;
};

struct PromSample {
  std::string metric;
  std::vector<Label> labels;  // as written, in order
  double value = 0;
  std::optional<int64_t> timestamp_ms;  // when the line gives one
  // The value of label `name`, or nullptr.
  const std::string* Find(std::string_view name) const;
};

// A refused line: its 1-based number and why.
struct PromReject {
  int line = 0;
  std::string reason;
};

struct PromText {
  std::vector<PromSample> samples;
  // `# TYPE` per metric family, in the order declared: counter, gauge, histogram, summary,
  // untyped.
  std::vector<std::pair<std::string, std::string>> types;
  int lines = 0;                    // lines read, blank and comment lines included
  int rejected = 0;                 // malformed lines, all counted
  std::vector<PromReject> rejects;  // the first `max_reasons` of them
  // The declared TYPE of a metric family, or "" when none.
  std::string TypeOf(std::string_view metric) const;
};

// Reads a whole exposition. Never throws on any input; refused lines are counted in `rejected`.
PromText ParsePrometheusText(std::string_view text, size_t max_reasons = 64);

// The format's names: a metric [a-zA-Z_:][a-zA-Z0-9_:]*, a label the same without ':'. Every
// protocol's site map keys that name samples (Modbus registers, SNMP OIDs, MQTT topics, Redfish
// resources) are held to them, so bindings can name those samples as they name scraped ones.
bool IsMetricName(std::string_view s);
bool IsLabelName(std::string_view s);

// One sample line in the same format (for the emulator and tests): value printed with enough
// digits to read back exactly, labels escaped.
std::string FormatSampleLine(std::string_view metric, const std::vector<Label>& labels,
                             double value);

}  // namespace firstwall::live

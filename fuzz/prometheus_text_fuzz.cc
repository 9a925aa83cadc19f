// Prometheus text exposition (a scrape's body): every input must parse without throwing.
#include "fuzz/fuzz_main.h"
#include "live/prometheus_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return firstwall::fuzz::Run(data, size, [](const std::string& text) {
    const firstwall::live::PromText p = firstwall::live::ParsePrometheusText(text);
    // What was read must print and read back to the same count.
    std::string again;
    for (const auto& s : p.samples) {
      again += firstwall::live::FormatSampleLine(s.metric, s.labels, s.value) + "\n";
    }
    FW_CHECK(firstwall::live::ParsePrometheusText(again).samples.size() == p.samples.size(),
             "a formatted sample did not read back");
  });
}

// The HTML report's costs (docs/outputs.md, report.html): issue #15 asks that a one-year, 1 s run's
// report stay under 5 MB and open fast. A year at 1 s is 31.5 million timeseries rows (a 6 GB CSV
// that `firstwall run` refuses by default), so the year is synthetic here: the downsampler fed
// 31,536,000 rows of the 23 columns the report draws, then the page rendered from its points.
// FW_REPORT_BENCH_PAGE=FILE also writes that page, to open in a browser
// (node tests/browser/report_browser.mjs '' FILE prints its load time).
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "report/downsample.h"
#include "report/html_report.h"

namespace {
using firstwall::report::MinMaxDownsampler;

// The columns the report draws, its WUE and one hot link: 23.
std::vector<std::string> Names() {
  std::vector<std::string> names = firstwall::report::DrawnColumns();
  names.push_back("wue_l_per_kwh");
  names.push_back("link_util_gpu0_to_leaf0");
  return names;
}
const size_t kColumns = Names().size();

// A day-and-season shaped load with a fast ripple: every bucket has a real minimum and maximum.
MinMaxDownsampler::Points Year(size_t rows) {
  MinMaxDownsampler d(kColumns, 2000);
  std::vector<double> v(kColumns);
  for (size_t i = 0; i < rows; ++i) {
    const double t = static_cast<double>(i);
    const double base = 1.0 + 0.2 * std::sin(t * 2e-7) + 0.1 * std::sin(t * 7.27e-5);
    for (size_t c = 0; c < kColumns; ++c)
      v[c] = base * static_cast<double>(c + 1) + 0.01 * static_cast<double>(i % 7);
    d.Add(t, v);
  }
  return d.Finish();
}

void BM_DownsampleYearAt1s(benchmark::State& state) {
  const size_t rows = 365u * 86400u;
  for (auto _ : state) {
    const auto p = Year(rows);
    benchmark::DoNotOptimize(p.x.data());
    state.counters["points_per_series"] = static_cast<double>(p.x.size());
  }
  state.counters["rows_per_s"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_DownsampleYearAt1s)->Unit(benchmark::kSecond)->Iterations(1);

// The page of that year: its size (the bound: 5 MB) and the time to render it.
void BM_RenderYearPage(benchmark::State& state) {
  const auto p = Year(365u * 86400u);
  nlohmann::json d;
  d["meta"] = {{"site", "synthetic year at 1 s"}, {"sim_time_s", 365.0 * 86400}};
  d["series"]["x"] = p.x;
  d["series"]["rows"] = p.rows;
  d["series"]["rows_per_bucket"] = p.rows_per_bucket;
  for (size_t c = 0; c < kColumns; ++c) {
    nlohmann::json col = nlohmann::json::array();
    for (double v : p.columns[c])
      col.push_back(std::strtod(fmt::format("{:.4g}", v).c_str(), nullptr));
    d["series"]["columns"][Names()[c]] = std::move(col);
  }
  d["resources"] = nlohmann::json::array();
  d["limits"] = nlohmann::json::array();
  d["absent"] = nlohmann::json::array();
  std::string page;
  for (auto _ : state) {
    page = firstwall::report::RenderHtmlReport(d);
    benchmark::DoNotOptimize(page.data());
  }
  state.counters["page_bytes"] = static_cast<double>(page.size());
  if (const char* path = std::getenv("FW_REPORT_BENCH_PAGE")) std::ofstream(path) << page;
}
BENCHMARK(BM_RenderYearPage)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

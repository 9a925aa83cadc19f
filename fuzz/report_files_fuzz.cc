// The HTML report's readers (src/report/html_report.h): the first byte picks the file the rest
// becomes (timeseries.csv, jobs.csv, events.csv, swings.csv or links.csv), beside a fixed
// summary.json and the other files at their smallest.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fuzz/fuzz_main.h"
#include "report/html_report.h"

namespace {
namespace fs = std::filesystem;

const fs::path& Dir() {
  static const fs::path dir = [] {
    const fs::path d = fs::temp_directory_path() / ("fw-report-fuzz-" + std::to_string(getpid()));
    fs::create_directories(d);
    std::ofstream(d / "summary.json") << R"({"schema": "firstwall.summary/1", "sim_time_s": 100,
              "hottest_links": [{"link": "gpu0->leaf0", "peak_utilization": 0.5, "at_s": 1}],
              "power_swings": {"variants": [{"name": "none"}, {"name": "battery"}]}})";
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* kNames[] = {"timeseries.csv", "jobs.csv", "events.csv", "swings.csv",
                                 "links.csv"};
  static const char* kSmallest[] = {"time_s,gpu_power_kw\n0,1\n", "job,gpus,start_s,end_s,ended\n",
                                    "time_s,event,job,jobs_hit\n", "time_s\n",
                                    "time_s,link,utilization\n"};
  const size_t pick = data[0] % 5;
  return firstwall::fuzz::Run(data + 1, size - 1, [&](const std::string& text) {
    for (size_t i = 0; i < 5; ++i) {
      std::ofstream(Dir() / kNames[i], std::ios::binary) << (i == pick ? text : kSmallest[i]);
    }
    firstwall::report::HtmlReportOptions o;
    o.max_buckets = 8;
    o.max_job_lanes = 4;
    o.max_job_events = 6;
    firstwall::report::ReportData(firstwall::report::ReportFiles::InDir(Dir()), o);
  });
}

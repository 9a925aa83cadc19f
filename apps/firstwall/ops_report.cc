// firstwall ops report --store STORE [--day YYYY-MM-DD] [--findings FILE] [--forecast FILE]
//                      [--json] [--out DIR]
// The daily operations report (docs/operations.md, "Daily report"): the day's findings, plans and
// decisions, predicted against realized effects, the data quality and twin drift, and tomorrow's
// forecast when given. Reads only; anyone who can read the store can read it.
#include "apps/firstwall/ops_commands.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <regex>

#include <fmt/format.h>

#include "core/text_input.h"
#include "live/quality.h"
#include "ops/daily_report.h"
#include "ops/finding_json.h"
#include "ops/sql.h"

namespace firstwall::cli {
namespace {

struct ReportArgs {
  std::string store, day, findings, forecast, out;
  bool json = false;
};

constexpr int64_t kDayMs = 86'400'000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The UTC day `text` (YYYY-MM-DD) as its first ms; InputError naming --day otherwise.
int64_t DayStart(const std::string& text) {
  static const std::regex kDay(R"((\d{4})-(\d{2})-(\d{2}))");
  std::smatch m;
  auto bad = [&] {
    return InputError({"--day", 0, 0}, fmt::format("'{}' is not a day", text),
                      "a UTC date as YYYY-MM-DD, e.g. 2026-12-01");
  };
  if (!std::regex_match(text, m, kDay)) throw bad();
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  const std::time_t t = timegm(&tm);
  // timegm normalizes 2026-02-30 to March 2: a day that does not exist comes back changed.
  std::tm back{};
  gmtime_r(&t, &back);
  if (back.tm_year != tm.tm_year || back.tm_mon != std::stoi(m[2]) - 1 ||
      back.tm_mday != std::stoi(m[3]) || tm.tm_year < 70) {
    throw bad();
  }
  return static_cast<int64_t>(t) * 1000;
}

nlohmann::json ReadJsonFile(const std::string& path, const std::string& option) {
  const std::string text = text::ReadFile(path, option + " file");
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError({path, 0, 0}, fmt::format("malformed JSON at byte {}", e.byte),
                     "what `firstwall forecast --json` writes");
  }
}

int Report(const ReportArgs& a) {
  ops::DailyReportInput in;
  in.from_ms = a.day.empty() ? NowMs() / kDayMs * kDayMs : DayStart(a.day);
  in.to_ms = in.from_ms + kDayMs;
  if (!a.findings.empty()) {
    in.findings = ops::ParseFindings(text::ReadFile(a.findings, "findings file"), a.findings);
  }
  if (!a.forecast.empty()) in.forecast = ReadJsonFile(a.forecast, "--forecast");
  {
    std::unique_ptr<live::Store> store = live::OpenExistingStore(a.store);
    const std::vector<live::QualityWindowRecord> windows =
        store->QualityWindows(in.from_ms, in.to_ms);
    if (!windows.empty()) in.quality = live::MergeWindows(windows, store->Series());
    in.drift = store->Drift();
  }
  ops::Operations o(ops::OpenSqlDb(a.store), NowMs);
  in.plans = o.Plans();
  in.audit = ops::ReadAudit(o.db());
  const ops::DailyReport r = ops::BuildDailyReport(in);
  const std::string json = ops::DailyReportJson(r).dump(2) + "\n";
  const std::string text = ops::DailyReportText(r);
  if (!a.out.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(a.out, ec);
    if (ec) {
      throw InputError({"--out", 0, 0},
                       fmt::format("cannot make the folder '{}': {}", a.out, ec.message()),
                       "a folder you may write");
    }
    std::ofstream(std::filesystem::path(a.out) / "ops_report.json") << json;
    std::ofstream(std::filesystem::path(a.out) / "ops_report.txt") << text;
  }
  std::cout << (a.json ? json : text);
  return kOk;
}

}  // namespace

OpsCommand AddOpsReport(CLI::App& ops) {
  auto a = std::make_shared<ReportArgs>();
  CLI::App* c = ops.add_subcommand(
      "report",
      "The daily operations report: findings, plans and decisions, predicted against realized "
      "effects, data quality and drift, tomorrow's forecast");
  c->add_option("--store", a->store,
                "The live store: SQLite file or postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME")
      ->required();
  c->add_option("--day", a->day, "The UTC day, YYYY-MM-DD (default: today)");
  c->add_option("--findings", a->findings, "The day's findings, JSON (firstwall anomalies --json)");
  c->add_option("--forecast", a->forecast, "Tomorrow's forecast, JSON (firstwall forecast --json)");
  c->add_option("--out", a->out, "Also write DIR/ops_report.json and DIR/ops_report.txt");
  c->add_flag("--json", a->json, "Print the JSON instead of the text");
  return {c, [a] { return Report(*a); }};
}

}  // namespace firstwall::cli

// firstwall report OUT_DIR [--out FILE]: the HTML report of an earlier run or walls search
// (html_report.h).
#include <filesystem>
#include <iostream>
#include <memory>

#include "apps/firstwall/commands.h"
#include "core/error.h"
#include "report/html_report.h"
#include "report/outputs.h"

namespace firstwall::cli {
namespace {

struct ReportOptions {
  std::string dir;
  std::string out;
  bool quiet = false;
};

int Report(const ReportOptions& o) {
  const report::ReportFiles files = report::ReportFiles::InDir(o.dir);
  const std::string page = report::HtmlReport(files);
  const std::string out =
      o.out.empty() ? (std::filesystem::path(o.dir) / "report.html").string() : o.out;
  if (std::error_code ec; std::filesystem::is_directory(out, ec)) {
    throw InputError(
        {out, 0, 0}, "is a directory; --out names the report's file",
        "give a file name, e.g. " + (std::filesystem::path(out) / "report.html").string());
  }
  report::AtomicFile file(out);
  file.Write(page);
  file.Commit();
  if (!o.quiet) std::cout << "wrote " << out << " (" << page.size() / 1024 << " KiB)\n";
  return kOk;
}

}  // namespace

Action RegisterReport(CLI::App& app) {
  auto o = std::make_shared<ReportOptions>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Write the HTML report of an earlier run: OUT_DIR/report.html from OUT_DIR's summary.json "
      "and timeseries.csv (and jobs.csv, events.csv, swings.csv, links.csv where present), with "
      "the walls against scale where `firstwall walls` wrote into OUT_DIR too, or of the walls "
      "alone; one file that works offline (docs/outputs.md)");
  cmd->add_option("dir", o->dir, "Output directory of `firstwall run` or `firstwall walls`")
      ->required();
  cmd->add_option("--out", o->out, "Where to write the report (default: OUT_DIR/report.html)");
  cmd->add_flag("--quiet", o->quiet, "Print nothing");
  return [o] { return Report(*o); };
}

}  // namespace firstwall::cli

// firstwall sweep SWEEP.yaml [--threads N] [--shard I/N] [--out DIR] [--resume] [--report]
//                 [--quiet]
// firstwall collate DIR... [--out DIR]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "apps/firstwall/commands.h"
#include "core/text_input.h"
#include "report/html_report.h"
#include "report/outputs.h"
#include "study/mpi_points.h"
#include "study/point_runner.h"
#include "study/sweep.h"
#include "study/sweep_results.h"

namespace firstwall::cli {
namespace {

struct SweepOptions {
  std::string file;
  std::string out = "out/sweep";
  int threads = 0;  // 0: the CPUs this process may use
  std::string shard;
  bool resume = false;
  bool quiet = false;
  bool mpi = false;
  bool report = false;
};

// --report: DIR/report.html from the finished set in DIR, as `firstwall report DIR` writes it.
void WriteSweepReport(const SweepOptions& o, std::vector<std::string>& written) {
  if (!o.report) return;
  report::ReportFiles files;
  files.SweepIn(o.out);
  const std::string path = (std::filesystem::path(o.out) / "report.html").string();
  report::AtomicFile file(path);
  file.Write(report::HtmlReport(files));
  file.Commit();
  written.push_back(path);
}

// --report draws the whole sweep: a shard holds part of it.
void CheckReportShard(const SweepOptions& o, const study::Shard& shard) {
  if (o.report && shard.count > 1) {
    throw InputError({"--report", 0, 0}, "--report draws the whole sweep, and this is one shard",
                     "merge the shards with `firstwall collate DIR...`, then `firstwall report` "
                     "its --out");
  }
}

// Points done of a total on stderr, with the time left at the pace so far.
class PointProgress {
 public:
  explicit PointProgress(size_t total) : total_(total), start_(Clock::now()) {}
  void Update(size_t done) {
    const double wall = std::chrono::duration<double>(Clock::now() - start_).count();
    const double eta =
        done > 0 ? wall / static_cast<double>(done) * static_cast<double>(total_ - done) : 0;
    const int width = 30;
    const auto filled = static_cast<size_t>(width * done / std::max<size_t>(total_, 1));
    std::string bar(filled, '#');
    bar.resize(width, '.');
    std::cerr << fmt::format("\r[{}] {} of {} points  {:.1f} s  ETA {:.1f} s ", bar, done, total_,
                             wall, eta)
              << std::flush;
  }
  ~PointProgress() { std::cerr << "\n"; }

 private:
  using Clock = std::chrono::steady_clock;
  size_t total_;
  Clock::time_point start_;
};

// The shard from --shard, else from a Slurm job array (SLURM_ARRAY_TASK_ID counted from
// SLURM_ARRAY_TASK_MIN, of SLURM_ARRAY_TASK_COUNT tasks or MAX - MIN + 1), else the whole sweep.
study::Shard ShardOf(const std::string& option) {
  if (!option.empty()) return study::ParseShard(option, {"--shard", 0, 0});
  const char* id = std::getenv("SLURM_ARRAY_TASK_ID");
  if (!id) return {};
  auto number = [](const char* name, std::optional<int64_t> fallback) {
    const char* v = std::getenv(name);
    if (!v) return fallback;
    const auto n = text::WholeNumber(v);
    if (!n) throw InputError({name, 0, 0}, fmt::format("'{}' is not a whole number", v));
    return n;
  };
  const int64_t task = *number("SLURM_ARRAY_TASK_ID", std::nullopt);
  const int64_t min = number("SLURM_ARRAY_TASK_MIN", 0).value();
  const auto max = number("SLURM_ARRAY_TASK_MAX", std::nullopt);
  const auto count =
      number("SLURM_ARRAY_TASK_COUNT", max ? std::optional(*max - min + 1) : std::nullopt);
  if (!count) {
    throw InputError({"SLURM_ARRAY_TASK_ID", 0, 0},
                     "a Slurm array task without SLURM_ARRAY_TASK_COUNT or SLURM_ARRAY_TASK_MAX",
                     "give --shard I/N");
  }
  return study::ParseShard(fmt::format("{}/{}", task - min + 1, *count),
                           {"SLURM_ARRAY_TASK_ID", 0, 0});
}

// `mpirun -n K firstwall sweep --mpi`: rank 0 validates, dispatches and writes, the other ranks
// run points and print and write nothing (study/mpi_points.h).
int SweepMpi(const SweepOptions& o) {
  if (o.resume) {
    throw InputError({"--resume", 0, 0}, "--resume is not available with --mpi",
                     "resume the sweep without --mpi, or split it with --shard I/N and rerun the "
                     "missing shards");
  }
  const study::MpiSession mpi;
  const bool leader = mpi.rank() == 0;
  try {
    const study::Sweep sweep = study::ReadSweepFile(o.file);
    const study::Shard shard = ShardOf(o.shard);
    CheckReportShard(o, shard);
    std::vector<int64_t> todo;
    for (int64_t p = 0; p < sweep.points(); ++p) {
      if (shard.Has(p)) todo.push_back(p);
    }
    // Every rank checks every point (the same answer everywhere, so none is left waiting for
    // orders); only rank 0 owns DIR.
    study::ValidatePoints(sweep, 1);
    std::unique_ptr<study::ResultStore> store;
    if (leader) store = std::make_unique<study::ResultStore>(o.out, sweep, shard, false);
    std::unique_ptr<PointProgress> progress;
    if (leader && !o.quiet && isatty(STDERR_FILENO) && !todo.empty()) {
      progress = std::make_unique<PointProgress>(todo.size());
    }
    size_t done_count = 0;
    study::RunPointsOnMpi(
        mpi, todo, [&sweep](int64_t p) { return study::RunPoint(sweep, p); },
        [&](int64_t p, const std::string& row) {
          store->Add(p, row);
          ++done_count;
          if (progress) progress->Update(done_count);
        });
    progress.reset();
    if (!leader) return kOk;
    std::vector<std::string> written = store->Finish();
    WriteSweepReport(o, written);
    if (!o.quiet) {
      std::cout << fmt::format("sweep {}: {} points; ran {} on {} MPI rank{}\nwrote ", o.file,
                               sweep.points(), todo.size(), mpi.size(), mpi.size() == 1 ? "" : "s");
      for (size_t i = 0; i < written.size(); ++i) std::cout << (i ? ", " : "") << written[i];
      std::cout << "\n";
    }
    return kOk;
  } catch (const study::MpiWorkStopped&) {
    return kBadInput;  // rank 0 says why
  } catch (const InputError&) {
    if (leader) throw;
    return kBadInput;  // every rank reads the same file: rank 0 says it once
  }
}

int Sweep(const SweepOptions& o) {
  if (o.mpi) return SweepMpi(o);
  const study::Sweep sweep = study::ReadSweepFile(o.file);
  const study::Shard shard = ShardOf(o.shard);
  CheckReportShard(o, shard);
  const int threads = o.threads > 0 ? o.threads : study::AvailableCpus();
  // Every point's scenario is read before anything runs or is written.
  study::ValidatePoints(sweep, threads);
  study::ResultStore store(o.out, sweep, shard, o.resume);
  std::vector<int64_t> todo;
  int64_t in_shard = 0;
  for (int64_t p = 0; p < sweep.points(); ++p) {
    if (!shard.Has(p)) continue;
    ++in_shard;
    if (!store.Has(p)) todo.push_back(p);
  }
  std::unique_ptr<PointProgress> progress;
  if (!o.quiet && isatty(STDERR_FILENO) && !todo.empty()) {
    progress = std::make_unique<PointProgress>(todo.size());
  }
  size_t done_count = 0;
  // What runs a point and what keeps its row; another transport (MPI ranks) takes the same two.
  auto run = [&sweep](int64_t p) { return study::RunPoint(sweep, p); };
  auto done = [&](int64_t p, const std::string& row) {
    store.Add(p, row);
    ++done_count;
    if (progress) progress->Update(done_count);
  };
  study::RunPointsOnThreads(todo, threads, run, done);
  progress.reset();
  std::vector<std::string> written = store.Finish();
  WriteSweepReport(o, written);
  if (!o.quiet) {
    std::cout << fmt::format(
        "sweep {}: {} points{}; ran {} on {} thread{}, {} already done\nwrote ", o.file,
        sweep.points(),
        shard.count > 1
            ? fmt::format(", shard {}/{} holds {}", shard.index + 1, shard.count, in_shard)
            : "",
        todo.size(), threads, threads == 1 ? "" : "s",
        in_shard - static_cast<int64_t>(todo.size()));
    for (size_t i = 0; i < written.size(); ++i) std::cout << (i ? ", " : "") << written[i];
    std::cout << "\n";
  }
  return kOk;
}

struct CollateOptions {
  std::vector<std::string> dirs;
  std::string out;
  bool quiet = false;
};

int Collate(const CollateOptions& o) {
  const std::string out = o.out.empty() ? o.dirs.front() : o.out;
  const study::CollateResult r = study::Collate(o.dirs, out);
  if (!o.quiet && r.missing.empty()) {
    std::cout << fmt::format("collated {} of {} points into ",
                             r.points - static_cast<int64_t>(r.missing.size()), r.points);
    for (size_t i = 0; i < r.written.size(); ++i) std::cout << (i ? ", " : "") << r.written[i];
    std::cout << "\n";
  }
  for (const std::string& j : r.unfinished) {
    std::cerr << "firstwall collate: note: " << j
              << " is the journal of a part that did not finish; its rows are left out (finish "
                 "it with `firstwall sweep --resume` and the same --shard)\n";
  }
  if (r.missing.empty()) return kOk;
  std::string list;
  for (size_t i = 0; i < r.missing.size() && i < 20; ++i) {
    list += (i ? ", " : "") + std::to_string(r.missing[i]);
  }
  if (r.missing.size() > 20) list += fmt::format(", ... ({} in all)", r.missing.size());
  std::cerr << "firstwall collate: error: points missing (nothing written): " << list
            << "\n  hint: run the shards that hold them (point p is in shard p % N + 1 of N), "
               "then collate again\n";
  return kBadInput;
}

}  // namespace

Action RegisterSweep(CLI::App& app) {
  auto o = std::make_shared<SweepOptions>();
  CLI::App* cmd = app.add_subcommand(
      "sweep",
      "Run a scenario at many points (docs/sweep.md): keys varied over grids, zips, Latin "
      "hypercube or random samples, replicas over seeds, uncertain inputs. Writes "
      "DIR/results.jsonl, "
      "DIR/results.csv and, with replicas or uncertain inputs, DIR/bands.csv; with --shard, "
      "DIR/results.shard-I-of-N.jsonl for `firstwall collate`.");
  cmd->add_option("sweep", o->file, "Sweep YAML file (see examples/cooling-sweep.yaml)")
      ->required();
  cmd->add_option("--out", o->out, "Output directory")->capture_default_str();
  cmd->add_option("--threads", o->threads,
                  "Points run at once, up to 4096 (default, or 0: the CPUs this process may use)")
      ->check(WholeNumberUpTo(4096));
  cmd->add_option("--shard", o->shard,
                  "Run only part I of N (1-based): the points p with p % N == I - 1. Without it, "
                  "SLURM_ARRAY_TASK_ID picks the part in a Slurm job array");
  cmd->add_flag("--resume", o->resume,
                "Keep the points already in DIR (of the same sweep) and run the rest");
  cmd->add_flag("--quiet", o->quiet, "Print nothing (outputs are still written)");
  cmd->add_flag("--report", o->report,
                "Also write DIR/report.html: every output against the varied keys with the "
                "replicas' bands, the first walls, the design points; one file that works "
                "offline (docs/outputs.md)");
  cmd->add_flag("--mpi", o->mpi,
                "Spread the points over MPI ranks (mpirun -n K firstwall sweep --mpi ...): rank 0 "
                "hands out points one at a time and writes DIR; not with --resume");
  return [o] { return Sweep(*o); };
}

Action RegisterCollate(CLI::App& app) {
  auto o = std::make_shared<CollateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "collate",
      "Merge the shards of a sweep (the --out directories of `firstwall sweep --shard`) into "
      "results.jsonl, results.csv and bands.csv, as the sweep run in one piece writes them; "
      "exits 2 naming the points no shard has.");
  cmd->add_option("dirs", o->dirs, "Directories holding the shards' results")->required();
  cmd->add_option("--out", o->out, "Output directory (default: the first DIR)");
  cmd->add_flag("--quiet", o->quiet, "Print nothing");
  return [o] { return Collate(*o); };
}

}  // namespace firstwall::cli

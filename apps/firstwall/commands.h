// Each subcommand registers itself on the app; its callback returns the process exit status.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace firstwall::cli {

// Exit statuses.
inline constexpr int kOk = 0;
inline constexpr int kBadInput = 2;
inline constexpr int kInternalError = 70;
inline constexpr int kOutputError = 74;  // standard output could not be written (EX_IOERR)

using Action = std::function<int()>;

// An option's check: a whole number from 0 to `max`, written as digits (run.cc).
CLI::Validator WholeNumberUpTo(int max);

Action RegisterRun(CLI::App& app);
Action RegisterReport(CLI::App& app);
Action RegisterValidate(CLI::App& app);
Action RegisterCatalog(CLI::App& app);
Action RegisterSchema(CLI::App& app);
Action RegisterStep(CLI::App& app);
Action RegisterCollective(CLI::App& app);
Action RegisterInfer(CLI::App& app);
Action RegisterReliability(CLI::App& app);
Action RegisterWalls(CLI::App& app);
Action RegisterSweep(CLI::App& app);
Action RegisterCollate(CLI::App& app);
Action RegisterEmulate(CLI::App& app);
Action RegisterIngest(CLI::App& app);
Action RegisterQuality(CLI::App& app);
Action RegisterCompare(CLI::App& app);
Action RegisterCalibrate(CLI::App& app);
Action RegisterOps(CLI::App& app);
Action RegisterForecast(CLI::App& app);
Action RegisterAnomalies(CLI::App& app);
Action RegisterMcp(CLI::App& app);
Action RegisterServe(CLI::App& app);

}  // namespace firstwall::cli

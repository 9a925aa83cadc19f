// `firstwall ops advise` (ops_advise.cc) and `firstwall ops report` (ops_report.cc), declared
// beside the other ops commands (ops.cc).
#pragma once

#include <CLI/CLI.hpp>

#include "apps/firstwall/commands.h"

namespace firstwall::cli {

struct OpsCommand {
  CLI::App* command;
  Action run;
};
OpsCommand AddOpsAdvise(CLI::App& ops);
OpsCommand AddOpsReport(CLI::App& ops);

}  // namespace firstwall::cli

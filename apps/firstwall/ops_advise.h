// `firstwall ops advise`, declared beside the other ops commands (ops.cc).
#pragma once

#include <CLI/CLI.hpp>

#include "apps/firstwall/commands.h"

namespace firstwall::cli {

struct OpsAdvise {
  CLI::App* command;
  Action run;
};
OpsAdvise AddOpsAdvise(CLI::App& ops);

}  // namespace firstwall::cli

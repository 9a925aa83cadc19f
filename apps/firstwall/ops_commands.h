// `firstwall ops advise` (ops_advise.cc) and `firstwall ops report` (ops_report.cc), declared
// beside the other ops commands (ops.cc).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "apps/firstwall/commands.h"

namespace firstwall::cli {

struct OpsCommand {
  CLI::App* command;
  Action run;
};
// The secret in `env`, else the next line of standard input (a password never comes from the
// command line); InputError at "password" when there is neither.
std::string Secret(const char* env, const std::string& whose);

OpsCommand AddOpsAdvise(CLI::App& ops);
OpsCommand AddOpsReport(CLI::App& ops);

}  // namespace firstwall::cli

// firstwall: a digital twin of AI data centers. See README.md.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "apps/firstwall/commands.h"
#include "core/error.h"
#include "units/spelling.h"

#ifndef FIRSTWALL_VERSION
#define FIRSTWALL_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  using namespace firstwall;
  CLI::App app{"firstwall: simulate an AI data center as one system (compute, power, cooling)"};
  app.set_version_flag("--version", std::string("firstwall ") + FIRSTWALL_VERSION);
  app.require_subcommand(1);
  std::map<const CLI::App*, cli::Action> actions;
  for (auto reg : {cli::RegisterRun,       cli::RegisterValidate,   cli::RegisterStep,
                   cli::RegisterInfer,     cli::RegisterCollective, cli::RegisterReliability,
                   cli::RegisterCatalog,   cli::RegisterSchema,     cli::RegisterWalls,
                   cli::RegisterSweep,     cli::RegisterCollate,    cli::RegisterEmulate,
                   cli::RegisterIngest,    cli::RegisterQuality,    cli::RegisterCompare,
                   cli::RegisterCalibrate, cli::RegisterOps,        cli::RegisterForecast,
                   cli::RegisterAnomalies, cli::RegisterMcp,        cli::RegisterReport,
                   cli::RegisterServe}) {
    cli::Action action = reg(app);
    actions[app.get_subcommands({}).back()] = std::move(action);
  }
  // A first word that is no command: say so, and what the commands are (CLI11 would only say that
  // a subcommand is required).
  std::vector<std::string> commands;
  for (const CLI::App* sub : app.get_subcommands({})) commands.push_back(sub->get_name());
  const std::string first = argc > 1 ? argv[1] : "";
  if (argc < 2 || (!first.starts_with("-") &&
                   std::find(commands.begin(), commands.end(), first) == commands.end())) {
    std::string list;
    for (size_t i = 0; i < commands.size(); ++i) list += (i ? ", " : "") + commands[i];
    const std::string near = units::NearestMatch(first, commands);
    std::cerr << (argc < 2 ? "firstwall: error: a command is required"
                           : "firstwall: error: '" + first + "' is not a command")
              << "\n  hint: " << (near.empty() ? "" : "did you mean '" + near + "'? ")
              << "commands: " << list << "; firstwall --help describes them\n";
    return cli::kBadInput;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // In the project's form, "OPTION: error: ...", not CLI11's bare text: its messages about one
    // option start with the option's name and a colon ("--hot-links: ...").
    const std::string what = e.what();
    const size_t colon = what.find(": ");
    const bool named =
        what.starts_with("-") && colon != std::string::npos && what.find(' ') > colon;
    std::cerr << (named ? what.substr(0, colon) + ": error: " + what.substr(colon + 2)
                        : "firstwall: error: " + what)
              << "\n  hint: firstwall COMMAND --help lists the options of a command\n";
    return cli::kBadInput;
  }
  try {
    for (const auto& [sub, action] : actions) {
      if (sub->parsed()) {
        const int status = action();
        // A full disk or a closed pipe must not pass for success: scripts would lose the output.
        std::cout.flush();
        if (!std::cout) {
          std::cerr << "firstwall: error: could not write to standard output\n";
          return cli::kOutputError;
        }
        return status;
      }
    }
  } catch (const InputError& e) {
    std::cerr << e.what() << "\n";
    return cli::kBadInput;
  } catch (const InternalError& e) {
    std::cerr << "firstwall: internal error (a bug; please report it): " << e.what() << "\n";
    return cli::kInternalError;
  } catch (const std::exception& e) {
    std::cerr << "firstwall: error: " << e.what() << "\n";
    return cli::kInternalError;
  }
  return cli::kBadInput;
}

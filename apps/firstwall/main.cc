// firstwall: a digital twin of AI data centers. See README.md.
#include <cstdio>
#include <iostream>
#include <map>

#include "apps/firstwall/commands.h"
#include "core/error.h"

#ifndef FIRSTWALL_VERSION
#define FIRSTWALL_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  using namespace firstwall;
  CLI::App app{"firstwall: simulate an AI data center as one system (compute, power, cooling)"};
  app.set_version_flag("--version", std::string("firstwall ") + FIRSTWALL_VERSION);
  app.require_subcommand(1);
  std::map<const CLI::App*, cli::Action> actions;
  for (auto reg : {cli::RegisterRun, cli::RegisterValidate, cli::RegisterStep, cli::RegisterInfer,
                   cli::RegisterCollective, cli::RegisterCatalog, cli::RegisterSchema}) {
    cli::Action action = reg(app);
    actions[app.get_subcommands({}).back()] = std::move(action);
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
    app.exit(e);
    return cli::kBadInput;
  }
  try {
    for (const auto& [sub, action] : actions) {
      if (sub->parsed()) return action();
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

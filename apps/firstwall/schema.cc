// firstwall schema [--markdown]
#include <iostream>
#include <memory>

#include "apps/firstwall/commands.h"
#include "scenario/schema.h"

namespace firstwall::cli {

Action RegisterSchema(CLI::App& app) {
  auto markdown = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "schema", "Print every scenario and catalog key with its type, default, range and meaning");
  cmd->add_flag("--markdown", *markdown, "Markdown, as in docs/scenario.md (the default)");
  return [] {
    std::cout << scenario::SchemaMarkdown();
    return kOk;
  };
}

}  // namespace firstwall::cli

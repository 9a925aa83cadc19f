// firstwall schema [--markdown]
#include <iostream>
#include <memory>

#include "apps/firstwall/commands.h"
#include "live/site_map.h"
#include "scenario/schema.h"

namespace firstwall::cli {

Action RegisterSchema(CLI::App& app) {
  auto markdown = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "schema", "Print every scenario and catalog key with its type, default, range and meaning");
  cmd->add_flag("--markdown", *markdown, "Markdown, as in docs/scenario.md (the default)");
  auto site_map = std::make_shared<bool>(false);
  cmd->add_flag("--site-map", *site_map,
                "The site map's keys instead (the table in docs/live.md; firstwall ingest)");
  return [site_map] {
    if (*site_map) {
      std::cout << scenario::SchemaTable(live::SiteMapSchema());
      return kOk;
    }
    std::cout << scenario::SchemaMarkdown();
    return kOk;
  };
}

}  // namespace firstwall::cli

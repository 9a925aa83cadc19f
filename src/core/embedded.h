// Text files compiled into the binary (the catalog and the default scenario), so the CLI works from
// any directory while the data stays as YAML in the source tree. See cmake/embed.cmake.
#pragma once

#include <string_view>
#include <vector>

namespace firstwall::embedded {

struct File {
  std::string_view path;  // relative to the project root, e.g. "catalog/gpus/h100-sxm5-80gb.yaml"
  std::string_view text;
};

const std::vector<File>& Files();

}  // namespace firstwall::embedded

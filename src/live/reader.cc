#include "live/reader.h"

#include <fmt/format.h>

#include "core/error.h"

namespace firstwall::live {

std::unique_ptr<SourceReader> MakeReader(const Source& source, const ReaderContext& context) {
  // One line per protocol; the site map refuses kinds not listed here.
  if (source.kind == "prometheus") return MakePrometheusReader(source, context);
  if (source.kind == "mqtt") return MakeMqttReader(source, context);
  FW_CHECK(false, fmt::format("source '{}': no reader for kind '{}'", source.name, source.kind));
  return nullptr;
}

}  // namespace firstwall::live

#include "live/reader.h"

#include <fmt/format.h>

#include "core/error.h"
#include "live/redfish.h"
#include "live/remote_write.h"

namespace firstwall::live {

std::unique_ptr<SourceReader> MakeReader(const Source& source, const ReaderContext& context) {
  // One line per protocol; the site map refuses kinds not listed here.
  if (source.kind == "prometheus") return MakePrometheusReader(source, context);
  if (source.kind == "modbus") return MakeModbusReader(source, context);
  if (source.kind == "remote_write") return MakeRemoteWriteReader(source, context);
  if (source.kind == "redfish") return MakeRedfishReader(source, context);
  if (source.kind == "snmp") return MakeSnmpReader(source, context);
  if (source.kind == "mqtt") return MakeMqttReader(source, context);
  FW_CHECK(false, fmt::format("source '{}': no reader for kind '{}'", source.name, source.kind));
  return nullptr;
}

}  // namespace firstwall::live

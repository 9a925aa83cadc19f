// How ingest reads one source, whatever its protocol. Every protocol yields the same thing: samples
// named like Prometheus series (a metric name and labels, a value in the unit the source reports,
// an optional time), which the site map's bindings then claim (site_map.h). A Modbus register, an
// SNMP OID, an MQTT topic or a Redfish property is given a metric name by its source's keys in the
// site map, so bindings are written the same way for every protocol.
//
// Pull protocols (HTTP scrape, Modbus, SNMP, Redfish) do their request in Read(). Push protocols
// (Prometheus remote-write, MQTT) receive on their own thread into a bounded buffer and Read()
// hands over what arrived since the last call; they count what they had to drop.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "live/prometheus_text.h"
#include "live/site_map.h"

namespace firstwall::live {

// What one Read() brought.
struct ReadResult {
  bool ok = false;    // the source answered (push: the connection or listener is up)
  std::string error;  // why not, when !ok
  std::vector<PromSample> samples;
  int rejected = 0;                 // malformed lines, packets, registers or payloads refused
  std::vector<PromReject> rejects;  // the first few, with why (line: a packet's or line's number)
  int64_t dropped = 0;              // push: samples dropped because the buffer was full
};

// What a reader needs from the ingest loop.
struct ReaderContext {
  double speed = 1;  // site seconds per wall second (an emulated site running faster)
  size_t max_body_bytes = size_t{64} << 20;  // a larger answer or packet is refused
  size_t max_buffered_samples = 1000000;     // push: more than this between reads are dropped
  // Site time now, ms since the Unix epoch: the time a sample without its own is stamped with.
  std::function<int64_t()> site_now_ms;
  std::function<void(const std::string&)> log;
};

class SourceReader {
 public:
  virtual ~SourceReader() = default;
  // One poll (pull) or hand-over (push). Never throws for anything the peer does: a peer that does
  // not answer, answers garbage or floods is an error or refusals in the result.
  virtual ReadResult Read() = 0;
  // A push source (the peer sends, Read hands over what came): what arrived since the last Read is
  // already acknowledged to the sender, so ingest reads it once more before it ends.
  virtual bool Pushed() const { return false; }
};

// The reader for `source.kind`. InputError when it cannot start (a push listener's port taken).
std::unique_ptr<SourceReader> MakeReader(const Source& source, const ReaderContext& context);

// The reader of `kind: prometheus`: an HTTP GET of the exposition (prometheus_reader.cc).
std::unique_ptr<SourceReader> MakePrometheusReader(const Source& source,
                                                   const ReaderContext& context);

// The reader of `kind: modbus`: registers over Modbus TCP with libmodbus (modbus_reader.cc).
std::unique_ptr<SourceReader> MakeModbusReader(const Source& source, const ReaderContext& context);
// The reader of `kind: snmp`: SNMPv2c GETs of the source's OID map (snmp_reader.h).
std::unique_ptr<SourceReader> MakeSnmpReader(const Source& source, const ReaderContext& context);
// The reader of `kind: mqtt`: a libmosquitto subscriber, push (mqtt_reader.cc, mqtt_topic.h).
std::unique_ptr<SourceReader> MakeMqttReader(const Source& source, const ReaderContext& context);

}  // namespace firstwall::live

// Redfish power and thermal readings over HTTP (`kind: redfish`, DMTF DSP0266): the reader that
// polls a BMC's resources with libcurl and the emulator's BMC that serves them.
//
// A redfish source names its BMC's service root host (`url: http://host[:port]`, plain HTTP) and
// lists `resources`: the path of a resource (/redfish/v1/Chassis/1/Power), a JSON pointer (RFC
// 6901) to a number in it (/PowerControl/0/PowerConsumedWatts), the metric `name` bindings use and
// optional `labels`. Each Read() GETs every distinct path once (basic auth when the source gives
// `user`; the password is read from the environment variable `password_env` names, never from the
// site map) and yields one sample per resource, stamped with the read's time.
//   A transport failure, a timeout, a status other than 200 or a body over max_body_bytes fails the
//   read (retried with backoff). A body that is not JSON, a pointer that names nothing, a value
//   that is not a number: that resource is refused with the reason. A null value is the BMC saying
//   it has no reading (Redfish's way): no sample, not a refusal.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "live/emulator.h"
#include "live/reader.h"
#include "live/site_map.h"

namespace firstwall::scenario {
class Section;
}

namespace firstwall::live {

// Reads the redfish keys of source `s` (resources, user, password_env) into `src`; refuses them on
// other kinds and refuses a redfish source without resources, an invalid JSON pointer, a metric
// name that is not one, at file:line:col.
void ParseRedfishKeys(const scenario::Section& s, Source& src);

// The value at `pointer` of `doc`: a number, or nullopt with `why` ("no member at /A/0/B", "a
// string, not a number"); `is_null` set (and nullopt, `why` empty) when the value is null.
std::optional<double> RedfishReading(const nlohmann::json& doc, const std::string& pointer,
                                     std::string& why, bool& is_null);

std::unique_ptr<SourceReader> MakeRedfishReader(const Source& source, const ReaderContext& context);

// The emulator's BMC, one chassis per node ("node0", ...), shaped after DMTF's schemas:
//   /redfish/v1                              ServiceRoot, links the Chassis collection
//   /redfish/v1/Chassis                      ChassisCollection
//   /redfish/v1/Chassis/nodeN                Chassis, links Power and Thermal
//   /redfish/v1/Chassis/nodeN/Power          Power: PowerControl[0].PowerConsumedWatts, the node's
//                                            firstwall_node_power_watts (W)
//   /redfish/v1/Chassis/nodeN/Thermal        Thermal: Temperatures[0] "Coolant Supply"
//   (LiquidInlet,
//                                            firstwall_coolant_supply_temperature_celsius),
//                                            Temperatures[1] "Server Inlet" (Intake,
//                                            firstwall_server_inlet_temperature_celsius), in C
// Readings are null before the first tick and while a fault drops the stream out. `status`
// receives 200, or 404 for a path not served (the body then a Redfish error object).
nlohmann::json RedfishDocument(const Snapshot* snapshot, int nodes, const std::string& path,
                               int& status);

// Listens on LISTEN ("HOST:PORT", port 0 for any free one) from construction; InputError naming
// `option` when LISTEN is not HOST:PORT or cannot be listened on.
std::unique_ptr<TelemetryServer> StartRedfishServer(const std::string& listen, int nodes,
                                                    const std::string& option = "--redfish");

}  // namespace firstwall::live

// `firstwall emulate --mqtt mqtt://HOST:PORT`: the building-management side of the emulated site
// published to an MQTT broker each tick, as a BMS gateway would (docs/live.md "MQTT"). Topics, one
// value each, under firstwall/<site>/bms/ (<site>: the scenario's site name, see TopicLevel):
//
//   chiller/power_w                  firstwall_chiller_power_watts
//   pump/power_w                     firstwall_pump_power_watts
//   fan/power_w                      firstwall_fan_power_watts
//   plant/power_w                    firstwall_cooling_power_watts (the whole cooling plant)
//   plant/heat_rejected_w            firstwall_heat_rejected_watts
//   coolant/supply_temperature_c     firstwall_coolant_supply_temperature_celsius
//   air/server_inlet_temperature_c   firstwall_server_inlet_temperature_celsius
//   weather/dry_bulb_c               firstwall_outdoor_temperature_celsius
//   weather/wet_bulb_c               firstwall_outdoor_wet_bulb_temperature_celsius
//
// Payload: {"value":V,"t_ms":T}, V in the unit the topic's last level names, rounded as the
// Prometheus exposition prints the same family (so both protocols carry equal values), T the
// tick's site time in ms since the Unix epoch (the publisher's start plus the simulated time).
// QoS 1 and retained: a BMS point is a state, so a subscriber that connects late gets the last
// value at once, and its t_ms tells how old it is. A faulted stream is faulted here too; a dropped
// out one is not published that tick; a non-finite value is never published.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "live/emulator.h"

namespace firstwall::live {

struct MqttMessage {
  std::string topic, payload;
};

// The site name as one topic level: characters other than letters, digits, '-', '_' and '.'
// become '-' ("live twin test hall" -> "live-twin-test-hall"); "site" when empty.
std::string TopicLevel(const std::string& site_name);

// The messages of one tick, in the order of the table above (absent families skipped); t_ms is
// Snapshot::WallMs of the tick.
std::vector<MqttMessage> BmsMessages(const Snapshot& snapshot, const std::string& site_level);

// Connects to the broker at `url` (mqtt://host[:port], port 1883 by default) and publishes every
// snapshot handed to Publish(). InputError naming `option` when the URL is malformed or the broker
// does not accept the connection; a connection lost later is retried by libmosquitto's thread
// (mosquitto_reconnect_delay_set: from 1 s, growing to 30 s), and ticks that come while it is down
// are not sent.
std::unique_ptr<TelemetryServer> StartMqttPublisher(const std::string& url,
                                                    const std::string& site_name,
                                                    const std::string& option = "--mqtt");

}  // namespace firstwall::live

#include "live/modbus_map.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "live/prometheus_text.h"
#include "scenario/reader.h"

namespace firstwall::live {
namespace {

struct TypeInfo {
  RegisterType type;
  const char* name;
  int words;
};
constexpr TypeInfo kTypes[] = {
    {RegisterType::kUint16, "uint16", 1},   {RegisterType::kInt16, "int16", 1},
    {RegisterType::kUint32, "uint32", 2},   {RegisterType::kInt32, "int32", 2},
    {RegisterType::kFloat32, "float32", 2}, {RegisterType::kUint64, "uint64", 4},
    {RegisterType::kInt64, "int64", 4},     {RegisterType::kFloat64, "float64", 4},
};

const TypeInfo& Info(RegisterType t) {
  for (const TypeInfo& i : kTypes) {
    if (i.type == t) return i;
  }
  return kTypes[0];
}

// Clamps `r` into [lo, hi] and rounds it to the nearest whole number.
template <class T>
T RoundClamped(double r) {
  constexpr double lo = static_cast<double>(std::numeric_limits<T>::min());
  constexpr double hi = static_cast<double>(std::numeric_limits<T>::max());
  if (r <= lo) return std::numeric_limits<T>::min();
  if (r >= hi) return std::numeric_limits<T>::max();
  return static_cast<T>(std::nearbyint(r));
}

}  // namespace

int WordCount(RegisterType type) { return Info(type).words; }
const char* TypeName(RegisterType type) { return Info(type).name; }
const char* TableName(RegisterTable table) {
  return table == RegisterTable::kHolding ? "holding" : "input";
}
const char* WordOrderName(WordOrder order) { return order == WordOrder::kBig ? "big" : "little"; }

double DecodeRegister(const uint16_t* words, RegisterType type, WordOrder order, double scale) {
  const int n = WordCount(type);
  uint64_t raw = 0;
  for (int i = 0; i < n; ++i) {
    raw = (raw << 16) | words[order == WordOrder::kBig ? i : n - 1 - i];
  }
  double v = 0;
  switch (type) {
    case RegisterType::kUint16:
    case RegisterType::kUint32:
    case RegisterType::kUint64:
      v = static_cast<double>(raw);
      break;
    case RegisterType::kInt16:
      v = static_cast<int16_t>(static_cast<uint16_t>(raw));
      break;
    case RegisterType::kInt32:
      v = static_cast<int32_t>(static_cast<uint32_t>(raw));
      break;
    case RegisterType::kInt64:
      v = static_cast<double>(static_cast<int64_t>(raw));
      break;
    case RegisterType::kFloat32:
      v = std::bit_cast<float>(static_cast<uint32_t>(raw));
      break;
    case RegisterType::kFloat64:
      v = std::bit_cast<double>(raw);
      break;
  }
  return v * scale;
}

void EncodeRegister(double value, RegisterType type, WordOrder order, double scale,
                    uint16_t* words) {
  const double r = value / scale;
  uint64_t raw = 0;
  if (std::isnan(r) && type != RegisterType::kFloat32 && type != RegisterType::kFloat64) return;
  switch (type) {
    case RegisterType::kUint16:
      raw = RoundClamped<uint16_t>(r);
      break;
    case RegisterType::kInt16:
      raw = static_cast<uint16_t>(RoundClamped<int16_t>(r));
      break;
    case RegisterType::kUint32:
      raw = RoundClamped<uint32_t>(r);
      break;
    case RegisterType::kInt32:
      raw = static_cast<uint32_t>(RoundClamped<int32_t>(r));
      break;
    case RegisterType::kUint64:
      raw = RoundClamped<uint64_t>(r);
      break;
    case RegisterType::kInt64:
      raw = static_cast<uint64_t>(RoundClamped<int64_t>(r));
      break;
    case RegisterType::kFloat32:
      raw = std::bit_cast<uint32_t>(static_cast<float>(r));
      break;
    case RegisterType::kFloat64:
      raw = std::bit_cast<uint64_t>(r);
      break;
  }
  const int n = WordCount(type);
  for (int i = 0; i < n; ++i) {
    // Word i of the big order holds bits 16 (n-1-i) up; the little order reverses the words.
    const int shift = 16 * (order == WordOrder::kBig ? n - 1 - i : i);
    words[i] = static_cast<uint16_t>(raw >> shift);
  }
}

std::vector<ModbusRequest> PlanRequests(const std::vector<ModbusRegister>& registers) {
  std::vector<size_t> order(registers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const ModbusRegister& x = registers[a];
    const ModbusRegister& y = registers[b];
    return std::pair(x.table, x.address) < std::pair(y.table, y.address);
  });
  std::vector<ModbusRequest> out;
  for (const size_t i : order) {
    const ModbusRegister& r = registers[i];
    const int words = WordCount(r.type);
    if (!out.empty()) {
      ModbusRequest& last = out.back();
      if (last.table == r.table && last.address + last.count == r.address &&
          last.count + words <= kModbusMaxReadRegisters) {
        last.count += words;
        last.registers.push_back(i);
        continue;
      }
    }
    out.push_back({r.table, r.address, words, {i}});
  }
  return out;
}

ModbusSource ReadModbusSource(const scenario::Section& s) {
  ModbusSource m;
  m.unit_id = s.Int("unit_id");
  if (m.unit_id > 247 && m.unit_id < 255) {
    s.Fail("unit_id", fmt::format("unit id {} is reserved: give 0 to 247, or 255", m.unit_id));
  }
  if (!s.Has("registers")) {
    s.Fail("registers", "a modbus source needs its register map: list the registers to read",
           "registers: [{name: facility_power_w, address: 0, type: float32}]");
  }
  const std::vector<scenario::Section> items = s.List("registers");
  std::map<std::string, size_t> names;
  for (const scenario::Section& r : items) {
    ModbusRegister reg;
    reg.where = r.where().ToString();
    reg.name = r.String("name");
    if (!IsMetricName(reg.name)) {
      r.Fail("name", fmt::format("'{}' is not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)", reg.name));
    }
    for (const auto& e : r.StringEntries("labels")) {
      if (!IsLabelName(e.key)) {
        throw InputError(e.at,
                         fmt::format("'{}' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)", e.key));
      }
      reg.labels.push_back({e.key, e.text});
    }
    const std::string table = r.Enum("table");
    reg.table = table == "input" ? RegisterTable::kInput : RegisterTable::kHolding;
    const std::string type = r.Enum("type");
    for (const TypeInfo& t : kTypes) {
      if (type == t.name) reg.type = t.type;
    }
    reg.word_order = r.Enum("word_order") == "little" ? WordOrder::kLittle : WordOrder::kBig;
    reg.address = r.Int("address");
    const int last = reg.address + WordCount(reg.type) - 1;
    if (last > 65535) {
      r.Fail("address",
             fmt::format("a {} at address {} takes registers {} to {}, past the last, 65535", type,
                         reg.address, reg.address, last));
    }
    reg.scale = r.Number("scale");
    if (!std::isfinite(reg.scale) || reg.scale == 0) {
      r.Fail("scale", fmt::format("scale {} would lose every value: give a finite number, not 0",
                                  reg.scale));
    }
    std::string series = reg.name;
    for (const Label& l : reg.labels) series += fmt::format("|{}={}", l.name, l.value);
    const auto [it, fresh] = names.emplace(series, m.registers.size());
    if (!fresh) {
      r.Fail("name",
             fmt::format("register {} already gives the name '{}'{}", it->second, reg.name,
                         reg.labels.empty() ? "" : " with the same labels"),
             "give each register its own name or labels");
    }
    m.registers.push_back(std::move(reg));
  }
  // Overlaps: neighbours in address order within a table.
  std::vector<size_t> order(m.registers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::pair(m.registers[a].table, m.registers[a].address) <
           std::pair(m.registers[b].table, m.registers[b].address);
  });
  for (size_t k = 1; k < order.size(); ++k) {
    const ModbusRegister& a = m.registers[order[k - 1]];
    const ModbusRegister& b = m.registers[order[k]];
    const int a_last = a.address + WordCount(a.type) - 1;
    if (a.table == b.table && b.address <= a_last) {
      const size_t later = std::max(order[k - 1], order[k]);
      const ModbusRegister& first = m.registers[std::min(order[k - 1], order[k])];
      const ModbusRegister& second = m.registers[later];
      items[later].Fail(
          "address",
          fmt::format("'{}' ({} registers {} to {}) overlaps '{}' ({} to {}, {})", second.name,
                      TableName(second.table), second.address,
                      second.address + WordCount(second.type) - 1, first.name, first.address,
                      first.address + WordCount(first.type) - 1, first.where));
    }
  }
  m.requests = PlanRequests(m.registers);
  return m;
}

}  // namespace firstwall::live

// A Modbus TCP source's register map (site map `kind: modbus`, docs/live.md "Modbus TCP"): which
// registers to read, how their 16-bit words make a number, and the metric name (and labels) the
// number is given so that bindings claim it like any other sample (reader.h).
//
// Words: Modbus carries 16-bit registers, each big-endian on the wire (the spec's rule; libmodbus
// hands them over as host integers). A 32- or 64-bit value spans 2 or 4 consecutive registers, and
// devices disagree on which comes first: word_order big puts the most significant word at the
// lowest address (ABCD for a float32), little the least significant (CDAB). The value is
// raw x scale, in the unit the binding names.
//
// Requests: the registers of one table are read in as few requests as possible: runs of registers
// with no gap between them, split where a run would exceed 125 registers (the spec's limit for
// function codes 3 and 4). Gaps are never read across, since a device may refuse the addresses in
// between.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "live/prometheus_text.h"

namespace firstwall::scenario {
class Section;
}

namespace firstwall::live {

enum class RegisterTable { kHolding, kInput };  // function code 3 (4x), 4 (3x)
enum class RegisterType { kUint16, kInt16, kUint32, kInt32, kFloat32, kUint64, kInt64, kFloat64 };
enum class WordOrder { kBig, kLittle };

// 1, 2 or 4 registers.
int WordCount(RegisterType type);
const char* TypeName(RegisterType type);
const char* TableName(RegisterTable table);
const char* WordOrderName(WordOrder order);

struct ModbusRegister {
  std::string name;           // the sample's metric name
  std::vector<Label> labels;  // the sample's labels (site map `labels`)
  RegisterTable table = RegisterTable::kHolding;
  int address = 0;  // 0-based (PDU) address of the first word
  RegisterType type = RegisterType::kFloat32;
  WordOrder word_order = WordOrder::kBig;
  double scale = 1;   // value = raw x scale
  std::string where;  // file:line:col of the entry, for messages
};

// One read request: `count` registers of `table` from `address`, covering `registers` (indices
// into the source's register list, in address order).
struct ModbusRequest {
  RegisterTable table = RegisterTable::kHolding;
  int address = 0, count = 0;
  std::vector<size_t> registers;
};

struct ModbusSource {
  int unit_id = 1;  // the Modbus unit (slave) id every request carries
  std::vector<ModbusRegister> registers;
  std::vector<ModbusRequest> requests;  // PlanRequests(registers)
};

constexpr int kModbusMaxReadRegisters = 125;

// The value of a register whose words (WordCount(type) of them, lowest address first) are `words`:
// the raw number they hold in `order`, times `scale`. float32/float64 NaN and infinities come out
// as they are (a meter's "no reading").
double DecodeRegister(const uint16_t* words, RegisterType type, WordOrder order, double scale);
// The inverse, for the emulator: value / scale rounded to the nearest raw number and clamped to
// the type's range (floats: the nearest float32 or the double). NaN leaves an integer register's
// words unchanged and writes NaN into a float.
void EncodeRegister(double value, RegisterType type, WordOrder order, double scale,
                    uint16_t* words);

// The requests that read `registers` (see the header comment). Registers must not overlap.
std::vector<ModbusRequest> PlanRequests(const std::vector<ModbusRegister>& registers);

// A `kind: modbus` source's own keys from its site map section (`unit_id`, `registers`, the url's
// lack of a path already checked by the caller). InputError at file:line:col for: no registers, an
// unknown word, a register running past address 65535, two registers overlapping in one table, two
// registers with the same name and labels, a zero or non-finite scale, a label name that is not
// [a-zA-Z_][a-zA-Z0-9_]*.
ModbusSource ReadModbusSource(const scenario::Section& source);

}  // namespace firstwall::live

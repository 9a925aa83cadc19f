// The reader of `kind: modbus` (reader.h): one libmodbus TCP client per source, kept connected
// between reads. Each Read() issues the source's planned requests (modbus_map.h) and decodes every
// register into a sample named by its site map entry, stamped with the read's time.
//
// Failures: a connection that cannot be made within the source's timeout (divided by the ingest
// speed), a request that times out or a connection the peer closed make the whole read fail
// (!ok; the ingest loop backs off) and the next read connects afresh. A Modbus exception (illegal
// address, device failure, ...) refuses only the registers of that request, counted in
// `rejected`. An answer libmodbus cannot make sense of (wrong length, transaction id, function)
// refuses the rest of the read's registers and drops the connection, since the stream may be out
// of step.
#include <modbus.h>

#include <algorithm>
#include <cerrno>
#include <cmath>

#include <fmt/format.h>

#include "live/reader.h"

namespace firstwall::live {
namespace {

bool IsException(int e) { return e >= EMBXILFUN && e <= EMBXGTAR; }
bool IsGarbage(int e) { return e >= EMBBADCRC && e <= EMBBADSLAVE; }

class ModbusReader : public SourceReader {
 public:
  ModbusReader(const Source& s, const ReaderContext& c) : src_(s), ctx_(c) {}
  ~ModbusReader() override { Close(); }
  ModbusReader(const ModbusReader&) = delete;
  ModbusReader& operator=(const ModbusReader&) = delete;

  ReadResult Read() override {
    ReadResult r;
    if (!mb_ && !Connect(r.error)) return r;
    uint16_t words[kModbusMaxReadRegisters] = {};
    const ModbusSource& map = src_.modbus;
    for (size_t q = 0; q < map.requests.size(); ++q) {
      const ModbusRequest& req = map.requests[q];
      const int n = req.table == RegisterTable::kHolding
                        ? modbus_read_registers(mb_, req.address, req.count, words)
                        : modbus_read_input_registers(mb_, req.address, req.count, words);
      const int err = errno;
      if (n == req.count) {
        for (const size_t i : req.registers) {
          const ModbusRegister& reg = map.registers[i];
          PromSample s;
          s.metric = reg.name;
          s.labels = reg.labels;
          s.value = DecodeRegister(words + (reg.address - req.address), reg.type, reg.word_order,
                                   reg.scale);
          r.samples.push_back(std::move(s));
        }
        continue;
      }
      const std::string what = fmt::format("{} registers {} to {}", TableName(req.table),
                                           req.address, req.address + req.count - 1);
      if (n >= 0 || IsException(err) || IsGarbage(err)) {
        // Refused: this request's registers (an exception), or every one left (garbage).
        const bool garbage = !IsException(err);
        size_t lost = req.registers.size();
        if (garbage) {
          for (size_t k = q + 1; k < map.requests.size(); ++k) {
            lost += map.requests[k].registers.size();
          }
        }
        r.rejected += static_cast<int>(lost);
        if (r.rejects.size() < 8) {
          r.rejects.push_back(
              {req.address,
               fmt::format("{}: {}", what,
                           n >= 0 ? fmt::format("{} registers instead of {}", n, req.count)
                                  : std::string(modbus_strerror(err)))});
        }
        if (garbage) {
          Close();
          break;
        }
        continue;
      }
      // No answer, or the connection is gone: the read fails, the next one reconnects.
      r.error = fmt::format("{}: {}", what, modbus_strerror(err));
      r.samples.clear();
      Close();
      return r;
    }
    r.ok = true;
    return r;
  }

 private:
  bool Connect(std::string& error) {
    const std::string port = std::to_string(src_.port);
    mb_ = modbus_new_tcp_pi(src_.host.c_str(), port.c_str());
    if (!mb_) {
      error = fmt::format("cannot set up a Modbus TCP client for {}:{}: {}", src_.host, port,
                          modbus_strerror(errno));
      return false;
    }
    // The timeout bounds the connection (libmodbus waits for it with the response timeout),
    // every answer, and the gap between the bytes of one answer.
    const double t = std::max(0.001, src_.timeout_s / ctx_.speed);
    const auto sec = static_cast<uint32_t>(std::min(t, 3600.0));
    const auto usec = static_cast<uint32_t>(std::lround((t - sec) * 1e6)) % 1000000u;
    modbus_set_response_timeout(mb_, sec, sec == 0 && usec == 0 ? 1000 : usec);
    modbus_set_byte_timeout(mb_, sec, sec == 0 && usec == 0 ? 1000 : usec);
    modbus_set_slave(mb_, src_.modbus.unit_id);
    if (modbus_connect(mb_) == -1) {
      error = fmt::format("cannot connect to {}:{}: {}", src_.host, port, modbus_strerror(errno));
      Close();
      return false;
    }
    return true;
  }

  void Close() {
    if (!mb_) return;
    modbus_close(mb_);
    modbus_free(mb_);
    mb_ = nullptr;
  }

  const Source& src_;
  ReaderContext ctx_;
  modbus_t* mb_ = nullptr;
};

}  // namespace

std::unique_ptr<SourceReader> MakeModbusReader(const Source& source, const ReaderContext& context) {
  return std::make_unique<ModbusReader>(source, context);
}

}  // namespace firstwall::live

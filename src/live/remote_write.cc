// Prometheus remote-write 1.0 bodies (remote_write.h): snappy around a WriteRequest protobuf.
#include <snappy.h>

#include <cstring>

#include <fmt/format.h>

#include "live/remote_write.h"
#include "remote_write.pb.h"

namespace firstwall::live {
namespace {

namespace pb = ::firstwall::remote_write;

// Prometheus' stale marker: a NaN with this payload marks a series that went away.
constexpr uint64_t kStaleNaN = 0x7ff0000000000002ull;

bool IsStaleMarker(double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  return bits == kStaleNaN;
}

// Well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    const uint32_t least[] = {0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

RemoteWriteBody Refuse(int status, std::string reason) {
  RemoteWriteBody b;
  b.status = status;
  b.reason = std::move(reason);
  return b;
}

}  // namespace

RemoteWriteBody DecodeRemoteWrite(std::string_view body, size_t max_bytes) {
  if (body.size() > max_bytes) {
    return Refuse(413, fmt::format("body of {} bytes, more than {}", body.size(), max_bytes));
  }
  size_t length = 0;
  if (!snappy::GetUncompressedLength(body.data(), body.size(), &length)) {
    return Refuse(400, "not snappy-compressed (no valid block length)");
  }
  if (length > max_bytes) {
    return Refuse(413, fmt::format("uncompresses to {} bytes, more than {}", length, max_bytes));
  }
  std::string raw;
  if (!snappy::Uncompress(body.data(), body.size(), &raw)) {
    return Refuse(400, "snappy data corrupt or truncated");
  }
  pb::WriteRequest request;
  if (!request.ParseFromString(raw)) {
    return Refuse(400, "not a remote-write WriteRequest (protobuf decoding failed)");
  }
  RemoteWriteBody out;
  out.status = 204;
  size_t n = 0;
  for (const pb::TimeSeries& ts : request.timeseries()) n += static_cast<size_t>(ts.samples_size());
  out.samples.reserve(n);
  for (int i = 0; i < request.timeseries_size(); ++i) {
    const pb::TimeSeries& ts = request.timeseries(i);
    PromSample proto;
    bool named = false;
    for (const pb::Label& l : ts.labels()) {
      if (!IsUtf8(l.name()) || !IsUtf8(l.value())) {
        return Refuse(400, fmt::format("series {}: a label that is not UTF-8", i + 1));
      }
      if (l.name().empty())
        return Refuse(400, fmt::format("series {}: an empty label name", i + 1));
      if (l.name() == "__name__") {
        proto.metric = l.value();
        named = true;
      } else {
        proto.labels.push_back({l.name(), l.value()});
      }
    }
    if (!named || proto.metric.empty()) {
      return Refuse(400, fmt::format("series {}: no __name__ label", i + 1));
    }
    for (const pb::Sample& s : ts.samples()) {
      if (IsStaleMarker(s.value())) {
        ++out.stale_markers;
        continue;
      }
      PromSample p = proto;
      p.value = s.value();
      p.timestamp_ms = s.timestamp();
      out.samples.push_back(std::move(p));
    }
  }
  return out;
}

std::string EncodeRemoteWrite(const std::vector<PromSample>& samples) {
  pb::WriteRequest request;
  for (const PromSample& s : samples) {
    pb::TimeSeries* ts = request.add_timeseries();
    pb::Label* name = ts->add_labels();
    name->set_name("__name__");
    name->set_value(s.metric);
    for (const Label& l : s.labels) {
      pb::Label* pl = ts->add_labels();
      pl->set_name(l.name);
      pl->set_value(l.value);
    }
    pb::Sample* ps = ts->add_samples();
    ps->set_value(s.value);
    ps->set_timestamp(s.timestamp_ms.value_or(0));
  }
  std::string raw, out;
  request.SerializeToString(&raw);
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

}  // namespace firstwall::live

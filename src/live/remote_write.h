// Prometheus remote-write 1.0 received (`kind: remote_write`): a sender (a Prometheus server's
// `remote_write`, an agent) POSTs snappy-compressed WriteRequest protobufs (remote_write.proto,
// written from the published specification) to the URL of the source, where ingest listens.
//
// The listener (MakeRemoteWriteReader) answers each POST:
//   204  decoded; its samples are buffered for the next Read() (beyond the buffer they are dropped
//        and counted, not refused: the sender would only send them again)
//   400  not snappy, not a WriteRequest, a series without "__name__" or with labels that are not
//        UTF-8, a wrong Content-Encoding or Content-Type; counted as rejected with the reason
//   413  the body, or what it says it decompresses to, is larger than ReaderContext.max_body_bytes
// Samples carry the sender's timestamps (ms since the epoch). Prometheus' stale markers (a NaN
// with one particular bit pattern, sent when a series disappears) are not readings and are skipped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "live/prometheus_text.h"
#include "live/reader.h"

namespace firstwall::live {

struct RemoteWriteBody {
  int status = 0;      // 204, 400 or 413, what the listener answers
  std::string reason;  // why, when not 204
  std::vector<PromSample> samples;
  int64_t stale_markers = 0;  // skipped
};

// Decodes one POST body (snappy block format around a WriteRequest). The uncompressed length the
// block declares is checked against `max_bytes` before anything is decompressed.
RemoteWriteBody DecodeRemoteWrite(std::string_view body, size_t max_bytes);

// The snappy-compressed WriteRequest of `samples` (each with its timestamp; a sample without one
// is sent with 0), as a 1.0 sender builds it: for tests and tools.
std::string EncodeRemoteWrite(const std::vector<PromSample>& samples);

// The reader of `kind: remote_write`: listens on the source's host and port from construction
// (InputError naming the source when that fails) and accepts POSTs at the source's path.
std::unique_ptr<SourceReader> MakeRemoteWriteReader(const Source& source,
                                                    const ReaderContext& context);

}  // namespace firstwall::live

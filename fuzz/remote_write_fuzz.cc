// Prometheus remote-write bodies (snappy around a WriteRequest): every input must be answered
// (204, 400 or 413) without throwing, and what was decoded must encode and decode to the same.
#include "fuzz/fuzz_main.h"
#include "live/remote_write.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return firstwall::fuzz::Run(data, size, [](const std::string& body) {
    const firstwall::live::RemoteWriteBody b = firstwall::live::DecodeRemoteWrite(body, 1 << 20);
    FW_CHECK(b.status == 204 || b.status == 400 || b.status == 413, "an unknown answer");
    if (b.status != 204) return;
    const firstwall::live::RemoteWriteBody again =
        firstwall::live::DecodeRemoteWrite(firstwall::live::EncodeRemoteWrite(b.samples), 1 << 30);
    FW_CHECK(again.status == 204 && again.samples.size() == b.samples.size(),
             "decoded samples did not encode and decode back");
  });
}

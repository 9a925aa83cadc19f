#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <snappy.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "core/error.h"
#include "live/remote_write.h"
#include "live/temp_path_test_util.h"
#include "remote_write.pb.h"

namespace firstwall::live {
namespace {

namespace pb = ::firstwall::remote_write;

std::string Compress(const std::string& raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

// Two series as a 1.0 sender writes them: labels sorted, __name__ first among them.
pb::WriteRequest TwoSeries() {
  pb::WriteRequest w;
  pb::TimeSeries* a = w.add_timeseries();
  for (auto [n, v] :
       {std::pair{"Hostname", "node0"}, {"__name__", "DCGM_FI_DEV_POWER_USAGE"}, {"gpu", "3"}}) {
    pb::Label* l = a->add_labels();
    l->set_name(n);
    l->set_value(v);
  }
  for (auto [v, t] : {std::pair{512.25, int64_t{1700000000000}}, {498.5, int64_t{1700000001000}}}) {
    pb::Sample* s = a->add_samples();
    s->set_value(v);
    s->set_timestamp(t);
  }
  pb::TimeSeries* b = w.add_timeseries();
  pb::Label* l = b->add_labels();
  l->set_name("__name__");
  l->set_value("firstwall_pue");
  pb::Sample* s = b->add_samples();
  s->set_value(1.25);
  s->set_timestamp(1700000000500);
  return w;
}

TEST(RemoteWrite, DecodesSeriesLabelsValuesAndTimestamps) {
  const RemoteWriteBody b = DecodeRemoteWrite(Compress(TwoSeries().SerializeAsString()), 1 << 20);
  ASSERT_EQ(b.status, 204) << b.reason;
  ASSERT_EQ(b.samples.size(), 3u);
  EXPECT_EQ(b.samples[0].metric, "DCGM_FI_DEV_POWER_USAGE");
  ASSERT_EQ(b.samples[0].labels.size(), 2u);
  EXPECT_EQ(b.samples[0].labels[0], (Label{"Hostname", "node0"}));
  EXPECT_EQ(b.samples[0].labels[1], (Label{"gpu", "3"}));
  EXPECT_EQ(b.samples[0].value, 512.25);
  EXPECT_EQ(b.samples[0].timestamp_ms, 1700000000000);
  EXPECT_EQ(b.samples[1].value, 498.5);
  EXPECT_EQ(b.samples[1].timestamp_ms, 1700000001000);
  EXPECT_EQ(b.samples[2].metric, "firstwall_pue");
  EXPECT_TRUE(b.samples[2].labels.empty());
  EXPECT_EQ(b.samples[2].timestamp_ms, 1700000000500);
}

TEST(RemoteWrite, EncodeRoundTrips) {
  std::vector<PromSample> in = {{"m", {{"a", "1"}}, -2.5, 42}, {"n", {}, 7, 43}};
  const RemoteWriteBody b = DecodeRemoteWrite(EncodeRemoteWrite(in), 1 << 20);
  ASSERT_EQ(b.status, 204) << b.reason;
  ASSERT_EQ(b.samples.size(), 2u);
  EXPECT_EQ(b.samples[0].metric, "m");
  EXPECT_EQ(b.samples[0].labels, in[0].labels);
  EXPECT_EQ(b.samples[0].value, -2.5);
  EXPECT_EQ(b.samples[1].timestamp_ms, 43);
}

TEST(RemoteWrite, TheFuzzSeedIsAWholeBody) {
  // src/live/testdata/three-samples.rw, the remote_write fuzz target's seed (scripts/fuzz).
  std::ifstream in("src/live/testdata/three-samples.rw", std::ios::binary);
  const std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(body.size(), 190u);
  const RemoteWriteBody b = DecodeRemoteWrite(body, 1 << 20);
  ASSERT_EQ(b.status, 204) << b.reason;
  ASSERT_EQ(b.samples.size(), 3u);
  EXPECT_EQ(b.samples[1].metric, "DCGM_FI_DEV_POWER_USAGE");
  EXPECT_EQ(b.samples[1].labels.size(), 4u);
  EXPECT_EQ(b.samples[1].value, 498.5);
  EXPECT_EQ(b.samples[1].timestamp_ms, 1700000001000);
  EXPECT_EQ(b.samples[2].labels, (std::vector<Label>{{"job", "site"}}));
}

TEST(RemoteWrite, SkipsStaleMarkersButKeepsOtherNaNs) {
  pb::WriteRequest w;
  pb::TimeSeries* t = w.add_timeseries();
  pb::Label* l = t->add_labels();
  l->set_name("__name__");
  l->set_value("x");
  uint64_t stale_bits = 0x7ff0000000000002ull;
  double stale = 0;
  std::memcpy(&stale, &stale_bits, sizeof stale);
  t->add_samples()->set_value(stale);
  t->add_samples()->set_value(std::nan(""));
  const RemoteWriteBody b = DecodeRemoteWrite(Compress(w.SerializeAsString()), 1 << 20);
  ASSERT_EQ(b.status, 204);
  EXPECT_EQ(b.stale_markers, 1);
  ASSERT_EQ(b.samples.size(), 1u);
  EXPECT_TRUE(std::isnan(b.samples[0].value));
}

TEST(RemoteWrite, RefusesGarbageTruncatedAndUnnamedBodies) {
  EXPECT_EQ(DecodeRemoteWrite("", 1 << 20).status, 400);
  RemoteWriteBody b = DecodeRemoteWrite("\xff\xff\xff\xff\xff\xff", 1 << 20);
  EXPECT_EQ(b.status, 400);
  EXPECT_NE(b.reason.find("not snappy"), std::string::npos) << b.reason;
  const std::string good = Compress(TwoSeries().SerializeAsString());
  b = DecodeRemoteWrite(good.substr(0, good.size() - 5), 1 << 20);
  EXPECT_EQ(b.status, 400);
  EXPECT_NE(b.reason.find("corrupt or truncated"), std::string::npos) << b.reason;
  // Valid snappy around bytes that are not a WriteRequest (field 1 with wire type 7 is invalid).
  b = DecodeRemoteWrite(Compress("\x0f\x01\x02"), 1 << 20);
  EXPECT_EQ(b.status, 400);
  EXPECT_NE(b.reason.find("protobuf decoding failed"), std::string::npos) << b.reason;
  // A protobuf cut short inside a series.
  const std::string raw = TwoSeries().SerializeAsString();
  b = DecodeRemoteWrite(Compress(raw.substr(0, raw.size() / 2)), 1 << 20);
  EXPECT_EQ(b.status, 400) << b.reason;
  pb::WriteRequest w;
  pb::Label* l = w.add_timeseries()->add_labels();
  l->set_name("job");
  l->set_value("x");
  b = DecodeRemoteWrite(Compress(w.SerializeAsString()), 1 << 20);
  EXPECT_EQ(b.status, 400);
  EXPECT_EQ(b.reason, "series 1: no __name__ label");
  l->set_name("__name__");
  l->set_value("\xc0\xaf");  // an overlong '/'
  b = DecodeRemoteWrite(Compress(w.SerializeAsString()), 1 << 20);
  EXPECT_EQ(b.status, 400);
  EXPECT_EQ(b.reason, "series 1: a label that is not UTF-8");
}

TEST(RemoteWrite, ChecksTheUncompressedLengthBeforeDecompressing) {
  // 100 kB of zeros compress to a few kB: under a 10 kB limit compressed, over it uncompressed.
  const std::string body = Compress(std::string(100000, '\0'));
  ASSERT_LT(body.size(), 10000u);
  RemoteWriteBody b = DecodeRemoteWrite(body, 10000);
  EXPECT_EQ(b.status, 413);
  EXPECT_EQ(b.reason, "uncompresses to 100000 bytes, more than 10000");
  b = DecodeRemoteWrite(std::string(20000, 'x'), 10000);
  EXPECT_EQ(b.status, 413);
}

TEST(RemoteWrite, ListenerAnswers204400And413AndHandsOverWhatFits) {
  Source src;
  src.name = "rw";
  src.kind = "remote_write";
  src.host = "127.0.0.1";
  src.port = FreePort();
  src.path = "/api/v1/write";
  ReaderContext ctx;
  ctx.max_body_bytes = 4096;
  ctx.max_buffered_samples = 4;
  auto reader = MakeRemoteWriteReader(src, ctx);
  // A second listener on the same port cannot start.
  EXPECT_THROW(MakeRemoteWriteReader(src, ctx), InputError);

  httplib::Client client("127.0.0.1", src.port);
  const httplib::Headers snappy = {{"Content-Encoding", "snappy"}};
  const std::string body = Compress(TwoSeries().SerializeAsString());
  auto res = client.Post("/api/v1/write", snappy, body, "application/x-protobuf");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);
  res = client.Post("/api/v1/write", snappy, body, "application/x-protobuf");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);  // accepted; 2 of its 3 samples did not fit the buffer of 4
  res = client.Post("/api/v1/write", snappy, "garbage", "application/x-protobuf");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  res = client.Post("/api/v1/write", body, "application/x-protobuf");  // no Content-Encoding
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  res = client.Post("/api/v1/write", snappy, std::string(8000, 'x'), "application/x-protobuf");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);

  ReadResult r = reader->Read();
  EXPECT_TRUE(r.ok);
  ASSERT_EQ(r.samples.size(), 4u);
  EXPECT_EQ(r.samples[3].value, 512.25);  // the second request's first sample
  EXPECT_EQ(r.dropped, 2);
  EXPECT_EQ(r.rejected, 3);
  ASSERT_EQ(r.rejects.size(), 3u);
  EXPECT_EQ(r.rejects[0].line, 3);  // the third request
  EXPECT_EQ(r.rejects[0].reason, "snappy data corrupt or truncated");
  EXPECT_EQ(r.rejects[1].reason, "Content-Encoding '', expected snappy");
  EXPECT_NE(r.rejects[2].reason.find("larger than 4096"), std::string::npos) << r.rejects[2].reason;
  // Handed over: the next read starts empty.
  r = reader->Read();
  EXPECT_TRUE(r.samples.empty());
  EXPECT_EQ(r.dropped, 0);
  EXPECT_EQ(r.rejected, 0);
}

}  // namespace
}  // namespace firstwall::live

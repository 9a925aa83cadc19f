// BufferedStore: a Store in front of another whose database may go away for a while (a PostgreSQL
// server restarting), so that no sample is lost meanwhile (docs/live.md, "Spool and replay").
//
// It keeps what was put, appended and recorded since the last Flush. Flush hands that batch to the
// inner store and flushes it; when the inner store throws StoreUnavailable, the batch is appended
// to a spool file instead and the database is tried again after a backoff (retry_min_s, doubled
// per failed try up to retry_max_s, wall time; no call blocks on the way). Each try first replays
// the spooled batches, oldest first, one transaction each, then the new batch: the database gets
// every batch once and in order. Series made while the database is away get provisional ids
// (negative), written with their keys into each spooled batch that uses them, and are resolved to
// the database's ids on replay; later appends under a provisional id are translated. Ids the
// store gave out before a commit followed travel with their keys too, so that a spool replayed by
// another process still finds (or makes) their series.
//
// Limits: the spool is bounded by spool_limit_bytes (the file's size, until it is emptied after a
// full replay): a batch that would grow it further is dropped and its samples counted in
// dropped_samples (and logged). A batch whose COMMIT went in while its answer was lost with the
// connection is replayed; the PostgreSQL store recognises it and does not store it twice (within
// one run; see store.h). The spool survives the process: a
// spool left by an earlier run is replayed first, and must name the same store (the redacted URL).
// Errors other than StoreUnavailable pass through.
//
// Spool file: "FWSPOOL1", the offset of the first batch not yet replayed (u64), the store's name
// (u32 length, bytes), then one record per batch: "FWSB", payload length (u32), FNV-1a of the
// payload (u32), payload (sources, provisional series keys, samples as series/t_ms/value,
// scrapes). Native byte order: a spool is read back on the machine that wrote it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "live/store.h"

namespace firstwall::live {

struct BufferOptions {
  std::string spool_path;
  std::string store_name;                        // written in the spool, checked on reopen
  int64_t spool_limit_bytes = int64_t{1} << 30;  // bytes
  double retry_min_s = 0.25, retry_max_s = 10;   // wall seconds between tries
  std::function<void(const std::string&)> log;   // one line per outage, recovery, drop
};

struct BufferStats {
  int64_t outages = 0;  // times the database was found away
  int64_t spooled_batches = 0, spooled_samples = 0;
  int64_t replayed_batches = 0, replayed_samples = 0;
  int64_t dropped_batches = 0, dropped_samples = 0;  // the spool was full
  int64_t waiting_samples = 0;                       // in the spool now, not yet replayed
};

class BufferedStore : public ForwardingStore {
 public:
  // InputError naming the spool when it cannot be opened, is not a spool, or names another store.
  BufferedStore(std::unique_ptr<Store> inner, BufferOptions options);
  ~BufferedStore() override;
  BufferedStore(const BufferedStore&) = delete;
  BufferedStore& operator=(const BufferedStore&) = delete;

  void PutSource(const SourceInfo& s) override;
  int64_t SeriesId(const SeriesKey& key) override;
  void Append(int64_t series, std::span<const SamplePoint> points) override;
  void RecordScrape(const ScrapeRecord& r) override;
  // Never throws StoreUnavailable: the batch goes to the database or to the spool.
  void Flush() override;
  // Reads, quality, twin runs and drift go to the inner store as they are (ForwardingStore).

  // Quality windows are derived from the samples (and can be scored again from them): while the
  // database is away they wait in memory, the newest 1,000,000 rows kept, and go with the next
  // Flush that reaches it.
  void PutQualityWindows(const std::vector<QualityWindowRecord>& rows) override;

  // Flushes, then keeps trying (with the backoff) until the spool is empty, `wait_s` wall seconds
  // have passed or `stop` says so (asked every 50 ms); true when everything reached the database.
  bool Drain(double wait_s, const std::function<bool()>& stop = {});
  // Samples in the spool, not yet replayed.
  int64_t waiting() const { return stats_.waiting_samples; }
  const BufferStats& stats() const { return stats_; }

  struct Batch {
    std::vector<SourceInfo> sources;
    // Keys of the series the batch uses whose rows may not be in the database yet: provisional
    // ids, and ids the store gave out that no committed Flush has followed.
    std::map<int64_t, SeriesKey> keys;
    std::vector<int64_t> series;  // per sample
    std::vector<SamplePoint> points;
    std::vector<ScrapeRecord> scrapes;
    bool empty() const { return sources.empty() && points.empty() && scrapes.empty(); }
  };

 private:
  using Clock = std::chrono::steady_clock;
  bool Spooled() const { return replay_at_ < spool_end_; }
  void Forward(Batch& b);
  void SendWindows();
  void Replay();
  void Spool(Batch& b);
  void WentAway(const StoreUnavailable& e);
  void OpenSpool();
  void WriteReplayOffset();

  BufferOptions o_;
  BufferStats stats_;
  Batch pending_;
  std::vector<QualityWindowRecord> windows_waiting_;
  bool away_ = false, told_full_ = false;
  Clock::time_point next_try_{}, away_since_{};
  double backoff_s_ = 0;
  int64_t next_provisional_ = -1;
  std::map<int64_t, SeriesKey> provisional_;
  std::map<std::tuple<std::string, std::string, std::string, std::string>, int64_t> by_key_;
  std::map<int64_t, int64_t> resolved_;       // provisional id -> the database's
  std::map<int64_t, SeriesKey> unconfirmed_;  // ids from the store since its last commit
  int fd_ = -1;
  int64_t header_bytes_ = 0, replay_at_ = 0, spool_end_ = 0;
};

}  // namespace firstwall::live

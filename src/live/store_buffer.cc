#include "live/store_buffer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "core/error.h"

namespace firstwall::live {
namespace {

constexpr char kFileMagic[8] = {'F', 'W', 'S', 'P', 'O', 'O', 'L', '1'};
constexpr char kRecordMagic[4] = {'F', 'W', 'S', 'B'};
constexpr int64_t kRecordHead = 12;  // magic, length, checksum

uint32_t Fnv1a(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

class Writer {
 public:
  template <class T>
  void Put(T v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void Str(const std::string& s) {
    Put(static_cast<uint32_t>(s.size()));
    out += s;
  }
  std::string out;
};

class Reader {
 public:
  Reader(const char* p, size_t n) : p_(p), end_(p + n) {}
  template <class T>
  T Get() {
    T v{};
    if (static_cast<size_t>(end_ - p_) < sizeof v) {
      ok_ = false;
      return v;
    }
    std::memcpy(&v, p_, sizeof v);
    p_ += sizeof v;
    return v;
  }
  std::string Str() {
    const auto n = Get<uint32_t>();
    if (!ok_ || static_cast<size_t>(end_ - p_) < n) {
      ok_ = false;
      return {};
    }
    std::string s(p_, n);
    p_ += n;
    return s;
  }
  // Every byte read and none missing.
  bool done() const { return ok_ && p_ == end_; }
  bool ok() const { return ok_; }

 private:
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

std::string Encode(const BufferedStore::Batch& b) {
  Writer w;
  w.Put(static_cast<uint32_t>(b.sources.size()));
  for (const SourceInfo& s : b.sources) {
    w.Str(s.name);
    w.Str(s.kind);
    w.Str(s.url);
    w.Put(s.interval_s);
  }
  w.Put(static_cast<uint32_t>(b.keys.size()));
  for (const auto& [id, k] : b.keys) {
    w.Put(id);
    for (const std::string* s :
         {&k.entity, &k.entity_id, &k.quantity, &k.unit, &k.source, &k.metric}) {
      w.Str(*s);
    }
  }
  w.Put(static_cast<uint64_t>(b.points.size()));
  for (size_t i = 0; i < b.points.size(); ++i) {
    w.Put(b.series[i]);
    w.Put(b.points[i].t_ms);
    w.Put(b.points[i].value);
    w.Put(b.points[i].arrival_ms);
  }
  w.Put(static_cast<uint32_t>(b.scrapes.size()));
  for (const ScrapeRecord& r : b.scrapes) {
    w.Str(r.source);
    w.Put(r.t_ms);
    w.Put(static_cast<uint8_t>(r.ok));
    w.Put(r.duration_ms);
    w.Put(static_cast<int32_t>(r.samples));
    w.Put(static_cast<int32_t>(r.rejected));
    w.Str(r.error);
  }
  return std::move(w.out);
}

std::optional<BufferedStore::Batch> Decode(const std::string& payload) {
  Reader r(payload.data(), payload.size());
  BufferedStore::Batch b;
  for (auto n = r.Get<uint32_t>(); r.ok() && n > 0; --n) {
    SourceInfo s;
    s.name = r.Str();
    s.kind = r.Str();
    s.url = r.Str();
    s.interval_s = r.Get<double>();
    b.sources.push_back(std::move(s));
  }
  for (auto n = r.Get<uint32_t>(); r.ok() && n > 0; --n) {
    const auto id = r.Get<int64_t>();
    SeriesKey k;
    for (std::string* s : {&k.entity, &k.entity_id, &k.quantity, &k.unit, &k.source, &k.metric}) {
      *s = r.Str();
    }
    b.keys[id] = std::move(k);
  }
  const auto samples = r.Get<uint64_t>();
  if (!r.ok() || samples > payload.size() / 32) return std::nullopt;
  b.series.reserve(samples);
  b.points.reserve(samples);
  for (uint64_t i = 0; i < samples; ++i) {
    b.series.push_back(r.Get<int64_t>());
    const auto t = r.Get<int64_t>();
    const auto v = r.Get<double>();
    b.points.push_back({t, v, r.Get<int64_t>()});
  }
  for (auto n = r.Get<uint32_t>(); r.ok() && n > 0; --n) {
    ScrapeRecord s;
    s.source = r.Str();
    s.t_ms = r.Get<int64_t>();
    s.ok = r.Get<uint8_t>() != 0;
    s.duration_ms = r.Get<double>();
    s.samples = r.Get<int32_t>();
    s.rejected = r.Get<int32_t>();
    s.error = r.Str();
    b.scrapes.push_back(std::move(s));
  }
  if (!r.done()) return std::nullopt;
  return b;
}

bool ReadAt(int fd, void* to, size_t n, int64_t at) {
  return pread(fd, to, n, at) == static_cast<ssize_t>(n);
}

}  // namespace

BufferedStore::BufferedStore(std::unique_ptr<Store> inner, BufferOptions options)
    : ForwardingStore(std::move(inner)), o_(std::move(options)) {
  OpenSpool();
}

BufferedStore::~BufferedStore() {
  try {
    Flush();
  } catch (const std::exception&) {  // NOLINT: a destructor must not throw
  }
  if (fd_ >= 0) {
    close(fd_);
    if (!Spooled()) unlink(o_.spool_path.c_str());  // nothing waits: no file left behind
  }
}

void BufferedStore::OpenSpool() {
  const std::string& path = o_.spool_path;
  fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    throw InputError({path, 0, 0},
                     fmt::format("cannot open the spool file: {}", std::strerror(errno)));
  }
  struct stat st {};
  fstat(fd_, &st);
  Writer head;
  head.out.append(kFileMagic, sizeof kFileMagic);
  head.Put(uint64_t{0});
  head.Str(o_.store_name);
  header_bytes_ = static_cast<int64_t>(head.out.size());
  if (st.st_size == 0) {
    replay_at_ = spool_end_ = header_bytes_;
    head.out.replace(8, 8, std::string(reinterpret_cast<const char*>(&replay_at_), 8));
    if (pwrite(fd_, head.out.data(), head.out.size(), 0) != static_cast<ssize_t>(head.out.size())) {
      throw InputError({path, 0, 0},
                       fmt::format("cannot write the spool file: {}", std::strerror(errno)));
    }
    return;
  }
  std::string have(static_cast<size_t>(std::min<int64_t>(st.st_size, header_bytes_)), '\0');
  ReadAt(fd_, have.data(), have.size(), 0);
  if (have.size() < 16 || have.compare(0, 8, kFileMagic, 8) != 0) {
    throw InputError({path, 0, 0}, "not a firstwall spool file",
                     "give --spool a file of its own; an empty or absent one is created");
  }
  const std::string name = have.size() > 20 ? have.substr(20) : std::string();
  if (have.size() != static_cast<size_t>(header_bytes_) || have.compare(16, 4, head.out, 16, 4) ||
      name != o_.store_name) {
    throw InputError({path, 0, 0}, "the spool holds batches for another store",
                     fmt::format("it must be replayed into the store it was written for; this "
                                 "run's store is {}",
                                 o_.store_name));
  }
  std::memcpy(&replay_at_, have.data() + 8, 8);
  spool_end_ = st.st_size;
  if (replay_at_ < header_bytes_ || replay_at_ > spool_end_) replay_at_ = header_bytes_;
  // Count what waits, and keep this run's provisional ids clear of the earlier run's.
  for (int64_t at = replay_at_; at + kRecordHead <= spool_end_;) {
    uint32_t len = 0;
    ReadAt(fd_, &len, 4, at + 4);
    std::string payload(len, '\0');
    if (at + kRecordHead + len > spool_end_ ||
        !ReadAt(fd_, payload.data(), len, at + kRecordHead)) {
      break;
    }
    if (auto b = Decode(payload)) {
      stats_.waiting_samples += static_cast<int64_t>(b->points.size());
      if (!b->keys.empty() && b->keys.begin()->first < 0) {
        next_provisional_ = std::min(next_provisional_, b->keys.begin()->first - 1);
      }
    }
    at += kRecordHead + len;
  }
  if (Spooled()) {
    away_ = true;
    away_since_ = Clock::now();
    next_try_ = away_since_;
    if (o_.log) {
      o_.log(fmt::format("spool {} holds {} sample(s) from an earlier run: replayed first", path,
                         stats_.waiting_samples));
    }
  }
}

void BufferedStore::WriteReplayOffset() {
  if (pwrite(fd_, &replay_at_, sizeof replay_at_, 8) != sizeof replay_at_ && o_.log) {
    o_.log(fmt::format("spool {}: cannot record the replay position: {}", o_.spool_path,
                       std::strerror(errno)));
  }
}

void BufferedStore::PutSource(const SourceInfo& s) { pending_.sources.push_back(s); }

int64_t BufferedStore::SeriesId(const SeriesKey& k) {
  const auto key = std::make_tuple(k.entity, k.entity_id, k.quantity, k.source);
  if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
  if (!away_) {
    try {
      const int64_t id = inner_->SeriesId(k);
      unconfirmed_[id] = k;
      return id;
    } catch (const StoreUnavailable& e) {
      // The inner store dropped nothing of ours: the pending batch is still here.
      WentAway(e);
    }
  }
  const int64_t id = next_provisional_--;
  provisional_[id] = k;
  by_key_[key] = id;
  return id;
}

void BufferedStore::Append(int64_t series, std::span<const SamplePoint> points) {
  if (series < 0) {
    if (auto it = resolved_.find(series); it != resolved_.end()) series = it->second;
  }
  for (const SamplePoint& p : points) {
    pending_.series.push_back(series);
    pending_.points.push_back(p);
  }
}

void BufferedStore::RecordScrape(const ScrapeRecord& r) { pending_.scrapes.push_back(r); }

void BufferedStore::Forward(Batch& b) {
  std::map<int64_t, int64_t> ids;
  for (const auto& [id, key] : b.keys) ids[id] = inner_->SeriesId(key);
  for (const SourceInfo& s : b.sources) inner_->PutSource(s);
  for (size_t i = 0; i < b.points.size(); ++i) {
    int64_t id = b.series[i];
    if (auto it = ids.find(id); it != ids.end()) {
      id = it->second;
    } else {
      FW_CHECK(id >= 0, "a spooled batch carries the keys of its provisional series");
    }
    inner_->Append(id, {&b.points[i], 1});
  }
  for (const ScrapeRecord& r : b.scrapes) inner_->RecordScrape(r);
  inner_->Flush();
  unconfirmed_.clear();  // the commit wrote every series the store had given out
  for (const auto& [prov, real] : ids) {
    if (provisional_.contains(prov)) resolved_[prov] = real;
  }
}

void BufferedStore::Replay() {
  while (Spooled()) {
    char head[kRecordHead];
    uint32_t len = 0, sum = 0;
    std::string payload;
    bool good =
        spool_end_ - replay_at_ >= kRecordHead && ReadAt(fd_, head, sizeof head, replay_at_);
    if (good) {
      std::memcpy(&len, head + 4, 4);
      std::memcpy(&sum, head + 8, 4);
      good =
          std::memcmp(head, kRecordMagic, 4) == 0 && replay_at_ + kRecordHead + len <= spool_end_;
    }
    if (good) {
      payload.resize(len);
      good = ReadAt(fd_, payload.data(), len, replay_at_ + kRecordHead) && Fnv1a(payload) == sum;
    }
    std::optional<Batch> b;
    if (good) b = Decode(payload);
    if (!b) {
      // A record cut short (the process died writing it) or damaged: nothing after it is read.
      if (o_.log) {
        o_.log(
            fmt::format("spool {}: damaged batch at byte {}: the {} byte(s) from there are "
                        "dropped",
                        o_.spool_path, replay_at_, spool_end_ - replay_at_));
      }
      ++stats_.dropped_batches;
      spool_end_ = replay_at_;
      break;
    }
    Forward(*b);
    replay_at_ += kRecordHead + len;
    WriteReplayOffset();
    const auto n = static_cast<int64_t>(b->points.size());
    ++stats_.replayed_batches;
    stats_.replayed_samples += n;
    stats_.waiting_samples -= n;
  }
  // Everything replayed: the file starts over.
  if (spool_end_ > header_bytes_) {
    if (ftruncate(fd_, header_bytes_) != 0 && o_.log) {
      o_.log(fmt::format("spool {}: cannot truncate: {}", o_.spool_path, std::strerror(errno)));
    }
    replay_at_ = spool_end_ = header_bytes_;
    WriteReplayOffset();
  }
  stats_.waiting_samples = 0;
}

void BufferedStore::Spool(Batch& b) {
  const std::string payload = Encode(b);
  const auto n = static_cast<int64_t>(b.points.size());
  const int64_t size = kRecordHead + static_cast<int64_t>(payload.size());
  std::string record(kRecordMagic, 4);
  const auto len = static_cast<uint32_t>(payload.size());
  const uint32_t sum = Fnv1a(payload);
  record.append(reinterpret_cast<const char*>(&len), 4);
  record.append(reinterpret_cast<const char*>(&sum), 4);
  record += payload;
  std::string why;
  if (spool_end_ + size > o_.spool_limit_bytes) {
    why = fmt::format("the spool is full ({} bytes)", o_.spool_limit_bytes);
  } else if (pwrite(fd_, record.data(), record.size(), spool_end_) != size || fdatasync(fd_) != 0) {
    why = fmt::format("cannot write the spool: {}", std::strerror(errno));
    if (ftruncate(fd_, spool_end_) != 0) why += " (and cannot cut the partial write)";
  }
  if (why.empty()) {
    spool_end_ += size;
    ++stats_.spooled_batches;
    stats_.spooled_samples += n;
    stats_.waiting_samples += n;
    return;
  }
  ++stats_.dropped_batches;
  stats_.dropped_samples += n;
  if (!told_full_ && o_.log) {
    o_.log(fmt::format("spool {}: {}: samples are dropped (and counted) until it drains",
                       o_.spool_path, why));
  }
  told_full_ = true;
}

void BufferedStore::WentAway(const StoreUnavailable& e) {
  const Clock::time_point now = Clock::now();
  if (!away_) {
    away_ = true;
    away_since_ = now;
    ++stats_.outages;
    backoff_s_ = o_.retry_min_s;
    if (o_.log) {
      o_.log(fmt::format("store unavailable ({}): spooling batches to {}; trying again in {:g} s",
                         e.what(), o_.spool_path, backoff_s_));
    }
  } else {
    backoff_s_ = std::clamp(backoff_s_ * 2, o_.retry_min_s, o_.retry_max_s);
    if (o_.log) {
      o_.log(
          fmt::format("store still unavailable ({}); {} sample(s) spooled; trying again in {:g} s",
                      e.what(), stats_.waiting_samples, backoff_s_));
    }
  }
  next_try_ =
      now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(backoff_s_));
}

void BufferedStore::Flush() {
  // Samples under provisional ids: translated when resolved, else their keys go with the batch.
  for (int64_t& id : pending_.series) {
    if (id >= 0) {
      if (auto it = unconfirmed_.find(id); it != unconfirmed_.end()) pending_.keys[id] = it->second;
      continue;
    }
    if (auto it = resolved_.find(id); it != resolved_.end()) {
      id = it->second;
    } else {
      pending_.keys[id] = provisional_.at(id);
    }
  }
  if (pending_.empty() && !Spooled() && windows_waiting_.empty()) return;
  if (away_ && Clock::now() < next_try_) {
    if (!pending_.empty()) Spool(pending_);
    pending_ = {};
    return;
  }
  try {
    const int64_t replayed = stats_.replayed_samples;
    Replay();
    if (!pending_.empty()) Forward(pending_);
    SendWindows();
    if (away_) {
      away_ = false;
      told_full_ = false;
      by_key_.clear();  // new series go to the database again (resolved ids stay translated)
      if (o_.log) {
        o_.log(fmt::format("store back after {:.1f} s: {} spooled sample(s) replayed from {}",
                           std::chrono::duration<double>(Clock::now() - away_since_).count(),
                           stats_.replayed_samples - replayed, o_.spool_path));
      }
    }
  } catch (const StoreUnavailable& e) {
    WentAway(e);
    if (!pending_.empty()) Spool(pending_);
  }
  pending_ = {};
}

void BufferedStore::PutQualityWindows(const std::vector<QualityWindowRecord>& rows) {
  windows_waiting_.insert(windows_waiting_.end(), rows.begin(), rows.end());
  constexpr size_t kKeep = 1000000;
  if (windows_waiting_.size() > kKeep) {
    windows_waiting_.erase(windows_waiting_.begin(),
                           windows_waiting_.end() - static_cast<std::ptrdiff_t>(kKeep));
  }
}

void BufferedStore::SendWindows() {
  if (windows_waiting_.empty()) return;
  // Rows of a series first seen while the database was away wait until its id is known.
  std::vector<QualityWindowRecord> ready, later;
  for (QualityWindowRecord& w : windows_waiting_) {
    if (w.series < 0) {
      auto it = resolved_.find(w.series);
      if (it == resolved_.end()) {
        later.push_back(std::move(w));
        continue;
      }
      w.series = it->second;
    }
    ready.push_back(std::move(w));
  }
  windows_waiting_ = std::move(later);
  if (ready.empty()) return;
  try {
    inner_->PutQualityWindows(ready);
    inner_->Flush();
  } catch (const StoreUnavailable&) {
    windows_waiting_.insert(windows_waiting_.begin(), ready.begin(), ready.end());
    throw;
  }
}

bool BufferedStore::Drain(double wait_s, const std::function<bool()>& stop) {
  const Clock::time_point end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                   std::chrono::duration<double>(wait_s));
  Flush();
  while (Spooled()) {
    const Clock::time_point now = Clock::now();
    if (now >= end || (stop && stop())) return false;
    if (now < next_try_) {
      std::this_thread::sleep_until(
          std::min({next_try_, end, now + std::chrono::milliseconds(50)}));
    }
    if (Clock::now() >= next_try_) Flush();
  }
  return true;
}

}  // namespace firstwall::live

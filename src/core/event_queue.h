// Discrete events in time order. Events at the same instant run in the order they were scheduled
// (a sequence number breaks ties), so a run never depends on heap internals.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <vector>

#include "core/sim_time.h"

namespace firstwall {

class EventQueue {
 public:
  using Action = std::function<void()>;

  void Schedule(SimTime at, std::string label, Action action);
  bool Empty() const { return heap_.empty(); }
  SimTime NextTime() const { return heap_.empty() ? SimTime::Never() : heap_.top().at; }
  // Runs every event scheduled at or before `now`, including ones the actions schedule for `now`.
  // Returns how many ran.
  int RunUntil(SimTime now);
  int64_t executed() const { return executed_; }

 private:
  struct Event {
    SimTime at;
    uint64_t seq;
    std::string label;
    Action action;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };
  std::priority_queue<Event, std::vector<Event>, Later> heap_;
  uint64_t next_seq_ = 0;
  int64_t executed_ = 0;
};

}  // namespace firstwall

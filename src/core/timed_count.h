// A count that events change (jobs running, jobs queued) and its time-weighted mean over the
// physics windows (core/engine.h): a window cut per tick holds several of its values.
#pragma once
#include "core/sim_time.h"

namespace firstwall {

class TimedCount {
 public:
  int value() const { return value_; }
  // The count changes by `delta` at `now` (at or after the last window's start, in time order).
  void Add(int delta, SimTime now) {
    area_ += value_ * (now - since_).seconds();
    since_ = now;
    value_ += delta;
  }
  // Its mean over [from, to), the window after the last one asked (windows tile the run). A
  // window no change fell inside gives the count itself, exactly.
  double MeanOver(SimTime from, SimTime to) {
    double mean = value_;
    if (since_ > from && to > from) {
      mean = (area_ + value_ * (to - since_).seconds()) / (to - from).seconds();
    }
    area_ = 0;
    since_ = to;
    return mean;
  }

 private:
  int value_ = 0;
  double area_ = 0;  // count x seconds since the start of the window being filled
  SimTime since_;
};

}  // namespace firstwall

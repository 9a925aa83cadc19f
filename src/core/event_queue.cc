#include "core/event_queue.h"

namespace firstwall {

void EventQueue::Schedule(SimTime at, std::string label, Action action) {
  heap_.push(Event{at, next_seq_++, std::move(label), std::move(action)});
}

int EventQueue::RunUntil(SimTime now) {
  int ran = 0;
  while (!heap_.empty() && heap_.top().at <= now) {
    Event e = heap_.top();
    heap_.pop();
    e.action();
    ++ran;
    ++executed_;
  }
  return ran;
}

}  // namespace firstwall

// One libFuzzer entry per reader: the input is a whole file's text. Readers must turn every input
// into a value or an InputError; anything else (an InternalError, another exception, a crash, a
// sanitizer report, a hang or a growing memory) is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"

namespace firstwall::fuzz {

// Calls `read(text)` and swallows the one exception an input may cause.
template <class F>
int Run(const uint8_t* data, size_t size, F read) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    read(text);
  } catch (const InputError&) {
  }
  return 0;
}

}  // namespace firstwall::fuzz

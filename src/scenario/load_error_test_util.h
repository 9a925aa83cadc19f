// For tests: the error a scenario's text gets from the loader.
#pragma once

#include <string>

#include "core/error.h"
#include "scenario/loader.h"

namespace firstwall::scenario {

// The InputError's text of loading `text` as the file "s.yaml", or "ok" when it loads.
inline std::string LoadErrorOf(const std::string& text) {
  try {
    LoadScenarioText(text, "s.yaml", "");
    return "ok";
  } catch (const InputError& e) {
    return e.what();
  }
}

}  // namespace firstwall::scenario

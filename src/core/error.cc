#include "core/error.h"

namespace firstwall {

std::string SourceLocation::ToString() const {
  std::string s = file.empty() ? std::string("<input>") : file;
  // Appended piece by piece: `":" + std::to_string(n)` trips g++ 12's -Wrestrict false positive
  // in Release builds (a known false positive of that version).
  if (line > 0) {
    s += ':';
    s += std::to_string(line);
    if (column > 0) {
      s += ':';
      s += std::to_string(column);
    }
  }
  return s;
}

namespace {
std::string Compose(const SourceLocation& where, const std::string& message,
                    const std::string& hint) {
  std::string s = where.ToString() + ": error: " + message;
  if (!hint.empty()) s += "\n  hint: " + hint;
  return s;
}
}  // namespace

InputError::InputError(SourceLocation where, std::string message, std::string hint)
    : std::runtime_error(Compose(where, message, hint)),
      where_(std::move(where)),
      message_(std::move(message)),
      hint_(std::move(hint)) {}

void FailCheck(const char* condition, const char* file, int line, const std::string& why) {
  throw InternalError(std::string(file) + ":" + std::to_string(line) +
                      ": check failed: " + condition + ": " + why);
}

}  // namespace firstwall

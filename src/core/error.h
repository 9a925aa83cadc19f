// The error policy, in one place:
//  - InputError: bad input from a user (scenario, catalog entry, command-line value). It ends the
//  run;
//    the CLI prints it and exits with status 2. It names file:line:col when the input has a place.
//  - Expected outcomes (a job that does not fit, a key that is absent) are return values.
//  - FW_CHECK: a broken invariant is a programmer error; it throws InternalError, which the CLI
//    reports as a bug (exit status 70). The library never calls exit().
#pragma once

#include <stdexcept>
#include <string>

namespace firstwall {

struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown

  // "file:line:col", "file:line" or "file", whichever is known.
  std::string ToString() const;
};

class InputError : public std::runtime_error {
 public:
  InputError(SourceLocation where, std::string message, std::string hint = {});
  const SourceLocation& where() const { return where_; }
  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }

 private:
  SourceLocation where_;
  std::string message_;
  std::string hint_;
};

class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

[[noreturn]] void FailCheck(const char* condition, const char* file, int line,
                            const std::string& why);

}  // namespace firstwall

#define FW_CHECK(cond, why)                                                \
  do {                                                                     \
    if (!(cond)) ::firstwall::FailCheck(#cond, __FILE__, __LINE__, (why)); \
  } while (false)

// The operations tests run on each store (ops_cases_test.cc): each test binary says how to make
// a fresh store and how to edit its database behind the operations layer's back.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

namespace firstwall::ops {

class Backend {
 public:
  virtual ~Backend() = default;
  // The URL or path of a new, empty firstwall store (live::OpenStore has made its tables).
  virtual std::string NewStore() = 0;
  // Runs `sql` straight on that store's database, as someone with write access to it would.
  virtual void Sql(const std::string& store, const std::string& sql) = 0;
  // Why the tests cannot run here ("" when they can).
  virtual std::string Unavailable() { return {}; }
};

// Defined by each test binary: ops_sqlite_test.cc, ops_postgres_test.cc.
Backend& TestBackend();

class OpsCase : public ::testing::TestWithParam<std::string> {};

}  // namespace firstwall::ops

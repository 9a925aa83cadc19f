// The operations cases (ops_cases_test.cc) on an SQLite store: a file per test, edited with
// sqlite3 directly for the tampering cases.
#include <sqlite3.h>

#include <stdexcept>

#include <fmt/format.h>

#include "live/store.h"
#include "live/temp_path_test_util.h"
#include "ops/ops_test_support.h"

namespace firstwall::ops {
namespace {

class SqliteBackend : public Backend {
 public:
  std::string NewStore() override {
    const std::string path = live::TempPath(fmt::format("ops{}.db", ++count_));
    live::OpenStore(path);  // the live tables and meta, as ingest makes them
    return path;
  }
  void Sql(const std::string& store, const std::string& sql) override {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(store.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    const std::string why = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << why;
  }

 private:
  int count_ = 0;
};

}  // namespace

Backend& TestBackend() {
  static SqliteBackend backend;
  return backend;
}

INSTANTIATE_TEST_SUITE_P(Sqlite, OpsCase, ::testing::Values("sqlite"));

}  // namespace firstwall::ops

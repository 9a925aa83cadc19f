// The operations cases (ops_cases_test.cc) on a PostgreSQL store: one private PostgreSQL 15 server
// for the binary (tests/pg_server.h), a fresh database per test, edited with libpq directly for the
// tampering cases. Labelled `live`; skipped when PostgreSQL is not installed.
#include <libpq-fe.h>

#include <filesystem>

#include <fmt/format.h>

#include "live/store.h"
#include "ops/ops_test_support.h"
#include "tests/pg_server.h"

namespace firstwall::ops {
namespace {

void Exec(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
  PGresult* r = PQexec(c, sql.c_str());
  EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << sql << ": " << PQerrorMessage(c);
  PQclear(r);
  PQfinish(c);
}

class PostgresBackend : public Backend {
 public:
  PostgresBackend() {
    if (!std::filesystem::exists(std::string(testing_cli::kPgBin) + "/initdb")) {
      unavailable_ = "PostgreSQL 15 not installed (Debian postgresql)";
      return;
    }
    server_ = std::make_unique<testing_cli::PgServer>(testing_cli::Fresh("ops_pg"));
    unavailable_ = server_->error();
  }
  std::string NewStore() override {
    const std::string name = fmt::format("ops{}", ++count_);
    Exec(server_->Url(), "CREATE DATABASE " + name);
    std::string url = server_->Url();
    url.replace(url.rfind('/') + 1, std::string::npos, name);
    live::OpenStore(url);  // the live tables and meta, as ingest makes them
    return url;
  }
  void Sql(const std::string& store, const std::string& sql) override { Exec(store, sql); }
  std::string Unavailable() override { return unavailable_; }

 private:
  std::unique_ptr<testing_cli::PgServer> server_;
  std::string unavailable_;
  int count_ = 0;
};

}  // namespace

Backend& TestBackend() {
  static PostgresBackend backend;
  return backend;
}

INSTANTIATE_TEST_SUITE_P(Postgres, OpsCase, ::testing::Values("postgres"));

}  // namespace firstwall::ops

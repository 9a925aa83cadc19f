#include "ops/sql.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "core/error.h"
#include "live/store.h"

namespace firstwall::ops {
namespace {

class SqliteDb : public SqlDb {
 public:
  explicit SqliteDb(const std::string& path) {
    if (!std::filesystem::exists(path)) {
      throw InputError({path, 0, 0}, "no store there",
                       "firstwall ops user add --store FILE creates one, as does ingest --db");
    }
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
      const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw InputError({path, 0, 0}, fmt::format("cannot open the store: {}", why));
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~SqliteDb() override { sqlite3_close(db_); }
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  std::vector<SqlRow> Query(const std::string& sql,
                            const std::vector<std::string>& params) override {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) Fail(sql);
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> st(raw, &sqlite3_finalize);
    for (size_t i = 0; i < params.size(); ++i) {
      const int at = sqlite3_bind_parameter_index(raw, fmt::format("${}", i + 1).c_str());
      FW_CHECK(at > 0, fmt::format("no ${} in {}", i + 1, sql));
      sqlite3_bind_text(raw, at, params[i].data(), static_cast<int>(params[i].size()),
                        SQLITE_TRANSIENT);
    }
    std::vector<SqlRow> rows;
    int rc;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      SqlRow row;
      for (int c = 0; c < sqlite3_column_count(raw); ++c) {
        const unsigned char* t = sqlite3_column_text(raw, c);
        if (t) {
          row.emplace_back(reinterpret_cast<const char*>(t));
        } else {
          row.emplace_back(std::nullopt);
        }
      }
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) Fail(sql);
    return rows;
  }
  void Script(const std::string& sql) override {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string why = err ? err : "unknown error";
      sqlite3_free(err);
      throw std::runtime_error(fmt::format("store: {}", why));
    }
  }
  void BeginWrite() override { Script("BEGIN IMMEDIATE"); }
  void Commit() override { Script("COMMIT"); }
  void Rollback() override { Script("ROLLBACK"); }

 private:
  [[noreturn]] void Fail(const std::string& sql) {
    throw std::runtime_error(fmt::format("store: {}: {}", sqlite3_errmsg(db_), sql));
  }
  sqlite3* db_ = nullptr;
};

class PgDb : public SqlDb {
 public:
  explicit PgDb(const std::string& url) : shown_(live::RedactUrl(url)) {
    conn_ = PQconnectdb(url.c_str());
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
      const std::string why = conn_ ? PQerrorMessage(conn_) : "out of memory";
      PQfinish(conn_);
      conn_ = nullptr;
      throw InputError({shown_, 0, 0}, fmt::format("cannot connect to PostgreSQL: {}",
                                                   why.substr(0, why.find('\n'))));
    }
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
  }
  ~PgDb() override { PQfinish(conn_); }
  PgDb(const PgDb&) = delete;
  PgDb& operator=(const PgDb&) = delete;

  std::vector<SqlRow> Query(const std::string& sql,
                            const std::vector<std::string>& params) override {
    std::vector<const char*> values;
    for (const std::string& p : params) values.push_back(p.c_str());
    std::unique_ptr<PGresult, decltype(&PQclear)> r(
        PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                     nullptr, nullptr, 0),
        &PQclear);
    const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      throw std::runtime_error(fmt::format("store {}: {}: {}", shown_, PQerrorMessage(conn_), sql));
    }
    std::vector<SqlRow> rows;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      SqlRow row;
      for (int c = 0; c < PQnfields(r.get()); ++c) {
        if (PQgetisnull(r.get(), i, c)) {
          row.emplace_back(std::nullopt);
        } else {
          row.emplace_back(PQgetvalue(r.get(), i, c));
        }
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }
  void Script(const std::string& sql) override {
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn_, sql.c_str()), &PQclear);
    if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      throw std::runtime_error(fmt::format("store {}: {}", shown_, PQerrorMessage(conn_)));
    }
  }
  void BeginWrite() override { Script("BEGIN; LOCK TABLE ops_audit IN SHARE ROW EXCLUSIVE MODE"); }
  void Commit() override { Script("COMMIT"); }
  void Rollback() override { Script("ROLLBACK"); }

 private:
  std::string shown_;
  PGconn* conn_ = nullptr;
};

}  // namespace

WriteTransaction::~WriteTransaction() {
  if (done_) return;
  try {
    db_.Rollback();
  } catch (const std::exception&) {  // NOLINT: a destructor must not throw
  }
}

std::unique_ptr<SqlDb> OpenSqlDb(const std::string& store) {
  if (live::IsPostgresUrl(store)) return std::make_unique<PgDb>(store);
  return std::make_unique<SqliteDb>(store);
}

}  // namespace firstwall::ops

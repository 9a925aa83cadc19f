// The operations layer's own tables (ops_store.h) live in the live twin's store (live/store.h):
// the same SQLite file or PostgreSQL database. `SqlDb` is the little SQL this layer needs, over
// either: statements with text parameters $1..$n and rows of text, and write transactions that
// serialize every writer of the operations tables.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace firstwall::ops {

// One row: each column as text (SQLite's and PostgreSQL's text forms of numbers); NULL is nullopt.
using SqlRow = std::vector<std::optional<std::string>>;

class SqlDb {
 public:
  virtual ~SqlDb() = default;
  // One statement; parameters are $1..$n, bound as text (the column's type converts them).
  // std::runtime_error with the database's message when it fails.
  virtual std::vector<SqlRow> Query(const std::string& sql,
                                    const std::vector<std::string>& params = {}) = 0;
  // Several statements without parameters (a schema).
  virtual void Script(const std::string& sql) = 0;
  // A transaction that holds the write lock of the operations tables until Commit or Rollback
  // (SQLite: BEGIN IMMEDIATE; PostgreSQL: a lock on ops_audit), so that two writers never chain
  // from the same audit entry.
  virtual void BeginWrite() = 0;
  virtual void Commit() = 0;
  virtual void Rollback() = 0;
};

// The store at `store`: PostgreSQL for a postgresql:// or postgres:// URL, else an SQLite file
// (which must exist). InputError naming the store (its password hidden) when it cannot be opened.
std::unique_ptr<SqlDb> OpenSqlDb(const std::string& store);

// Rolls back unless committed: one write transaction, for exception safety.
class WriteTransaction {
 public:
  explicit WriteTransaction(SqlDb& db) : db_(db) { db_.BeginWrite(); }
  ~WriteTransaction();
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  void Commit() {
    db_.Commit();
    done_ = true;
  }

 private:
  SqlDb& db_;
  bool done_ = false;
};

}  // namespace firstwall::ops

// Compiles a rag::Filter into a SQL condition over the embedded store's tables, with the
// values as bound parameters (never spliced into the SQL text). The semantics of each field
// and op are those stated in rag/document.h.
#pragma once
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "rag/document.h"

namespace xnai::rag::store {

class Stmt;

using SqlValue = std::variant<int64_t, double, std::string>;

struct SqlCondition {
  std::string sql;               // a boolean expression; "1" for Filter{}
  std::vector<SqlValue> params;  // params[i] is placeholder ?(first_param + i)
};

enum class FilterScope {
  Chunk,     // rows of chunks `c` joined to their document `d`
  Document,  // rows of documents `d`; a page condition holds when some chunk of d meets it
};

// Throws Error(InvalidArgument) for a malformed filter (missing values, a range on a text
// field, a non-numeric page, an unreadable date string, nesting deeper than 64), naming the
// field and value.
// Placeholders are numbered (?N) from first_param, so the condition can follow other
// parameters of the statement.
SqlCondition compile_filter_sql(const Filter& filter, FilterScope scope, int first_param = 1);

// True when some leaf of the filter is about pages (needs the chunk, not just the document).
bool filter_uses_pages(const Filter& filter);

// Binds params to s starting at placeholder `first`; returns the next free index.
int bind_params(Stmt& s, const std::vector<SqlValue>& params, int first);

}  // namespace xnai::rag::store

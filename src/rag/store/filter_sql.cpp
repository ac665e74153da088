#include "rag/store/filter_sql.h"

#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "rag/filter_parse.h"
#include "rag/store/sqlite_db.h"

namespace xnai::rag::store {
namespace {

constexpr int kMaxDepth = 64;
constexpr size_t kMaxParams = 30000;  // below SQLite's 32766 host-parameter limit

[[noreturn]] void bad(const std::string& msg) { throw Error(ErrorKind::InvalidArgument, "filter: " + msg); }

std::string value_text(const FilterValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  const double d = std::get<double>(v);
  if (d == std::floor(d) && std::fabs(d) < 1e15) return std::to_string(int64_t(d));
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

std::string describe(const FilterValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return "\"" + *s + "\"";
  return value_text(v);
}

void check_finite(const std::string& field, double v) {
  if (!std::isfinite(v)) bad("field '" + field + "': value is not a finite number");
}

class Compiler {
 public:
  Compiler(FilterScope scope, int first_param) : scope_(scope), first_(first_param) {}

  SqlCondition run(const Filter& f) {
    SqlCondition c;
    c.sql = node(f, 0);
    c.params = std::move(params_);
    if (c.params.size() > kMaxParams) bad("too many values (" + std::to_string(c.params.size()) + ")");
    return c;
  }

 private:
  // Numbered placeholders: the SQL text is assembled with operator+, whose operands C++
  // evaluates in no fixed order, so a plain '?' could pair with the wrong value.
  std::string p(SqlValue v) {
    params_.push_back(std::move(v));
    std::string ph = "?";  // (appending, not "?" + …: GCC 12 warns falsely on that)
    ph += std::to_string(first_ + int(params_.size()) - 1);
    return ph;
  }

  std::string node(const Filter& f, int depth) {
    if (depth > kMaxDepth) bad("nesting deeper than 64 levels");
    switch (f.op) {
      case Filter::Op::All:
        return "1";
      case Filter::Op::And:
      case Filter::Op::Or: {
        if (f.children.empty()) return f.op == Filter::Op::And ? "1" : "0";
        std::string s = "(";
        for (size_t i = 0; i < f.children.size(); ++i) {
          if (i) s += f.op == Filter::Op::And ? " AND " : " OR ";
          s += node(f.children[i], depth + 1);
        }
        return s + ")";
      }
      case Filter::Op::Not:
        if (f.children.size() != 1)
          bad("'not' needs exactly one operand, got " + std::to_string(f.children.size()));
        return "(NOT " + node(f.children[0], depth + 1) + ")";
      case Filter::Op::Ne:
        return "(NOT " + leaf(f, Filter::Op::Eq) + ")";
      default:
        return leaf(f, f.op);
    }
  }

  // One condition on one field; op is Eq, In, Range or Contains (Ne was turned into Eq).
  std::string leaf(const Filter& f, Filter::Op op) {
    const std::string& field = f.field;
    if (field.empty()) bad("a condition without a field name");
    if ((op == Filter::Op::Eq || op == Filter::Op::Contains) && f.values.size() != 1)
      bad("field '" + field + "': expected exactly one value, got " + std::to_string(f.values.size()));
    if (op == Filter::Op::Range && !f.min && !f.max) bad("field '" + field + "': a range without bounds");
    if (f.min) check_finite(field, *f.min);
    if (f.max) check_finite(field, *f.max);
    for (const auto& v : f.values)
      if (const double* d = std::get_if<double>(&v)) check_finite(field, *d);
    if (op == Filter::Op::In && f.values.empty()) return "0";

    if (field == "source") return text_column("d.source_path", f, op);
    if (field == "type") return text_column("d.type", f, op);
    if (field == "title") return text_column("d.title", f, op);
    if (field == "doc_id") return text_column("d.id", f, op);
    if (field == "date") return date(f, op);
    if (field == "page") return page(f, op);
    if (field == "tags") return tags(f, op);
    return metadata(f, op);
  }

  std::string text_column(const std::string& col, const Filter& f, Filter::Op op) {
    switch (op) {
      case Filter::Op::Eq:
        return "(" + col + " = " + p(value_text(f.values[0])) + ")";
      case Filter::Op::Contains:
        return "(instr(" + col + ", " + p(value_text(f.values[0])) + ") > 0)";
      case Filter::Op::In: {
        std::string s = "(" + col + " IN (";
        for (size_t i = 0; i < f.values.size(); ++i) s += (i ? ", " : "") + p(value_text(f.values[i]));
        return s + "))";
      }
      default:
        bad("field '" + f.field + "' is text: a range needs date, page or a numeric metadata key");
    }
  }

  // A date value: a number (epoch seconds) or an ISO date string naming a span.
  std::pair<double, double> date_span(const std::string& field, const FilterValue& v) {
    if (const double* d = std::get_if<double>(&v)) return {*d, *d};
    auto span = parse_iso_time(std::get<std::string>(v));
    if (!span)
      bad("field '" + field + "': " + describe(v) + " is not an ISO date (YYYY-MM-DD[THH:MM[:SS]][Z])");
    return {double(span->first), double(span->second)};
  }

  std::string date(const Filter& f, Filter::Op op) {
    auto span_sql = [&](const FilterValue& v) {
      auto [lo, hi] = date_span(f.field, v);
      if (lo == hi) return "(d.mtime = " + p(lo) + ")";
      return "(d.mtime BETWEEN " + p(lo) + " AND " + p(hi) + ")";
    };
    switch (op) {
      case Filter::Op::Eq:
        return span_sql(f.values[0]);
      case Filter::Op::In: {
        std::string s = "(";
        for (size_t i = 0; i < f.values.size(); ++i) s += (i ? " OR " : "") + span_sql(f.values[i]);
        return s + ")";
      }
      case Filter::Op::Range:
        return bounds("d.mtime", f);
      default:
        bad("field 'date': '~' (contains) does not apply to dates");
    }
  }

  std::string bounds(const std::string& col, const Filter& f) {
    std::string s = "(";
    if (f.min) s += col + " >= " + p(*f.min);
    if (f.min && f.max) s += " AND ";
    if (f.max) s += col + " <= " + p(*f.max);
    return s + ")";
  }

  // Chunk page ranges [page_first, page_last]; 0 means unpaginated and never matches.
  std::string page(const Filter& f, Filter::Op op) {
    auto num = [&](const FilterValue& v) {
      if (const double* d = std::get_if<double>(&v)) return *d;
      const std::string& s = std::get<std::string>(v);
      char* end = nullptr;
      const double d = std::strtod(s.c_str(), &end);
      if (s.empty() || *end || !std::isfinite(d))
        bad("field 'page': " + describe(v) + " is not a page number");
      return d;
    };
    auto covers = [&](double v) {
      return "(c.page_first > 0 AND c.page_first <= " + p(v) + " AND c.page_last >= " + p(v) + ")";
    };
    std::string cond;
    switch (op) {
      case Filter::Op::Eq:
        cond = covers(num(f.values[0]));
        break;
      case Filter::Op::In:
        cond = "(";
        for (size_t i = 0; i < f.values.size(); ++i) cond += (i ? " OR " : "") + covers(num(f.values[i]));
        cond += ")";
        break;
      case Filter::Op::Range:
        cond = "(c.page_first > 0";
        if (f.max) cond += " AND c.page_first <= " + p(*f.max);
        if (f.min) cond += " AND c.page_last >= " + p(*f.min);
        cond += ")";
        break;
      default:
        bad("field 'page': '~' (contains) does not apply to page numbers");
    }
    if (scope_ == FilterScope::Chunk) return cond;
    return "EXISTS (SELECT 1 FROM chunks c WHERE c.doc = d.seq AND " + cond + ")";
  }

  std::string tags(const Filter& f, Filter::Op op) {
    std::string cond;
    switch (op) {
      case Filter::Op::Eq:
        cond = "t.tag = " + p(value_text(f.values[0]));
        break;
      case Filter::Op::Contains:
        cond = "instr(t.tag, " + p(value_text(f.values[0])) + ") > 0";
        break;
      case Filter::Op::In:
        cond = "t.tag IN (";
        for (size_t i = 0; i < f.values.size(); ++i) cond += (i ? ", " : "") + p(value_text(f.values[i]));
        cond += ")";
        break;
      default:
        bad("field 'tags' is a list of words: a range does not apply");
    }
    // IN (subquery): SQLite evaluates it once through the tags_tag index, so a filter over
    // all documents costs the matching tag rows, not a lookup per document.
    return "d.seq IN (SELECT t.doc FROM tags t WHERE " + cond + ")";
  }

  std::string metadata(const Filter& f, Filter::Op op) {
    auto one = [&](const FilterValue& v) {
      if (const double* d = std::get_if<double>(&v)) return "m.num = " + p(*d);
      return "m.value = " + p(std::get<std::string>(v));
    };
    std::string cond;
    switch (op) {
      case Filter::Op::Eq:
        cond = one(f.values[0]);
        break;
      case Filter::Op::Contains:
        cond = "instr(m.value, " + p(value_text(f.values[0])) + ") > 0";
        break;
      case Filter::Op::In:
        cond = "(";
        for (size_t i = 0; i < f.values.size(); ++i) cond += (i ? " OR " : "") + one(f.values[i]);
        cond += ")";
        break;
      case Filter::Op::Range:
        cond = bounds("m.num", f);
        break;
      default:
        bad("unsupported operation on field '" + f.field + "'");
    }
    const std::string key = p(f.field);  // (sequenced: placeholders are numbered, order is free)
    return "d.seq IN (SELECT m.doc FROM metadata m WHERE m.key = " + key + " AND " + cond + ")";
  }

  FilterScope scope_;
  int first_;
  std::vector<SqlValue> params_;
};

bool uses_pages(const Filter& f, int depth) {
  if (depth > kMaxDepth) bad("nesting deeper than 64 levels");
  if (f.op == Filter::Op::And || f.op == Filter::Op::Or || f.op == Filter::Op::Not) {
    for (const auto& c : f.children)
      if (uses_pages(c, depth + 1)) return true;
    return false;
  }
  return f.op != Filter::Op::All && f.field == "page";
}

}  // namespace

SqlCondition compile_filter_sql(const Filter& filter, FilterScope scope, int first_param) {
  return Compiler(scope, first_param).run(filter);
}

bool filter_uses_pages(const Filter& filter) { return uses_pages(filter, 0); }

int bind_params(Stmt& s, const std::vector<SqlValue>& params, int first) {
  for (const auto& v : params) {
    if (const auto* i = std::get_if<int64_t>(&v))
      s.bind(first++, *i);
    else if (const auto* d = std::get_if<double>(&v))
      s.bind(first++, *d);
    else
      s.bind(first++, std::get<std::string>(v));
  }
  return first;
}

}  // namespace xnai::rag::store

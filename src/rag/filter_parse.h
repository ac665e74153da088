// The text form of metadata filters (`xnai search --filter …`, the server's filter string)
// and its parser into rag::Filter.
//
// Grammar (keywords and, or, not, in are case-insensitive; `and` binds tighter than `or`):
//   filter     := or_expr
//   or_expr    := and_expr { "or" and_expr }
//   and_expr   := not_expr { "and" not_expr }
//   not_expr   := "not" not_expr | "(" or_expr ")" | condition
//   condition  := field op value
//               | field ["not"] "in" "[" value { "," value } "]"
//   op         := "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "~"
//   field      := letter or "_", then letters, digits, "_", ".", "-"
//   value      := "quoted string" | 'quoted string' (backslash escapes \" \' \\)
//               | bare word (any run of characters other than spaces, quotes and ( ) [ ] , = ! < > ~)
//
// Fields: source, type, title, date, page, tags, doc_id, or any metadata key (see
// rag/document.h for what each op means on each field). Values:
//   - a bare word that reads as a number is a number, anything else (and every quoted
//     value) is a string; `~` (contains) always takes the text as written;
//   - date values are ISO dates (UTC): 2024, 2024-03, 2024-03-15, 2024-03-15T10:30[:00][Z|+02:00],
//     or epoch seconds (a number that is not a 4-digit year). A date names a span (the
//     whole day for 2024-03-15): `date = D` is "within D", `date < D` "before D starts",
//     `date > D` "after D ends", `<=`/`>=` include D;
//   - page values must be numbers; `page = 3` matches chunks whose page range covers 3.
// `<`/`>` on numbers are strict (the bound is moved to the next representable double).
//
// Example: type=pdf and (tags=work or source~notes/) and date>=2024-01-01 and page in [1,2,3]
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "rag/document.h"

namespace xnai::rag {

// Parses a filter expression; an empty or all-blank string gives Filter{} (match all).
// Throws Error(InvalidArgument) naming the offending token and its 1-based position.
Filter parse_filter(std::string_view text);

// The expression text of a filter (parse_filter(format_filter(f)) gives an equal filter).
std::string format_filter(const Filter& filter);

// The span [first, last] of epoch seconds an ISO date or date-time names (UTC unless an
// offset is given): a year, month, day, minute or second. nullopt when `text` is not one.
std::optional<std::pair<int64_t, int64_t>> parse_iso_time(std::string_view text);

}  // namespace xnai::rag

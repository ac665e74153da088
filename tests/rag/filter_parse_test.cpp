// The filter expression parser (rag/filter_parse.h): grammar, value typing, dates, error
// messages that name the offending token, and format_filter round trips. Epoch values are
// computed with timegm, independently of the parser's own date code.
#include "rag/filter_parse.h"

#include <gtest/gtest.h>

#include <cmath>
#include <ctime>

#include "core/error.h"

namespace xnai::rag {
namespace {

using Op = Filter::Op;

int64_t utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  std::tm t{};
  t.tm_year = y - 1900;
  t.tm_mon = mo - 1;
  t.tm_mday = d;
  t.tm_hour = h;
  t.tm_min = mi;
  t.tm_sec = s;
  return int64_t(timegm(&t));
}

bool equal(const Filter& a, const Filter& b) {
  if (a.op != b.op || a.field != b.field || a.values != b.values || a.min != b.min || a.max != b.max ||
      a.children.size() != b.children.size())
    return false;
  for (size_t i = 0; i < a.children.size(); ++i)
    if (!equal(a.children[i], b.children[i])) return false;
  return true;
}

std::string error_of(const std::string& text) {
  try {
    parse_filter(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    return e.what();
  }
  return "(no error)";
}

TEST(FilterParse, TheDocumentedExample) {
  const Filter f =
      parse_filter("type=pdf and (tags=work or source~notes/) and date>=2024-01-01 and page in [1,2,3]");
  ASSERT_EQ(f.op, Op::And);
  ASSERT_EQ(f.children.size(), 4u);
  EXPECT_EQ(f.children[0].op, Op::Eq);
  EXPECT_EQ(f.children[0].field, "type");
  EXPECT_EQ(f.children[0].values, std::vector<FilterValue>{std::string("pdf")});
  const Filter& orf = f.children[1];
  ASSERT_EQ(orf.op, Op::Or);
  EXPECT_EQ(orf.children[0].field, "tags");
  EXPECT_EQ(orf.children[0].values, std::vector<FilterValue>{std::string("work")});
  EXPECT_EQ(orf.children[1].op, Op::Contains);
  EXPECT_EQ(orf.children[1].field, "source");
  EXPECT_EQ(orf.children[1].values, std::vector<FilterValue>{std::string("notes/")});
  EXPECT_EQ(f.children[2].op, Op::Range);
  EXPECT_EQ(f.children[2].field, "date");
  EXPECT_EQ(f.children[2].min, double(utc(2024, 1, 1)));
  EXPECT_FALSE(f.children[2].max);
  EXPECT_EQ(f.children[3].op, Op::In);
  EXPECT_EQ(f.children[3].values, (std::vector<FilterValue>{1.0, 2.0, 3.0}));
}

TEST(FilterParse, EmptyMeansAll) {
  EXPECT_TRUE(parse_filter("").is_all());
  EXPECT_TRUE(parse_filter("  \t\n").is_all());
}

TEST(FilterParse, PrecedenceAndNot) {
  // and binds tighter than or.
  Filter f = parse_filter("a=1 or b=2 and c=3");
  ASSERT_EQ(f.op, Op::Or);
  EXPECT_EQ(f.children[0].field, "a");
  EXPECT_EQ(f.children[1].op, Op::And);
  f = parse_filter("(a=1 or b=2) and c=3");
  ASSERT_EQ(f.op, Op::And);
  EXPECT_EQ(f.children[0].op, Op::Or);
  f = parse_filter("NOT a=1 AnD not (b=2 Or c=3)");
  ASSERT_EQ(f.op, Op::And);
  EXPECT_EQ(f.children[0].op, Op::Not);
  EXPECT_EQ(f.children[0].children[0].field, "a");
  EXPECT_EQ(f.children[1].op, Op::Not);
  EXPECT_EQ(f.children[1].children[0].op, Op::Or);
  f = parse_filter("not not a=1");
  EXPECT_EQ(f.op, Op::Not);
  EXPECT_EQ(f.children[0].op, Op::Not);
}

TEST(FilterParse, OperatorsAndValueTypes) {
  Filter f = parse_filter("author = \"Ann \\\"Q\\\" Lee\"");
  EXPECT_EQ(f.op, Op::Eq);
  EXPECT_EQ(f.values[0], FilterValue(std::string("Ann \"Q\" Lee")));
  f = parse_filter("x == 'single quoted'");
  EXPECT_EQ(f.values[0], FilterValue(std::string("single quoted")));
  f = parse_filter("year=2024");  // a bare number is a number
  EXPECT_EQ(f.values[0], FilterValue(2024.0));
  f = parse_filter("year=\"2024\"");  // a quoted one is text
  EXPECT_EQ(f.values[0], FilterValue(std::string("2024")));
  f = parse_filter("lang != en-US");
  EXPECT_EQ(f.op, Op::Ne);
  EXPECT_EQ(f.values[0], FilterValue(std::string("en-US")));
  f = parse_filter("score > 0.5");
  EXPECT_EQ(f.op, Op::Range);
  EXPECT_EQ(*f.min, std::nextafter(0.5, 1.0));  // strict
  EXPECT_FALSE(f.max);
  f = parse_filter("score >= -3");
  EXPECT_EQ(*f.min, -3.0);
  f = parse_filter("page < 4");
  EXPECT_EQ(*f.max, std::nextafter(4.0, 0.0));
  f = parse_filter("page <= 4");
  EXPECT_EQ(*f.max, 4.0);
  f = parse_filter("title ~ 12");  // contains keeps the text as written
  EXPECT_EQ(f.op, Op::Contains);
  EXPECT_EQ(f.values[0], FilterValue(std::string("12")));
  f = parse_filter("type not in (md, 'html', txt)");
  ASSERT_EQ(f.op, Op::Not);
  EXPECT_EQ(f.children[0].op, Op::In);
  EXPECT_EQ(f.children[0].values.size(), 3u);
  f = parse_filter("file.kind_2-x IN [a]");  // field characters; keywords in any case
  EXPECT_EQ(f.field, "file.kind_2-x");
  f = parse_filter("source ~ /home/me/C++/notes");
  EXPECT_EQ(f.values[0], FilterValue(std::string("/home/me/C++/notes")));
  f = parse_filter("title = and");  // after an operator, a keyword is just a value
  EXPECT_EQ(f.values[0], FilterValue(std::string("and")));
}

TEST(FilterParse, Dates) {
  Filter f = parse_filter("date = 2024-03-15");
  ASSERT_EQ(f.op, Op::Range);
  EXPECT_EQ(*f.min, double(utc(2024, 3, 15)));
  EXPECT_EQ(*f.max, double(utc(2024, 3, 16) - 1));
  f = parse_filter("date = 2024-02");
  EXPECT_EQ(*f.max, double(utc(2024, 3, 1) - 1));  // leap February
  f = parse_filter("date = 2023");
  EXPECT_EQ(*f.min, double(utc(2023, 1, 1)));
  EXPECT_EQ(*f.max, double(utc(2024, 1, 1) - 1));
  f = parse_filter("date < 2024-03-15");
  EXPECT_FALSE(f.min);
  EXPECT_LT(*f.max, double(utc(2024, 3, 15)));
  EXPECT_GT(*f.max, double(utc(2024, 3, 15) - 1) - 1e-6);
  f = parse_filter("date > 2024-03-15");
  EXPECT_GT(*f.min, double(utc(2024, 3, 16) - 1));
  EXPECT_LE(*f.min, double(utc(2024, 3, 16)));
  f = parse_filter("date <= 2024-03-15");
  EXPECT_EQ(*f.max, double(utc(2024, 3, 16) - 1));
  f = parse_filter("date >= '2024-03-15T10:30:00Z'");
  EXPECT_EQ(*f.min, double(utc(2024, 3, 15, 10, 30)));
  f = parse_filter("date >= 2024-03-15T10:30+02:00");
  EXPECT_EQ(*f.min, double(utc(2024, 3, 15, 8, 30)));
  f = parse_filter("date >= 1700000000");  // epoch seconds
  EXPECT_EQ(*f.min, 1700000000.0);
  f = parse_filter("date != 2024-01-01");
  ASSERT_EQ(f.op, Op::Not);
  EXPECT_EQ(f.children[0].op, Op::Range);
  f = parse_filter("date in [2024-01-01, 2024-01-05]");
  ASSERT_EQ(f.op, Op::Or);
  EXPECT_EQ(*f.children[1].min, double(utc(2024, 1, 5)));
  EXPECT_NE(error_of("date >= 2023-02-29").find("2023-02-29"), std::string::npos);
  EXPECT_NE(error_of("date >= yesterday").find("yesterday"), std::string::npos);
}

TEST(FilterParse, IsoTimes) {
  EXPECT_EQ(parse_iso_time("2024-01-01")->first, 1704067200);
  EXPECT_EQ(parse_iso_time("1970-01-01T00:00:00Z")->first, 0);
  EXPECT_EQ(parse_iso_time("1969-12-31")->first, -86400);
  EXPECT_EQ(parse_iso_time("2000-02-29")->second, utc(2000, 3, 1) - 1);
  EXPECT_EQ(parse_iso_time("2024-12-31 23:59:59.250")->first, utc(2024, 12, 31, 23, 59, 59));
  EXPECT_EQ(parse_iso_time("2024-06-01T12:00-0530")->first, utc(2024, 6, 1, 17, 30));
  for (const char* bad :
       {"", "24-01-01", "2024-13-01", "2024-00-10", "2100-02-29", "2024-04-31", "2024-01-01T24:00",
        "2024-01-01T12", "2024-01-01T12:00:00Q", "2024/01/01", "2024-1-1", "20240101"})
    EXPECT_FALSE(parse_iso_time(bad)) << bad;
}

TEST(FilterParse, ErrorsNameTheTokenAndPosition) {
  std::string e = error_of("type = pdf and and x=1");
  EXPECT_NE(e.find("'and'"), std::string::npos) << e;
  EXPECT_NE(e.find("position 16"), std::string::npos) << e;
  e = error_of("type = ");
  EXPECT_NE(e.find("end of input"), std::string::npos) << e;
  e = error_of("type pdf");
  EXPECT_NE(e.find("'pdf'"), std::string::npos) << e;
  EXPECT_NE(e.find("position 6"), std::string::npos) << e;
  e = error_of("(type = pdf");
  EXPECT_NE(e.find("')'"), std::string::npos) << e;
  e = error_of("type = pdf)");
  EXPECT_NE(e.find("')'"), std::string::npos) << e;
  e = error_of("title = \"open");
  EXPECT_NE(e.find("unterminated"), std::string::npos) << e;
  e = error_of("type ! pdf");
  EXPECT_NE(e.find("'!'"), std::string::npos) << e;
  e = error_of("page = three");
  EXPECT_NE(e.find("'three'"), std::string::npos) << e;
  e = error_of("score > high");
  EXPECT_NE(e.find("'high'"), std::string::npos) << e;
  e = error_of("type in []");
  EXPECT_NE(e.find("']'"), std::string::npos) << e;
  e = error_of("type in [a b]");
  EXPECT_NE(e.find("'b'"), std::string::npos) << e;
  e = error_of("type in pdf");
  EXPECT_NE(e.find("'pdf'"), std::string::npos) << e;
  e = error_of("9lives = yes");
  EXPECT_NE(e.find("'9lives'"), std::string::npos) << e;
  e = error_of("= pdf");
  EXPECT_NE(e.find("field"), std::string::npos) << e;
  e = error_of("type not = pdf");
  EXPECT_NE(e.find("'in'"), std::string::npos) << e;
  e = error_of(std::string(200, '(') + "a=1" + std::string(200, ')'));
  EXPECT_NE(e.find("64"), std::string::npos) << e;
}

TEST(FilterParse, FormatRoundTrips) {
  for (const char* text :
       {"type = pdf", "type != \"a b\"", "tags in [\"work\", \"home\"]", "source ~ \"notes/\"",
        "(a = 1 and (b = 2 or not (c = 3)))", "page in [1, 2.5]",
        "type=pdf and (tags=work or source~notes/) and date>=2024-01-01 and page in [1,2,3]",
        "date = 2024-03-15", "score > 0.5", "page <= 7", "x = \"quote\\\"d\""}) {
    SCOPED_TRACE(text);
    const Filter f = parse_filter(text);
    const std::string formatted = format_filter(f);
    const Filter g = parse_filter(formatted);
    if (f.op == Op::Range && f.min && f.max) {
      // A two-sided range is written as two one-sided ones joined by and.
      ASSERT_EQ(g.op, Op::And);
      EXPECT_EQ(g.children[0].min, f.min);
      EXPECT_EQ(g.children[1].max, f.max);
    } else {
      EXPECT_TRUE(equal(f, g)) << formatted;
    }
  }
  EXPECT_EQ(format_filter(Filter{}), "");
}

}  // namespace
}  // namespace xnai::rag

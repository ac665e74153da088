// gguf::Value: factories, typed access with its conversions and errors, display.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "core/error.h"
#include "formats/gguf.h"

namespace xnai::gguf {
namespace {

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidFormat);
    return e.what();
  }
  return "(no error)";
}

TEST(GgufValue, IntegerAccessAcrossTypes) {
  EXPECT_EQ(Value::u8(255).as_int(), 255);
  EXPECT_EQ(Value::i8(-128).as_int(), -128);
  EXPECT_EQ(Value::u16(65535).as_uint(), 65535u);
  EXPECT_EQ(Value::i16(-2).as_int(), -2);
  EXPECT_EQ(Value::u32(4000000000u).as_int(), 4000000000ll);
  EXPECT_EQ(Value::i32(7).as_uint(), 7u);
  EXPECT_EQ(Value::i64(std::numeric_limits<int64_t>::min()).as_int(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Value::u64(std::numeric_limits<uint64_t>::max()).as_uint(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(error_of([] { Value::u64(1ull << 63).as_int(); }),
            "u64 value 9223372036854775808 does not fit i64");
  EXPECT_EQ(error_of([] { Value::i32(-1).as_uint(); }), "negative value -1 where unsigned expected");
  EXPECT_EQ(error_of([] { Value::f32(1).as_int(); }), "expected an integer, got f32");
  EXPECT_EQ(error_of([] { Value::boolean(true).as_int(); }), "expected an integer, got bool");
  EXPECT_TRUE(Value::u8(1).is_integer());
  EXPECT_FALSE(Value::boolean(true).is_integer());
  EXPECT_TRUE(Value::f64(1).is_number());
}

TEST(GgufValue, FloatBoolStringAccess) {
  EXPECT_EQ(Value::f32(0.1f).as_float(), static_cast<double>(0.1f));
  EXPECT_EQ(Value::f64(0.1).as_float(), 0.1);
  EXPECT_EQ(Value::i32(-3).as_float(), -3.0);  // integers widen
  EXPECT_EQ(Value::u64(1ull << 40).as_float(), 1099511627776.0);
  EXPECT_TRUE(Value::boolean(true).as_bool());
  EXPECT_FALSE(Value::boolean(false).as_bool());
  EXPECT_EQ(error_of([] { Value::u8(1).as_bool(); }), "expected bool, got u8");
  EXPECT_EQ(Value::string("héllo").as_string(), "héllo");
  EXPECT_EQ(error_of([] { Value::u32(1).as_string(); }), "expected string, got u32");
  EXPECT_EQ(error_of([] { Value::string("1").as_float(); }), "expected a number, got string");
  EXPECT_EQ(error_of([] { Value::strings({"a"}).as_string(); }), "expected string, got array of string");
}

TEST(GgufValue, Arrays) {
  const Value s = Value::strings({"a", "bc"});
  EXPECT_EQ(s.type(), ValueType::ARRAY);
  EXPECT_EQ(s.array_type(), ValueType::STRING);
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s.at(1).as_string(), "bc");
  EXPECT_EQ(s.as_strings(), (std::vector<std::string>{"a", "bc"}));
  EXPECT_EQ(error_of([&] { s.at(2); }), "array index 2 out of range (2 items)");
  EXPECT_EQ(error_of([] { Value::u8(1).at(0); }), "expected array, got u8");
  EXPECT_EQ(error_of([&] { s.as_floats(); }), "expected numeric array, got array of string");

  const Value u = Value::array(ValueType::U16, {Value::u16(1), Value::u16(65535)});
  EXPECT_EQ(u.as_ints(), (std::vector<int32_t>{1, 65535}));
  EXPECT_EQ(u.as_floats(), (std::vector<float>{1, 65535}));
  EXPECT_EQ(Value::floats({0.5f, -1}).as_floats(), (std::vector<float>{0.5f, -1}));
  EXPECT_EQ(Value::array(ValueType::F64, {Value::f64(0.25)}).as_floats(), (std::vector<float>{0.25f}));
  EXPECT_EQ(Value::ints({-5, 6}).as_ints(), (std::vector<int32_t>{-5, 6}));
  EXPECT_EQ(Value::array(ValueType::BOOL, {Value::boolean(true)}).as_ints(), (std::vector<int32_t>{1}));
  EXPECT_EQ(error_of([] { Value::array(ValueType::U32, {Value::u32(3000000000u)}).as_ints(); }),
            "array item 0 = 3000000000 does not fit i32");
  EXPECT_EQ(error_of([] {
              Value::array(ValueType::I64, {Value::i64(0), Value::i64(-(1ll << 40))}).as_ints();
            }),
            "array item 1 = -1099511627776 does not fit i32");
  EXPECT_EQ(error_of([] { Value::floats({1}).as_ints(); }), "expected integer array, got array of f32");
  EXPECT_EQ(error_of([] { Value::u8(0).as_strings(); }), "expected array of string, got u8");

  const Value nested = Value::array(ValueType::ARRAY, {Value::ints({1}), Value::strings({"x", "y"})});
  EXPECT_EQ(nested.at(1).at(1).as_string(), "y");
  EXPECT_EQ(nested.at(0).array_type(), ValueType::I32);
  EXPECT_THROW(Value::array(ValueType::U8, {Value::u16(1)}), Error);
  EXPECT_THROW(Value::array(static_cast<ValueType>(13), {}), Error);
  EXPECT_EQ(Value::array(ValueType::STRING, {}).size(), 0u);
}

TEST(GgufValue, Equality) {
  EXPECT_EQ(Value::u32(1), Value::u32(1));
  EXPECT_NE(Value::u32(1), Value::i32(1));
  EXPECT_NE(Value::ints({1}), Value::ints({1, 2}));
  EXPECT_NE(Value::array(ValueType::I32, {}), Value::array(ValueType::U32, {}));
  EXPECT_EQ(Value::f32(NAN), Value::f32(NAN));  // bitwise
  EXPECT_NE(Value::f32(0.0f), Value::f32(-0.0f));
}

TEST(GgufValue, Display) {
  EXPECT_EQ(Value::u32(151936).to_display(), "151936");
  EXPECT_EQ(Value::i8(-3).to_display(), "-3");
  EXPECT_EQ(Value::f32(1e-5f).to_display(), "1e-05");
  EXPECT_EQ(Value::f32(1e6f).to_display(), "1e+06");
  EXPECT_EQ(Value::f64(0.5).to_display(), "0.5");
  EXPECT_EQ(Value::boolean(false).to_display(), "false");
  EXPECT_EQ(Value::string("a\"b\n\x01").to_display(), "\"a\\\"b\\n\\x01\"");
  EXPECT_EQ(Value::string(std::string(70, 'x')).to_display(), "\"" + std::string(64, 'x') + "\"…");
  EXPECT_EQ(Value::ints({1, 2, 3}).to_display(), "[1, 2, 3]");
  EXPECT_EQ(Value::ints({1, 2, 3}).to_display(2), "[1, 2, … (3 items)]");
  EXPECT_EQ(Value::ints({1}).to_display(0), "[… (1 items)]");
  EXPECT_EQ(Value::array(ValueType::ARRAY, {Value::strings({"a"})}).to_display(), "[[\"a\"]]");
  EXPECT_EQ(Value::array(ValueType::U8, {}).to_display(), "[]");
}

TEST(GgufValue, TypeNames) {
  EXPECT_STREQ(value_type_name(ValueType::U8), "u8");
  EXPECT_STREQ(value_type_name(ValueType::F64), "f64");
  EXPECT_STREQ(value_type_name(ValueType::ARRAY), "array");
  EXPECT_STREQ(value_type_name(static_cast<ValueType>(99)), "?");
}

}  // namespace
}  // namespace xnai::gguf

// gguf::Value: construction, typed access and display of one metadata value.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>

#include "core/error.h"
#include "formats/gguf.h"

namespace xnai::gguf {
namespace {

[[noreturn]] void mismatch(const char* wanted, const Value& v) {
  std::string got = value_type_name(v.type());
  if (v.is_array()) got += std::string(" of ") + value_type_name(v.array_type());
  throw Error(ErrorKind::InvalidFormat, std::string("expected ") + wanted + ", got " + got);
}

bool is_signed_int(ValueType t) {
  return t == ValueType::I8 || t == ValueType::I16 || t == ValueType::I32 || t == ValueType::I64;
}

bool is_unsigned_int(ValueType t) {
  return t == ValueType::U8 || t == ValueType::U16 || t == ValueType::U32 || t == ValueType::U64;
}

void append_escaped(std::string& out, const std::string& s, size_t max_bytes) {
  out += '"';
  const size_t n = std::min(s.size(), max_bytes);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  if (s.size() > max_bytes) out += "…";
}

}  // namespace

const char* value_type_name(ValueType t) {
  switch (t) {
    case ValueType::U8:
      return "u8";
    case ValueType::I8:
      return "i8";
    case ValueType::U16:
      return "u16";
    case ValueType::I16:
      return "i16";
    case ValueType::U32:
      return "u32";
    case ValueType::I32:
      return "i32";
    case ValueType::F32:
      return "f32";
    case ValueType::BOOL:
      return "bool";
    case ValueType::STRING:
      return "string";
    case ValueType::ARRAY:
      return "array";
    case ValueType::U64:
      return "u64";
    case ValueType::I64:
      return "i64";
    case ValueType::F64:
      return "f64";
  }
  return "?";
}

#define XNAI_GGUF_UNSIGNED_FACTORY(fn, T, VT) \
  Value Value::fn(T v) {                      \
    Value r;                                  \
    r.type_ = ValueType::VT;                  \
    r.num_.u = v;                             \
    return r;                                 \
  }
#define XNAI_GGUF_SIGNED_FACTORY(fn, T, VT) \
  Value Value::fn(T v) {                    \
    Value r;                                \
    r.type_ = ValueType::VT;                \
    r.num_.i = v;                           \
    return r;                               \
  }
XNAI_GGUF_UNSIGNED_FACTORY(u8, uint8_t, U8)
XNAI_GGUF_UNSIGNED_FACTORY(u16, uint16_t, U16)
XNAI_GGUF_UNSIGNED_FACTORY(u32, uint32_t, U32)
XNAI_GGUF_UNSIGNED_FACTORY(u64, uint64_t, U64)
XNAI_GGUF_SIGNED_FACTORY(i8, int8_t, I8)
XNAI_GGUF_SIGNED_FACTORY(i16, int16_t, I16)
XNAI_GGUF_SIGNED_FACTORY(i32, int32_t, I32)
XNAI_GGUF_SIGNED_FACTORY(i64, int64_t, I64)
#undef XNAI_GGUF_UNSIGNED_FACTORY
#undef XNAI_GGUF_SIGNED_FACTORY

Value Value::f32(float v) {
  Value r;
  r.type_ = ValueType::F32;
  r.num_.f4 = v;
  return r;
}

Value Value::f64(double v) {
  Value r;
  r.type_ = ValueType::F64;
  r.num_.f8 = v;
  return r;
}

Value Value::boolean(bool v) {
  Value r;
  r.type_ = ValueType::BOOL;
  r.num_.u = v ? 1 : 0;
  return r;
}

Value Value::string(std::string v) {
  Value r;
  r.type_ = ValueType::STRING;
  r.str_ = std::move(v);
  return r;
}

Value Value::array(ValueType elem_type, std::vector<Value> items) {
  if (value_type_name(elem_type)[0] == '?')
    throw Error(
        ErrorKind::InvalidArgument,
        "array element type id " + std::to_string(static_cast<uint32_t>(elem_type)) + " is not a GGUF type");
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].type() != elem_type)
      throw Error(ErrorKind::InvalidArgument, std::string("array of ") + value_type_name(elem_type) +
                                                  ": item " + std::to_string(i) + " is " +
                                                  value_type_name(items[i].type()));
  Value r;
  r.type_ = ValueType::ARRAY;
  r.array_type_ = elem_type;
  r.items_ = std::move(items);
  return r;
}

Value Value::strings(const std::vector<std::string>& v) {
  std::vector<Value> items;
  items.reserve(v.size());
  for (const auto& s : v) items.push_back(Value::string(s));
  return array(ValueType::STRING, std::move(items));
}

Value Value::floats(const std::vector<float>& v) {
  std::vector<Value> items;
  items.reserve(v.size());
  for (float f : v) items.push_back(Value::f32(f));
  return array(ValueType::F32, std::move(items));
}

Value Value::ints(const std::vector<int32_t>& v) {
  std::vector<Value> items;
  items.reserve(v.size());
  for (int32_t x : v) items.push_back(Value::i32(x));
  return array(ValueType::I32, std::move(items));
}

bool Value::is_integer() const { return is_signed_int(type_) || is_unsigned_int(type_); }

bool Value::is_number() const { return is_integer() || type_ == ValueType::F32 || type_ == ValueType::F64; }

const Value& Value::at(size_t i) const {
  if (type_ != ValueType::ARRAY) mismatch("array", *this);
  if (i >= items_.size())
    throw Error(ErrorKind::InvalidFormat, "array index " + std::to_string(i) + " out of range (" +
                                              std::to_string(items_.size()) + " items)");
  return items_[i];
}

int64_t Value::as_int() const {
  if (is_signed_int(type_)) return num_.i;
  if (is_unsigned_int(type_)) {
    if (num_.u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw Error(ErrorKind::InvalidFormat, "u64 value " + std::to_string(num_.u) + " does not fit i64");
    return static_cast<int64_t>(num_.u);
  }
  mismatch("an integer", *this);
}

uint64_t Value::as_uint() const {
  if (is_unsigned_int(type_)) return num_.u;
  if (is_signed_int(type_)) {
    if (num_.i < 0)
      throw Error(ErrorKind::InvalidFormat,
                  "negative value " + std::to_string(num_.i) + " where unsigned expected");
    return static_cast<uint64_t>(num_.i);
  }
  mismatch("an unsigned integer", *this);
}

double Value::as_float() const {
  if (type_ == ValueType::F32) return num_.f4;
  if (type_ == ValueType::F64) return num_.f8;
  if (is_signed_int(type_)) return static_cast<double>(num_.i);
  if (is_unsigned_int(type_)) return static_cast<double>(num_.u);
  mismatch("a number", *this);
}

bool Value::as_bool() const {
  if (type_ != ValueType::BOOL) mismatch("bool", *this);
  return num_.u != 0;
}

const std::string& Value::as_string() const {
  if (type_ != ValueType::STRING) mismatch("string", *this);
  return str_;
}

std::vector<std::string> Value::as_strings() const {
  if (type_ != ValueType::ARRAY || array_type_ != ValueType::STRING) mismatch("array of string", *this);
  std::vector<std::string> r;
  r.reserve(items_.size());
  for (const auto& v : items_) r.push_back(v.str_);
  return r;
}

std::vector<float> Value::as_floats() const {
  if (type_ != ValueType::ARRAY) mismatch("numeric array", *this);
  std::vector<float> r;
  r.reserve(items_.size());
  if (array_type_ == ValueType::F32) {
    for (const auto& v : items_) r.push_back(v.num_.f4);
  } else if (array_type_ == ValueType::F64) {
    for (const auto& v : items_) r.push_back(static_cast<float>(v.num_.f8));
  } else if (is_signed_int(array_type_)) {
    for (const auto& v : items_) r.push_back(static_cast<float>(v.num_.i));
  } else if (is_unsigned_int(array_type_)) {
    for (const auto& v : items_) r.push_back(static_cast<float>(v.num_.u));
  } else {
    mismatch("numeric array", *this);
  }
  return r;
}

std::vector<int32_t> Value::as_ints() const {
  if (type_ != ValueType::ARRAY) mismatch("integer array", *this);
  constexpr int64_t lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
  std::vector<int32_t> r;
  r.reserve(items_.size());
  if (is_signed_int(array_type_)) {
    for (size_t k = 0; k < items_.size(); ++k) {
      const int64_t x = items_[k].num_.i;
      if (x < lo || x > hi)
        throw Error(ErrorKind::InvalidFormat,
                    "array item " + std::to_string(k) + " = " + std::to_string(x) + " does not fit i32");
      r.push_back(static_cast<int32_t>(x));
    }
  } else if (is_unsigned_int(array_type_) || array_type_ == ValueType::BOOL) {
    for (size_t k = 0; k < items_.size(); ++k) {
      const uint64_t x = items_[k].num_.u;
      if (x > static_cast<uint64_t>(hi))
        throw Error(ErrorKind::InvalidFormat,
                    "array item " + std::to_string(k) + " = " + std::to_string(x) + " does not fit i32");
      r.push_back(static_cast<int32_t>(x));
    }
  } else {
    mismatch("integer array", *this);
  }
  return r;
}

std::string Value::to_display(size_t max_items) const {
  std::string out;
  switch (type_) {
    case ValueType::U8:
    case ValueType::U16:
    case ValueType::U32:
    case ValueType::U64:
      return std::to_string(num_.u);
    case ValueType::I8:
    case ValueType::I16:
    case ValueType::I32:
    case ValueType::I64:
      return std::to_string(num_.i);
    case ValueType::F32:
    case ValueType::F64: {
      // Shortest text that reads back to the same value: 1e-05, not 9.99999975e-06.
      char buf[64];
      const auto r = type_ == ValueType::F32 ? std::to_chars(buf, buf + sizeof buf, num_.f4)
                                             : std::to_chars(buf, buf + sizeof buf, num_.f8);
      return std::string(buf, r.ptr);
    }
    case ValueType::BOOL:
      return num_.u ? "true" : "false";
    case ValueType::STRING:
      append_escaped(out, str_, 64);
      return out;
    case ValueType::ARRAY: {
      out += '[';
      const size_t shown = std::min(max_items, items_.size());
      for (size_t i = 0; i < shown; ++i) {
        if (i) out += ", ";
        out += items_[i].to_display(max_items);
      }
      if (shown < items_.size()) {
        if (shown) out += ", ";
        out += "… (" + std::to_string(items_.size()) + " items)";
      }
      out += ']';
      return out;
    }
  }
  return "?";
}

bool operator==(const Value& a, const Value& b) {
  if (a.type_ != b.type_) return false;
  switch (a.type_) {
    case ValueType::F32:
    case ValueType::F64:
      return a.num_.u == b.num_.u;  // bitwise, so NaN payloads compare too
    case ValueType::STRING:
      return a.str_ == b.str_;
    case ValueType::ARRAY:
      return a.array_type_ == b.array_type_ && a.items_ == b.items_;
    default:
      return a.num_.u == b.num_.u;
  }
}

}  // namespace xnai::gguf

#include "server/api_error.h"

#include <cmath>

namespace xnai::server {

ApiError bad_request(const std::string& message, const std::string& param, const std::string& code) {
  return ApiError(400, "invalid_request_error", message, param, code);
}

json error_body(int status, const std::string& type, const std::string& message, const std::string& param,
                const std::string& code) {
  (void)status;
  json e;
  e["message"] = message;
  e["type"] = type;
  e["param"] = param.empty() ? json(nullptr) : json(param);
  e["code"] = code.empty() ? json(nullptr) : json(code);
  return json{{"error", e}};
}

json error_body(const ApiError& e) { return error_body(e.status, e.type, e.what(), e.param, e.code); }

json parse_json_object(const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    throw bad_request("the request body is not valid JSON", "", "invalid_json");
  if (!j.is_object())
    throw bad_request("the request body must be a JSON object, got " + std::string(j.type_name()), "",
                      "invalid_json");
  return j;
}

namespace {

const json* field(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

ApiError wrong_type(const char* key, const char* expected, const json& v) {
  return bad_request(std::string("'") + key + "' must be " + expected + ", got " + v.type_name(), key,
                     "invalid_type");
}

}  // namespace

std::optional<std::string> opt_string(const json& obj, const char* key) {
  const json* v = field(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_string()) throw wrong_type(key, "a string", *v);
  return v->get<std::string>();
}

std::string req_string(const json& obj, const char* key) {
  auto s = opt_string(obj, key);
  if (!s) throw bad_request(std::string("'") + key + "' is required", key, "missing_required_parameter");
  return *s;
}

std::optional<double> opt_number(const json& obj, const char* key, double lo, double hi) {
  const json* v = field(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_number()) throw wrong_type(key, "a number", *v);
  const double d = v->get<double>();
  if (!std::isfinite(d) || d < lo || d > hi)
    throw bad_request(std::string("'") + key + "' must be between " + json(lo).dump() + " and " +
                          json(hi).dump() + ", got " + v->dump(),
                      key, "invalid_value");
  return d;
}

std::optional<int64_t> opt_int(const json& obj, const char* key, int64_t lo, int64_t hi) {
  const json* v = field(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_number_integer() && !v->is_number_unsigned()) throw wrong_type(key, "an integer", *v);
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(hi))
    throw bad_request(std::string("'") + key + "' must be at most " + std::to_string(hi), key, "invalid_value");
  const int64_t n = v->get<int64_t>();
  if (n < lo || n > hi)
    throw bad_request(std::string("'") + key + "' must be between " + std::to_string(lo) + " and " +
                          std::to_string(hi) + ", got " + std::to_string(n),
                      key, "invalid_value");
  return n;
}

std::optional<bool> opt_bool(const json& obj, const char* key) {
  const json* v = field(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) throw wrong_type(key, "a boolean", *v);
  return v->get<bool>();
}

std::optional<std::vector<std::string>> opt_string_or_array(const json& obj, const char* key,
                                                            size_t max_items) {
  const json* v = field(obj, key);
  if (!v) return std::nullopt;
  std::vector<std::string> out;
  if (v->is_string()) {
    out.push_back(v->get<std::string>());
  } else if (v->is_array()) {
    for (const auto& e : *v) {
      if (!e.is_string()) throw wrong_type(key, "a string or an array of strings", *v);
      out.push_back(e.get<std::string>());
    }
  } else {
    throw wrong_type(key, "a string or an array of strings", *v);
  }
  if (out.size() > max_items)
    throw bad_request(std::string("'") + key + "' may hold at most " + std::to_string(max_items) + " items, got " +
                          std::to_string(out.size()),
                      key, "invalid_value");
  return out;
}

}  // namespace xnai::server

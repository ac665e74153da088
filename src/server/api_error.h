// OpenAI's error object and the typed reading of request JSON. Every malformed request is
// turned into an ApiError at the point where it is detected (naming the offending field as
// `param`) and rendered once, by the route wrapper, as
//   {"error": {"message", "type", "param", "code"}}
// with the HTTP status it carries.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace xnai::server {

using json = nlohmann::json;

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string type, const std::string& message, std::string param = {},
           std::string code = {})
      : std::runtime_error(message), status(status), type(std::move(type)), param(std::move(param)),
        code(std::move(code)) {}
  int status;
  std::string type;   // invalid_request_error, authentication_error, not_found_error, server_error …
  std::string param;  // the request field at fault, or ""
  std::string code;   // machine-readable detail, or ""
};

// 400 invalid_request_error naming `param`.
ApiError bad_request(const std::string& message, const std::string& param = {},
                     const std::string& code = {});

// JSON text for the wire. Invalid UTF-8 (a model may sample byte tokens that never complete
// a character) becomes U+FFFD instead of an exception, so an odd answer is never a 500.
inline std::string wire_json(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// {"error": {...}} for an error; param/code are null when empty.
json error_body(int status, const std::string& type, const std::string& message,
                const std::string& param = {}, const std::string& code = {});
json error_body(const ApiError& e);

// Parses a request body as a JSON object; 400 (code "invalid_json") when it is not JSON or
// not an object.
json parse_json_object(const std::string& body);

// Typed field access: absent (or null) gives nullopt / the default, a value of the wrong
// type is a 400 naming the field and the expected type.
std::optional<std::string> opt_string(const json& obj, const char* key);
std::string req_string(const json& obj, const char* key);  // 400 when missing
std::optional<double> opt_number(const json& obj, const char* key, double lo, double hi);
std::optional<int64_t> opt_int(const json& obj, const char* key, int64_t lo, int64_t hi);
std::optional<bool> opt_bool(const json& obj, const char* key);
// A string or an array of strings (OpenAI's `stop`, `input`, `prompt`); at most max_items.
std::optional<std::vector<std::string>> opt_string_or_array(const json& obj, const char* key,
                                                            size_t max_items);

}  // namespace xnai::server

#include "server/remote_engine.h"

#include <httplib.h>

#include <algorithm>

#include "core/error.h"

namespace xnai::server {
namespace {

constexpr int kConnectTimeoutS = 10;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool contains(const std::string& id, const char* word) { return lower(id).find(word) != std::string::npos; }

// The URL as it may appear in messages: a KEY@ part becomes ***@.
std::string redacted(const std::string& url) {
  const size_t start = url.find("://");
  const size_t from = start == std::string::npos ? 0 : start + 3;
  const size_t at = url.find('@', from);
  const size_t slash = url.find('/', from);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return url;
  return url.substr(0, from) + "***" + url.substr(at);
}

bool is_timeout(httplib::Error e) { return e == httplib::Error::Read || e == httplib::Error::Write; }

}  // namespace

const char* remote_kind_name(RemoteKind kind) {
  switch (kind) {
    case RemoteKind::Llm: return "llm";
    case RemoteKind::Embedding: return "embedding";
    case RemoteKind::Tts: return "tts";
  }
  return "?";
}

RemoteEngine::RemoteEngine(RemoteKind kind, const std::string& base_url, const std::string& api_key, int timeout_s)
    : kind_(kind), key_(api_key), timeout_s_(timeout_s) {
  const std::string flag = std::string("--") + (kind == RemoteKind::Llm ? "llm" : kind == RemoteKind::Embedding ? "embed" : "tts") + "-url";
  const size_t scheme_end = base_url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : lower(base_url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https")
    throw Error(ErrorKind::InvalidArgument,
                flag + " must start with http:// or https://, got '" + redacted(base_url) + "'");
  std::string rest = base_url.substr(scheme_end + 3);
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  if (const size_t at = authority.rfind('@'); at != std::string::npos) {
    // "KEY@host" or "user:KEY@host": the part after the last ':' is the key.
    std::string userinfo = authority.substr(0, at);
    if (const size_t colon = userinfo.find(':'); colon != std::string::npos) userinfo = userinfo.substr(colon + 1);
    if (!userinfo.empty()) key_ = userinfo;
    authority = authority.substr(at + 1);
  }
  if (authority.empty() || authority.find_first_of(" \t?#") != std::string::npos)
    throw Error(ErrorKind::InvalidArgument, flag + " has no host: '" + redacted(base_url) + "'");
  if (const size_t q = path.find_first_of("?#"); q != std::string::npos) path.resize(q);
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.size() >= 3 && path.compare(path.size() - 3, 3, "/v1") == 0) path.resize(path.size() - 3);
  origin_ = scheme + "://" + authority;
  prefix_ = path;
  display_ = origin_ + prefix_;
  httplib::Client probe(origin_);
  if (!probe.is_valid()) throw Error(ErrorKind::InvalidArgument, flag + ": cannot make a client for " + display_);
}

ApiError RemoteEngine::unreachable(const std::string& why) const {
  return ApiError(502, "server_error",
                  std::string("the remote ") + remote_kind_name(kind_) + " engine at " + display_ + " is unreachable (" +
                      why + ")",
                  "", "remote_unreachable");
}

namespace {

struct Call {
  httplib::Client cli;
  httplib::Request req;
  Call(const std::string& origin, const std::string& method, const std::string& path, const std::string& key,
       int timeout_s, int connect_s)
      : cli(origin) {
    cli.set_connection_timeout(connect_s, 0);
    if (timeout_s > 0) {
      cli.set_read_timeout(timeout_s, 0);
      cli.set_write_timeout(timeout_s, 0);
    } else {
      cli.set_read_timeout(24 * 3600, 0);
    }
    cli.set_keep_alive(false);
    cli.enable_server_certificate_verification(true);
    req.method = method;
    req.path = path;
    req.headers.emplace("User-Agent", "xnai/0.1");
    if (!key.empty()) req.headers.emplace("Authorization", "Bearer " + key);
  }
};

}  // namespace

RemoteReply RemoteEngine::post(const std::string& path, const json& body) const {
  Call c(origin_, "POST", prefix_ + path, key_, timeout_s_, kConnectTimeoutS);
  c.req.headers.emplace("Content-Type", "application/json");
  c.req.body = wire_json(body);
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  if (!c.cli.send(c.req, res, err)) {
    if (is_timeout(err))
      throw ApiError(504, "timeout",
                     std::string("the remote ") + remote_kind_name(kind_) + " engine at " + display_ +
                         " did not answer in time (" + httplib::to_string(err) + ")",
                     "", "remote_timeout");
    throw unreachable(httplib::to_string(err));
  }
  RemoteReply r;
  r.status = res.status;
  r.content_type = res.get_header_value("Content-Type");
  r.retry_after = res.get_header_value("Retry-After");
  r.body = std::move(res.body);
  return r;
}

bool RemoteEngine::post_streaming(const std::string& path, const json& body,
                                  const std::function<bool(int, const std::string&)>& on_head,
                                  const std::function<bool(const char*, size_t)>& on_data,
                                  std::optional<ApiError>& error) const {
  Call c(origin_, "POST", prefix_ + path, key_, timeout_s_, kConnectTimeoutS);
  c.req.headers.emplace("Content-Type", "application/json");
  c.req.body = wire_json(body);
  bool cancelled = false;
  c.req.response_handler = [&](const httplib::Response& r) {
    if (!on_head(r.status, r.get_header_value("Content-Type"))) cancelled = true;
    return !cancelled;
  };
  c.req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (!on_data(data, n)) cancelled = true;
    return !cancelled;
  };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  if (c.cli.send(c.req, res, err) || cancelled || err == httplib::Error::Canceled) return true;
  if (is_timeout(err))
    error = ApiError(504, "timeout",
                     std::string("the remote ") + remote_kind_name(kind_) + " engine at " + display_ +
                         " stopped answering (" + httplib::to_string(err) + ")",
                     "", "remote_timeout");
  else
    error = unreachable(httplib::to_string(err));
  return false;
}

std::optional<json> RemoteEngine::list_models(int timeout_s) const {
  Call c(origin_, "GET", prefix_ + "/v1/models", key_, timeout_s, std::min(timeout_s, kConnectTimeoutS));
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  if (!c.cli.send(c.req, res, err) || res.status != 200) return std::nullopt;
  json j = json::parse(res.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

std::optional<std::string> RemoteEngine::default_model() const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (model_known_) return model_;
  }
  // Probe outside the lock: a slow remote must not hold up other requests' lookups.
  Call c(origin_, "GET", prefix_ + "/v1/models", key_, kConnectTimeoutS, kConnectTimeoutS);
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  if (!c.cli.send(c.req, res, err)) throw unreachable(httplib::to_string(err));
  std::optional<std::string> found;
  if (res.status == 200) {
    const json j = json::parse(res.body, nullptr, false);
    if (!j.is_discarded()) found = pick_remote_model(j, kind_);
  } else if (res.status == 401 || res.status == 403) {
    throw ApiError(502, "server_error",
                   std::string("the remote ") + remote_kind_name(kind_) + " engine at " + display_ +
                       " refused the API key (HTTP " + std::to_string(res.status) +
                       "; set --remote-api-key or put KEY@ in the URL)",
                   "", "remote_auth_failed");
  }
  std::lock_guard<std::mutex> lock(mu_);
  model_ = found;
  model_known_ = true;
  return model_;
}

std::optional<std::string> pick_remote_model(const json& models, RemoteKind kind) {
  if (!models.is_object() || !models.contains("data") || !models["data"].is_array()) return std::nullopt;
  std::vector<std::string> ids;
  const std::string want = remote_kind_name(kind);
  for (const auto& m : models["data"]) {
    if (!m.is_object() || !m.contains("id") || !m["id"].is_string()) continue;
    const std::string id = m["id"].get<std::string>();
    if (m.contains("kind") && m["kind"].is_string()) {
      if (m["kind"].get<std::string>() == want) return id;
      continue;  // a server that labels kinds told us this one is something else
    }
    ids.push_back(id);
  }
  auto first_where = [&](auto pred) -> std::optional<std::string> {
    for (const auto& id : ids)
      if (pred(id)) return id;
    return std::nullopt;
  };
  auto speechy = [](const std::string& id) {
    return contains(id, "tts") || contains(id, "kokoro") || contains(id, "speech");
  };
  switch (kind) {
    case RemoteKind::Llm:
      if (auto id = first_where([&](const std::string& i) { return !contains(i, "embed") && !speechy(i); })) return id;
      break;
    case RemoteKind::Embedding:
      if (auto id = first_where([](const std::string& i) { return contains(i, "embed"); })) return id;
      break;
    case RemoteKind::Tts:
      if (auto id = first_where([](const std::string& i) { return i == "tts-1"; })) return id;
      if (auto id = first_where(speechy)) return id;
      return std::string("tts-1");  // OpenAI's name, which speech servers commonly accept
  }
  if (ids.empty()) return std::nullopt;
  return ids.front();
}

}  // namespace xnai::server

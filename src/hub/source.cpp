// Sources and URLs: hf://org/repo/path[@revision] resolved the way the Hub's resolve URLs
// work, plain URLs, and Location headers. Only http and https exist here; plain http is
// refused for anything but loopback so that a model is never fetched unauthenticated
// over the network.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "hub/hub_internal.h"

namespace xnai::hub {
namespace detail {
namespace {

Error bad_url(std::string_view text, const std::string& why) {
  return Error(ErrorKind::InvalidArgument, "'" + std::string(text) + "' is not a usable URL: " + why);
}

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// Keeps printable ASCII as is (the target is sent verbatim, so a server's own encoding of
// a signed CDN URL survives), encodes spaces, refuses control bytes.
std::string clean_target(std::string_view text, std::string_view target) {
  std::string out;
  for (char ch : target) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == ' ') {
      out += "%20";
    } else if (c < 0x20 || c == 0x7f) {
      throw bad_url(text, "it contains a control character");
    } else if (c >= 0x80) {
      static const char* kHex = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  return out.empty() ? "/" : out;
}

bool valid_repo_part(std::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  for (unsigned char c : s)
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

bool valid_repo_path(std::string_view p) {
  if (p.empty() || p.front() == '/' || p.back() == '/') return false;
  size_t start = 0;
  while (start <= p.size()) {
    const size_t end = std::min(p.find('/', start), p.size());
    const std::string_view seg = p.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    for (unsigned char c : seg)
      if (c < 0x20 || c == 0x7f || c == '\\') return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

std::string Url::origin() const {
  const bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
  std::string out = scheme;
  out += "://";
  if (host.find(':') != std::string::npos) {
    out += '[';
    out += host;
    out += ']';
  } else {
    out += host;
  }
  if (!default_port) {
    out += ':';
    out += std::to_string(port);
  }
  return out;
}

std::string Url::str() const { return origin() + target; }

Url parse_url(std::string_view text) {
  Url u;
  const size_t colon = text.find("://");
  if (colon == std::string_view::npos) throw bad_url(text, "no scheme (expected https://)");
  u.scheme = to_lower(text.substr(0, colon));
  if (u.scheme != "http" && u.scheme != "https") throw bad_url(text, "only http and https are supported");
  std::string_view rest = text.substr(colon + 3);
  if (const size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  const size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  const std::string_view target = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos)
    throw bad_url(text, "credentials in the URL are not supported (use HF_TOKEN)");
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) throw bad_url(text, "unterminated IPv6 address");
    u.host = to_lower(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw bad_url(text, "junk after the IPv6 address");
      port_text = after.substr(1);
    }
  } else {
    const size_t pc = authority.rfind(':');
    u.host = to_lower(authority.substr(0, pc));
    if (pc != std::string_view::npos) port_text = authority.substr(pc + 1);
  }
  if (u.host.empty()) throw bad_url(text, "no host");
  for (unsigned char c : u.host)
    if (!std::isalnum(c) && c != '-' && c != '.' && c != ':' && c != '_')
      throw bad_url(text, "invalid character in the host name");
  u.port = u.scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    int p = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9' || p > 65535) throw bad_url(text, "invalid port");
      p = p * 10 + (c - '0');
    }
    if (p <= 0 || p > 65535) throw bad_url(text, "invalid port");
    u.port = p;
  }
  u.target = clean_target(text, target);
  if (u.target.front() == '?') u.target = "/" + u.target;
  return u;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  // 127.0.0.0/8 in dotted-quad form only.
  if (host.substr(0, 4) != "127.") return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.')
      ++dots;
    else if (c < '0' || c > '9')
      return false;
  }
  return dots == 3;
}

Url resolve_location(const Url& base, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return parse_url(location);
  if (location.substr(0, 2) == "//") return parse_url(base.scheme + ":" + std::string(location));
  Url u = base;
  std::string_view loc = location;
  if (const size_t hash = loc.find('#'); hash != std::string_view::npos) loc = loc.substr(0, hash);
  if (!loc.empty() && loc.front() == '/') {
    u.target = clean_target(location, loc);
  } else {
    std::string dir = base.target.substr(0, base.target.find('?'));
    dir = dir.substr(0, dir.rfind('/') + 1);
    u.target = clean_target(location, dir + std::string(loc));
  }
  return u;
}

std::string percent_encode(std::string_view s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string reencode_decoded_url(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  size_t start = 0;
  if (const size_t scheme = s.find("://"); scheme != std::string_view::npos) {
    const size_t path = s.find_first_of("/?", scheme + 3);
    start = path == std::string_view::npos ? s.size() : path;
  }
  std::string out(s.substr(0, start));
  bool in_query = false, seen_eq = false;  // '=' after a parameter's first one was "%3D"
  for (unsigned char c : s.substr(start)) {
    bool allowed = is_unreserved(c) || (c != 0 && std::strchr("!$&'()*+,;=:@/?", c) != nullptr);
    if (c == '?' && !in_query) {
      in_query = true;
    } else if (in_query && c == '&') {
      seen_eq = false;
    } else if (in_query && c == '=') {
      allowed = !seen_eq;
      seen_eq = true;
    }
    if (allowed) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace detail

std::string hub_endpoint() {
  std::string e = "https://huggingface.co";
  if (const char* env = std::getenv("HF_ENDPOINT"); env && *env) e = env;
  while (!e.empty() && e.back() == '/') e.pop_back();
  return e;
}

std::string Source::file_name() const {
  std::string p;
  if (hf) {
    p = path;
  } else {
    p = url.substr(0, url.find_first_of("?#"));
    const size_t scheme = p.find("://");
    const size_t slash = p.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    p = slash == std::string::npos ? "" : detail::percent_decode(p.substr(slash));
  }
  std::string name = p.substr(p.rfind('/') + 1);
  for (char& c : name)
    if (c == '/' || c == '\\' || c == '\0') c = '_';
  if (name.empty() || name == "." || name == "..") name = "download";
  return name;
}

namespace {

Source make_hf_source(std::string_view text, std::string org, std::string repo, std::string path,
                      std::string revision) {
  if (!detail::valid_repo_part(org) || !detail::valid_repo_part(repo))
    throw Error(ErrorKind::InvalidArgument, "'" + std::string(text) +
                                                "': the repository must be 'org/name' (letters, digits, '-', "
                                                "'_', '.'), as in hf://Qwen/Qwen2.5-3B-Instruct-GGUF/FILE");
  if (!detail::valid_repo_path(path))
    throw Error(ErrorKind::InvalidArgument,
                "'" + std::string(text) + "': no file path inside the repository (hf://" + org + "/" + repo +
                    "/FILE[@revision]); empty, '.' and '..' parts are not allowed");
  if (revision.empty()) revision = "main";
  for (unsigned char c : revision)
    if (c <= 0x20 || c == 0x7f)
      throw Error(ErrorKind::InvalidArgument,
                  "'" + std::string(text) + "': the revision contains a space or control character");
  Source s;
  s.hf = true;
  s.repo = org + "/" + repo;
  s.path = path;
  s.revision = revision;
  s.url = hub_endpoint() + "/" + s.repo + "/resolve/" + detail::percent_encode(revision, false) + "/" +
          detail::percent_encode(path, true);
  s.text = "hf://" + s.repo + "/" + path + (revision == "main" ? "" : "@" + revision);
  return s;
}

}  // namespace

Source parse_source(std::string_view text) {
  if (text.substr(0, 5) == "hf://") {
    std::string_view rest = text.substr(5);
    const size_t s1 = rest.find('/');
    const size_t s2 = s1 == std::string_view::npos ? s1 : rest.find('/', s1 + 1);
    if (s2 == std::string_view::npos)
      throw Error(ErrorKind::InvalidArgument,
                  "'" + std::string(text) + "' names no file: use hf://org/repo/path/in/repo[@revision]");
    std::string path(rest.substr(s2 + 1)), revision;
    if (const size_t at = path.rfind('@'); at != std::string::npos) {
      revision = path.substr(at + 1);
      path.resize(at);
      if (revision.empty())
        throw Error(ErrorKind::InvalidArgument, "'" + std::string(text) + "': empty revision after '@'");
    }
    return make_hf_source(text, std::string(rest.substr(0, s1)),
                          std::string(rest.substr(s1 + 1, s2 - s1 - 1)), path, revision);
  }
  if (text.find("://") == std::string_view::npos) {
    std::string hint;
    if (std::count(text.begin(), text.end(), '/') >= 2)
      hint = " (did you mean hf://" + std::string(text) + "?)";
    throw Error(ErrorKind::InvalidArgument,
                "'" + std::string(text) +
                    "' is not a model source: use hf://org/repo/file[@revision] or an "
                    "https:// URL" +
                    hint);
  }
  const detail::Url u = detail::parse_url(text);
  if (u.scheme == "http" && !detail::is_loopback_host(u.host))
    throw Error(ErrorKind::InvalidArgument,
                "'" + std::string(text) + "': plain http is allowed only for loopback hosts; use https://");
  // A Hub web address (resolve or blob) becomes a Hub source, so it gets the same checks.
  const detail::Url hub = detail::parse_url(hub_endpoint());
  if (u.host == hub.host && u.port == hub.port && u.target.find('?') == std::string::npos) {
    std::vector<std::string> parts;
    size_t start = 1;
    while (start <= u.target.size() && parts.size() < 4) {
      const size_t end = std::min(u.target.find('/', start), u.target.size());
      parts.emplace_back(u.target.substr(start, end - start));
      start = end + 1;
    }
    if (parts.size() == 4 && (parts[2] == "resolve" || parts[2] == "blob") && start < u.target.size())
      return make_hf_source(text, parts[0], parts[1], detail::percent_decode(u.target.substr(start)),
                            detail::percent_decode(parts[3]));
  }
  Source s;
  s.url = u.str();
  s.text = s.url;
  return s;
}

}  // namespace xnai::hub

// GET / and the page's scripts and styles (web/, embedded by cmake/embed_web_assets.cmake).
// Served without an API key (the page holds no data; it asks for the key and sends it on
// every API call). Cache policy: every response carries a content ETag and "no-cache", so a
// browser revalidates each load (a 304 with no body) and an upgraded binary's page is
// never shadowed by a stale cached copy.
#include <httplib.h>

#include <string>

#include "server/server_context.h"
#include "server/web_assets.h"

namespace xnai::server {
namespace {

// Only our own origin may run scripts, be fetched from or frame the page; spoken answers
// play from blob: URLs made by the script.
constexpr const char* kPagePolicy =
    "default-src 'self'; media-src 'self' blob:; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'";

std::string regex_escaped(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (std::string_view(".^$|()[]{}*+?\\").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

void serve_asset(ServerContext&, const httplib::Request& req, httplib::Response& res) {
  const WebAsset* a = find_web_asset(req.path);
  if (!a) throw ApiError(404, "not_found_error", "no page at " + req.path, "", "unknown_route");
  res.set_header("ETag", std::string(a->etag));
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  if (a->content_type.starts_with("text/html")) {
    res.set_header("Content-Security-Policy", kPagePolicy);
    res.set_header("Referrer-Policy", "no-referrer");
  }
  if (req.get_header_value("If-None-Match") == a->etag) {
    res.status = 304;
    return;
  }
  res.status = 200;
  res.set_content(a->body.data(), a->body.size(), std::string(a->content_type).c_str());
}

}  // namespace

bool is_web_page_request(const httplib::Request& req) {
  return (req.method == "GET" || req.method == "HEAD") && find_web_asset(req.path) != nullptr;
}

void register_web_routes(httplib::Server& http, ServerContext& ctx) {
  add_route(http, ctx, "GET", "/", "/", serve_asset);
  for (const auto& a : web_assets()) add_route(http, ctx, "GET", regex_escaped(a.path), "/web", serve_asset);
}

}  // namespace xnai::server

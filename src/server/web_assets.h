// The web page's static files (web/*.html|js|css), compiled into the binary by
// cmake/embed_web_assets.cmake so `xnai serve` needs no files beside it. Read-only data
// with static storage; safe from any thread.
#pragma once
#include <cstddef>
#include <span>
#include <string_view>

namespace xnai::server {

struct WebAsset {
  std::string_view path;          // URL path: "/index.html", "/app.js"
  std::string_view content_type;  // "text/html; charset=utf-8" …
  std::string_view etag;          // quoted, from the file's sha256: "\"3fa9…\""
  std::string_view body;
};

// Every embedded file (generated at build time).
std::span<const WebAsset> web_assets();

// The asset for a request path ("/" means "/index.html"), or null.
const WebAsset* find_web_asset(std::string_view path);

}  // namespace xnai::server

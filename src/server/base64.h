// Standard base64 (RFC 4648, with padding): embeddings with encoding_format "base64" and
// audio clips inside JSON events.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace xnai::server {

std::string base64_encode(const unsigned char* data, size_t n);
inline std::string base64_encode(std::string_view bytes) {
  return base64_encode(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

}  // namespace xnai::server

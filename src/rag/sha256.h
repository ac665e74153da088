// sha256 as lowercase hex, through OpenSSL's EVP interface. Private to rag/: document ids,
// content hashes and chunk ids all come from here so they agree byte for byte.
#pragma once
#include <string>
#include <string_view>

namespace xnai::rag {

// Hex sha256 of `data` (64 characters).
std::string sha256_hex(std::string_view data);

}  // namespace xnai::rag

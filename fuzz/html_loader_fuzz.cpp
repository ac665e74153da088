// libFuzzer target for the HTML loader and the chunker behind it: any bytes as a web page.
// The loader must either throw xnai::Error or return a document whose offsets are valid,
// and chunking it must keep every chunk an exact, in-order slice of the text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/error.h"
#include "rag/chunker.h"
#include "rag/loaders.h"

namespace {

void require(bool ok) {
  if (!ok) std::abort();  // an invariant broke: let libFuzzer keep the input
}

bool on_boundary(const std::string& s, int64_t p) {
  return p >= 0 && p <= static_cast<int64_t>(s.size()) &&
         (p == static_cast<int64_t>(s.size()) ||
          (static_cast<unsigned char>(s[static_cast<size_t>(p)]) & 0xC0) != 0x80);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  xnai::rag::Document doc;
  try {
    doc = xnai::rag::parse_document(bytes, "html", "fuzz.html");
  } catch (const xnai::Error&) {
    return 0;  // rejecting bad input with an Error is fine
  }
  for (const auto& h : doc.headings) require(on_boundary(doc.text, h.begin));
  for (int64_t p : doc.paragraph_starts) require(on_boundary(doc.text, p));
  for (char c : doc.text) require(c != '\r' && c != '\0');

  xnai::rag::ChunkerOptions opts;
  opts.max_tokens = 24;
  opts.overlap_tokens = 6;
  const auto chunks = xnai::rag::chunk_document(doc, opts);
  int64_t prev_begin = -1, prev_end = -1;
  for (const auto& c : chunks) {
    require(c.begin > prev_begin && c.end > prev_end && c.begin < c.end);
    require(on_boundary(doc.text, c.begin) && on_boundary(doc.text, c.end));
    require(c.text == doc.text.substr(static_cast<size_t>(c.begin), static_cast<size_t>(c.end - c.begin)));
    prev_begin = c.begin;
    prev_end = c.end;
  }
  return 0;
}

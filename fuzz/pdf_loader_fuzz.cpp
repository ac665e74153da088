// libFuzzer target for the PDF loader: any bytes as a .pdf file. poppler does the parsing
// (it is not instrumented, so coverage guidance reaches only our side); what is checked is
// that a bad file ends in xnai::Error, never a crash or hang, and that a loaded document's
// page ranges and chunks are consistent.
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  xnai::rag::Document doc;
  try {
    doc = xnai::rag::parse_document(bytes, "pdf", "fuzz.pdf");
  } catch (const xnai::Error&) {
    return 0;  // rejecting bad input with an Error is fine
  }
  int64_t prev_end = 0;
  int page = 0;
  for (const auto& p : doc.pages) {
    require(p.page == ++page && p.begin >= prev_end && p.begin <= p.end);
    require(p.end <= static_cast<int64_t>(doc.text.size()));
    prev_end = p.end;
  }
  const auto chunks = xnai::rag::chunk_document(doc, {});
  for (const auto& c : chunks) {
    require(c.text == doc.text.substr(static_cast<size_t>(c.begin), static_cast<size_t>(c.end - c.begin)));
    require(doc.pages.empty() || (c.page_first >= 1 && c.page_first <= c.page_last && c.page_last <= page));
  }
  return 0;
}

// .txt: the file's text, cleaned (see clean_plain_text); paragraphs are separated by blank
// lines. No headings or pages; the title falls back to the file name.
#include "rag/loaders/loader_internal.h"

namespace xnai::rag::detail {

void extract_text_file(std::string_view bytes, Document& doc) {
  doc.text = clean_plain_text(bytes);
  doc.paragraph_starts.clear();
  append_blank_line_paragraphs(doc.text, 0, doc.paragraph_starts);
}

}  // namespace xnai::rag::detail

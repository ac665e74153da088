// Document loaders: turn a file (.txt, .md/.markdown, .html/.htm, .pdf, .docx) into a
// Document — plain UTF-8 text with its structure (pages, headings, paragraph starts), title,
// modification time and content hash. Formats, what is extracted and the limits are written
// down in docs/rag-loaders.md.
//
// Guarantees for every loaded Document: `text` is valid UTF-8 with "\n" newlines only (no
// "\r", no NUL or other C0 controls except "\t"); every offset in pages, headings and
// paragraph_starts lies on a character boundary inside text; pages are in order and do not
// overlap; headings and paragraph_starts are sorted. A bad file never crashes a loader: it
// throws xnai::Error with a message that begins with the file's path.
//
// Thread-safety: all functions may be called from several threads at once.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rag/document.h"

namespace xnai::rag {

// Files larger than this are refused (Unsupported) rather than read into memory.
inline constexpr int64_t kMaxDocumentBytes = int64_t{512} << 20;

// Loads one file. The type comes from the extension (case-insensitive); a file with no or an
// unknown extension is recognised by its content (PDF, zip-based .docx, HTML, plain UTF-8
// text without extension). Throws Error naming the file:
//   NotFound      — no such file;
//   Io            — unreadable, or a directory;
//   InvalidFormat — broken content ("…: not a valid PDF", "…: not a valid .docx");
//   Unsupported   — encrypted PDF ("…: PDF is encrypted"), unknown type, file too large.
Document load_document(const std::string& path);

// Never throws: either a document or an error message naming the file and the problem.
struct LoadResult {
  std::optional<Document> document;
  std::string error;
};
LoadResult try_load_document(const std::string& path);

// Parses bytes already in memory as `type` ("txt", "md", "html", "pdf", "docx"). `name` is
// used for error messages, the id (sha256 of name) and the fallback title; mtime is 0.
// Throws like load_document (Unsupported for an unknown type).
Document parse_document(std::string_view bytes, const std::string& type, const std::string& name);

// True when the extension is one of the loadable ones (no file access).
bool is_supported_document(const std::string& path);

// Expands `paths` into the files to ingest. Folders are walked recursively in sorted (byte)
// order, skipping hidden entries (name starts with '.'), Office lock files ("~$…"),
// unsupported extensions, and symbolic links that lead back into a folder already being
// walked. A path named explicitly is kept as given even when it is hidden, unsupported or
// missing, so that load_document reports the problem by name instead of it vanishing. Each
// file appears once (the first time it is reached). Never throws for bad paths.
std::vector<std::string> find_documents(const std::vector<std::string>& paths);

}  // namespace xnai::rag

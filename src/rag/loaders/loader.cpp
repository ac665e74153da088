// load_document: reads the file, picks the extractor by extension (or by content when the
// extension says nothing), and fills the fields every document has (id, path, type, mtime,
// content hash, title fallback).
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "rag/loaders.h"
#include "rag/loaders/loader_internal.h"
#include "rag/sha256.h"

namespace xnai::rag {
namespace {

namespace fs = std::filesystem;

// The type an extension names, or "" (case-insensitive; "report.PDF" is a pdf).
std::string type_from_extension(const std::string& path) {
  const std::string ext = detail::ascii_lower(fs::path(path).extension().string());
  if (ext == ".txt") return "txt";
  if (ext == ".md" || ext == ".markdown") return "md";
  if (ext == ".html" || ext == ".htm") return "html";
  if (ext == ".pdf") return "pdf";
  if (ext == ".docx") return "docx";
  return "";
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && detail::ascii_lower(s.substr(0, prefix.size())) == prefix;
}

// The type the bytes look like, for files whose extension says nothing; "" when unknown.
std::string sniff_type(std::string_view bytes, bool has_extension) {
  if (bytes.substr(0, 1024).find("%PDF-") != std::string_view::npos) return "pdf";
  if (bytes.substr(0, 4) == std::string_view("PK\x03\x04", 4) &&
      bytes.find("word/document.xml") != std::string_view::npos)
    return "docx";
  std::string_view head = detail::trim_ascii(bytes.substr(0, 1024));
  if (head.substr(0, 3) == "\xEF\xBB\xBF") head = detail::trim_ascii(head.substr(3));
  if (starts_with_ci(head, "<!doctype html") || starts_with_ci(head, "<html")) return "html";
  // Text without an extension (README, NOTES): valid UTF-8 and no NUL in the first 8 KiB.
  if (!has_extension) {
    std::string_view probe = bytes.substr(0, 8192);
    if (probe.find('\0') != std::string_view::npos) return "";
    // A sequence cut by the probe's end may look invalid: allow U+FFFD only there.
    const std::string repaired = detail::repair_utf8(probe);
    const size_t keep = repaired.size() >= 3 ? repaired.size() - 3 : 0;
    if (repaired.compare(0, keep, probe.substr(0, keep)) == 0) return "txt";
  }
  return "";
}

std::string read_file(const std::string& path, int64_t& mtime) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) throw Error(ErrorKind::NotFound, path + ": no such file");
    throw Error(ErrorKind::Io, path + ": cannot read (" + std::strerror(err) + ")");
  }
  if (S_ISDIR(st.st_mode)) throw Error(ErrorKind::Io, path + ": is a directory");
  if (!S_ISREG(st.st_mode)) throw Error(ErrorKind::Io, path + ": not a regular file");
  if (st.st_size > kMaxDocumentBytes)
    throw Error(
        ErrorKind::Unsupported,
        path + ": file larger than " + std::to_string(kMaxDocumentBytes >> 20) + " MiB is not supported");
  mtime = static_cast<int64_t>(st.st_mtime);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::Io, path + ": cannot open (" + std::strerror(errno) + ")");
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (in.bad()) throw Error(ErrorKind::Io, path + ": read failed");
  bytes.resize(static_cast<size_t>(in.gcount()));
  // The file may have grown since stat(); read the rest up to the limit.
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    bytes.append(buf, static_cast<size_t>(in.gcount()));
    if (static_cast<int64_t>(bytes.size()) > kMaxDocumentBytes)
      throw Error(
          ErrorKind::Unsupported,
          path + ": file larger than " + std::to_string(kMaxDocumentBytes >> 20) + " MiB is not supported");
  }
  return bytes;
}

std::string file_name(const std::string& path) {
  const std::string n = fs::path(path).filename().string();
  return n.empty() ? path : n;
}

// Titles and metadata come from the file: keep them to one clean line.
std::string clean_line(std::string_view s) {
  return detail::collapse_whitespace(detail::clean_plain_text(s));
}

}  // namespace

bool is_supported_document(const std::string& path) { return !type_from_extension(path).empty(); }

Document parse_document(std::string_view bytes, const std::string& type, const std::string& name) {
  Document doc;
  if (type == "txt")
    detail::extract_text_file(bytes, doc);
  else if (type == "md")
    detail::extract_markdown(bytes, doc);
  else if (type == "html")
    detail::extract_html(bytes, name, doc);
  else if (type == "pdf")
    detail::extract_pdf(bytes, name, doc);
  else if (type == "docx")
    detail::extract_docx(bytes, name, doc);
  else
    throw Error(ErrorKind::Unsupported, name + ": unsupported document type '" + type + "'");
  doc.type = type;
  doc.source_path = name;
  doc.id = sha256_hex(name);
  doc.content_hash = sha256_hex(bytes);
  doc.title = clean_line(doc.title);
  if (doc.title.empty()) doc.title = file_name(name);
  for (auto& [key, value] : doc.metadata) value = clean_line(value);
  return doc;
}

Document load_document(const std::string& path) {
  const std::string abs = fs::absolute(fs::path(path)).lexically_normal().string();
  int64_t mtime = 0;
  const std::string bytes = read_file(path, mtime);
  std::string type = type_from_extension(path);
  if (type.empty()) {
    const bool has_extension = !fs::path(path).extension().empty();
    type = sniff_type(bytes, has_extension);
    if (type.empty())
      throw Error(ErrorKind::Unsupported,
                  path + ": unsupported file type" +
                      (has_extension ? " '" + fs::path(path).extension().string() + "'" : std::string()) +
                      " (supported: .txt .md .markdown .html .htm .pdf .docx)");
  }
  // Errors from the extractors name the path as the user gave it.
  Document doc = parse_document(bytes, type, path);
  doc.source_path = abs;
  doc.id = sha256_hex(abs);
  doc.mtime = mtime;
  return doc;
}

LoadResult try_load_document(const std::string& path) {
  LoadResult r;
  try {
    r.document = load_document(path);
  } catch (const Error& e) {
    r.error = e.what();
  } catch (const std::bad_alloc&) {
    r.error = path + ": out of memory while loading";
  } catch (const std::exception& e) {
    r.error = path + ": " + e.what();
  }
  return r;
}

}  // namespace xnai::rag

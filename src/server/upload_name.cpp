#include "server/upload_name.h"

#include "rag/loaders.h"

namespace xnai::server {

std::string upload_name_problem(const std::string& name) {
  if (name.empty()) return "the file name is empty";
  if (name.size() > 255) return "the file name is longer than 255 bytes";
  if (name == "." || name == "..") return "'" + name + "' is not a file name";
  if (name[0] == '.' || name[0] == '~') return "file names must not start with '.' or '~'";
  for (unsigned char c : name) {
    if (c == '/' || c == '\\') return "file names must not contain '/' or '\\' (no directories or absolute paths)";
    if (c < 0x20 || c == 0x7f) return "file names must not contain control characters";
  }
  if (name.find(':') != std::string::npos) return "file names must not contain ':'";
  if (!rag::is_supported_document(name)) return "unsupported document type (use .txt, .md, .html, .pdf or .docx)";
  return "";
}

}  // namespace xnai::server

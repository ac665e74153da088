// .pdf: text per page with poppler-cpp, in reading order (poppler's non-raw, non-physical
// layout: multi-column pages come out one column after the other; the physical layout
// would interleave the columns line by line). Each page's text is cleaned (UTF-8, newlines,
// runs of spaces collapsed, lines right-trimmed, at most one blank line in a row) and the
// pages are joined with "\n\n"; pages[] holds each page's byte range (an empty page has an
// empty range). Paragraphs start at each page, after blank lines, and after a short line
// that ends a sentence (poppler drops most blank lines between paragraphs).
// Title: the PDF's Title info, else the first line of text. Author/Subject/Keywords go to
// metadata. An encrypted PDF that needs a password, or bytes poppler cannot read as a PDF,
// throw Error naming the file; PDFs locked only against copying/printing load normally.
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <mutex>

#include "core/error.h"
#include "rag/loaders/loader_internal.h"

namespace xnai::rag::detail {
namespace {

// poppler reports problems through one process-wide callback; keep the last messages of
// the current thread so an encrypted file can be told from a broken one.
thread_local std::string t_poppler_messages;

void on_poppler_message(const std::string& msg, void*) {
  if (t_poppler_messages.size() < 4096) t_poppler_messages += msg + "\n";
}

void install_message_handler() {
  static std::once_flag once;
  std::call_once(once, [] { poppler::set_debug_error_function(on_poppler_message, nullptr); });
}

std::string to_string(const poppler::ustring& u) {
  const poppler::byte_array b = u.to_utf8();
  return std::string(b.begin(), b.end());
}

// Cleans one page: repaired UTF-8, "\n" newlines, runs of blanks collapsed, lines
// right-trimmed, no more than one blank line in a row, no leading/trailing blank lines.
std::string clean_page(std::string_view raw) {
  const std::string t = clean_plain_text(raw);
  std::string out;
  out.reserve(t.size());
  size_t pos = 0;
  int blank_run = 0;
  while (pos <= t.size()) {
    size_t eol = t.find('\n', pos);
    if (eol == std::string::npos) eol = t.size();
    std::string line = collapse_whitespace(std::string_view(t).substr(pos, eol - pos));
    pos = eol + 1;
    if (line.empty()) {
      ++blank_run;
      continue;
    }
    if (!out.empty()) out += blank_run > 0 ? "\n\n" : "\n";
    blank_run = 0;
    out += line;
  }
  return out;
}

bool ends_sentence(std::string_view line) {
  while (!line.empty() && (line.back() == '"' || line.back() == '\'' || line.back() == ')'))
    line.remove_suffix(1);
  return !line.empty() &&
         (line.back() == '.' || line.back() == '!' || line.back() == '?' || line.back() == ':');
}

// Paragraph starts of one cleaned page placed at `base`.
void page_paragraphs(std::string_view page, int64_t base, std::vector<int64_t>& out) {
  std::vector<std::string_view> lines;
  std::vector<size_t> starts;
  size_t pos = 0;
  while (pos <= page.size() && !page.empty()) {
    size_t eol = page.find('\n', pos);
    if (eol == std::string_view::npos) eol = page.size();
    lines.push_back(page.substr(pos, eol - pos));
    starts.push_back(pos);
    pos = eol + 1;
  }
  // A line well short of the page's usual width that ends a sentence closes its paragraph.
  std::vector<size_t> widths;
  for (auto l : lines)
    if (!l.empty()) widths.push_back(l.size());
  size_t typical = 0;
  if (!widths.empty()) {
    std::sort(widths.begin(), widths.end());
    typical = widths[widths.size() * 9 / 10];
  }
  bool next_starts = true;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty()) {
      next_starts = true;
      continue;
    }
    if (next_starts) out.push_back(base + static_cast<int64_t>(starts[i]));
    next_starts = ends_sentence(lines[i]) && lines[i].size() * 4 < typical * 3;
  }
}

bool mentions_encryption(std::string_view bytes) { return bytes.find("/Encrypt") != std::string_view::npos; }

}  // namespace

void extract_pdf(std::string_view bytes, const std::string& name, Document& doc) {
  // poppler scans for the header itself, but bytes without one are not worth handing over.
  if (bytes.substr(0, 1024).find("%PDF-") == std::string_view::npos)
    throw Error(ErrorKind::InvalidFormat, name + ": not a valid PDF (no %PDF header)");
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    throw Error(ErrorKind::Unsupported, name + ": PDF larger than 2 GiB is not supported");
  install_message_handler();
  t_poppler_messages.clear();
  std::unique_ptr<poppler::document> pdf(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  if (!pdf) {
    const bool encrypted =
        t_poppler_messages.find("password") != std::string::npos || mentions_encryption(bytes);
    if (encrypted)
      throw Error(ErrorKind::Unsupported, name + ": PDF is encrypted (a password is needed to read it)");
    throw Error(ErrorKind::InvalidFormat, name + ": not a valid PDF (poppler cannot read it)");
  }
  if (pdf->is_locked())
    throw Error(ErrorKind::Unsupported, name + ": PDF is encrypted (a password is needed to read it)");

  const int n_pages = pdf->pages();
  for (int i = 0; i < n_pages; ++i) {
    std::unique_ptr<poppler::page> page(pdf->create_page(i));
    std::string text;
    if (page)
      text = clean_page(to_string(page->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout)));
    if (!text.empty() && !doc.text.empty()) doc.text += "\n\n";
    const auto begin = static_cast<int64_t>(doc.text.size());
    doc.text += text;
    doc.pages.push_back({i + 1, begin, static_cast<int64_t>(doc.text.size())});
    page_paragraphs(text, begin, doc.paragraph_starts);
  }

  doc.title = collapse_whitespace(to_string(pdf->info_key("Title")));
  if (doc.title.empty()) {
    const std::string_view t = trim_ascii(doc.text);
    doc.title = std::string(t.substr(0, t.find('\n')));
    if (doc.title.size() > 200) doc.title.clear();  // a run-on line is no title
  }
  for (const char* key : {"Author", "Subject", "Keywords"}) {
    const std::string v = collapse_whitespace(to_string(pdf->info_key(key)));
    if (!v.empty()) doc.metadata[ascii_lower(key)] = v;
  }
}

}  // namespace xnai::rag::detail

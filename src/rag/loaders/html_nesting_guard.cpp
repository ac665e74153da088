// limit_html_nesting: gumbo spends time proportional to the depth of open elements on every
// tag, so a page that nests (or never closes) tens of thousands of elements takes minutes
// to parse (20000 nested <div> in a 100 KB file: 11 s; 40000: over a minute). A linear
// pre-pass follows the nesting the way a browser roughly would and drops start tags that
// would go deeper than the limit. Only such pathological pages change: their text stays,
// some of their structure (paragraph breaks) is lost.
#include <algorithm>
#include <cctype>

#include "rag/loaders/loader_internal.h"

namespace xnai::rag::detail {
namespace {

bool is_void(std::string_view t) {
  static constexpr std::string_view kVoid[] = {
      "area",  "base",   "br",    "col", "embed",    "hr",      "img",   "input",  "link", "meta",
      "param", "source", "track", "wbr", "basefont", "bgsound", "frame", "keygen", "image"};
  return std::find(std::begin(kVoid), std::end(kVoid), t) != std::end(kVoid);
}

// Elements whose content is text up to their end tag (no tags inside).
bool is_raw_text(std::string_view t) {
  return t == "script" || t == "style" || t == "textarea" || t == "title" || t == "xmp" || t == "iframe" ||
         t == "noembed" || t == "noframes" || t == "plaintext";
}

// Opening one of these closes an open element of the same name (an unclosed <p>, <li> …).
bool closes_same(std::string_view t) {
  return t == "p" || t == "li" || t == "dt" || t == "dd" || t == "option" || t == "tr" || t == "td" ||
         t == "th";
}

// Block elements whose start tag closes an open <p>.
bool closes_p(std::string_view t) {
  static constexpr std::string_view kBlocks[] = {
      "address",    "article", "aside",   "blockquote", "details", "div",  "dl",   "fieldset",
      "figcaption", "figure",  "footer",  "form",       "h1",      "h2",   "h3",   "h4",
      "h5",         "h6",      "header",  "hgroup",     "hr",      "main", "menu", "nav",
      "ol",         "pre",     "section", "table",      "ul"};
  return std::find(std::begin(kBlocks), std::end(kBlocks), t) != std::end(kBlocks);
}

bool is_scope_boundary(std::string_view t) {
  return t == "html" || t == "body" || t == "table" || t == "ul" || t == "ol" || t == "dl" || t == "div" ||
         t == "select" || t == "template";
}

// Position of the case-insensitive "</name" at or after `from`, or npos.
size_t find_end_tag(std::string_view html, size_t from, std::string_view name) {
  while ((from = html.find("</", from)) != std::string_view::npos) {
    size_t i = 0;
    while (i < name.size() && from + 2 + i < html.size() &&
           std::tolower(static_cast<unsigned char>(html[from + 2 + i])) == name[i])
      ++i;
    if (i == name.size()) return from;
    from += 2;
  }
  return std::string_view::npos;
}

}  // namespace

std::string limit_html_nesting(std::string_view html, int max_depth) {
  std::string out;
  out.reserve(html.size());
  std::vector<std::string> open;  // approximate stack of open elements
  size_t pos = 0;
  const size_t n = html.size();
  while (pos < n) {
    const size_t lt = html.find('<', pos);
    if (lt == std::string_view::npos) {
      out.append(html.substr(pos));
      break;
    }
    out.append(html.substr(pos, lt - pos));
    pos = lt;
    if (html.compare(lt, 4, "<!--") == 0) {
      const size_t end = html.find("-->", lt + 4);
      const size_t stop = end == std::string_view::npos ? n : end + 3;
      out.append(html.substr(lt, stop - lt));
      pos = stop;
      continue;
    }
    const bool closing = lt + 1 < n && html[lt + 1] == '/';
    const size_t name_at = lt + (closing ? 2 : 1);
    if (name_at >= n || !std::isalpha(static_cast<unsigned char>(html[name_at]))) {
      out += '<';  // "<!doctype", "<?", "< " and the like are copied as they are
      pos = lt + 1;
      continue;
    }
    size_t name_end = name_at;
    while (name_end < n && !std::isspace(static_cast<unsigned char>(html[name_end])) &&
           html[name_end] != '/' && html[name_end] != '>')
      ++name_end;
    // The tag ends at the first '>' outside quoted attribute values.
    size_t gt = name_end;
    char quote = 0;
    while (gt < n && (quote || html[gt] != '>')) {
      if (quote) {
        if (html[gt] == quote) quote = 0;
      } else if ((html[gt] == '"' || html[gt] == '\'') && gt > 0 &&
                 (html[gt - 1] == '=' || std::isspace(static_cast<unsigned char>(html[gt - 1])))) {
        quote = html[gt];
      }
      ++gt;
    }
    if (gt >= n) {  // unterminated tag: the rest is copied for gumbo to judge
      out.append(html.substr(lt));
      break;
    }
    const std::string name = ascii_lower(html.substr(name_at, name_end - name_at));
    const std::string_view tag = html.substr(lt, gt + 1 - lt);
    pos = gt + 1;
    if (closing) {
      for (size_t k = open.size(); k-- > 0;)
        if (open[k] == name) {
          open.resize(k);
          break;
        }
      out.append(tag);
      continue;
    }
    if (is_raw_text(name)) {  // never dropped: its content must stay out of the text
      out.append(tag);
      const size_t end = name == "plaintext" ? std::string_view::npos : find_end_tag(html, pos, name);
      const size_t stop = end == std::string_view::npos ? n : end;
      out.append(html.substr(pos, stop - pos));
      pos = stop;
      continue;
    }
    if (is_void(name) || html[gt - 1] == '/') {
      out.append(tag);
      continue;
    }
    if (closes_same(name) || closes_p(name)) {
      // Close an open element of the same name (or an open <p> for block starts) within scope.
      const std::string_view target = closes_same(name) ? std::string_view(name) : std::string_view("p");
      for (size_t k = open.size(); k-- > 0;) {
        if (open[k] == target) {
          open.resize(k);
          break;
        }
        if (is_scope_boundary(open[k])) break;
      }
    }
    if (static_cast<int>(open.size()) >= max_depth) {
      out += ' ';  // dropped: keeps the words on either side apart
      continue;
    }
    open.push_back(name);
    out.append(tag);
  }
  return out;
}

}  // namespace xnai::rag::detail

// .html / .htm: the visible text of the page, parsed with gumbo (an HTML5 parser, so
// malformed markup is repaired the way browsers do and entities are decoded).
//   - skipped: <head> (except <title> and <meta>), script, style, noscript, template, nav,
//     svg, iframe, object, embed, canvas, select, textarea, audio, video, and any element
//     with the `hidden` attribute, aria-hidden="true" or an inline display:none style;
//   - block elements (p, div, li, section, table, …) become paragraph breaks, <br> and table
//     rows line breaks, cells are joined with " | "; <pre> keeps its whitespace, elsewhere
//     whitespace collapses as a browser shows it;
//   - h1–h6 become headings; <title> is the title (else the first h1); <meta name=author|
//     description|keywords> go to metadata ("keywords" also as comma-separated "tags").
// Encoding: a byte-order mark or a <meta charset> in the first 1024 bytes is honoured (ICU
// converts it); undeclared bytes that are not valid UTF-8 are read as windows-1252.
#include <gumbo.h>
#include <unicode/unistr.h>

#include <cctype>
#include <memory>
#include <vector>

#include "core/error.h"
#include "rag/loaders/loader_internal.h"

namespace xnai::rag::detail {
namespace {

// gumbo keeps a tree roughly 10–20× the input in memory; refuse what would not fit sanely.
constexpr size_t kMaxHtmlBytes = size_t{64} << 20;
// Real pages nest a few dozen elements deep; deeper ones are flattened (see limit_html_nesting).
constexpr int kMaxNesting = 512;

bool is_valid_utf8(std::string_view s) { return repair_utf8(s) == s; }

// The charset a page declares (BOM or <meta charset=…> / http-equiv content), lowercase; "".
std::string declared_charset(std::string_view bytes) {
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") return "utf-8";
  if (bytes.substr(0, 2) == "\xFF\xFE" || bytes.substr(0, 2) == "\xFE\xFF")
    return "utf-16";  // ICU reads the BOM
  const std::string head = ascii_lower(bytes.substr(0, 1024));
  size_t pos = 0;
  while ((pos = head.find("charset", pos)) != std::string::npos) {
    size_t i = pos + 7;
    while (i < head.size() && (head[i] == ' ' || head[i] == '\t')) ++i;
    if (i < head.size() && head[i] == '=') {
      ++i;
      while (i < head.size() && (head[i] == ' ' || head[i] == '"' || head[i] == '\'')) ++i;
      size_t j = i;
      while (j < head.size() && (std::isalnum(static_cast<unsigned char>(head[j])) || head[j] == '-' ||
                                 head[j] == '_' || head[j] == ':' || head[j] == '.'))
        ++j;
      if (j > i) return head.substr(i, j - i);
    }
    pos += 7;
  }
  return "";
}

// The page as UTF-8.
std::string to_utf8(std::string_view bytes) {
  std::string charset = declared_charset(bytes);
  if (charset == "utf8") charset = "utf-8";
  if (charset.empty() || charset == "utf-8") {
    if (!charset.empty() || is_valid_utf8(bytes)) return repair_utf8(bytes);
    charset = "windows-1252";
  }
  if (charset == "iso-8859-1" || charset == "latin1" || charset == "us-ascii" || charset == "ascii")
    charset = "windows-1252";  // what browsers do (WHATWG encoding standard)
  const icu::UnicodeString u(bytes.data(), static_cast<int32_t>(bytes.size()), charset.c_str());
  if (u.isBogus()) return repair_utf8(bytes);  // unknown charset: best effort
  std::string out;
  u.toUTF8String(out);
  return out;
}

bool is_skipped_tag(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_HEAD:
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_NAV:
    case GUMBO_TAG_SVG:
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_OBJECT:
    case GUMBO_TAG_EMBED:
    case GUMBO_TAG_CANVAS:
    case GUMBO_TAG_SELECT:
    case GUMBO_TAG_TEXTAREA:
    case GUMBO_TAG_AUDIO:
    case GUMBO_TAG_VIDEO:
    case GUMBO_TAG_TITLE:  // read separately
      return true;
    default:
      return false;
  }
}

bool is_block_tag(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_ADDRESS:
    case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_BODY:
    case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_CENTER:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_DETAILS:
    case GUMBO_TAG_DIR:
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_FIELDSET:
    case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_FIGURE:
    case GUMBO_TAG_FOOTER:
    case GUMBO_TAG_FORM:
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_HGROUP:
    case GUMBO_TAG_HR:
    case GUMBO_TAG_HTML:
    case GUMBO_TAG_LEGEND:
    case GUMBO_TAG_LI:
    case GUMBO_TAG_MAIN:
    case GUMBO_TAG_MENU:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_P:
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_SECTION:
    case GUMBO_TAG_SUMMARY:
    case GUMBO_TAG_TABLE:
    case GUMBO_TAG_TBODY:
    case GUMBO_TAG_TFOOT:
    case GUMBO_TAG_THEAD:
    case GUMBO_TAG_UL:
      return true;
    default:
      return false;
  }
}

int heading_level(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_H1:
      return 1;
    case GUMBO_TAG_H2:
      return 2;
    case GUMBO_TAG_H3:
      return 3;
    case GUMBO_TAG_H4:
      return 4;
    case GUMBO_TAG_H5:
      return 5;
    case GUMBO_TAG_H6:
      return 6;
    default:
      return 0;
  }
}

const char* attribute(const GumboElement& e, const char* name) {
  const GumboAttribute* a = gumbo_get_attribute(&e.attributes, name);
  return a ? a->value : nullptr;
}

bool is_hidden(const GumboElement& e) {
  if (attribute(e, "hidden")) return true;
  if (const char* v = attribute(e, "aria-hidden"); v && ascii_lower(v) == "true") return true;
  if (const char* v = attribute(e, "style")) {
    std::string style;
    for (char c : ascii_lower(v))
      if (c != ' ' && c != '\t' && c != '\n') style += c;
    if (style.find("display:none") != std::string::npos ||
        style.find("visibility:hidden") != std::string::npos)
      return true;
  }
  return false;
}

// Concatenated text below `node` (for <title>), whitespace collapsed.
std::string text_content(const GumboNode* node) {
  std::string out;
  std::vector<const GumboNode*> stack{node};
  while (!stack.empty()) {
    const GumboNode* n = stack.back();
    stack.pop_back();
    if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE || n->type == GUMBO_NODE_CDATA) {
      out += n->v.text.text;
      out += ' ';
    } else if (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE) {
      const GumboVector& ch = n->v.element.children;
      for (unsigned i = ch.length; i-- > 0;) stack.push_back(static_cast<const GumboNode*>(ch.data[i]));
    }
  }
  return collapse_whitespace(out);
}

// <title> and <meta> anywhere in the document (gumbo moves stray ones into head or body).
void read_head(const GumboNode* root, Document& doc) {
  std::vector<const GumboNode*> stack{root};
  while (!stack.empty()) {
    const GumboNode* n = stack.back();
    stack.pop_back();
    if (n->type == GUMBO_NODE_DOCUMENT) {
      const GumboVector& ch = n->v.document.children;
      for (unsigned i = ch.length; i-- > 0;) stack.push_back(static_cast<const GumboNode*>(ch.data[i]));
      continue;
    }
    if (n->type != GUMBO_NODE_ELEMENT) continue;
    const GumboElement& e = n->v.element;
    if (e.tag == GUMBO_TAG_TITLE && doc.title.empty()) {
      doc.title = text_content(n);
    } else if (e.tag == GUMBO_TAG_META) {
      const char* name = attribute(e, "name");
      const char* content = attribute(e, "content");
      if (name && content) {
        const std::string key = ascii_lower(name);
        const std::string value = collapse_whitespace(content);
        if ((key == "author" || key == "description" || key == "keywords") && !value.empty()) {
          doc.metadata[key] = value;
          if (key == "keywords") doc.metadata["tags"] = normalize_tag_list(value);
        }
      }
    } else if (e.tag == GUMBO_TAG_SVG || e.tag == GUMBO_TAG_SCRIPT || e.tag == GUMBO_TAG_STYLE) {
      continue;  // an <svg><title> is not the page's title
    }
    const GumboVector& ch = e.children;
    for (unsigned i = ch.length; i-- > 0;) stack.push_back(static_cast<const GumboNode*>(ch.data[i]));
  }
}

// Walks the tree without recursion (pages nest thousands deep) and feeds the builder.
void read_body(const GumboNode* root, TextBuilder& out) {
  struct Frame {
    const GumboNode* node;
    unsigned next_child;
  };
  std::vector<Frame> stack{{root, 0}};
  int pre_depth = 0;
  while (!stack.empty()) {
    Frame& f = stack.back();
    const GumboNode* n = f.node;
    if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_TEMPLATE && n->type != GUMBO_NODE_DOCUMENT) {
      if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE || n->type == GUMBO_NODE_CDATA)
        out.append(n->v.text.text, pre_depth > 0);
      stack.pop_back();
      continue;
    }
    const GumboVector& children =
        n->type == GUMBO_NODE_DOCUMENT ? n->v.document.children : n->v.element.children;
    const GumboTag tag = n->type == GUMBO_NODE_DOCUMENT ? GUMBO_TAG_UNKNOWN : n->v.element.tag;
    if (f.next_child == 0) {  // entering
      if (n->type == GUMBO_NODE_TEMPLATE || is_skipped_tag(tag) ||
          (n->type == GUMBO_NODE_ELEMENT && is_hidden(n->v.element))) {
        stack.pop_back();
        continue;
      }
      if (const int level = heading_level(tag))
        out.begin_heading(level);
      else if (is_block_tag(tag))
        out.paragraph_break();
      else if (tag == GUMBO_TAG_BR)
        out.line_break();
      else if (tag == GUMBO_TAG_TR)
        out.line_break();
      else if (tag == GUMBO_TAG_TD || tag == GUMBO_TAG_TH)
        out.cell_break();
      else if (tag == GUMBO_TAG_IMG || tag == GUMBO_TAG_INPUT || tag == GUMBO_TAG_WBR)
        out.space();
      if (tag == GUMBO_TAG_PRE || tag == GUMBO_TAG_LISTING || tag == GUMBO_TAG_XMP ||
          tag == GUMBO_TAG_PLAINTEXT)
        ++pre_depth;
    }
    if (f.next_child < children.length) {
      const auto* child = static_cast<const GumboNode*>(children.data[f.next_child++]);
      stack.push_back({child, 0});  // invalidates f
      continue;
    }
    // leaving
    if (heading_level(tag))
      out.end_heading();
    else if (is_block_tag(tag))
      out.paragraph_break();
    else if (tag == GUMBO_TAG_TR)
      out.line_break();
    else if (tag == GUMBO_TAG_TD || tag == GUMBO_TAG_TH)
      out.space();
    if (tag == GUMBO_TAG_PRE || tag == GUMBO_TAG_LISTING || tag == GUMBO_TAG_XMP ||
        tag == GUMBO_TAG_PLAINTEXT)
      --pre_depth;
    stack.pop_back();
  }
}

struct GumboOutputDeleter {
  void operator()(GumboOutput* o) const { gumbo_destroy_output(&kGumboDefaultOptions, o); }
};

}  // namespace

void extract_html(std::string_view bytes, const std::string& name, Document& doc) {
  if (bytes.size() > kMaxHtmlBytes)
    throw Error(ErrorKind::Unsupported, name + ": HTML file larger than 64 MiB is not supported");
  const std::string html = limit_html_nesting(to_utf8(bytes), kMaxNesting);
  GumboOptions options = kGumboDefaultOptions;
  options.max_errors = 0;  // we never look at parse errors; do not collect them
  std::unique_ptr<GumboOutput, GumboOutputDeleter> parsed(
      gumbo_parse_with_options(&options, html.data(), html.size()));
  if (!parsed) throw Error(ErrorKind::InvalidFormat, name + ": HTML could not be parsed");

  read_head(parsed->document, doc);
  TextBuilder builder;
  read_body(parsed->document, builder);
  builder.finish(doc);
  if (doc.title.empty())
    for (const auto& h : doc.headings)
      if (h.level == 1) {
        doc.title = h.title;
        break;
      }
}

}  // namespace xnai::rag::detail

// .docx (Office Open XML): the text of word/document.xml — every <w:t> run, paragraph by
// paragraph — read with the small zip reader and a tag scanner (WordprocessingML needs no
// full XML parser for text). Paragraphs styled as headings (style name "heading N" or an
// outline level in word/styles.xml) become headings; table cells are joined with " | ",
// rows with "\n"; deleted text (tracked changes) and field codes are skipped. Title, author
// and keywords come from docProps/core.xml (else the first "Title"-styled paragraph).
#include <cctype>
#include <map>
#include <vector>

#include "core/error.h"
#include "rag/loaders/loader_internal.h"

namespace xnai::rag::detail {
namespace {

constexpr size_t kMaxPartBytes = size_t{64} << 20;

struct Tag {
  std::string_view name;   // "w:p"
  std::string_view attrs;  // the text after the name
  bool closing = false;    // </w:p>
  bool self_closing = false;
};

// Calls on_tag(tag) for each element tag and on_text(text, in_order) for text between tags.
template <typename OnTag, typename OnText>
void scan_xml(std::string_view xml, OnTag on_tag, OnText on_text) {
  size_t pos = 0;
  while (pos < xml.size()) {
    const size_t lt = xml.find('<', pos);
    if (lt == std::string_view::npos) {
      on_text(xml.substr(pos));
      return;
    }
    if (lt > pos) on_text(xml.substr(pos, lt - pos));
    if (xml.compare(lt, 4, "<!--") == 0) {
      const size_t end = xml.find("-->", lt + 4);
      pos = end == std::string_view::npos ? xml.size() : end + 3;
      continue;
    }
    if (xml.compare(lt, 9, "<![CDATA[") == 0) {
      const size_t end = xml.find("]]>", lt + 9);
      const size_t stop = end == std::string_view::npos ? xml.size() : end;
      on_text(xml.substr(lt + 9, stop - lt - 9));  // raw: no entities inside
      pos = end == std::string_view::npos ? xml.size() : end + 3;
      continue;
    }
    const size_t gt = xml.find('>', lt);
    if (gt == std::string_view::npos) return;
    pos = gt + 1;
    std::string_view body = xml.substr(lt + 1, gt - lt - 1);
    if (body.empty() || body[0] == '?' || body[0] == '!') continue;
    Tag tag;
    if (body[0] == '/') {
      tag.closing = true;
      body.remove_prefix(1);
    }
    if (!body.empty() && body.back() == '/') {
      tag.self_closing = true;
      body.remove_suffix(1);
    }
    size_t n = 0;
    while (n < body.size() && !std::isspace(static_cast<unsigned char>(body[n]))) ++n;
    tag.name = body.substr(0, n);
    tag.attrs = body.substr(n);
    on_tag(tag);
  }
}

// Value of attribute `key` (e.g. "w:val") in a tag's attribute text, entity-decoded.
std::string decode_entities(std::string_view s);
std::string attr(std::string_view attrs, std::string_view key) {
  size_t pos = 0;
  while ((pos = attrs.find(key, pos)) != std::string_view::npos) {
    const bool starts = pos == 0 || std::isspace(static_cast<unsigned char>(attrs[pos - 1]));
    size_t i = pos + key.size();
    while (i < attrs.size() && std::isspace(static_cast<unsigned char>(attrs[i]))) ++i;
    if (starts && i < attrs.size() && attrs[i] == '=') {
      ++i;
      while (i < attrs.size() && std::isspace(static_cast<unsigned char>(attrs[i]))) ++i;
      if (i < attrs.size() && (attrs[i] == '"' || attrs[i] == '\'')) {
        const size_t end = attrs.find(attrs[i], i + 1);
        if (end == std::string_view::npos) return "";
        return decode_entities(attrs.substr(i + 1, end - i - 1));
      }
    }
    pos += key.size();
  }
  return "";
}

void append_code_point(uint32_t cp, std::string& out) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string decode_entities(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t amp = s.find('&', pos);
    if (amp == std::string_view::npos) {
      out.append(s.substr(pos));
      break;
    }
    out.append(s.substr(pos, amp - pos));
    const size_t semi = s.find(';', amp);
    if (semi == std::string_view::npos || semi - amp > 12) {
      out += '&';
      pos = amp + 1;
      continue;
    }
    const std::string_view ent = s.substr(amp + 1, semi - amp - 1);
    pos = semi + 1;
    if (ent == "lt")
      out += '<';
    else if (ent == "gt")
      out += '>';
    else if (ent == "amp")
      out += '&';
    else if (ent == "quot")
      out += '"';
    else if (ent == "apos")
      out += '\'';
    else if (ent.size() > 1 && ent[0] == '#') {
      const bool hex = ent[1] == 'x' || ent[1] == 'X';
      uint32_t cp = 0;
      bool ok = ent.size() > (hex ? 2u : 1u);
      for (size_t i = hex ? 2 : 1; i < ent.size() && ok; ++i) {
        const char c = ent[i];
        int d = -1;
        if (c >= '0' && c <= '9')
          d = c - '0';
        else if (hex && c >= 'a' && c <= 'f')
          d = c - 'a' + 10;
        else if (hex && c >= 'A' && c <= 'F')
          d = c - 'A' + 10;
        ok = d >= 0 && cp < 0x110000;
        cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
      }
      if (ok)
        append_code_point(cp, out);
      else
        out.append(s.substr(amp, semi - amp + 1));
    } else {
      out.append(s.substr(amp, semi - amp + 1));  // unknown entity: keep as written
    }
  }
  return out;
}

// styleId → heading level (1–9), or 0 for the "Title" style (-1 entries are plain styles).
std::map<std::string, int> heading_styles(std::string_view styles_xml) {
  std::map<std::string, int> out;
  std::string id;
  int level = -1;
  scan_xml(
      styles_xml,
      [&](const Tag& t) {
        if (t.name == "w:style" && !t.closing) {
          id = attr(t.attrs, "w:styleId");
          level = -1;
        } else if (t.name == "w:name" && !id.empty()) {
          const std::string n = ascii_lower(attr(t.attrs, "w:val"));
          if (n == "title")
            level = 0;
          else if (n.size() == 9 && n.compare(0, 8, "heading ") == 0 && n[8] >= '1' && n[8] <= '9')
            level = n[8] - '0';
        } else if (t.name == "w:outlineLvl" && !id.empty() && level < 0) {
          const std::string v = attr(t.attrs, "w:val");
          if (v.size() == 1 && v[0] >= '0' && v[0] <= '8') level = v[0] - '0' + 1;
        } else if (t.name == "w:style" && (t.closing || t.self_closing)) {
          if (!id.empty() && level >= 0) out[id] = level;
          id.clear();
        }
      },
      [](std::string_view) {});
  return out;
}

struct Paragraph {
  std::string text;  // "\n" marks a line break
  int level = -1;    // heading level, 0 = Title style, -1 = body
};

void read_core_properties(std::string_view xml, Document& doc) {
  std::string current;
  std::map<std::string, std::string> values;
  scan_xml(
      xml, [&](const Tag& t) { current = t.closing || t.self_closing ? "" : std::string(t.name); },
      [&](std::string_view text) {
        if (!current.empty()) values[current] += decode_entities(text);
      });
  if (auto it = values.find("dc:title"); it != values.end()) doc.title = it->second;
  if (auto it = values.find("dc:creator"); it != values.end() && !it->second.empty())
    doc.metadata["author"] = it->second;
  if (auto it = values.find("dc:subject"); it != values.end() && !it->second.empty())
    doc.metadata["subject"] = it->second;
  if (auto it = values.find("cp:keywords"); it != values.end() && !it->second.empty()) {
    doc.metadata["keywords"] = it->second;
    doc.metadata["tags"] = normalize_tag_list(it->second);  // Word separates keywords with ; or ,
  }
}

}  // namespace

void extract_docx(std::string_view bytes, const std::string& name, Document& doc) {
  const std::optional<std::string> body = read_zip_member(bytes, "word/document.xml", kMaxPartBytes, name);
  if (!body) throw Error(ErrorKind::InvalidFormat, name + ": not a valid .docx (no word/document.xml)");
  std::map<std::string, int> styles;
  if (auto s = read_zip_member(bytes, "word/styles.xml", kMaxPartBytes, name)) styles = heading_styles(*s);
  if (auto core = read_zip_member(bytes, "docProps/core.xml", kMaxPartBytes, name))
    read_core_properties(*core, doc);

  TextBuilder out;
  std::vector<Paragraph> open;  // paragraphs nest through text boxes
  int cell_depth = 0;           // inside a table cell, paragraphs are joined by spaces
  bool in_text = false;         // inside <w:t>
  std::string style_title;
  auto emit = [&](const Paragraph& p) {
    const bool heading = p.level > 0 && cell_depth == 0;
    if (heading)
      out.begin_heading(p.level);
    else if (cell_depth == 0)
      out.paragraph_break();
    else
      out.space();
    size_t pos = 0;
    while (pos <= p.text.size()) {
      size_t nl = p.text.find('\n', pos);
      if (nl == std::string::npos) nl = p.text.size();
      out.append(std::string_view(p.text).substr(pos, nl - pos));
      if (nl < p.text.size()) out.line_break();
      pos = nl + 1;
    }
    if (heading)
      out.end_heading();
    else if (cell_depth == 0)
      out.paragraph_break();
    if (p.level == 0 && style_title.empty()) style_title = collapse_whitespace(p.text);
  };
  scan_xml(
      *body,
      [&](const Tag& t) {
        const std::string_view n = t.name;
        if (n == "w:t") {
          in_text = !t.closing && !t.self_closing;
        } else if (n == "w:p") {
          if (!t.closing) open.push_back({});
          if (t.closing || t.self_closing) {
            if (!open.empty()) {
              const Paragraph p = std::move(open.back());
              open.pop_back();
              emit(p);
            }
          }
        } else if (open.empty()) {
          if (n == "w:tc") {
            if (t.closing)
              cell_depth = std::max(0, cell_depth - 1);
            else if (!t.self_closing) {
              if (cell_depth == 0) out.cell_break();
              ++cell_depth;
            }
          } else if (n == "w:tr" && !t.self_closing) {
            out.line_break();
          } else if (n == "w:tbl" && !t.self_closing) {
            out.paragraph_break();
          }
        } else if (n == "w:pStyle" && !t.closing) {
          const std::string id = attr(t.attrs, "w:val");
          if (auto it = styles.find(id); it != styles.end()) {
            open.back().level = it->second;
          } else {
            const std::string low = ascii_lower(id);
            if (low.size() == 8 && low.compare(0, 7, "heading") == 0 && low[7] >= '1' && low[7] <= '9')
              open.back().level = low[7] - '0';
          }
        } else if (n == "w:outlineLvl" && !t.closing && open.back().level < 0) {
          const std::string v = attr(t.attrs, "w:val");
          if (v.size() == 1 && v[0] >= '0' && v[0] <= '8') open.back().level = v[0] - '0' + 1;
        } else if ((n == "w:tab" || n == "w:ptab") && !t.closing) {
          open.back().text += ' ';
        } else if ((n == "w:br" || n == "w:cr") && !t.closing) {
          open.back().text += '\n';
        }
      },
      [&](std::string_view text) {
        if (in_text && !open.empty()) open.back().text += decode_entities(text);
      });
  for (auto& p : open) emit(p);  // unclosed paragraphs of a truncated part
  out.finish(doc);
  if (doc.title.empty()) doc.title = style_title;
}

}  // namespace xnai::rag::detail

// Loaders: every format on small files made here (PDFs with enscript | ps2pdf and
// ghostscript), bad files reported by name, and find_documents on a tree with hidden,
// unsupported and looping entries.
#include "rag/loaders.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "rag/chunker.h"

namespace xnai::rag {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "xnai-loaders-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& rel) const { return (path_ / rel).string(); }
  std::string write(const std::string& rel, std::string_view bytes) const {
    const fs::path p = path_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p.string();
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

bool have_tool(const char* name) {
  return std::system((std::string("command -v ") + name + " >/dev/null 2>&1").c_str()) == 0;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// True when `s` is well-formed UTF-8 without C0 controls other than \t and \n.
bool is_clean_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      if ((b < 0x20 && b != '\t' && b != '\n') || b == 0x7F) return false;
      ++i;
      continue;
    }
    size_t n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 ? 2 : 0;
    if (n == 0 || b > 0xF4 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

// The structure invariants loaders.h promises.
void expect_well_formed(const Document& d) {
  EXPECT_TRUE(is_clean_utf8(d.text));
  const auto n = static_cast<int64_t>(d.text.size());
  auto on_boundary = [&](int64_t p) {
    return p >= 0 && p <= n &&
           (p == n || (static_cast<unsigned char>(d.text[static_cast<size_t>(p)]) & 0xC0) != 0x80);
  };
  int64_t prev_end = 0;
  for (const auto& p : d.pages) {
    EXPECT_TRUE(on_boundary(p.begin) && on_boundary(p.end) && p.begin <= p.end) << p.page;
    EXPECT_GE(p.begin, prev_end);
    prev_end = p.end;
  }
  for (size_t i = 0; i < d.headings.size(); ++i) {
    EXPECT_TRUE(on_boundary(d.headings[i].begin));
    if (i) {
      EXPECT_LE(d.headings[i - 1].begin, d.headings[i].begin);
    }
  }
  for (size_t i = 0; i < d.paragraph_starts.size(); ++i) {
    EXPECT_TRUE(on_boundary(d.paragraph_starts[i]));
    if (i) {
      EXPECT_LT(d.paragraph_starts[i - 1], d.paragraph_starts[i]);
    }
  }
}

// Expects load_document(path) to throw an Error of `kind` whose message names the file and
// contains `what`.
void expect_load_error(const std::string& path, ErrorKind kind, const std::string& what) {
  try {
    load_document(path);
    ADD_FAILURE() << path << ": loaded, expected an error containing '" << what << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_THAT(e.what(), HasSubstr(path));
    EXPECT_THAT(e.what(), HasSubstr(what));
  }
  const LoadResult r = try_load_document(path);
  EXPECT_FALSE(r.document.has_value());
  EXPECT_THAT(r.error, HasSubstr(path));
}

// --- .txt ---------------------------------------------------------------------------------

TEST(TextLoader, NormalisesNewlinesAndRepairsUtf8) {
  TempDir dir;
  const std::string bytes =
      "\xEF\xBB\xBF"                 // BOM: dropped
      "Hello\r\nworld\r\n\r\n"       // CRLF
      "Second\rpara\x01graph\n\n\n"  // lone CR, a control (dropped)
      "bad:\xFF|\xC3|\xC0\xAF|\xED\xA0\x80|\xF4\x90\x80\x80|caf\xC3\xA9\n"
      "cut:\xE2\x82";  // truncated sequence at the end
  const std::string path = dir.write("notes.txt", bytes);
  const Document d = load_document(path);
  const std::string R = "\xEF\xBF\xBD";
  EXPECT_EQ(d.text, "Hello\nworld\n\nSecond\nparagraph\n\n\nbad:" + R + "|" + R + "|" + R + R + "|" + R + R +
                        R + "|" + R + R + R + R + "|caf\xC3\xA9\ncut:" + R);
  EXPECT_EQ(d.type, "txt");
  EXPECT_EQ(d.title, "notes.txt");
  EXPECT_EQ(d.source_path, fs::absolute(path).lexically_normal().string());
  EXPECT_EQ(d.paragraph_starts, (std::vector<int64_t>{0, 13, 32}));
  EXPECT_TRUE(d.pages.empty());
  EXPECT_TRUE(d.headings.empty());
  expect_well_formed(d);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(d.mtime, static_cast<int64_t>(st.st_mtime));
}

TEST(TextLoader, HashesAndIdsAreSha256) {
  TempDir dir;
  const std::string path = dir.write("abc.txt", "abc");
  const Document d = load_document(path);
  // sha256("abc"), FIPS 180-2 appendix B.1.
  EXPECT_EQ(d.content_hash, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(d.id.size(), 64u);
  EXPECT_EQ(load_document(path).id, d.id);  // stable
  const Document other = load_document(dir.write("abd.txt", "abc"));
  EXPECT_EQ(other.content_hash, d.content_hash);
  EXPECT_NE(other.id, d.id);  // id follows the path, hash the bytes
}

TEST(TextLoader, EmptyFileGivesAnEmptyDocumentAndNoChunks) {
  TempDir dir;
  const Document d = load_document(dir.write("empty.txt", ""));
  EXPECT_EQ(d.text, "");
  EXPECT_TRUE(chunk_document(d).empty());
  const Document ws = load_document(dir.write("blank.txt", " \n\t\n  "));
  EXPECT_TRUE(chunk_document(ws).empty());
}

// --- .md ----------------------------------------------------------------------------------

TEST(MarkdownLoader, HeadingsParagraphsAndFrontMatter) {
  TempDir dir;
  const std::string md =
      "---\n"
      "title: \"The Guide\"\n"
      "tags: [setup, linux]\n"
      "author: Ada\n"
      "---\n"
      "# Guide #\n"
      "\n"
      "Intro text\n"
      "continues here.\n"
      "\n"
      "## Install\n"
      "- first item\n"
      "- second item\n"
      "\n"
      "```sh\n"
      "# not a heading\n"
      "\n"
      "make install\n"
      "```\n"
      "Setext title\n"
      "============\n"
      "\n"
      "###### Six\n"
      "####### seven is no heading\n"
      "#hashtag is no heading\n";
  const Document d = load_document(dir.write("guide.md", md));
  EXPECT_EQ(d.type, "md");
  EXPECT_EQ(d.title, "The Guide");
  EXPECT_EQ(d.metadata.at("tags"), "setup,linux");
  EXPECT_EQ(d.metadata.at("author"), "Ada");
  EXPECT_EQ(d.text, md.substr(md.find("# Guide")));  // syntax kept, front matter gone
  ASSERT_EQ(d.headings.size(), 4u);
  const std::vector<std::pair<int, std::string>> expected = {
      {1, "Guide"}, {2, "Install"}, {1, "Setext title"}, {6, "Six"}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(d.headings[i].level, expected[i].first);
    EXPECT_EQ(d.headings[i].title, expected[i].second);
  }
  EXPECT_EQ(d.text.substr(static_cast<size_t>(d.headings[1].begin), 10), "## Install");
  EXPECT_EQ(d.text.substr(static_cast<size_t>(d.headings[2].begin), 12), "Setext title");
  // Paragraphs: headings, the intro, both list items, the fence, the setext heading, "Six",
  // and the line after it (a heading ends its paragraph).
  std::vector<std::string> starts;
  for (int64_t p : d.paragraph_starts) starts.push_back(d.text.substr(static_cast<size_t>(p), 8));
  EXPECT_EQ(starts, (std::vector<std::string>{"# Guide ", "Intro te", "## Insta", "- first ", "- second",
                                              "```sh\n# ", "Setext t", "###### S", "####### "}));
  expect_well_formed(d);
}

TEST(MarkdownLoader, HeadingPathsInChunks) {
  const std::string md =
      "# Guide\n\n## Install\n\n### Linux\n\nRun the installer. It takes a minute.\n\n"
      "## Use\n\nStart it with the command.\n";
  const Document d = parse_document(md, "md", "guide.md");
  const std::vector<Chunk> chunks = chunk_document(d);
  ASSERT_EQ(chunks.size(), 2u);
  // "# Guide" and "## Install" hold nothing of their own: they join the section below.
  EXPECT_EQ(chunks[0].heading_path, "Guide > Install > Linux");
  EXPECT_EQ(chunks[0].text, "# Guide\n\n## Install\n\n### Linux\n\nRun the installer. It takes a minute.");
  EXPECT_EQ(chunks[1].heading_path, "Guide > Use");
  EXPECT_EQ(chunks[1].text, "## Use\n\nStart it with the command.");
}

// --- .html --------------------------------------------------------------------------------

TEST(HtmlLoader, VisibleTextBlocksHeadingsAndEntities) {
  TempDir dir;
  const std::string html =
      "<!DOCTYPE html><html><head><title>  My &amp; Page </title>"
      "<meta name=\"author\" content=\"Ada Lovelace\"><meta name=keywords content=\"a, b ,c\">"
      "<style>body { color: red }</style><script>var x = '<p>not text</p>';</script></head>"
      "<body><nav><a href=/>Home</a> | <a href=/x>Menu</a></nav>"
      "<h1>Main   Title</h1>"
      "<div><p>One &lt;two&gt; &eacute;t&eacute;&nbsp;&#x263A;</p><div><p>Nested <b>bold</b> "
      "text</p></div></div>"
      "<noscript>enable js</noscript><template><p>template text</p></template>"
      "<p>Line<br>break</p>"
      "<h2>Table</h2><table><tr><th>k</th><th>v</th></tr><tr><td>a</td><td>1</td></tr></table>"
      "<pre>  code\n    indented</pre>"
      "<p hidden>hidden text</p><p style=\"display: none\">also hidden</p>"
      "<p>unclosed <b>bold <i>both</b> after</i>"
      "<ul><li>x<li>y</ul>"
      "</body></html>";
  const Document d = load_document(dir.write("page.html", html));
  EXPECT_EQ(d.type, "html");
  EXPECT_EQ(d.title, "My & Page");
  EXPECT_EQ(d.metadata.at("author"), "Ada Lovelace");
  EXPECT_EQ(d.metadata.at("tags"), "a,b,c");
  EXPECT_EQ(d.text,
            "Main Title\n\n"
            "One <two> \xC3\xA9t\xC3\xA9 \xE2\x98\xBA\n\n"
            "Nested bold text\n\n"
            "Line\nbreak\n\n"
            "Table\n\n"
            "k | v\na | 1\n\n"
            "code\n    indented\n\n"
            "unclosed bold both after\n\n"
            "x\n\ny");
  ASSERT_EQ(d.headings.size(), 2u);
  EXPECT_EQ(d.headings[0].level, 1);
  EXPECT_EQ(d.headings[0].title, "Main Title");
  EXPECT_EQ(d.headings[0].begin, 0);
  EXPECT_EQ(d.headings[1].level, 2);
  EXPECT_EQ(d.headings[1].title, "Table");
  EXPECT_EQ(d.text.substr(static_cast<size_t>(d.headings[1].begin), 5), "Table");
  std::vector<std::string> starts;
  for (int64_t p : d.paragraph_starts) starts.push_back(d.text.substr(static_cast<size_t>(p), 4));
  EXPECT_EQ(starts, (std::vector<std::string>{"Main", "One ", "Nest", "Line", "Tabl", "k | ", "code", "uncl",
                                              "x\n\ny", "y"}));
  expect_well_formed(d);
}

TEST(HtmlLoader, DeclaredLegacyCharsetAndBrokenMarkup) {
  TempDir dir;
  const Document latin = load_document(dir.write(
      "latin.htm", "<html><head><meta charset=\"windows-1252\"></head><body><p>caf\xE9 \x93quoted\x94</p>"));
  EXPECT_EQ(latin.text, "caf\xC3\xA9 \xE2\x80\x9Cquoted\xE2\x80\x9D");
  // Undeclared and not UTF-8: read as windows-1252, like browsers.
  EXPECT_EQ(load_document(dir.write("undeclared.html", "<p>na\xEFve</p>")).text, "na\xC3\xAFve");
  // Tag soup never throws; text survives.
  const Document soup =
      load_document(dir.write("soup.html", "<<p>>a<//b><div <p>b</td></tr></table>c<!-- x"));
  EXPECT_THAT(soup.text, HasSubstr("a"));
  expect_well_formed(soup);
  // Title falls back to the first h1, then to the file name.
  EXPECT_EQ(load_document(dir.write("h.html", "<h1>Heading One</h1><p>x")).title, "Heading One");
  EXPECT_EQ(load_document(dir.write("none.html", "<p>x")).title, "none.html");
}

TEST(HtmlLoader, PathologicalNestingLoadsQuickly) {
  // Unguarded, gumbo needs 11 s for 20000 nested <div>s and minutes for more.
  struct Case {
    std::string open;
    int repeat;
  };
  for (const Case& c : {Case{"<div>", 300000}, Case{"<div><span>", 100000}, Case{"<b id=x>", 100000},
                        Case{"<table><tr><td>", 50000}, Case{"<p>w ", 200000}}) {
    std::string html;
    for (int i = 0; i < c.repeat; ++i) html += c.open;
    html += "deep end";
    const auto t0 = std::chrono::steady_clock::now();
    const Document d = parse_document(html, "html", "deep.html");
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(s, 20.0) << c.open;
    EXPECT_EQ(d.text.substr(d.text.size() - 8), "deep end") << c.open;
    std::printf("[ measure  ] %d x %s: %.2f s, %zu bytes of text\n", c.repeat, c.open.c_str(), s,
                d.text.size());
  }
  // Ordinary nesting is untouched: 400 levels keep every paragraph break.
  std::string html;
  for (int i = 0; i < 400; ++i) html += "<div><p>p" + std::to_string(i) + "</p>";
  EXPECT_EQ(parse_document(html, "html", "n.html").paragraph_starts.size(), 400u);
}

// --- .pdf ---------------------------------------------------------------------------------

class PdfLoader : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_tool("enscript") || !have_tool("ps2pdf") || !have_tool("gs"))
      GTEST_SKIP() << "enscript/ps2pdf/gs not installed (apt-get install enscript ghostscript)";
  }
  // A PDF from plain text: a form feed starts a new page.
  std::string make_pdf(const std::string& name, const std::string& text,
                       const std::string& enscript_flags = "") {
    const std::string txt = dir_.write(name + ".src", text);
    const std::string pdf = dir_.file(name);
    const std::string cmd =
        "enscript -q -B " + enscript_flags + " -p - '" + txt + "' | ps2pdf - '" + pdf + "' >/dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return pdf;
  }
  TempDir dir_;
};

TEST_F(PdfLoader, ThreePagesWithTheirRangesAndChunkPages) {
  const std::string pdf = make_pdf("three.pdf",
                                   "Alpha page one. The first page talks about apples.\n"
                                   "\f"
                                   "Beta page two. The second page talks about bananas.\n"
                                   "\f"
                                   "Gamma page three. The third page talks about cherries.\n",
                                   "-t 'Fruit Report'");
  const Document d = load_document(pdf);
  EXPECT_EQ(d.type, "pdf");
  EXPECT_EQ(d.title, "Fruit Report");
  ASSERT_EQ(d.pages.size(), 3u);
  const char* words[3] = {"apples", "bananas", "cherries"};
  for (int i = 0; i < 3; ++i) {
    const PageSpan& p = d.pages[static_cast<size_t>(i)];
    EXPECT_EQ(p.page, i + 1);
    const std::string page_text =
        d.text.substr(static_cast<size_t>(p.begin), static_cast<size_t>(p.end - p.begin));
    for (int j = 0; j < 3; ++j)
      EXPECT_EQ(page_text.find(words[j]) != std::string::npos, i == j)
          << "page " << i + 1 << ": " << page_text;
  }
  expect_well_formed(d);

  // One chunk per sentence: each sits on the page its word is on.
  ChunkerOptions small;
  small.max_tokens = 12;
  small.overlap_tokens = 0;
  const std::vector<Chunk> chunks = chunk_document(d, small);
  ASSERT_GE(chunks.size(), 6u);
  for (const Chunk& c : chunks) {
    EXPECT_EQ(c.page_first, c.page_last) << c.text;
    for (int j = 0; j < 3; ++j)
      if (c.text.find(words[j]) != std::string::npos) {
        EXPECT_EQ(c.page_first, j + 1) << c.text;
      }
  }
  // One chunk for everything spans pages 1–3.
  const std::vector<Chunk> whole = chunk_document(d);
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0].page_first, 1);
  EXPECT_EQ(whole[0].page_last, 3);
}

TEST_F(PdfLoader, TwoColumnPageReadsColumnByColumn) {
  std::string text;
  for (int i = 0; i < 120; ++i)
    text.append("line marker L").append(std::to_string(1000 + i)).append(" of the text\n");
  const Document d = load_document(make_pdf("twocol.pdf", text, "-2 -r"));
  size_t last = 0;
  for (int i = 0; i < 120; ++i) {
    const size_t at = d.text.find(std::string(1, 'L').append(std::to_string(1000 + i)));
    ASSERT_NE(at, std::string::npos) << i;
    EXPECT_GT(at + 1, last) << "line " << i << " out of reading order";
    last = at + 1;
  }
}

TEST_F(PdfLoader, EncryptedPdfIsReportedByName) {
  const std::string plain = make_pdf("plain.pdf", "Secret alpha text.\n");
  const std::string locked = dir_.file("locked.pdf");
  const std::string owner_only = dir_.file("owner-only.pdf");
  ASSERT_EQ(
      std::system(
          ("gs -q -dNOPAUSE -dBATCH -sDEVICE=pdfwrite -sOwnerPassword=x -sUserPassword=y -sOutputFile='" +
           locked + "' '" + plain + "' >/dev/null 2>&1")
              .c_str()),
      0);
  ASSERT_EQ(std::system(("gs -q -dNOPAUSE -dBATCH -sDEVICE=pdfwrite -sOwnerPassword=x -sOutputFile='" +
                         owner_only + "' '" + plain + "' >/dev/null 2>&1")
                            .c_str()),
            0);
  expect_load_error(locked, ErrorKind::Unsupported, "PDF is encrypted");
  // Only an owner password (no password to open it): readable.
  EXPECT_THAT(load_document(owner_only).text, HasSubstr("Secret alpha text."));
}

TEST_F(PdfLoader, BrokenPdfIsReportedByName) {
  const std::string good = read_all(make_pdf("good.pdf", "Some text.\n"));
  expect_load_error(dir_.write("truncated.pdf", good.substr(0, 600)), ErrorKind::InvalidFormat,
                    "not a valid PDF");
  expect_load_error(dir_.write("garbage.pdf", "this is not a pdf at all"), ErrorKind::InvalidFormat,
                    "not a valid PDF");
  expect_load_error(dir_.write("empty.pdf", ""), ErrorKind::InvalidFormat, "not a valid PDF");
  std::mt19937 rng(7);
  std::string noise = "%PDF-1.4\n";
  for (int i = 0; i < 5000; ++i) noise += static_cast<char>(rng());
  expect_load_error(dir_.write("noise.pdf", noise), ErrorKind::InvalidFormat, "not a valid PDF");
}

// --- .docx --------------------------------------------------------------------------------

// A minimal zip writer for test fixtures (stored or raw-deflated members).
std::string make_zip(const std::vector<std::pair<std::string, std::string>>& members, bool compress) {
  auto u16 = [](std::string& s, uint32_t v) {
    s += static_cast<char>(v & 0xFF);
    s += static_cast<char>((v >> 8) & 0xFF);
  };
  auto u32 = [&](std::string& s, uint32_t v) {
    u16(s, v & 0xFFFF);
    u16(s, v >> 16);
  };
  std::string out, cd;
  for (const auto& [name, data] : members) {
    std::string payload = data;
    if (compress) {
      z_stream z{};
      deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
      payload.assign(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
      z.avail_in = static_cast<uInt>(data.size());
      z.next_out = reinterpret_cast<Bytef*>(payload.data());
      z.avail_out = static_cast<uInt>(payload.size());
      deflate(&z, Z_FINISH);
      payload.resize(z.total_out);
      deflateEnd(&z);
    }
    const auto crc = static_cast<uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
    const auto offset = static_cast<uint32_t>(out.size());
    const uint32_t method = compress ? 8 : 0;
    u32(out, 0x04034b50);
    u16(out, 20);
    u16(out, 0);
    u16(out, method);
    u16(out, 0);
    u16(out, 0);
    u32(out, crc);
    u32(out, static_cast<uint32_t>(payload.size()));
    u32(out, static_cast<uint32_t>(data.size()));
    u16(out, static_cast<uint32_t>(name.size()));
    u16(out, 0);
    out += name;
    out += payload;
    u32(cd, 0x02014b50);
    u16(cd, 20);
    u16(cd, 20);
    u16(cd, 0);
    u16(cd, method);
    u16(cd, 0);
    u16(cd, 0);
    u32(cd, crc);
    u32(cd, static_cast<uint32_t>(payload.size()));
    u32(cd, static_cast<uint32_t>(data.size()));
    u16(cd, static_cast<uint32_t>(name.size()));
    u16(cd, 0);
    u16(cd, 0);
    u16(cd, 0);
    u16(cd, 0);
    u32(cd, 0);
    u32(cd, offset);
    cd += name;
  }
  const auto cd_offset = static_cast<uint32_t>(out.size());
  out += cd;
  u32(out, 0x06054b50);
  u16(out, 0);
  u16(out, 0);
  u16(out, static_cast<uint32_t>(members.size()));
  u16(out, static_cast<uint32_t>(members.size()));
  u32(out, static_cast<uint32_t>(cd.size()));
  u32(out, cd_offset);
  u16(out, 0);
  return out;
}

const char* kDocxBody =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
    "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>"
    "<w:p><w:pPr><w:pStyle w:val=\"Titel\"/></w:pPr><w:r><w:t>Annual Report</w:t></w:r></w:p>"
    "<w:p><w:pPr><w:pStyle w:val=\"berschrift1\"/></w:pPr><w:r><w:t>Overview</w:t></w:r></w:p>"
    "<w:p><w:r><w:t xml:space=\"preserve\">Sales grew "
    "</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>12%</w:t></w:r>"
    "<w:r><w:delText>deleted</w:delText></w:r><w:r><w:t xml:space=\"preserve\"> &amp; costs fell.</w:t></w:r>"
    "<w:r><w:br/><w:t>Next line</w:t><w:tab/><w:t>tabbed</w:t></w:r></w:p>"
    "<w:p><w:pPr><w:pStyle w:val=\"Heading2\"/></w:pPr><w:r><w:t>Numbers</w:t></w:r></w:p>"
    "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Q1</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>10</w:t></w:r></w:p></"
    "w:tc></w:tr>"
    "<w:tr><w:tc><w:p><w:r><w:t>Q2</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>&#233;12</w:t></w:r></w:p></"
    "w:tc></w:tr></w:tbl>"
    "<w:p><w:r><w:fldChar w:fldCharType=\"begin\"/><w:instrText>PAGE</w:instrText><w:t>End.</w:t></w:r></w:p>"
    "</w:body></w:document>";

const char* kDocxStyles =
    "<w:styles xmlns:w=\"x\">"
    "<w:style w:type=\"paragraph\" w:styleId=\"Titel\"><w:name w:val=\"Title\"/></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"berschrift1\"><w:name w:val=\"heading 1\"/>"
    "<w:pPr><w:outlineLvl w:val=\"0\"/></w:pPr></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/></w:style>"
    "</w:styles>";

const char* kDocxCore =
    "<cp:coreProperties xmlns:cp=\"c\" xmlns:dc=\"d\"><dc:title>Report 2024</dc:title>"
    "<dc:creator>Grace Hopper</dc:creator><cp:keywords>finance; yearly</cp:keywords></cp:coreProperties>";

TEST(DocxLoader, ParagraphsHeadingsTablesAndProperties) {
  TempDir dir;
  for (bool deflate : {false, true}) {
    const std::string path =
        dir.write(deflate ? "deflated.docx" : "stored.docx", make_zip({{"[Content_Types].xml", "<Types/>"},
                                                                       {"word/document.xml", kDocxBody},
                                                                       {"word/styles.xml", kDocxStyles},
                                                                       {"docProps/core.xml", kDocxCore}},
                                                                      deflate));
    const Document d = load_document(path);
    EXPECT_EQ(d.type, "docx");
    EXPECT_EQ(d.title, "Report 2024");
    EXPECT_EQ(d.metadata.at("author"), "Grace Hopper");
    EXPECT_EQ(d.metadata.at("tags"), "finance,yearly");
    EXPECT_EQ(d.text,
              "Annual Report\n\nOverview\n\nSales grew 12% & costs fell.\nNext line tabbed\n\nNumbers\n\n"
              "Q1 | 10\nQ2 | \xC3\xA9"
              "12\n\nEnd.");
    ASSERT_EQ(d.headings.size(), 2u);
    EXPECT_EQ(d.headings[0].title, "Overview");
    EXPECT_EQ(d.headings[0].level, 1);
    EXPECT_EQ(d.headings[1].title, "Numbers");
    EXPECT_EQ(d.headings[1].level, 2);
    expect_well_formed(d);
  }
}

TEST(DocxLoader, BrokenArchivesAreReportedByName) {
  TempDir dir;
  expect_load_error(dir.write("junk.docx", "PK\x03\x04 not really a zip"), ErrorKind::InvalidFormat,
                    "not a valid .docx");
  expect_load_error(dir.write("nodoc.docx", make_zip({{"other.xml", "<x/>"}}, true)),
                    ErrorKind::InvalidFormat, "no word/document.xml");
  std::string zip = make_zip({{"word/document.xml", kDocxBody}}, true);
  zip[60] ^= 0x55;  // corrupt the deflate stream
  const LoadResult r = try_load_document(dir.write("corrupt.docx", zip));
  if (!r.document) {
    EXPECT_THAT(r.error, HasSubstr("corrupt.docx"));
  }
}

// --- dispatch, errors, robustness --------------------------------------------------------

TEST(LoadDocument, DispatchAndFileErrors) {
  TempDir dir;
  EXPECT_TRUE(is_supported_document("a/b/Report.PDF"));
  EXPECT_TRUE(is_supported_document("x.markdown"));
  EXPECT_TRUE(is_supported_document("x.htm"));
  EXPECT_FALSE(is_supported_document("x.jpg"));
  EXPECT_FALSE(is_supported_document("README"));

  expect_load_error(dir.file("missing.txt"), ErrorKind::NotFound, "no such file");
  fs::create_directories(dir.file("folder.txt"));
  expect_load_error(dir.file("folder.txt"), ErrorKind::Io, "is a directory");
  expect_load_error(dir.write("photo.jpg", std::string("\xFF\xD8\xFF\xE0\0\x10JFIF", 10)),
                    ErrorKind::Unsupported, "unsupported file type '.jpg'");
  expect_load_error(dir.write("blob", std::string("\0\1\2\3", 4)), ErrorKind::Unsupported,
                    "unsupported file type");

  // No extension: recognised by content.
  EXPECT_EQ(load_document(dir.write("README", "Plain words.\n")).type, "txt");
  EXPECT_EQ(load_document(dir.write("page", "<!doctype html><p>Hi</p>")).type, "html");
  EXPECT_THROW(parse_document("x", "rtf", "x.rtf"), Error);
  if (::geteuid() != 0) {  // root reads anything
    const std::string secret = dir.write("secret.txt", "x");
    ::chmod(secret.c_str(), 0);
    expect_load_error(secret, ErrorKind::Io, "cannot");
  }
}

TEST(LoadDocument, RandomBytesNeverCrashAnyLoader) {
  std::mt19937 rng(1234);
  const std::vector<std::string> types = {"txt", "md", "html", "pdf", "docx"};
  const std::string alphabet = "<>/=\"'&;# \n\r\t-*`abcPK%\x03\x04\xC3\xA9\xFF\x80";
  int loaded = 0, errors = 0;
  for (int i = 0; i < 300; ++i) {
    std::string bytes;
    const int n = static_cast<int>(rng() % 400);
    for (int k = 0; k < n; ++k) bytes += alphabet[rng() % alphabet.size()];
    if (i % 5 == 3) bytes = "%PDF-1.4\n" + bytes;
    for (const auto& type : types) {
      try {
        const Document d = parse_document(bytes, type, "random." + type);
        expect_well_formed(d);
        ++loaded;
      } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("random." + type));
        ++errors;
      }
    }
  }
  EXPECT_GT(loaded, 0);
  EXPECT_GT(errors, 0);
}

// --- find_documents -----------------------------------------------------------------------

TEST(FindDocuments, SortedRecursiveSkipsHiddenUnsupportedAndLoops) {
  TempDir dir;
  dir.write("b.md", "b");
  dir.write("a.txt", "a");
  dir.write("Z.PDF", "%PDF");
  dir.write("photo.jpg", "x");
  dir.write(".hidden.txt", "x");
  dir.write(".git/config.txt", "x");
  dir.write("~$locked.docx", "x");
  dir.write("sub/c.html", "c");
  dir.write("sub/deeper/d.docx", "d");
  dir.write("sub/notes.csv", "x");
  fs::create_directory_symlink(dir.path(), dir.path() / "sub" / "loop");      // back to the root
  fs::create_symlink(dir.path() / "a.txt", dir.path() / "sub" / "same.txt");  // a second name for a.txt
  fs::create_symlink(dir.path() / "gone.txt", dir.path() / "sub" / "dangling.txt");
  const std::string root = dir.path().string();
  const std::vector<std::string> found = find_documents({root});
  EXPECT_EQ(found, (std::vector<std::string>{root + "/Z.PDF", root + "/a.txt", root + "/b.md",
                                             root + "/sub/c.html", root + "/sub/deeper/d.docx"}));
  // Named explicitly: kept as given (hidden, unsupported, missing), duplicates once.
  const std::vector<std::string> named =
      find_documents({dir.file(".hidden.txt"), dir.file("photo.jpg"), dir.file("nope.txt"), dir.file("a.txt"),
                      root + "/sub"});
  EXPECT_EQ(named,
            (std::vector<std::string>{dir.file(".hidden.txt"), dir.file("photo.jpg"), dir.file("nope.txt"),
                                      dir.file("a.txt"), root + "/sub/c.html", root + "/sub/deeper/d.docx"}));
}

}  // namespace
}  // namespace xnai::rag

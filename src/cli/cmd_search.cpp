// `xnai search "QUERY"`: ranked chunks from the document store — score, file, page, byte
// span, heading and a snippet per hit, or JSON with --json.
#include <cctype>
#include <cstdio>

#include "cli/rag_options.h"
#include "core/error.h"
#include "rag/retriever.h"

namespace xnai::cli {
namespace {

std::vector<OptionSpec> search_specs() {
  std::vector<OptionSpec> s = rag_store_option_specs();
  for (auto& o : retrieval_option_specs(10)) s.push_back(o);
  s.push_back(
      {"--threads", "-t", true, "CPU threads of the embedding model (default: physical cores)", "N_THREADS"});
  return s;
}

std::string lower_ascii(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// About `width` bytes of the chunk around the first query word it contains, white space
// collapsed, cut on UTF-8 boundaries.
std::string snippet(const std::string& text, const std::string& query, size_t width = 220) {
  const std::string lt = lower_ascii(text);
  size_t at = std::string::npos;
  size_t start = 0;
  const std::string lq = lower_ascii(query);
  while (start < lq.size()) {
    while (start < lq.size() && !std::isalnum(static_cast<unsigned char>(lq[start])) &&
           static_cast<unsigned char>(lq[start]) < 0x80)
      ++start;
    size_t end = start;
    while (end < lq.size() &&
           (std::isalnum(static_cast<unsigned char>(lq[end])) || static_cast<unsigned char>(lq[end]) >= 0x80))
      ++end;
    if (end - start >= 3) at = std::min(at, lt.find(lq.substr(start, end - start)));
    start = end;
  }
  size_t b = (at == std::string::npos || at < width / 3) ? 0 : at - width / 3;
  size_t e = std::min(text.size(), b + width);
  auto is_cont = [&](size_t i) {
    return i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80;
  };
  while (b > 0 && is_cont(b)) --b;
  while (e < text.size() && is_cont(e)) ++e;
  std::string out;
  bool space = false;
  for (size_t i = b; i < e; ++i) {
    const char c = text[i];
    if (c == ' ' || c == '\n' || c == '\t' || c == '\f' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return (b > 0 ? "…" : "") + out + (e < text.size() ? "…" : "");
}

}  // namespace

int run_search(const std::vector<std::string>& argv) {
  Args args("search", search_specs());
  args.parse(argv);
  if (args.has("--help")) {
    std::printf("usage: xnai search \"QUERY\" [-k N] [--filter EXPR] [--threshold X] [--json]\n%s",
                args.usage().c_str());
    return 0;
  }
  if (args.positionals().size() != 1)
    throw Error(ErrorKind::InvalidArgument, "search: give the query as one argument (quote it)");
  const std::string& query = args.positionals()[0];
  const bool json = args.has("--json");
  rag::RetrieveOptions opts = retrieve_options(args, 10);

  auto store = open_rag_store(args);
  auto embedder = load_embedder(args);
  std::string note;
  opts.mode = rag::plan_retrieval(*store, embedder.get(), opts.mode, &note);
  const rag::RetrieveResult r = rag::retrieve(*store, embedder.get(), query, opts);

  if (json) {
    nlohmann::ordered_json j;
    j["query"] = query;
    j["mode"] = rag::retrieval_mode_name(r.mode);
    j["hits"] = nlohmann::ordered_json::array();
    for (size_t i = 0; i < r.hits.size(); ++i)
      j["hits"].push_back(hit_json(r.hits[i], static_cast<int>(i) + 1));
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  if (!note.empty() && !json) std::fprintf(stderr, "note: %s\n", note.c_str());
  if (r.hits.empty()) {
    std::printf("no results for \"%s\"", query.c_str());
    if (store->stats().n_chunks == 0)
      std::printf(" (the store at %s is empty: run 'xnai ingest PATH' first)", rag_data_dir(args).c_str());
    std::printf("\n");
    return 0;
  }
  for (size_t i = 0; i < r.hits.size(); ++i) {
    const auto& h = r.hits[i];
    const auto& c = h.hit.chunk;
    std::printf("%2zu. %.4f  %s", i + 1, h.score, h.hit.document.source_path.c_str());
    const std::string pages = page_label(c.page_first, c.page_last);
    if (!pages.empty()) std::printf("  %s", pages.c_str());
    std::printf("  [%lld, %lld)", static_cast<long long>(c.begin), static_cast<long long>(c.end));
    if (!c.heading_path.empty()) std::printf("  § %s", c.heading_path.c_str());
    std::printf("\n    %s\n", snippet(c.text, query).c_str());
  }
  return 0;
}

}  // namespace xnai::cli

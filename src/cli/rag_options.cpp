#include "cli/rag_options.h"

#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "hub/hub.h"
#include "rag/filter_parse.h"
#include "runtime/bert_embedder.h"

namespace xnai::cli {

std::vector<OptionSpec> rag_store_option_specs() {
  return {
      {"--data", "", true, "data directory of the document store (default ~/.local/share/xnai)", "XNAI_DATA"},
      {"--embed-model", "", true, "embedding model (GGUF, bert family); without one, search is BM25 only",
       "XNAI_EMBED_MODEL"},
      {"--json", "", false, "machine-readable output", ""},
  };
}

std::vector<OptionSpec> retrieval_option_specs(int default_k) {
  return {
      {"--hits", "-k", true, "results to return (default " + std::to_string(default_k) + ")", ""},
      {"--filter", "", true, "metadata filter, e.g. \"type = pdf and date >= 2024-01-01\" (docs/rag.md)", ""},
      {"--threshold", "", true, "drop results scoring below this (hybrid: 0–1; vector: cosine; bm25: BM25)",
       ""},
      {"--mode", "", true, "hybrid (default with an embedding model), vector or bm25", ""},
  };
}

std::string rag_data_dir(const Args& args) {
  if (auto d = args.get("--data")) return *d;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x)
    return (std::filesystem::path(x) / "xnai").string();
  const char* home = std::getenv("HOME");
  if (!home || !*home)
    throw Error(ErrorKind::InvalidArgument,
                "no data directory: pass --data DIR or set XNAI_DATA (HOME is not set)");
  return (std::filesystem::path(home) / ".local" / "share" / "xnai").string();
}

std::unique_ptr<rag::Store> open_rag_store(const Args& args) {
  rag::EmbeddedStoreOptions o;
  o.data_dir = rag_data_dir(args);
  return rag::open_embedded_store(o);
}

namespace {

// The default model of a kind recorded by `xnai pull --recommended`, when its file exists.
std::string configured_default(hub::ModelKind kind) {
  const auto d = hub::load_defaults(hub::config_path());
  const std::string& p = kind == hub::ModelKind::Llm ? d.llm : d.embedding;
  std::error_code ec;
  return !p.empty() && std::filesystem::exists(p, ec) ? p : std::string();
}

}  // namespace

bool llm_configured(const Args& args) {
  return args.has("--model") || !configured_default(hub::ModelKind::Llm).empty();
}

std::unique_ptr<runtime::Embedder> load_embedder(const Args& args) {
  // --embed-model / XNAI_EMBED_MODEL (a path or a cached name), else the pulled default.
  std::string path;
  if (auto m = args.get("--embed-model")) path = hub::resolve_model(*m, hub::ModelKind::Embedding);
  else path = configured_default(hub::ModelKind::Embedding);
  if (path.empty()) return nullptr;
  runtime::BertEmbedderOptions o;
  o.n_threads = args.get_int("--threads", 0);  // declared by the commands that run models
  return runtime::BertEmbedder::load(path, o);
}

rag::RetrieveOptions retrieve_options(const Args& args, int default_k) {
  rag::RetrieveOptions o;
  o.top_k = args.get_int("--hits", default_k);
  if (o.top_k < 1 || o.top_k > 10000)
    throw Error(ErrorKind::InvalidArgument, "-k must be between 1 and 10000, got " + std::to_string(o.top_k));
  if (args.has("--threshold")) o.score_threshold = args.get_double("--threshold", 0);
  if (auto f = args.get("--filter")) {
    try {
      o.filter = rag::parse_filter(*f);
    } catch (const Error& e) {
      throw Error(e.kind(), "--filter '" + *f + "': " + e.what());
    }
  }
  const std::string mode = args.get_or("--mode", "hybrid");
  if (mode == "hybrid")
    o.mode = rag::RetrievalMode::Hybrid;
  else if (mode == "vector")
    o.mode = rag::RetrievalMode::Vector;
  else if (mode == "bm25")
    o.mode = rag::RetrievalMode::Bm25;
  else
    throw Error(ErrorKind::InvalidArgument, "--mode must be hybrid, vector or bm25, got '" + mode + "'");
  return o;
}

namespace {

nlohmann::ordered_json page_json(int p) {
  return p > 0 ? nlohmann::ordered_json(p) : nlohmann::ordered_json(nullptr);
}

}  // namespace

nlohmann::ordered_json hit_json(const rag::RetrievedHit& h, int rank) {
  const auto& c = h.hit.chunk;
  const auto& d = h.hit.document;
  nlohmann::ordered_json j;
  j["rank"] = rank;
  j["chunk_id"] = c.id;
  j["doc_id"] = c.doc_id;
  j["source_path"] = d.source_path;
  j["title"] = d.title;
  j["type"] = d.type;
  j["page_first"] = page_json(c.page_first);
  j["page_last"] = page_json(c.page_last);
  j["begin"] = c.begin;
  j["end"] = c.end;
  j["heading"] = c.heading_path;
  j["score"] = h.score;
  j["vector_rank"] =
      h.vector_rank > 0 ? nlohmann::ordered_json(h.vector_rank) : nlohmann::ordered_json(nullptr);
  j["vector_score"] =
      h.vector_rank > 0 ? nlohmann::ordered_json(h.vector_score) : nlohmann::ordered_json(nullptr);
  j["bm25_rank"] = h.bm25_rank > 0 ? nlohmann::ordered_json(h.bm25_rank) : nlohmann::ordered_json(nullptr);
  j["bm25_score"] = h.bm25_rank > 0 ? nlohmann::ordered_json(h.bm25_score) : nlohmann::ordered_json(nullptr);
  j["text"] = c.text;
  return j;
}

nlohmann::ordered_json citation_json(const rag::Citation& c) {
  nlohmann::ordered_json j;
  j["number"] = c.number;
  j["chunk_id"] = c.chunk_id;
  j["doc_id"] = c.doc_id;
  j["source_path"] = c.source_path;
  j["title"] = c.title;
  j["page_first"] = page_json(c.page_first);
  j["page_last"] = page_json(c.page_last);
  j["begin"] = c.begin;
  j["end"] = c.end;
  j["heading"] = c.heading_path;
  j["score"] = c.score;
  j["text"] = c.text;
  return j;
}

std::string short_path(const std::string& path) { return std::filesystem::path(path).filename().string(); }

std::string page_label(int first, int last) {
  if (first <= 0) return "";
  if (last > first) return "pp. " + std::to_string(first) + "\xE2\x80\x93" + std::to_string(last);
  return "p. " + std::to_string(first);
}

}  // namespace xnai::cli

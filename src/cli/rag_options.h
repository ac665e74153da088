// Options shared by the RAG commands (ingest, search, ask, bench rag): where the store lives,
// the optional embedding model, retrieval settings and JSON output of hits and citations.
// One place so every command spells them the same way and prints the same JSON shapes
// (docs/rag.md describes them).
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/args.h"
#include "rag/answer.h"
#include "rag/retriever.h"
#include "rag/store.h"
#include "runtime/embedder.h"

namespace xnai::cli {

// --data DIR (env XNAI_DATA), --embed-model M (env XNAI_EMBED_MODEL), --json.
std::vector<OptionSpec> rag_store_option_specs();
// --filter EXPR, -k/--hits N, --threshold X, --mode hybrid|vector|bm25.
std::vector<OptionSpec> retrieval_option_specs(int default_k);

// --data, else $XNAI_DATA, else $XDG_DATA_HOME/xnai, else ~/.local/share/xnai.
std::string rag_data_dir(const Args& args);
std::unique_ptr<rag::Store> open_rag_store(const Args& args);
// The embedding model of --embed-model / XNAI_EMBED_MODEL, or null when none is set.
std::unique_ptr<runtime::Embedder> load_embedder(const Args& args);
// True when an LLM is named (-m / MODEL_PATH) or a default one was pulled (`xnai pull --recommended`).
bool llm_configured(const Args& args);
// top_k (-k/--hits), threshold, filter (parsed; a syntax error is InvalidArgument naming it), mode.
rag::RetrieveOptions retrieve_options(const Args& args, int default_k);

// JSON of a hit / citation: chunk_id, doc_id, source_path, title, page_first, page_last,
// begin, end, score, text and a few more fields (docs/rag.md).
nlohmann::ordered_json hit_json(const rag::RetrievedHit& h, int rank);
nlohmann::ordered_json citation_json(const rag::Citation& c);

// The file name of a path, for compact human output.
std::string short_path(const std::string& path);
// "p. 3" / "pp. 3–4" / "" for unpaginated.
std::string page_label(int first, int last);

}  // namespace xnai::cli

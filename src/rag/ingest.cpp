#include "rag/ingest.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "rag/chunker.h"
#include "rag/loaders.h"
#include "rag/sha256.h"

namespace xnai::rag {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The source path as loaders record it (absolute, normalised), so that stored documents are
// found again by path.
std::string source_path_of(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  if (ec) p = path;
  return p.lexically_normal().string();
}

// Hex sha256 of a file's bytes, or "" when it cannot be read or is too large to load
// (load_document then reports why).
std::string file_hash(const std::string& path, int64_t* size) {
  std::error_code ec;
  const auto n = fs::file_size(path, ec);
  if (ec || n > static_cast<uintmax_t>(kMaxDocumentBytes)) return "";
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return "";
  const std::string bytes = std::move(ss).str();
  if (size) *size = static_cast<int64_t>(bytes.size());
  return sha256_hex(bytes);
}

bool under_root(const std::string& path, const std::string& root) {
  if (path == root) return true;
  const std::string prefix = root.ends_with('/') ? root : root + "/";
  return path.starts_with(prefix);
}

}  // namespace

IngestSummary ingest(Store& store, runtime::Embedder* embedder, const std::vector<std::string>& paths,
                     const IngestOptions& opts) {
  const auto t0 = Clock::now();
  IngestSummary sum;

  // Vectors of two models must never mix in one store, and a store that has vectors must
  // not receive chunks without them.
  const StoreStats st = store.stats();
  const std::string model = embedder ? embedder->model_name() : "";
  if (!st.embedding_model.empty() && st.n_vectors > 0) {
    if (!embedder)
      throw Error(
          ErrorKind::InvalidArgument,
          "this store's chunks are embedded with model '" + st.embedding_model +
              "': pass the same model (--embed-model or XNAI_EMBED_MODEL) so new chunks get vectors too");
    if (st.embedding_model != model)
      throw Error(ErrorKind::InvalidArgument, "this store's chunks are embedded with model '" +
                                                  st.embedding_model + "', not '" + model +
                                                  "'; use that model or another data directory");
  }
  // A store built without vectors gains them only by re-embedding its documents: files whose
  // content did not change are then processed again instead of skipped.
  const bool reembed_unchanged = embedder && st.n_vectors == 0 && st.n_chunks > 0;

  ChunkerOptions copts;
  if (opts.max_chunk_tokens > 0) copts.max_tokens = opts.max_chunk_tokens;
  if (opts.overlap_tokens >= 0) copts.overlap_tokens = opts.overlap_tokens;
  if (embedder) {
    // count_tokens includes the model's special tokens; the chunker allows for them.
    copts.max_tokens = std::min(copts.max_tokens, std::max(16, embedder->max_tokens()));
    copts.overlap_tokens = std::min(copts.overlap_tokens, copts.max_tokens / 2);
    copts.count_tokens = [embedder](std::string_view t) { return embedder->count_tokens(t); };
  }
  const int batch = std::max(1, opts.embed_batch);

  const std::vector<std::string> files = find_documents(paths);
  IngestProgress prog;
  prog.files_total = files.size();
  if (opts.progress) opts.progress(prog);

  for (const auto& file : files) {
    prog.current = file;
    const std::string source = source_path_of(file);
    int64_t size = 0;
    const std::string hash = file_hash(file, &size);
    const auto existing = store.find_document_by_source(source);
    if (existing && !hash.empty() && existing->content_hash == hash && !reembed_unchanged) {
      sum.skipped.push_back(existing->source_path);
    } else {
      LoadResult lr = try_load_document(file);
      if (!lr.document) {
        sum.failed.push_back({source, lr.error});
      } else {
        Document& doc = *lr.document;
        sum.bytes_read += size;
        std::vector<Chunk> chunks;
        try {
          chunks = chunk_document(doc, copts);
        } catch (const Error& e) {
          sum.failed.push_back({doc.source_path, e.what()});
          chunks.clear();
          ++prog.files_done;
          if (opts.progress) opts.progress(prog);
          continue;
        }
        std::vector<std::vector<float>> vectors;
        if (embedder && !chunks.empty()) {
          const auto te = Clock::now();
          vectors.reserve(chunks.size());
          std::vector<std::string> texts;
          for (size_t i = 0; i < chunks.size(); i += static_cast<size_t>(batch)) {
            texts.clear();
            for (size_t j = i; j < std::min(chunks.size(), i + static_cast<size_t>(batch)); ++j)
              texts.push_back(chunks[j].text);
            auto v = embedder->embed(texts);
            if (v.size() != texts.size())
              throw Error(ErrorKind::Internal, "embedder returned " + std::to_string(v.size()) +
                                                   " vectors for " + std::to_string(texts.size()) + " texts");
            for (auto& x : v) vectors.push_back(std::move(x));
          }
          sum.embed_seconds += seconds_since(te);
        }
        // The loader's view of the path wins over ours (it is what search results show).
        const bool replacing = existing || store.find_document(doc.id).has_value();
        store.upsert_document(doc, chunks, vectors, embedder ? model : "");
        (replacing ? sum.updated : sum.added).push_back(doc.source_path);
        sum.chunks_added += static_cast<int64_t>(chunks.size());
        prog.chunks_done = sum.chunks_added;
      }
    }
    ++prog.files_done;
    if (opts.progress) opts.progress(prog);
  }

  if (opts.prune) {
    std::vector<std::string> roots;
    for (const auto& p : paths) roots.push_back(source_path_of(p));
    for (const auto& d : store.list_documents()) {
      const bool in_scope = std::any_of(roots.begin(), roots.end(),
                                        [&](const std::string& r) { return under_root(d.source_path, r); });
      std::error_code ec;
      if (in_scope && !fs::exists(d.source_path, ec) && !ec && store.delete_document(d.id))
        sum.pruned.push_back(d.source_path);
    }
  }
  prog.current.clear();
  sum.seconds = seconds_since(t0);
  return sum;
}

}  // namespace xnai::rag

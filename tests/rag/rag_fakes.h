// Small stand-ins for the RAG tests: an in-memory Store (exact vector search, a plain BM25,
// equality filters only) and a deterministic Embedder (bag of hashed words). They let the
// retriever and answer tests state exact expectations without the real store or a model.
#pragma once
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "rag/store.h"
#include "runtime/embedder.h"

namespace xnai::test {

inline std::vector<std::string> fake_words(const std::string& text) {
  std::vector<std::string> out;
  std::string w;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      w.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (!w.empty()) {
      out.push_back(w);
      w.clear();
    }
  }
  return out;
}

// Hashes words into `dim` buckets and L2-normalises: texts sharing words have positive cosine.
class FakeEmbedder : public runtime::Embedder {
 public:
  explicit FakeEmbedder(int dim = 64, std::string name = "fake-embedder")
      : dim_(dim), name_(std::move(name)) {}
  int dim() const override { return dim_; }
  std::string model_name() const override { return name_; }
  int max_tokens() const override { return 512; }
  int count_tokens(std::string_view text) const override {
    return static_cast<int>(fake_words(std::string(text)).size());
  }
  std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) override {
    ++calls;
    std::vector<std::vector<float>> out;
    for (const auto& t : texts) {
      std::vector<float> v(static_cast<size_t>(dim_), 0.0f);
      for (const auto& w : fake_words(t)) v[std::hash<std::string>{}(w) % static_cast<size_t>(dim_)] += 1.0f;
      double n = 0;
      for (float x : v) n += double(x) * x;
      n = n > 0 ? std::sqrt(n) : 1;
      for (float& x : v) x = static_cast<float>(x / n);
      out.push_back(std::move(v));
    }
    return out;
  }
  int calls = 0;

 private:
  int dim_;
  std::string name_;
};

// In-memory store. Filters: All, Eq on "type" / "source" / "doc_id" / metadata keys, And.
// Search results may be scripted (vector_script / bm25_script: chunk ids in order) to test
// fusion on hand-made lists.
class FakeStore : public rag::Store {
 public:
  std::string backend_name() const override { return "fake"; }
  void upsert_document(const rag::Document& doc, const std::vector<rag::Chunk>& chunks,
                       const std::vector<std::vector<float>>& embeddings, const std::string& model) override {
    delete_document(doc.id);
    rag::DocumentInfo info{doc.id,
                           doc.source_path,
                           doc.title,
                           doc.type,
                           doc.content_hash,
                           doc.mtime,
                           static_cast<int>(chunks.size()),
                           static_cast<int>(doc.pages.size()),
                           doc.metadata};
    docs_[doc.id] = info;
    for (size_t i = 0; i < chunks.size(); ++i) {
      chunks_[chunks[i].id] = chunks[i];
      order_.push_back(chunks[i].id);
      if (!embeddings.empty()) vectors_[chunks[i].id] = embeddings[i];
    }
    if (!embeddings.empty()) model_ = model;
    ++upserts;
  }
  bool delete_document(const std::string& id) override {
    if (!docs_.erase(id)) return false;
    std::vector<std::string> keep;
    for (const auto& c : order_) {
      if (chunks_.at(c).doc_id == id) {
        chunks_.erase(c);
        vectors_.erase(c);
      } else {
        keep.push_back(c);
      }
    }
    order_ = keep;
    return true;
  }
  std::optional<rag::DocumentInfo> find_document(const std::string& id) const override {
    auto it = docs_.find(id);
    return it == docs_.end() ? std::nullopt : std::optional(it->second);
  }
  std::optional<rag::DocumentInfo> find_document_by_source(const std::string& path) const override {
    for (const auto& [id, d] : docs_)
      if (d.source_path == path) return d;
    return std::nullopt;
  }
  std::vector<rag::DocumentInfo> list_documents(const rag::Filter&) const override {
    std::vector<rag::DocumentInfo> r;
    for (const auto& [id, d] : docs_) r.push_back(d);
    return r;
  }
  std::optional<rag::Chunk> get_chunk(const std::string& id) const override {
    auto it = chunks_.find(id);
    return it == chunks_.end() ? std::nullopt : std::optional(it->second);
  }
  std::vector<rag::Hit> search_vector(const std::vector<float>& q, int k,
                                      const rag::Filter& f) const override {
    vector_filters.push_back(f);
    if (!vector_script.empty()) return scripted(vector_script, k);
    std::vector<rag::Hit> hits;
    for (const auto& id : order_) {
      auto v = vectors_.find(id);
      if (v == vectors_.end() || !matches(chunks_.at(id), f)) continue;
      double s = 0;
      for (size_t i = 0; i < q.size() && i < v->second.size(); ++i) s += double(q[i]) * v->second[i];
      hits.push_back(hit(id, s));
    }
    return top(std::move(hits), k);
  }
  std::vector<rag::Hit> search_bm25(const std::string& query, int k, const rag::Filter& f) const override {
    bm25_filters.push_back(f);
    bm25_queries.push_back(query);
    if (!bm25_script.empty()) return scripted(bm25_script, k);
    const auto q = fake_words(query);
    std::vector<rag::Hit> hits;
    for (const auto& id : order_) {
      if (!matches(chunks_.at(id), f)) continue;
      const auto w = fake_words(chunks_.at(id).text);
      double s = 0;
      for (const auto& t : std::set<std::string>(q.begin(), q.end()))
        s += double(std::count(w.begin(), w.end(), t));
      if (s > 0) hits.push_back(hit(id, s / (1.0 + 0.01 * double(w.size()))));
    }
    return top(std::move(hits), k);
  }
  rag::StoreStats stats() const override {
    rag::StoreStats s;
    s.n_documents = static_cast<int64_t>(docs_.size());
    s.n_chunks = static_cast<int64_t>(chunks_.size());
    s.n_vectors = static_cast<int64_t>(vectors_.size());
    s.embedding_dim = vectors_.empty() ? 0 : static_cast<int>(vectors_.begin()->second.size());
    s.embedding_model = model_;
    return s;
  }

  std::vector<std::string> vector_script, bm25_script;
  mutable std::vector<rag::Filter> vector_filters, bm25_filters;
  mutable std::vector<std::string> bm25_queries;
  int upserts = 0;

 private:
  static bool matches(const rag::Chunk& c, const rag::Filter& f,
                      const std::map<std::string, rag::DocumentInfo>& docs) {
    using Op = rag::Filter::Op;
    const auto& d = docs.at(c.doc_id);
    switch (f.op) {
      case Op::All:
        return true;
      case Op::And:
        for (const auto& ch : f.children)
          if (!matches(c, ch, docs)) return false;
        return true;
      case Op::Eq: {
        const std::string want = std::get<std::string>(f.values.at(0));
        if (f.field == "type") return d.type == want;
        if (f.field == "source") return d.source_path == want;
        if (f.field == "doc_id") return d.id == want;
        auto it = d.metadata.find(f.field);
        return it != d.metadata.end() && it->second == want;
      }
      default:
        return false;
    }
  }
  bool matches(const rag::Chunk& c, const rag::Filter& f) const { return matches(c, f, docs_); }
  rag::Hit hit(const std::string& id, double score) const {
    const auto& c = chunks_.at(id);
    return rag::Hit{c, docs_.at(c.doc_id), score};
  }
  std::vector<rag::Hit> scripted(const std::vector<std::string>& ids, int k) const {
    std::vector<rag::Hit> hits;
    for (size_t i = 0; i < ids.size() && static_cast<int>(i) < k; ++i)
      hits.push_back(hit(ids[i], 1.0 / double(i + 1)));
    return hits;
  }
  static std::vector<rag::Hit> top(std::vector<rag::Hit> hits, int k) {
    std::stable_sort(hits.begin(), hits.end(),
                     [](const auto& a, const auto& b) { return a.score > b.score; });
    if (static_cast<int>(hits.size()) > k) hits.resize(static_cast<size_t>(k));
    return hits;
  }

  std::map<std::string, rag::DocumentInfo> docs_;
  std::map<std::string, rag::Chunk> chunks_;
  std::map<std::string, std::vector<float>> vectors_;
  std::vector<std::string> order_;
  std::string model_;
};

// A document whose chunks are its blank-line separated paragraphs, with exact offsets.
inline std::pair<rag::Document, std::vector<rag::Chunk>> paragraphs_doc(const std::string& id,
                                                                        const std::string& path,
                                                                        const std::string& text,
                                                                        const std::string& type = "txt") {
  rag::Document d;
  d.id = id;
  d.source_path = path;
  d.title = path.substr(path.find_last_of('/') + 1);
  d.type = type;
  d.content_hash = "h-" + id;
  d.text = text;
  std::vector<rag::Chunk> chunks;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find("\n\n", pos);
    if (end == std::string::npos) end = text.size();
    if (end > pos) {
      rag::Chunk c;
      c.doc_id = id;
      c.index = static_cast<int>(chunks.size());
      c.id = id + "#" + std::to_string(c.index);
      c.begin = static_cast<int64_t>(pos);
      c.end = static_cast<int64_t>(end);
      c.text = text.substr(pos, end - pos);
      chunks.push_back(c);
    }
    pos = end + 2;
  }
  return {d, chunks};
}

}  // namespace xnai::test

#include "rag/rag_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "rag/chunker.h"
#include "rag/ingest.h"
#include "rag/retriever.h"

namespace xnai::rag {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Pseudo-words with Zipf(1) frequencies, in sentences of about 12 words.
class SyntheticText {
 public:
  explicit SyntheticText(uint64_t seed, int vocab = 20000) : rng_(seed) {
    static const char* kOnsets[] = {"b", "d", "f", "g", "k",  "l",  "m",  "n",  "p",  "r",
                                    "s", "t", "v", "z", "br", "st", "tr", "pl", "kr", "sh"};
    static const char* kVowels[] = {"a", "e", "i", "o", "u", "ai", "ou", "ea"};
    std::unordered_set<std::string> seen;
    std::uniform_int_distribution<int> syl(1, 4), on(0, 19), vo(0, 7);
    while (static_cast<int>(words_.size()) < vocab) {
      std::string w;
      for (int s = syl(rng_); s > 0; --s) w += std::string(kOnsets[on(rng_)]) + kVowels[vo(rng_)];
      if (seen.insert(w).second) words_.push_back(w);
    }
    cdf_.resize(words_.size());
    double sum = 0;
    for (size_t i = 0; i < words_.size(); ++i) cdf_[i] = (sum += 1.0 / static_cast<double>(i + 1));
    for (auto& c : cdf_) c /= sum;
  }
  std::string text(int n) {
    std::string t;
    int in_sentence = 0;
    for (int i = 0; i < n; ++i) {
      const double u = std::uniform_real_distribution<double>(0, 1)(rng_);
      const size_t r = static_cast<size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
      std::string w = words_[std::min(r, words_.size() - 1)];
      if (in_sentence == 0) w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
      if (!t.empty()) t += ' ';
      t += w;
      if (++in_sentence >= 12 || i + 1 == n) {
        t += '.';
        in_sentence = 0;
      }
    }
    return t;
  }

 private:
  std::mt19937_64 rng_;
  std::vector<std::string> words_;
  std::vector<double> cdf_;
};

// Answers embed() with the vector the benchmark set for the current query.
class QueryVectorEmbedder : public runtime::Embedder {
 public:
  QueryVectorEmbedder(int dim, std::string name) : dim_(dim), name_(std::move(name)) {}
  int dim() const override { return dim_; }
  std::string model_name() const override { return name_; }
  int max_tokens() const override { return 512; }
  int count_tokens(std::string_view t) const override { return approx_token_count(t); }
  std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) override {
    return std::vector<std::vector<float>>(texts.size(), *current);
  }
  const std::vector<float>* current = nullptr;

 private:
  int dim_;
  std::string name_;
};

std::vector<std::string> lower_words(const std::string& text) {
  std::vector<std::string> out;
  std::string w;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      w.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (!w.empty()) {
      out.push_back(std::move(w));
      w.clear();
    }
  }
  return out;
}

}  // namespace

LatencyStats latency_stats(std::vector<double> ms) {
  LatencyStats s;
  s.n = static_cast<int>(ms.size());
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) {
    const size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(ms.size())));
    return ms[std::min(i > 0 ? i - 1 : 0, ms.size() - 1)];
  };
  s.p50_ms = pct(0.50);
  s.p99_ms = pct(0.99);
  s.mean_ms = std::accumulate(ms.begin(), ms.end(), 0.0) / static_cast<double>(ms.size());
  s.max_ms = ms.back();
  return s;
}

IngestBenchResult bench_ingest(const IngestBenchOptions& opts) {
  if (opts.work_dir.empty()) throw Error(ErrorKind::InvalidArgument, "bench_ingest: no work directory");
  if (opts.files < 1) throw Error(ErrorKind::InvalidArgument, "bench_ingest: files must be >= 1");
  const fs::path corpus = fs::path(opts.work_dir) / ("corpus-" + std::to_string(opts.files));
  const fs::path data = fs::path(opts.work_dir) / (opts.embedder ? "store-embedded" : "store-bm25");
  fs::remove_all(data);
  fs::create_directories(corpus);
  SyntheticText gen(opts.seed);
  IngestBenchResult r;
  for (int f = 0; f < opts.files; ++f) {
    const bool md = f % 2 == 1;
    const fs::path p = corpus / ((md ? "note_" : "doc_") + std::to_string(f) + (md ? ".md" : ".txt"));
    if (fs::exists(p)) continue;  // written by the run before (with or without a model)
    std::ofstream out(p, std::ios::binary);
    for (int q = 0; q < opts.paragraphs_per_file; ++q) {
      if (md && q % 5 == 0) out << "## " << gen.text(3) << "\n\n";
      out << gen.text(opts.words_per_paragraph) << "\n\n";
    }
  }
  for (const auto& e : fs::directory_iterator(corpus)) r.bytes += static_cast<int64_t>(e.file_size());
  r.files = opts.files;
  auto store = open_embedded_store({data.string()});
  const auto s = ingest(*store, opts.embedder, {corpus.string()});
  if (!s.failed.empty())
    throw Error(ErrorKind::Internal, "bench ingest: " + s.failed[0].path + ": " + s.failed[0].reason);
  r.chunks = s.chunks_added;
  r.seconds = s.seconds;
  r.embed_seconds = s.embed_seconds;
  return r;
}

RetrieverBenchResult bench_retriever(const Store& store, const std::string& embedding_model,
                                     const std::vector<float>& query_vectors, int dim, int k) {
  if (dim < 1 || k < 1 || query_vectors.size() % static_cast<size_t>(dim) != 0)
    throw Error(ErrorKind::InvalidArgument, "bench_retriever: bad dim, k or query vector count");
  const size_t n = query_vectors.size() / static_cast<size_t>(dim);

  // The chunk nearest to each query vector, and word frequencies over those chunks.
  std::vector<std::vector<float>> vecs(n);
  std::vector<std::vector<std::string>> words(n);
  std::unordered_map<std::string, int> df;
  for (size_t i = 0; i < n; ++i) {
    vecs[i].assign(query_vectors.begin() + static_cast<long>(i * static_cast<size_t>(dim)),
                   query_vectors.begin() + static_cast<long>((i + 1) * static_cast<size_t>(dim)));
    const auto hits = store.search_vector(vecs[i], k);
    for (size_t h = 0; h < hits.size(); ++h) {
      auto w = lower_words(hits[h].chunk.text);
      for (const auto& x : std::unordered_set<std::string>(w.begin(), w.end())) ++df[x];
      if (h == 0) words[i] = std::move(w);
    }
  }
  std::vector<std::pair<int, std::string>> by_freq;
  for (const auto& [w, c] : df) by_freq.emplace_back(-c, w);
  std::sort(by_freq.begin(), by_freq.end());
  std::unordered_set<std::string> common;
  for (size_t i = 0; i < by_freq.size() && i < 200; ++i) common.insert(by_freq[i].second);

  QueryVectorEmbedder emb(dim, embedding_model);
  std::vector<std::string> texts(n);
  std::mt19937_64 rng(12345);
  for (size_t i = 0; i < n; ++i) {
    const auto& w = words[i];
    std::vector<std::string> picked;
    const size_t start = w.empty() ? 0 : std::uniform_int_distribution<size_t>(0, w.size() - 1)(rng);
    for (size_t j = 0; j < w.size() && picked.size() < 3; ++j) {
      const std::string& x = w[(start + j) % w.size()];
      if (!common.count(x) && std::find(picked.begin(), picked.end(), x) == picked.end()) picked.push_back(x);
    }
    for (const auto& p : picked) texts[i] += (texts[i].empty() ? "" : " ") + p;
  }

  RetrieverBenchResult r;
  RetrieveOptions ro;
  ro.top_k = k;
  for (LatencyStats* stats : {&r.hybrid_first, &r.hybrid, &r.bm25}) {
    ro.mode = stats == &r.bm25 ? RetrievalMode::Bm25 : RetrievalMode::Hybrid;
    std::vector<double> ms;
    for (size_t i = 0; i < n; ++i) {
      emb.current = &vecs[i];
      const auto t0 = Clock::now();
      retrieve(store, &emb, texts[i], ro);
      ms.push_back(ms_since(t0));
    }
    *stats = latency_stats(std::move(ms));
  }
  return r;
}

}  // namespace xnai::rag

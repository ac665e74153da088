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
#include "rag/sha256.h"

namespace xnai::rag {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// Pseudo-words with Zipf(1) frequencies.
class SyntheticText {
 public:
  explicit SyntheticText(uint64_t seed, int vocab = 20000) : rng_(seed) {
    static const char* kOnsets[] = {"b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
                                    "br", "st", "tr", "pl", "kr", "sh"};
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
  const std::string& word() {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng_);
    const size_t i = static_cast<size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
    return words_[std::min(i, words_.size() - 1)];
  }
  const std::string& word_of_rank(size_t r) const { return words_[std::min(r, words_.size() - 1)]; }
  // `n` words in sentences of about 12 words.
  std::string text(int n) {
    std::string t;
    int in_sentence = 0;
    for (int i = 0; i < n; ++i) {
      std::string w = word();
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
  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
  std::vector<std::string> words_;
  std::vector<double> cdf_;
};

// Unit vectors around `clusters` random centres (or uniformly random with clusters = 0).
class SyntheticVectors {
 public:
  SyntheticVectors(int dim, int clusters, uint64_t seed) : dim_(dim), rng_(seed) {
    for (int c = 0; c < clusters; ++c) centres_.push_back(gaussian_unit(1.0f));
  }
  std::vector<float> next() {
    if (centres_.empty()) return gaussian_unit(1.0f);
    const auto& c = centres_[std::uniform_int_distribution<size_t>(0, centres_.size() - 1)(rng_)];
    // Noise of about the centre's norm: cosine to the centre ≈ 0.7.
    std::vector<float> v = gaussian_unit(1.0f);
    for (int i = 0; i < dim_; ++i) v[static_cast<size_t>(i)] += c[static_cast<size_t>(i)];
    normalize(v);
    return v;
  }

 private:
  std::vector<float> gaussian_unit(float scale) {
    std::normal_distribution<float> n(0, 1);
    std::vector<float> v(static_cast<size_t>(dim_));
    for (auto& x : v) x = n(rng_) * scale;
    normalize(v);
    return v;
  }
  static void normalize(std::vector<float>& v) {
    double s = 0;
    for (float x : v) s += double(x) * x;
    const float inv = s > 0 ? static_cast<float>(1.0 / std::sqrt(s)) : 0.0f;
    for (auto& x : v) x *= inv;
  }
  int dim_;
  std::mt19937_64 rng_;
  std::vector<std::vector<float>> centres_;
};

// Answers embed() from a table filled by the benchmark: the hybrid retriever then costs what
// it costs with a real model minus the model itself.
class TableEmbedder : public runtime::Embedder {
 public:
  TableEmbedder(int dim, std::string name) : dim_(dim), name_(std::move(name)) {}
  int dim() const override { return dim_; }
  std::string model_name() const override { return name_; }
  int max_tokens() const override { return 512; }
  int count_tokens(std::string_view t) const override { return approx_token_count(t); }
  std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) override {
    std::vector<std::vector<float>> out;
    for (const auto& t : texts) out.push_back(table.at(t));
    return out;
  }
  std::unordered_map<std::string, std::vector<float>> table;

 private:
  int dim_;
  std::string name_;
};

}  // namespace

LatencyStats latency_stats(std::vector<double> ms) {
  LatencyStats s;
  s.n = static_cast<int>(ms.size());
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) {
    const size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(ms.size()))) - 1;
    return ms[std::min(i, ms.size() - 1)];
  };
  s.p50_ms = pct(0.50);
  s.p99_ms = pct(0.99);
  s.mean_ms = std::accumulate(ms.begin(), ms.end(), 0.0) / static_cast<double>(ms.size());
  s.max_ms = ms.back();
  return s;
}

IngestBenchResult bench_ingest(const IngestBenchOptions& opts) {
  if (opts.work_dir.empty()) throw Error(ErrorKind::InvalidArgument, "bench_ingest: no work directory");
  const fs::path corpus = fs::path(opts.work_dir) / "corpus";
  const fs::path data = fs::path(opts.work_dir) / (opts.embedder ? "store-embedded" : "store-bm25");
  fs::remove_all(data);
  fs::create_directories(corpus);
  SyntheticText gen(opts.seed);
  IngestBenchResult r;
  for (int f = 0; f < opts.files; ++f) {
    // Alternate plain text and markdown with a heading per few paragraphs.
    const bool md = f % 2 == 1;
    const fs::path p = corpus / ((md ? "note_" : "doc_") + std::to_string(f) + (md ? ".md" : ".txt"));
    if (fs::exists(p)) continue;  // a corpus left by an earlier run of the same options
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
  if (!s.failed.empty()) throw Error(ErrorKind::Internal, "bench ingest: " + s.failed[0].path + ": " + s.failed[0].reason);
  r.chunks = s.chunks_added;
  r.seconds = s.seconds;
  r.embed_seconds = s.embed_seconds;
  return r;
}

SearchBenchResult bench_search(Store& store, const SearchBenchOptions& opts) {
  if (opts.chunks < 1 || opts.dim < 1 || opts.k < 1 || opts.chunks_per_document < 1)
    throw Error(ErrorKind::InvalidArgument, "bench_search: chunks, dim, k and chunks_per_document must be >= 1");
  if (store.stats().n_chunks != 0) throw Error(ErrorKind::InvalidArgument, "bench_search needs an empty store");
  SearchBenchResult r;
  r.chunks = opts.chunks;
  r.dim = opts.dim;
  const std::string model = "synthetic-" + std::to_string(opts.dim) + "d";
  SyntheticText text(opts.seed);
  SyntheticVectors vecs(opts.dim, opts.clusters, opts.seed + 1);
  std::vector<float> all;  // every stored vector, for the exact search
  all.reserve(static_cast<size_t>(opts.chunks) * static_cast<size_t>(opts.dim));
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(opts.chunks));

  const auto t_build = Clock::now();
  int last_pct = -1;
  for (int64_t done = 0, d = 0; done < opts.chunks; ++d) {
    const int n = static_cast<int>(std::min<int64_t>(opts.chunks_per_document, opts.chunks - done));
    Document doc;
    doc.source_path = "/bench/doc_" + std::to_string(d) + ".txt";
    doc.id = sha256_hex(doc.source_path);
    doc.title = "doc " + std::to_string(d);
    doc.type = d % 2 ? "md" : "txt";
    doc.mtime = 1700000000 + d;
    doc.content_hash = sha256_hex(doc.id);
    std::vector<Chunk> chunks(static_cast<size_t>(n));
    std::vector<std::vector<float>> emb(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      Chunk& c = chunks[static_cast<size_t>(i)];
      if (!doc.text.empty()) doc.text += "\n\n";
      c.text = text.text(opts.words_per_chunk);
      c.begin = static_cast<int64_t>(doc.text.size());
      doc.text += c.text;
      c.end = static_cast<int64_t>(doc.text.size());
      c.doc_id = doc.id;
      c.index = i;
      c.n_tokens = approx_token_count(c.text);
      c.id = make_chunk_id(doc.id, c.begin, c.end, c.text);
      emb[static_cast<size_t>(i)] = vecs.next();
      all.insert(all.end(), emb[static_cast<size_t>(i)].begin(), emb[static_cast<size_t>(i)].end());
      ids.push_back(c.id);
    }
    store.upsert_document(doc, chunks, emb, model);
    done += n;
    const int pct = static_cast<int>(100 * done / opts.chunks);
    if (opts.progress && pct / 5 != last_pct / 5) {
      opts.progress("filling store " + std::to_string(pct) + "% (" + std::to_string(done) + " chunks)");
      last_pct = pct;
    }
  }
  // The first search brings the index up to date; count it as part of the build.
  store.search_vector(vecs.next(), opts.k);
  r.build_seconds = ms_since(t_build) / 1000.0;

  // Queries: a vector near the data and 2–3 words of middling frequency.
  std::vector<std::vector<float>> qv;
  std::vector<std::string> qt;
  std::uniform_int_distribution<size_t> rank(50, 5000);
  std::uniform_int_distribution<int> nwords(2, 3);
  for (int i = 0; i < opts.queries; ++i) {
    qv.push_back(vecs.next());
    std::string q;
    for (int w = nwords(text.rng()); w > 0; --w) q += (q.empty() ? "" : " ") + text.word_of_rank(rank(text.rng()));
    qt.push_back(q);
  }

  std::vector<double> t_vec, t_bm25, t_hyb;
  std::vector<std::vector<Hit>> ann(static_cast<size_t>(opts.queries));
  for (int i = 0; i < opts.queries; ++i) {
    auto t0 = Clock::now();
    ann[static_cast<size_t>(i)] = store.search_vector(qv[static_cast<size_t>(i)], opts.k);
    t_vec.push_back(ms_since(t0));
  }
  for (int i = 0; i < opts.queries; ++i) {
    auto t0 = Clock::now();
    store.search_bm25(qt[static_cast<size_t>(i)], opts.k);
    t_bm25.push_back(ms_since(t0));
  }
  TableEmbedder emb(opts.dim, model);
  for (int i = 0; i < opts.queries; ++i) emb.table[qt[static_cast<size_t>(i)]] = qv[static_cast<size_t>(i)];
  RetrieveOptions ro;
  ro.top_k = opts.k;
  ro.mode = RetrievalMode::Hybrid;
  for (int i = 0; i < opts.queries; ++i) {
    auto t0 = Clock::now();
    retrieve(store, &emb, qt[static_cast<size_t>(i)], ro);
    t_hyb.push_back(ms_since(t0));
  }
  r.vector = latency_stats(t_vec);
  r.bm25 = latency_stats(t_bm25);
  r.hybrid = latency_stats(t_hyb);

  // Recall@k against an exact scan.
  const int nr = std::min(opts.recall_queries, opts.queries);
  const size_t n = ids.size(), dim = static_cast<size_t>(opts.dim);
  std::vector<std::pair<float, size_t>> scored(n);
  double recall_sum = 0, exact_ms = 0;
  for (int i = 0; i < nr; ++i) {
    const auto t0 = Clock::now();
    const float* q = qv[static_cast<size_t>(i)].data();
    for (size_t j = 0; j < n; ++j) {
      const float* v = all.data() + j * dim;
      float s = 0;
      for (size_t x = 0; x < dim; ++x) s += q[x] * v[x];
      scored[j] = {s, j};
    }
    const size_t kk = std::min(static_cast<size_t>(opts.k), n);
    std::partial_sort(scored.begin(), scored.begin() + static_cast<long>(kk), scored.end(),
                      [](const auto& a, const auto& b) { return a.first > b.first; });
    exact_ms += ms_since(t0);
    std::unordered_set<std::string> truth;
    for (size_t j = 0; j < kk; ++j) truth.insert(ids[scored[j].second]);
    int found = 0;
    for (const auto& h : ann[static_cast<size_t>(i)]) found += truth.count(h.chunk.id) ? 1 : 0;
    recall_sum += kk ? static_cast<double>(found) / static_cast<double>(kk) : 1.0;
  }
  r.recall_at_k = nr ? recall_sum / nr : 0;
  r.exact_ms = nr ? exact_ms / nr : 0;
  return r;
}

}  // namespace xnai::rag

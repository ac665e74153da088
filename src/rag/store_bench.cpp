#include "rag/store_bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <unordered_map>

#include "core/error.h"
#include "rag/filter_parse.h"
#include "rag/store/bm25_query.h"
#include "rag/store/embedded_store.h"
#include "rag/store/sqlite_db.h"
#include "rag/store/vector_kernels.h"

namespace xnai::rag {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

constexpr int kVocabulary = 30000;
constexpr int kSkipCommon = 200;  // query words skip the most frequent ones (stop words)

// Pseudo-words: rank r spelled in base-20 consonant-vowel syllables (at least two), so
// words are distinct, pronounceable, and untouched by the porter stemmer.
std::string word(int r) {
  static const char* syl[] = {"ba", "ko", "mi", "tu", "ra", "no", "si", "pu", "la", "do",
                              "fi", "gu", "ha", "jo", "vi", "zu", "wa", "ro", "ni", "ta"};
  std::string w;
  int x = r + 20;  // two syllables minimum
  while (x > 0) {
    w += syl[x % 20];
    x /= 20;
  }
  return w;
}

class Zipf {
 public:
  explicit Zipf(int n) : cdf_(size_t(n)) {
    double s = 0;
    for (int r = 0; r < n; ++r) cdf_[size_t(r)] = (s += 1.0 / (r + 1));
    for (auto& c : cdf_) c /= s;
  }
  template <class Rng>
  int operator()(Rng& rng) const {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return int(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
  }

 private:
  std::vector<double> cdf_;
};

// The synthetic corpus: text and vectors of chunk j depend only on (seed, j).
class Corpus {
 public:
  Corpus(const StoreBenchOptions& o) : o_(o), zipf_(kVocabulary) {
    for (int r = 0; r < kVocabulary; ++r) words_.push_back(word(r));
    std::mt19937_64 rng(o.seed * 1000003u + 17);
    std::normal_distribution<float> g;
    if (o.latent_dim > 0) {
      proj_.resize(size_t(o.dim) * size_t(o.latent_dim));
      for (auto& x : proj_) x = g(rng) / std::sqrt(float(o.latent_dim));
      centers_.resize(size_t(o.clusters) * size_t(o.latent_dim));
      for (auto& x : centers_) x = g(rng);
    }
  }

  std::vector<int> chunk_words(int64_t j) const {
    std::mt19937_64 rng(o_.seed * 7919u + uint64_t(j) * 2654435761u);
    std::vector<int> w(size_t(o_.words_per_chunk));
    for (auto& x : w) x = zipf_(rng);
    return w;
  }
  std::string text_of(const std::vector<int>& ws) const {
    std::string s;
    for (int w : ws) {
      if (!s.empty()) s += ' ';
      s += words_[size_t(w)];
    }
    return s;
  }

  // A vector near cluster `c` (a document's topic); `salt` makes draws independent.
  void vector(int c, uint64_t salt, float* out) const {
    std::mt19937_64 rng(o_.seed * 104729u + salt);
    std::normal_distribution<float> g;
    const int d = o_.dim, l = o_.latent_dim;
    double ss = 0;
    if (l == 0) {
      for (int i = 0; i < d; ++i) out[i] = g(rng);
    } else {
      std::vector<float> z(static_cast<size_t>(l));
      for (int i = 0; i < l; ++i) z[size_t(i)] = centers_[size_t(c) * l + size_t(i)] + 0.7f * g(rng);
      double sig = 0;
      for (int i = 0; i < d; ++i) {
        float s = 0;
        for (int k = 0; k < l; ++k) s += proj_[size_t(i) * l + size_t(k)] * z[size_t(k)];
        out[i] = s;
        sig += double(s) * s;
      }
      const float scale = o_.noise * float(std::sqrt(sig / d));
      for (int i = 0; i < d; ++i) out[i] += scale * g(rng);
    }
    for (int i = 0; i < d; ++i) ss += double(out[i]) * out[i];
    const float inv = float(1.0 / std::sqrt(ss));
    for (int i = 0; i < d; ++i) out[i] *= inv;
  }
  int doc_cluster(int64_t doc) const {
    return int((uint64_t(doc) * 2654435761u + o_.seed) % uint64_t(o_.clusters));
  }

  // A BM25 query: 3 distinct, not-too-common words of chunk j.
  std::string query_text(int64_t j) const {
    std::vector<int> ws = chunk_words(j), pick;
    std::mt19937_64 rng(uint64_t(j) * 31 + 7);
    std::shuffle(ws.begin(), ws.end(), rng);
    for (int w : ws)
      if (w >= kSkipCommon && std::find(pick.begin(), pick.end(), w) == pick.end() && pick.size() < 3)
        pick.push_back(w);
    if (pick.empty()) pick.push_back(ws[0]);
    return text_of(pick);
  }

  static const char* type_of(int64_t doc) {
    static const char* t[] = {"txt", "md", "html", "pdf"};
    return t[doc % 4];
  }
  static bool rare(int64_t doc) { return doc % 200 == 0; }

 private:
  const StoreBenchOptions& o_;
  Zipf zipf_;
  std::vector<std::string> words_;
  std::vector<float> proj_, centers_;
};

SearchLatency latency(std::vector<double> ms) {
  SearchLatency l;
  if (ms.empty()) return l;
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms[std::min(ms.size() - 1, size_t(p * double(ms.size() - 1) + 0.5))]; };
  l.p50_ms = pct(0.50);
  l.p99_ms = pct(0.99);
  double s = 0;
  for (double x : ms) s += x;
  l.mean_ms = s / double(ms.size());
  return l;
}

// Exact top-k chunk ordinals among those `keep` accepts.
template <class Keep>
std::vector<int64_t> exact_top_k(const std::vector<float>& all, int dim, const float* q, int k,
                                 const Keep& keep) {
  const auto& kern = store::vector_kernels();
  const int64_t n = int64_t(all.size()) / dim;
  std::vector<std::pair<float, int64_t>> heap;  // min-heap on score
  constexpr int64_t kBlock = 256;
  float dots[kBlock];
  auto worse = [](const auto& a, const auto& b) { return a.first > b.first; };
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t nb = std::min(kBlock, n - b);
    kern.dot_rows(q, all.data() + size_t(b) * dim, size_t(nb), size_t(dim), size_t(dim), dots);
    for (int64_t i = 0; i < nb; ++i) {
      if (!keep(b + i)) continue;
      if (int(heap.size()) < k) {
        heap.emplace_back(dots[i], b + i);
        std::push_heap(heap.begin(), heap.end(), worse);
      } else if (dots[i] > heap.front().first) {
        std::pop_heap(heap.begin(), heap.end(), worse);
        heap.back() = {dots[i], b + i};
        std::push_heap(heap.begin(), heap.end(), worse);
      }
    }
  }
  std::vector<int64_t> out;
  for (auto& [s, j] : heap) out.push_back(j);
  return out;
}

std::string chunk_id(int64_t j) {
  char b[32];
  std::snprintf(b, sizeof b, "c%010lld", static_cast<long long>(j));
  return b;
}

int64_t chunk_ordinal(const std::string& id) { return std::stoll(id.substr(1)); }

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << text;
  if (!f.flush()) throw Error(ErrorKind::Io, "cannot write " + p.string());
}

uint64_t file_bytes(const fs::path& p) {
  std::error_code ec;
  const auto n = fs::file_size(p, ec);
  return ec ? 0 : uint64_t(n);
}

}  // namespace

std::vector<float> synthetic_chunk_vectors(const StoreBenchOptions& o, int64_t n) {
  const Corpus corpus(o);
  std::vector<float> out(size_t(n) * size_t(o.dim));
  for (int64_t j = 0; j < n; ++j)
    corpus.vector(corpus.doc_cluster(j / o.chunks_per_document), uint64_t(j),
                  out.data() + size_t(j) * size_t(o.dim));
  return out;
}

std::vector<float> synthetic_query_vectors(const StoreBenchOptions& o, int n) {
  const Corpus corpus(o);
  std::mt19937_64 rng(o.seed * 31337u);
  std::vector<float> out(size_t(n) * size_t(o.dim));
  for (int i = 0; i < n; ++i)
    corpus.vector(int(rng() % uint64_t(o.clusters)), (uint64_t(1) << 62) + uint64_t(i),
                  out.data() + size_t(i) * size_t(o.dim));
  return out;
}

StoreBenchResult run_store_bench(const StoreBenchOptions& o) {
  if (o.data_dir.empty()) throw Error(ErrorKind::InvalidArgument, "store bench: no data directory");
  // What the store's contents depend on: a store filled with the same values is reused.
  const std::string signature =
      "chunks=" + std::to_string(o.chunks) + " dim=" + std::to_string(o.dim) +
      " cpd=" + std::to_string(o.chunks_per_document) + " words=" + std::to_string(o.words_per_chunk) +
      " latent=" + std::to_string(o.latent_dim) + " clusters=" + std::to_string(o.clusters) +
      " noise=" + std::to_string(o.noise) + " seed=" + std::to_string(o.seed) + "\n";
  const fs::path signature_file = fs::path(o.data_dir) / "bench-corpus";
  const bool has_store = fs::exists(fs::path(o.data_dir) / EmbeddedStore::kDatabaseFile);
  const bool reuse = o.reuse_store && has_store && read_text(signature_file) == signature;
  if (has_store && !reuse)
    throw Error(ErrorKind::InvalidArgument, "store bench: " + o.data_dir + " already holds a store" +
                                                (o.reuse_store ? " of other corpus options" : "") +
                                                "; give an empty directory");
  if (o.chunks <= 0 || o.dim <= 0 || o.chunks_per_document <= 0 || o.k <= 0 || o.clusters <= 0)
    throw Error(ErrorKind::InvalidArgument,
                "store bench: chunks, dim, chunks_per_document, clusters and k must be positive");
  auto say = [&](const std::string& s) {
    if (o.progress) o.progress(s);
  };
  EmbeddedStoreOptions so = o.store;
  so.data_dir = o.data_dir;
  so.index_checkpoint_changes = 0;  // time the add and the index build separately
  StoreBenchResult r;
  r.dim = o.dim;
  r.index_threads = so.index_threads > 0 ? so.index_threads : 0;
  const Corpus corpus(o);
  std::vector<float> all(size_t(o.chunks) * size_t(o.dim));

  // --- add -------------------------------------------------------------------------------
  r.reused = reuse;
  if (reuse) {  // only the vectors, for the exact scans that measure recall
    for (int64_t j = 0; j < o.chunks; ++j)
      corpus.vector(corpus.doc_cluster(j / o.chunks_per_document), uint64_t(j),
                    all.data() + size_t(j) * size_t(o.dim));
    r.chunks = o.chunks;
    r.documents = (o.chunks + o.chunks_per_document - 1) / o.chunks_per_document;
  }
  std::unique_ptr<EmbeddedStore> store = reuse ? nullptr : std::make_unique<EmbeddedStore>(so);
  const int64_t n_docs = (o.chunks + o.chunks_per_document - 1) / o.chunks_per_document;
  double add = 0;
  int last_pct = -1;
  for (int64_t d = 0; d < n_docs && !reuse; ++d) {
    Document doc;
    char b[32];
    std::snprintf(b, sizeof b, "d%08lld", static_cast<long long>(d));
    doc.id = b;
    doc.type = Corpus::type_of(d);
    doc.source_path = "/bench/" + std::string(d % 3 == 0 ? "notes/" : "work/") + doc.id + "." + doc.type;
    doc.title = "Document " + std::to_string(d);
    doc.mtime = 1700000000 + d * 600;
    doc.content_hash = doc.id;
    doc.metadata["tags"] = Corpus::rare(d) ? "rare" : d % 2 ? "work" : "home";
    std::vector<Chunk> chunks;
    std::vector<std::vector<float>> vecs;
    const int64_t first = d * o.chunks_per_document, last = std::min(o.chunks, first + o.chunks_per_document);
    for (int64_t j = first; j < last; ++j) {
      Chunk c;
      c.id = chunk_id(j);
      c.doc_id = doc.id;
      c.index = int(j - first);
      c.text = corpus.text_of(corpus.chunk_words(j));
      c.begin = int64_t(doc.text.size());
      doc.text += c.text;
      c.end = int64_t(doc.text.size());
      doc.text += "\n\n";
      if (doc.type == "pdf") c.page_first = c.page_last = c.index / 3 + 1;
      c.n_tokens = o.words_per_chunk;
      chunks.push_back(std::move(c));
      float* v = all.data() + size_t(j) * size_t(o.dim);
      corpus.vector(corpus.doc_cluster(d), uint64_t(j), v);
      vecs.emplace_back(v, v + o.dim);
    }
    const auto t0 = Clock::now();
    store->upsert_document(doc, chunks, vecs, "synthetic-384");
    add += seconds_since(t0);
    r.chunks += int64_t(chunks.size());
    const int pct = int(100 * (d + 1) / n_docs);
    if (pct / 5 != last_pct / 5) {
      last_pct = pct;
      say("adding chunks " + std::to_string(pct) + "% (" + std::to_string(r.chunks) + ")");
    }
  }
  r.documents = n_docs;
  r.add_seconds = add;

  // --- index build, checkpoint, reopen ----------------------------------------------------
  if (!reuse) {
    say("building the vector index");
    std::vector<float> q(size_t(o.dim));
    corpus.vector(0, ~uint64_t(0), q.data());
    auto t0 = Clock::now();
    (void)store->search_vector(q, 1);  // catches the index up with every vector (parallel build)
    r.index_build_seconds = seconds_since(t0);
    t0 = Clock::now();
    store->checkpoint();
    r.checkpoint_seconds = seconds_since(t0);
    store.reset();
    if (o.reuse_store) write_text(signature_file, signature);
  }
  say("reopening");
  auto t0 = Clock::now();
  store = std::make_unique<EmbeddedStore>(so);
  r.reopen_seconds = seconds_since(t0);
  const auto st = store->index_status();
  r.reopen_problem = st.open_problem;
  r.reopen_rebuilds = st.full_rebuilds;
  r.kernel = st.kernel;
  r.index_memory_bytes = st.memory_bytes;
  r.db_bytes = file_bytes(fs::path(o.data_dir) / EmbeddedStore::kDatabaseFile) +
               file_bytes(fs::path(o.data_dir) / (std::string(EmbeddedStore::kDatabaseFile) + "-wal"));
  r.index_file_bytes = file_bytes(fs::path(o.data_dir) / EmbeddedStore::kIndexFile);

  // --- queries -------------------------------------------------------------------------------
  std::mt19937_64 rng(o.seed * 31337u);
  const int nq = std::max(1, o.queries);
  std::vector<std::vector<float>> vq(size_t(nq), std::vector<float>(size_t(o.dim)));
  std::vector<std::string> tq(static_cast<size_t>(nq));
  for (int i = 0; i < nq; ++i) {
    corpus.vector(int(rng() % uint64_t(o.clusters)), (uint64_t(1) << 62) + uint64_t(i), vq[size_t(i)].data());
    tq[size_t(i)] = corpus.query_text(int64_t(rng() % uint64_t(r.chunks)));
  }
  for (int i = 0; i < std::min(nq, 20); ++i) {  // warm caches
    (void)store->search_vector(vq[size_t(i)], o.k);
    (void)store->search_bm25(tq[size_t(i)], o.k);
  }
  auto timed = [](auto&& f) {
    const auto t = Clock::now();
    f();
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
  };
  const int nr = std::min(nq, o.recall_queries);
  auto recall_of = [&](const std::vector<Hit>& hits, const std::vector<int64_t>& want) {
    if (want.empty()) return 1.0;
    int found = 0;
    for (const auto& h : hits)
      if (std::find(want.begin(), want.end(), chunk_ordinal(h.chunk.id)) != want.end()) ++found;
    return double(found) / double(want.size());
  };
  auto run_vector = [&](const Filter& f, const char* what, auto keep, SearchLatency& lat, double* recall) {
    say(std::string("timing vector search") + what);
    std::vector<double> ms;
    double rsum = 0;
    for (int i = 0; i < nq; ++i) {
      std::vector<Hit> hits;
      ms.push_back(timed([&] { hits = store->search_vector(vq[size_t(i)], o.k, f); }));
      if (i < nr && recall) {
        const auto t = Clock::now();
        const auto want = exact_top_k(all, o.dim, vq[size_t(i)].data(), o.k, keep);
        if (f.is_all())
          r.exact_ms += std::chrono::duration<double, std::milli>(Clock::now() - t).count() / nr;
        rsum += recall_of(hits, want);
      }
    }
    lat = latency(ms);
    if (recall) *recall = rsum / std::max(1, nr);
  };
  const int64_t cpd = o.chunks_per_document;
  run_vector(
      Filter{}, "", [](int64_t) { return true; }, r.vector, &r.recall);
  run_vector(
      parse_filter("type = pdf"), " (type = pdf)", [&](int64_t j) { return j / cpd % 4 == 3; },
      r.vector_filtered, &r.recall_filtered);
  run_vector(
      parse_filter("tags = rare"), " (tags = rare)", [&](int64_t j) { return Corpus::rare(j / cpd); },
      r.vector_selective, &r.recall_selective);

  say("timing BM25 search");
  std::vector<double> ms;
  for (int i = 0; i < nq; ++i) ms.push_back(timed([&] { (void)store->search_bm25(tq[size_t(i)], o.k); }));
  r.bm25 = latency(ms);
  ms.clear();
  const Filter pdf = parse_filter("type = pdf");
  for (int i = 0; i < nq; ++i)
    ms.push_back(timed([&] { (void)store->search_bm25(tq[size_t(i)], o.k, pdf); }));
  r.bm25_filtered = latency(ms);

  say("timing hybrid search");
  ms.clear();
  for (int i = 0; i < nq; ++i) {
    ms.push_back(timed([&] {
      const auto v = store->search_vector(vq[size_t(i)], o.hybrid_candidates);
      const auto b = store->search_bm25(tq[size_t(i)], o.hybrid_candidates);
      // Reciprocal rank fusion (k = 60), then the top k.
      std::unordered_map<std::string, double> score;
      for (size_t p = 0; p < v.size(); ++p) score[v[p].chunk.id] += 1.0 / (60.0 + double(p + 1));
      for (size_t p = 0; p < b.size(); ++p) score[b[p].chunk.id] += 1.0 / (60.0 + double(p + 1));
      std::vector<std::pair<double, std::string>> fused;
      for (auto& [id, s] : score) fused.emplace_back(-s, id);
      std::partial_sort(fused.begin(), fused.begin() + std::min<ptrdiff_t>(o.k, ptrdiff_t(fused.size())),
                        fused.end());
    }));
  }
  r.hybrid = latency(ms);

  // How many chunks a BM25 query matches (the cost FTS5 pays per query).
  {
    store::Db db((fs::path(o.data_dir) / EmbeddedStore::kDatabaseFile).string(), false);
    double total = 0;
    const int n = std::min(nq, 50);
    for (int i = 0; i < n; ++i) {
      auto s = db.prepare("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?1");
      s.bind(1, store::fts5_match_expression(tq[size_t(i)]));
      if (s.step()) total += double(s.col_int(0));
    }
    r.bm25_mean_matches = total / n;
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  r.peak_rss_bytes = uint64_t(ru.ru_maxrss) * 1024;
  return r;
}

std::string format_store_bench(const StoreBenchResult& r) {
  char buf[4096];
  auto lat = [](const SearchLatency& l) {
    char b[96];
    std::snprintf(b, sizeof b, "p50 %7.3f ms  p99 %7.3f ms  mean %7.3f ms", l.p50_ms, l.p99_ms, l.mean_ms);
    return std::string(b);
  };
  char fill[512];
  if (r.reused)
    std::snprintf(fill, sizeof fill,
                  "  reused the store of an earlier run: add, build and checkpoint not timed\n");
  else
    std::snprintf(fill, sizeof fill,
                  "  add (SQLite rows + FTS5 + vector BLOBs): %.1f s = %.0f chunks/s\n"
                  "  vector index build (HNSW):               %.1f s\n"
                  "  checkpoint (write vectors.idx):          %.2f s\n",
                  r.add_seconds, r.add_chunks_per_second(), r.index_build_seconds, r.checkpoint_seconds);
  std::snprintf(buf, sizeof buf,
                "embedded store: %lld chunks in %lld documents, %d-d vectors, kernel %s\n"
                "%s"
                "  reopen (load vectors.idx):               %.2f s%s%s\n"
                "  files: store.sqlite %.1f MB, vectors.idx %.1f MB; index memory %.1f MB; peak RSS %.1f MB\n"
                "  vector          %s  recall@10 %.4f\n"
                "  vector pdf 25%%  %s  recall@10 %.4f\n"
                "  vector rare .5%% %s  recall@10 %.4f\n"
                "  bm25            %s  (%.0f matching chunks per query)\n"
                "  bm25 pdf 25%%    %s\n"
                "  hybrid (RRF)    %s\n"
                "  exact scan for reference: %.2f ms per query\n",
                static_cast<long long>(r.chunks), static_cast<long long>(r.documents), r.dim,
                r.kernel.c_str(), fill, r.reopen_seconds, r.reopen_rebuilds ? " (rebuilt: " : "",
                r.reopen_rebuilds ? (r.reopen_problem + ")").c_str() : "", double(r.db_bytes) / 1e6,
                double(r.index_file_bytes) / 1e6, double(r.index_memory_bytes) / 1e6,
                double(r.peak_rss_bytes) / 1e6, lat(r.vector).c_str(), r.recall,
                lat(r.vector_filtered).c_str(), r.recall_filtered, lat(r.vector_selective).c_str(),
                r.recall_selective, lat(r.bm25).c_str(), r.bm25_mean_matches, lat(r.bm25_filtered).c_str(),
                lat(r.hybrid).c_str(), r.exact_ms);
  return buf;
}

}  // namespace xnai::rag

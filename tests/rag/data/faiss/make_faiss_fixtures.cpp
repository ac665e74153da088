// Writes the FAISS fixture files used by tests/rag/faiss_index_file_test.cpp, using libfaiss
// itself (Debian's libfaiss-dev 1.7.3), so our reader is checked against the real writer.
// Not part of the build; regenerate with:
//   g++ -O1 -std=c++17 make_faiss_fixtures.cpp -o /tmp/mkfx -lfaiss -fopenmp -lblas -llapack
//   (cd tests/rag/data/faiss && /tmp/mkfx)
// Outputs (all little-endian):
//   vectors.f32      the 60 × 16 float vectors every index holds, row-major
//   ids.i64          the 60 ids given to the IDMap indexes
//   queries.f32      5 × 16 query vectors
//   <name>.faiss     flat_ip, flat_l2, idmap_flat_ip, idmap2_flat_l2, hnsw_flat_ip, idmap2_hnsw_flat_l2
//   <name>.top5.i64  for each index: libfaiss's top-5 result ids for each query (5 × 5)
//   ivf_flat.faiss   an IndexIVFFlat, a type the reader must refuse with a clear error
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/index_io.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr int kDim = 16, kN = 60, kQ = 5, kK = 5;

template <class T>
void dump(const std::string& name, const std::vector<T>& v) {
  FILE* f = std::fopen(name.c_str(), "wb");
  std::fwrite(v.data(), sizeof(T), v.size(), f);
  std::fclose(f);
}

void save(faiss::Index& index, const std::string& name, const std::vector<float>& queries) {
  faiss::write_index(&index, (name + ".faiss").c_str());
  std::vector<float> dist(kQ * kK);
  std::vector<faiss::Index::idx_t> labels(kQ * kK);
  index.search(kQ, queries.data(), kK, dist.data(), labels.data());
  std::vector<int64_t> out(labels.begin(), labels.end());
  dump(name + ".top5.i64", out);
}

}  // namespace

int main() {
  std::mt19937 rng(20241125);
  std::normal_distribution<float> g;
  std::vector<float> xb(kN * kDim), xq(kQ * kDim);
  for (auto& x : xb) x = g(rng);
  for (auto& x : xq) x = g(rng);
  std::vector<faiss::Index::idx_t> ids(kN);
  std::vector<int64_t> ids64(kN);
  for (int i = 0; i < kN; ++i) ids[i] = ids64[i] = 1000 + 7 * int64_t(i) * int64_t(i);
  dump("vectors.f32", xb);
  dump("ids.i64", ids64);
  dump("queries.f32", xq);

  faiss::IndexFlatIP flat_ip(kDim);
  flat_ip.add(kN, xb.data());
  save(flat_ip, "flat_ip", xq);

  faiss::IndexFlatL2 flat_l2(kDim);
  flat_l2.add(kN, xb.data());
  save(flat_l2, "flat_l2", xq);

  faiss::IndexFlatIP inner_ip(kDim);
  faiss::IndexIDMap idmap(&inner_ip);
  idmap.add_with_ids(kN, xb.data(), ids.data());
  save(idmap, "idmap_flat_ip", xq);

  faiss::IndexFlatL2 inner_l2(kDim);
  faiss::IndexIDMap2 idmap2(&inner_l2);
  idmap2.add_with_ids(kN, xb.data(), ids.data());
  save(idmap2, "idmap2_flat_l2", xq);

  faiss::IndexHNSWFlat hnsw_ip(kDim, 8, faiss::METRIC_INNER_PRODUCT);
  hnsw_ip.hnsw.efConstruction = 40;
  hnsw_ip.hnsw.efSearch = 64;
  hnsw_ip.add(kN, xb.data());
  save(hnsw_ip, "hnsw_flat_ip", xq);

  faiss::IndexHNSWFlat hnsw_l2(kDim, 8);
  hnsw_l2.hnsw.efConstruction = 40;
  hnsw_l2.hnsw.efSearch = 64;
  faiss::IndexIDMap2 idmap2_hnsw(&hnsw_l2);
  idmap2_hnsw.add_with_ids(kN, xb.data(), ids.data());
  save(idmap2_hnsw, "idmap2_hnsw_flat_l2", xq);

  faiss::IndexFlatL2 coarse(kDim);
  faiss::IndexIVFFlat ivf(&coarse, kDim, 4);
  ivf.train(kN, xb.data());
  ivf.add(kN, xb.data());
  faiss::write_index(&ivf, "ivf_flat.faiss");
  return 0;
}

// Reader for FAISS index files (faiss::write_index), our own implementation of FAISS's
// documented serialization, so xnai reads existing FAISS indexes without linking libfaiss.
// docs/store-format.md lists the byte layout of each supported type.
//
// Supported (outermost first; ids come from the id map, else 0..n-1):
//   IndexFlatIP ("IxFI"), IndexFlatL2 ("IxF2"), IndexFlat with another metric ("IxFl"),
//   IndexIDMap ("IxMp") and IndexIDMap2 ("IxM2") over any supported index,
//   IndexHNSWFlat ("IHNf"): the graph is validated and skipped, the vectors are read.
// Anything else is Error(Unsupported) naming the type.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace xnai::rag {

enum class FaissMetric { InnerProduct = 0, L2 = 1, Other = 2 };

struct FaissIndexData {
  std::string type;  // the index types from the outside in, e.g. "IxM2/IHNf/IxFI"
  int dim = 0;
  FaissMetric metric = FaissMetric::L2;
  std::vector<int64_t> ids;    // one per vector
  std::vector<float> vectors;  // ids.size() × dim, in file order
};

// Reads a whole FAISS index file. Throws Error(NotFound/Io) for an unreadable file,
// Error(InvalidFormat) for a damaged one (every count is checked against the bytes left
// before anything is allocated) and Error(Unsupported) for other index types.
FaissIndexData read_faiss_index(const std::string& path);

}  // namespace xnai::rag

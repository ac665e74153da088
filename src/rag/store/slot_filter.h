// A filter compiled for the vector index: document-level parts of the filter are evaluated
// in SQL (over the documents table, small next to chunks) into sets of document seq
// numbers; page conditions are tested on each slot's page range. The result is a
// SlotFilter the graph search consults per visited node, plus a cheap way to list the
// candidate slots when the filter is selective enough for an exact scan.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "rag/document.h"
#include "rag/store/filter_sql.h"
#include "rag/store/vector_index.h"

namespace xnai::rag::store {

class Db;

// The documents a document-level condition keeps.
struct DocSet {
  std::vector<uint64_t> bits;                       // over documents.seq
  std::vector<std::pair<int64_t, int64_t>> ranges;  // (first_chunk, n_chunks) per kept document
  int64_t n_chunks = 0;
  bool has(int64_t doc) const {
    const uint64_t i = uint64_t(doc);
    return i / 64 < bits.size() && (bits[i / 64] >> (i % 64) & 1);
  }
};

// Runs a document-scope condition (FilterScope::Document) on `db`.
std::shared_ptr<const DocSet> query_doc_set(Db& db, const SqlCondition& cond);

// Where a compiled filter gets its document sets (the store caches them per generation).
using DocSetSource = std::function<std::shared_ptr<const DocSet>(const SqlCondition&)>;

class CompiledSlotFilter : public SlotFilter {
 public:
  // Throws Error(InvalidArgument) for malformed filters. `index` may be null when only
  // accept_attrs() is used (BM25); accept(), candidate_bound() and candidates() need it.
  CompiledSlotFilter(const Filter& filter, const DocSetSource& doc_sets, const VectorIndex* index);
  ~CompiledSlotFilter() override;

  bool accept(uint32_t slot) const override { return accept_attrs(index_->attrs(slot)); }
  // The filter on a chunk's document and page range.
  bool accept_attrs(const SlotAttrs& a) const;

  // An upper bound on the matching slots, known without touching the index: the chunk
  // count of the documents the filter's document part keeps, or the index size when the
  // filter has no such part at its top level.
  int64_t candidate_bound() const { return bound_; }
  // True when candidate_bound() is exact up to chunks without vectors (no page conditions).
  bool bound_is_exact() const { return !has_pages_; }
  // Whether accept_attrs() looks at page ranges (else only at the document).
  bool uses_pages() const { return has_pages_; }
  // The matching live slots (walks the kept documents' chunk ranges, or every slot).
  std::vector<uint32_t> candidates() const;

 private:
  struct Node;
  std::unique_ptr<Node> compile(const Filter& f, const DocSetSource& doc_sets, int depth);

  const VectorIndex* index_;
  std::unique_ptr<Node> root_;
  const Node* driver_ = nullptr;  // a document set every match must belong to, if any
  int64_t bound_ = 0;
  bool has_pages_ = false;
};

}  // namespace xnai::rag::store

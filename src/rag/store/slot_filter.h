// A filter compiled for the vector index: document-level parts of the filter are evaluated
// once per search in SQL (over the documents table, small next to chunks) into bitmaps of
// document seq numbers; page conditions are tested on each slot's page range. The result
// is a SlotFilter the graph search consults per visited node, plus a cheap way to list the
// candidate slots when the filter is selective enough for an exact scan.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "rag/document.h"
#include "rag/store/vector_index.h"

namespace xnai::rag::store {

class Db;

class CompiledSlotFilter : public SlotFilter {
 public:
  // Runs the document-level SQL on `db`. Throws Error(InvalidArgument) for malformed filters.
  CompiledSlotFilter(const Filter& filter, Db& db, const VectorIndex& index);
  ~CompiledSlotFilter() override;

  bool accept(uint32_t slot) const override;

  // An upper bound on the matching slots, known without touching the index: the chunk
  // count of the documents the filter's document part keeps, or the index size when the
  // filter has no such part at its top level.
  int64_t candidate_bound() const { return bound_; }
  // The matching live slots (walks the kept documents' chunk ranges, or every slot).
  std::vector<uint32_t> candidates() const;

 private:
  struct Node;
  std::unique_ptr<Node> compile(const Filter& f, Db& db, int depth);

  const VectorIndex& index_;
  std::unique_ptr<Node> root_;
  const Node* driver_ = nullptr;  // a document set every match must belong to, if any
  int64_t bound_ = 0;
};

}  // namespace xnai::rag::store

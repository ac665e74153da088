// The in-memory vector index of the embedded store: float32 vectors in slots, an HNSW graph
// over them (Malkov & Yashunin 2016, our own implementation), exact scans for small sets,
// and per-slot attributes (document, page range) that filters test during a search.
//
// It is a derived cache of the vectors table in store.sqlite: labels are chunk seq numbers,
// and the index can always be rebuilt from the BLOBs (vector_index_file.h saves/loads it).
//
// Deletion is O(1): a tombstone that searches skip but still walk through; consolidate()
// later unlinks tombstones from the graph (repairing nodes left with few links) and frees
// their slots for reuse, so the index is never rebuilt because of deletions.
//
// Scores are inner products (vectors are L2-normalised by the store, so cosine).
//
// Thread-safety: const methods (searches) may run concurrently with each other; every
// mutation needs exclusive access (the store holds a shared_mutex). add_batch() uses its
// own worker threads internally.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "rag/store/label_map.h"

namespace xnai::rag::store {

struct IndexParams {
  int dim = 0;
  int m = 16;  // links per node on upper layers; 2m on layer 0
  int ef_construction = 100;
};

// Per-slot data that filters look at.
struct SlotAttrs {
  int64_t doc = 0;  // documents.seq
  int32_t page_first = 0;
  int32_t page_last = 0;
};

struct Scored {
  float score;  // inner product, higher is better
  uint32_t slot;
};

// A predicate over slots evaluated inside searches (filters). Must be cheap and thread-safe.
class SlotFilter {
 public:
  virtual ~SlotFilter() = default;
  virtual bool accept(uint32_t slot) const = 0;
};

namespace detail {
struct Cand {  // a graph candidate: distance (= -inner product, lower is closer) and slot
  float d;
  uint32_t s;
};
struct Scratch;  // per-thread search buffers (vector_index.cpp)
}  // namespace detail

class VectorIndex {
 public:
  static constexpr uint32_t kNone = 0xffffffffu;
  enum SlotState : uint8_t { kFree = 0, kLive = 1, kDeleted = 2 };

  explicit VectorIndex(const IndexParams& params);
  ~VectorIndex();
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  const IndexParams& params() const { return params_; }
  int dim() const { return params_.dim; }
  size_t size() const { return n_live_; }          // live vectors
  size_t n_deleted() const { return n_deleted_; }  // tombstones awaiting consolidate()
  uint32_t n_slots() const { return n_slots_; }    // slots ever used (high-water mark)
  size_t memory_bytes() const;

  // Adds `label` (replacing it when present). Single-threaded; v has dim() floats.
  void add(int64_t label, const float* v, const SlotAttrs& attrs);
  // Adds n labels (each new or replacing) using up to n_threads threads for the graph.
  void add_batch(const int64_t* labels, const float* vectors, const SlotAttrs* attrs, size_t n,
                 int n_threads);
  // Tombstones `label`; false when absent.
  bool remove(int64_t label);
  // Unlinks tombstones and frees their slots (see the file comment). O(slots · 2m) plus
  // repairs of nodes left with fewer than m/2 (layer 0: m) links, then
  // repair_unreachable().
  void consolidate();
  // Live nodes that no walk from the entry point can reach on layer 0 (the layer every
  // search ends on). Pruning keeps each list short, so a node whose in-links all came from
  // since-deleted nodes or were pruned away is lost to searches though it is still stored.
  // O(slots · 2m).
  size_t count_unreachable() const;
  // Links every unreachable live node from nodes that are reachable (its nearest ones,
  // found by a search from the entry point) and returns how many it linked.
  size_t repair_unreachable();

  std::optional<uint32_t> find(int64_t label) const { return labels_map_.find(label); }
  int64_t label(uint32_t slot) const { return labels_[slot]; }
  const SlotAttrs& attrs(uint32_t slot) const { return attrs_[slot]; }
  bool is_live(uint32_t slot) const { return state_[slot] == kLive; }
  const float* vector(uint32_t slot) const { return vectors_.data() + size_t(slot) * size_t(params_.dim); }

  // Top-k by inner product through the graph; ef >= k is the candidate list size. Only live
  // slots accepted by `filter` (when given) are returned; the walk still passes through
  // others, so a filter keeps the graph connected. Best first.
  std::vector<Scored> search_graph(const float* q, int k, int ef, const SlotFilter* filter) const;
  // Exact top-k over all live slots (accepted by `filter` when given). Best first.
  std::vector<Scored> search_exact(const float* q, int k, const SlotFilter* filter) const;
  // Exact top-k over the given live slots. Best first.
  std::vector<Scored> search_exact_slots(const float* q, int k, const uint32_t* slots, size_t n) const;

  // Graph invariants for tests: every link points at a used slot, no node links to itself,
  // link counts within bounds, the entry point is live when any slot is, every live node is
  // reachable from the entry point on layer 0. Returns "" when
  // all hold, else a description of the first violation.
  std::string check_graph() const;

 private:
  friend class VectorIndexFile;

  uint32_t m0() const { return uint32_t(2 * params_.m); }
  uint32_t max_links(int level) const { return level == 0 ? m0() : uint32_t(params_.m); }
  uint32_t* links(uint32_t slot, int level);
  const uint32_t* links(uint32_t slot, int level) const;
  int random_level(int64_t label) const;
  uint32_t take_slot();
  void reserve(size_t n_slots);
  uint32_t place(int64_t label, const float* v, const SlotAttrs& attrs);  // slot filled, not linked
  void free_slot(uint32_t slot);
  // Graph construction and search (vector_index.cpp). kLocked: parallel build, where node
  // link lists are read and written under their stripe lock.
  template <bool kLocked>
  void link(uint32_t slot, detail::Scratch& sc);
  template <bool kLocked, class Accept>
  void search_layer(const float* q, const detail::Cand* eps, size_t n_eps, int ef, int level,
                    const Accept& accept, detail::Scratch& sc) const;
  template <bool kLocked>
  void greedy(const float* q, detail::Cand& cur, int level, detail::Scratch& sc) const;
  template <bool kLocked>
  void add_reverse_link(uint32_t node, uint32_t s, int level, detail::Scratch& sc);
  // Puts s into node's layer-0 list even when the heuristic would prune it: appended when
  // there is room, else in place of node's farthest link.
  void force_link0(uint32_t node, uint32_t s);
  // reached[slot] = 1 for the slots a layer-0 walk from the entry point reaches.
  std::vector<uint8_t> reachable0() const;
  // The paper's neighbour-selection heuristic over candidates sorted closest first.
  void select_neighbors(const detail::Cand* cands, size_t n, uint32_t max, std::vector<uint32_t>& out) const;
  float distance(uint32_t a, uint32_t b) const;

  IndexParams params_;
  float level_mult_;
  uint32_t n_slots_ = 0;
  uint32_t capacity_ = 0;
  size_t n_live_ = 0, n_deleted_ = 0;
  std::vector<float> vectors_;  // capacity × dim
  std::vector<int64_t> labels_;
  std::vector<uint8_t> state_;
  std::vector<SlotAttrs> attrs_;
  std::vector<uint8_t> levels_;
  std::vector<uint32_t> links0_;                    // capacity × (1 + 2m): count, then links
  std::vector<std::unique_ptr<uint32_t[]>> upper_;  // levels 1..L: L × (1 + m)
  std::vector<uint32_t> free_;
  LabelMap labels_map_;
  uint32_t entry_ = kNone;
  int max_level_ = -1;

  // Parallel inserts lock one node at a time (striped), and hold global_ while raising
  // the top level.
  static constexpr size_t kStripes = 4096;
  std::unique_ptr<std::mutex[]> stripes_;
  std::mutex global_;
};

}  // namespace xnai::rag::store

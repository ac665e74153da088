#include "rag/store/vector_index.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <thread>

#include "core/error.h"
#include "rag/store/vector_kernels.h"

namespace xnai::rag::store {

using detail::Cand;

namespace detail {
// Per-thread search state, reused across searches so a search allocates only its result.
struct Scratch {
  std::vector<uint32_t> marks;  // visited when marks[slot] == epoch
  uint32_t epoch = 0;
  std::vector<Cand> cand, top, sorted, rev;
  std::vector<uint32_t> nbuf, chosen, rev_chosen;

  void begin(uint32_t n_slots) {
    if (marks.size() < n_slots) marks.resize(n_slots, 0);
    if (++epoch == 0) {
      std::fill(marks.begin(), marks.end(), 0);
      epoch = 1;
    }
  }
  bool first_visit(uint32_t s) {
    if (marks[s] == epoch) return false;
    marks[s] = epoch;
    return true;
  }
};
}  // namespace detail

namespace {

using detail::Scratch;
thread_local Scratch tls_scratch;

// Heaps over Cand: top = farthest (result lists) or closest (frontier).
inline bool farther_first(const Cand& a, const Cand& b) { return a.d < b.d || (a.d == b.d && a.s < b.s); }
inline bool closer_first(const Cand& a, const Cand& b) { return a.d > b.d || (a.d == b.d && a.s > b.s); }
inline bool by_distance(const Cand& a, const Cand& b) { return a.d < b.d || (a.d == b.d && a.s < b.s); }
// Result heaps over Scored: top = worst kept.
inline bool better(const Scored& a, const Scored& b) {
  return a.score > b.score || (a.score == b.score && a.slot < b.slot);
}

void push_result(std::vector<Scored>& heap, size_t k, Scored s) {
  if (heap.size() < k) {
    heap.push_back(s);
    std::push_heap(heap.begin(), heap.end(), better);
  } else if (better(s, heap.front())) {
    std::pop_heap(heap.begin(), heap.end(), better);
    heap.back() = s;
    std::push_heap(heap.begin(), heap.end(), better);
  }
}

std::vector<Scored> sorted_results(std::vector<Scored> heap) {
  std::sort(heap.begin(), heap.end(), better);
  return heap;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

inline void prefetch(const void* p) { __builtin_prefetch(p, 0, 3); }

// Copies a node's link list into out; under the node's stripe lock while building in
// parallel, so a concurrent writer is never seen half-way.
template <bool kLocked>
void read_links(const uint32_t* lst, std::mutex& stripe, std::vector<uint32_t>& out) {
  if constexpr (kLocked) {
    std::lock_guard<std::mutex> g(stripe);
    out.assign(lst + 1, lst + 1 + lst[0]);
  } else {
    out.assign(lst + 1, lst + 1 + lst[0]);
  }
}

}  // namespace

VectorIndex::VectorIndex(const IndexParams& params)
    : params_(params), stripes_(std::make_unique<std::mutex[]>(kStripes)) {
  if (params_.dim <= 0 || params_.dim > 65536)
    throw Error(ErrorKind::InvalidArgument,
                "vector index: dimension " + std::to_string(params_.dim) + " is out of range 1..65536");
  if (params_.m < 2 || params_.m > 128)
    throw Error(ErrorKind::InvalidArgument,
                "vector index: hnsw m " + std::to_string(params_.m) + " is out of range 2..128");
  params_.ef_construction = std::clamp(params_.ef_construction, params_.m, 4096);
  level_mult_ = float(1.0 / std::log(double(params_.m)));
}

VectorIndex::~VectorIndex() = default;

size_t VectorIndex::memory_bytes() const {
  size_t b = vectors_.capacity() * sizeof(float) + labels_.capacity() * 8 + state_.capacity() +
             attrs_.capacity() * sizeof(SlotAttrs) + levels_.capacity() + links0_.capacity() * 4 +
             upper_.capacity() * sizeof(void*) + free_.capacity() * 4 + labels_map_.size() * 24;
  for (uint32_t s = 0; s < n_slots_; ++s)
    if (levels_[s] > 0) b += size_t(levels_[s]) * (params_.m + 1) * 4;
  return b;
}

uint32_t* VectorIndex::links(uint32_t slot, int level) {
  if (level == 0) return links0_.data() + size_t(slot) * (m0() + 1);
  return upper_[slot].get() + size_t(level - 1) * (params_.m + 1);
}

const uint32_t* VectorIndex::links(uint32_t slot, int level) const {
  return const_cast<VectorIndex*>(this)->links(slot, level);
}

float VectorIndex::distance(uint32_t a, uint32_t b) const {
  return -vector_kernels().dot(vector(a), vector(b), size_t(params_.dim));
}

int VectorIndex::random_level(int64_t label) const {
  // Deterministic in the label, so serial and parallel builds draw the same levels.
  const uint64_t h = splitmix64(uint64_t(label));
  const double u = double((h >> 11) + 1) * 0x1.0p-53;  // (0, 1]
  return std::min(int(-std::log(u) * level_mult_), 30);
}

void VectorIndex::reserve(size_t n) {
  if (n <= capacity_) return;
  if (n >= size_t(kNone)) throw Error(ErrorKind::Unsupported, "vector index: more than 4e9 vectors");
  size_t cap = std::max<size_t>({n, size_t(capacity_) + capacity_ / 2, 1024});
  cap = std::min<size_t>(cap, size_t(kNone) - 1);
  vectors_.resize(cap * size_t(params_.dim));
  labels_.resize(cap, -1);
  state_.resize(cap, kFree);
  attrs_.resize(cap);
  levels_.resize(cap, 0);
  links0_.resize(cap * (m0() + 1), 0);
  upper_.resize(cap);
  capacity_ = uint32_t(cap);
}

uint32_t VectorIndex::take_slot() {
  if (!free_.empty()) {
    const uint32_t s = free_.back();
    free_.pop_back();
    return s;
  }
  reserve(size_t(n_slots_) + 1);
  return n_slots_++;
}

uint32_t VectorIndex::place(int64_t label, const float* v, const SlotAttrs& attrs) {
  remove(label);
  const uint32_t s = take_slot();
  std::memcpy(vectors_.data() + size_t(s) * params_.dim, v, sizeof(float) * params_.dim);
  labels_[s] = label;
  state_[s] = kLive;
  attrs_[s] = attrs;
  const int level = random_level(label);
  levels_[s] = uint8_t(level);
  links(s, 0)[0] = 0;
  if (level > 0)
    upper_[s] = std::make_unique<uint32_t[]>(size_t(level) * (params_.m + 1));  // value-initialised: counts 0
  else
    upper_[s].reset();
  labels_map_.put(label, s);
  ++n_live_;
  return s;
}

void VectorIndex::free_slot(uint32_t s) {
  state_[s] = kFree;
  labels_[s] = -1;
  levels_[s] = 0;
  upper_[s].reset();
  links(s, 0)[0] = 0;
  free_.push_back(s);
}

bool VectorIndex::remove(int64_t label) {
  auto s = labels_map_.find(label);
  if (!s) return false;
  labels_map_.erase(label);
  state_[*s] = kDeleted;
  --n_live_;
  ++n_deleted_;
  return true;
}

// --- graph construction and search -------------------------------------------------------

// Algorithm 2 of the paper: a best-first walk keeping the ef closest *accepted* nodes in
// sc.top (a max-heap). Rejected nodes (tombstones, filtered out) are still expanded, which
// keeps filtered searches connected; until ef nodes are accepted the walk is unbounded.
template <bool kLocked, class Accept>
void VectorIndex::search_layer(const float* q, const Cand* eps, size_t n_eps, int ef, int level,
                               const Accept& accept, Scratch& sc) const {
  const auto& kern = vector_kernels();
  const size_t dim = size_t(params_.dim);
  const size_t efz = size_t(ef);
  sc.begin(n_slots_);
  sc.cand.clear();
  sc.top.clear();
  for (size_t i = 0; i < n_eps; ++i) {
    if (!sc.first_visit(eps[i].s)) continue;
    sc.cand.push_back(eps[i]);
    std::push_heap(sc.cand.begin(), sc.cand.end(), closer_first);
    if (accept(eps[i].s)) {
      sc.top.push_back(eps[i]);
      std::push_heap(sc.top.begin(), sc.top.end(), farther_first);
    }
  }
  float bound = sc.top.size() >= efz ? sc.top.front().d : std::numeric_limits<float>::infinity();
  while (!sc.cand.empty()) {
    const Cand c = sc.cand.front();
    if (c.d > bound) break;
    std::pop_heap(sc.cand.begin(), sc.cand.end(), closer_first);
    sc.cand.pop_back();
    read_links<kLocked>(links(c.s, level), stripes_[c.s % kStripes], sc.nbuf);
    for (uint32_t n : sc.nbuf) prefetch(vectors_.data() + size_t(n) * dim);
    for (uint32_t n : sc.nbuf) {
      if (!sc.first_visit(n)) continue;
      const float d = -kern.dot(q, vectors_.data() + size_t(n) * dim, dim);
      if (sc.top.size() >= efz && d >= bound) continue;
      sc.cand.push_back({d, n});
      std::push_heap(sc.cand.begin(), sc.cand.end(), closer_first);
      if (!accept(n)) continue;
      sc.top.push_back({d, n});
      std::push_heap(sc.top.begin(), sc.top.end(), farther_first);
      if (sc.top.size() > efz) {
        std::pop_heap(sc.top.begin(), sc.top.end(), farther_first);
        sc.top.pop_back();
      }
      if (sc.top.size() >= efz) bound = sc.top.front().d;
    }
  }
}

// Greedy descent on an upper layer (ef = 1, no filter: tombstones are fine stepping stones).
template <bool kLocked>
void VectorIndex::greedy(const float* q, Cand& cur, int level, Scratch& sc) const {
  const auto& kern = vector_kernels();
  const size_t dim = size_t(params_.dim);
  for (bool changed = true; changed;) {
    changed = false;
    read_links<kLocked>(links(cur.s, level), stripes_[cur.s % kStripes], sc.nbuf);
    for (uint32_t n : sc.nbuf) {
      const float d = -kern.dot(q, vectors_.data() + size_t(n) * dim, dim);
      if (d < cur.d) {
        cur = {d, n};
        changed = true;
      }
    }
  }
}

// Algorithm 4 of the paper (without extending candidates or keeping pruned ones): take a
// candidate only if it is closer to the base than to every neighbour already taken, which
// spreads links in different directions.
void VectorIndex::select_neighbors(const Cand* cands, size_t n, uint32_t max,
                                   std::vector<uint32_t>& out) const {
  out.clear();
  if (n <= max) {  // room for all: pruning would only lose links (sparse regions, upper layers)
    for (size_t i = 0; i < n; ++i) out.push_back(cands[i].s);
    return;
  }
  for (size_t i = 0; i < n && out.size() < max; ++i) {
    bool good = true;
    for (uint32_t r : out) {
      if (distance(cands[i].s, r) < cands[i].d) {
        good = false;
        break;
      }
    }
    if (good) out.push_back(cands[i].s);
  }
}

template <bool kLocked>
void VectorIndex::add_reverse_link(uint32_t node, uint32_t s, int level, Scratch& sc) {
  std::unique_lock<std::mutex> g(stripes_[node % kStripes], std::defer_lock);
  if constexpr (kLocked) g.lock();
  uint32_t* lst = links(node, level);
  const uint32_t cnt = lst[0];
  const uint32_t cap = max_links(level);
  for (uint32_t i = 0; i < cnt; ++i)
    if (lst[1 + i] == s) return;
  if (cnt < cap) {
    lst[1 + cnt] = s;
    lst[0] = cnt + 1;
    return;
  }
  // Full: keep the heuristic's choice among the old links and s.
  sc.rev.clear();
  sc.rev.push_back({distance(node, s), s});
  for (uint32_t i = 0; i < cnt; ++i) sc.rev.push_back({distance(node, lst[1 + i]), lst[1 + i]});
  std::sort(sc.rev.begin(), sc.rev.end(), by_distance);
  select_neighbors(sc.rev.data(), sc.rev.size(), cap, sc.rev_chosen);
  std::copy(sc.rev_chosen.begin(), sc.rev_chosen.end(), lst + 1);
  lst[0] = uint32_t(sc.rev_chosen.size());
}

void VectorIndex::force_link0(uint32_t node, uint32_t s) {
  uint32_t* lst = links(node, 0);
  const uint32_t cnt = lst[0];
  if (std::find(lst + 1, lst + 1 + cnt, s) != lst + 1 + cnt) return;
  if (cnt < m0()) {
    lst[1 + cnt] = s;
    lst[0] = cnt + 1;
    return;
  }
  uint32_t far = 0;
  for (uint32_t i = 1; i < cnt; ++i)
    if (distance(node, lst[1 + i]) > distance(node, lst[1 + far])) far = i;
  lst[1 + far] = s;
}

// Inserts a placed slot into the graph (algorithm 1 of the paper).
template <bool kLocked>
void VectorIndex::link(uint32_t s, Scratch& sc) {
  const int level = levels_[s];
  const float* q = vector(s);
  std::unique_lock<std::mutex> glock(global_, std::defer_lock);
  if constexpr (kLocked) glock.lock();
  const int top_level = max_level_;
  const uint32_t ep = entry_;
  if (kLocked && level <= top_level) glock.unlock();  // raising the top level stays serialised
  if (ep == kNone) {
    entry_ = s;
    max_level_ = level;
    return;
  }
  Cand cur{distance(s, ep), ep};
  for (int l = top_level; l > level; --l) greedy<kLocked>(q, cur, l, sc);
  auto accept = [this, s](uint32_t n) { return n != s && state_[n] == kLive; };
  for (int l = std::min(level, top_level); l >= 0; --l) {
    search_layer<kLocked>(q, &cur, 1, params_.ef_construction, l, accept, sc);
    sc.sorted.assign(sc.top.begin(), sc.top.end());
    std::sort(sc.sorted.begin(), sc.sorted.end(), by_distance);
    // A new node takes m links on every layer (the paper's M); layer 0 lists may grow to
    // 2m through later nodes' reverse links before the heuristic prunes them.
    select_neighbors(sc.sorted.data(), sc.sorted.size(), uint32_t(params_.m), sc.chosen);
    {
      std::unique_lock<std::mutex> g(stripes_[s % kStripes], std::defer_lock);
      if constexpr (kLocked) g.lock();
      uint32_t* lst = links(s, l);
      if (lst[0] == 0) {
        std::copy(sc.chosen.begin(), sc.chosen.end(), lst + 1);
        lst[0] = uint32_t(sc.chosen.size());
      } else {
        // In a parallel build another node can reach s through an upper layer before s is
        // linked here, and add itself to s's list: keep those links, never overwrite them.
        sc.rev.clear();
        for (uint32_t i = 0; i < lst[0]; ++i) sc.rev.push_back({distance(s, lst[1 + i]), lst[1 + i]});
        for (uint32_t n : sc.chosen)
          if (std::find(lst + 1, lst + 1 + lst[0], n) == lst + 1 + lst[0])
            sc.rev.push_back({distance(s, n), n});
        std::sort(sc.rev.begin(), sc.rev.end(), by_distance);
        select_neighbors(sc.rev.data(), sc.rev.size(), max_links(l), sc.rev_chosen);
        std::copy(sc.rev_chosen.begin(), sc.rev_chosen.end(), lst + 1);
        lst[0] = uint32_t(sc.rev_chosen.size());
      }
    }
    for (uint32_t n : sc.chosen) add_reverse_link<kLocked>(n, s, l, sc);
    // When every chosen neighbour pruned s out of its full list, nothing links to s and no
    // search could find it: keep it in the nearest one's list regardless.
    if (l == 0 && !sc.chosen.empty()) {
      bool kept = false;
      for (uint32_t n : sc.chosen) {
        std::unique_lock<std::mutex> g(stripes_[n % kStripes], std::defer_lock);
        if constexpr (kLocked) g.lock();
        const uint32_t* lst = links(n, 0);
        if (std::find(lst + 1, lst + 1 + lst[0], s) != lst + 1 + lst[0]) {
          kept = true;
          break;
        }
      }
      if (!kept) {
        std::unique_lock<std::mutex> g(stripes_[sc.chosen[0] % kStripes], std::defer_lock);
        if constexpr (kLocked) g.lock();
        force_link0(sc.chosen[0], s);
      }
    }
    if (!sc.sorted.empty()) cur = sc.sorted.front();
  }
  if (level > top_level) {
    entry_ = s;
    max_level_ = level;
  }
}

void VectorIndex::add(int64_t label, const float* v, const SlotAttrs& attrs) {
  const uint32_t s = place(label, v, attrs);
  link<false>(s, tls_scratch);
}

void VectorIndex::add_batch(const int64_t* labels, const float* vectors, const SlotAttrs* attrs, size_t n,
                            int n_threads) {
  if (n == 0) return;
  reserve(size_t(n_slots_) + n);
  std::vector<uint32_t> slots(n);
  for (size_t i = 0; i < n; ++i) slots[i] = place(labels[i], vectors + i * size_t(params_.dim), attrs[i]);
  size_t start = 0;
  if (entry_ == kNone) link<false>(slots[start++], tls_scratch);
  n_threads = std::max(1, n_threads);
  if (n_threads == 1 || n - start < 256) {
    for (size_t i = start; i < n; ++i) link<false>(slots[i], tls_scratch);
    return;
  }
  std::atomic<size_t> next{start};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) link<true>(slots[i], tls_scratch);
  };
  std::vector<std::thread> workers;
  for (int t = 1; t < n_threads; ++t) workers.emplace_back(work);
  work();
  for (auto& t : workers) t.join();
  // Concurrent inserts prune each other's reverse links, and a forced link can replace the
  // only link to another node: a few nodes (~0.1 %) end up unreachable, unfindable by any
  // search and rejected by check_graph() when the index is loaded again (the store then
  // rebuilt the whole index at every open). One reachability pass reconnects them.
  repair_unreachable();
}

// --- deletion ----------------------------------------------------------------------------

std::vector<uint8_t> VectorIndex::reachable0() const {
  std::vector<uint8_t> reached(n_slots_, 0);
  if (entry_ == kNone) return reached;
  std::vector<uint32_t> stack{entry_};
  reached[entry_] = 1;
  while (!stack.empty()) {
    const uint32_t s = stack.back();
    stack.pop_back();
    const uint32_t* lst = links(s, 0);
    for (uint32_t i = 0; i < lst[0]; ++i)
      if (!reached[lst[1 + i]]) {
        reached[lst[1 + i]] = 1;
        stack.push_back(lst[1 + i]);
      }
  }
  return reached;
}

size_t VectorIndex::count_unreachable() const {
  const auto reached = reachable0();
  size_t n = 0;
  for (uint32_t s = 0; s < n_slots_; ++s) n += state_[s] == kLive && !reached[s];
  return n;
}

size_t VectorIndex::repair_unreachable() {
  size_t repaired = 0;
  // A forced link replaces a farthest link, which can cut off another node in turn; a few
  // passes settle it (each pass only ever handles the nodes still unreachable).
  for (int pass = 0; pass < 4; ++pass) {
    const auto reached = reachable0();
    std::vector<uint32_t> lost;
    for (uint32_t s = 0; s < n_slots_; ++s)
      if (state_[s] == kLive && !reached[s]) lost.push_back(s);
    if (lost.empty()) break;
    Scratch& sc = tls_scratch;
    for (uint32_t u : lost) {
      const float* q = vector(u);
      Cand cur{distance(u, entry_), entry_};
      for (int l = max_level_; l > 0; --l) greedy<false>(q, cur, l, sc);
      // Only nodes reachable before this pass are accepted, so each new link truly
      // connects u (nodes repaired earlier in the pass are reachable too, but unmarked).
      search_layer<false>(
          q, &cur, 1, params_.ef_construction, 0,
          [&](uint32_t n) { return n != u && state_[n] == kLive && reached[n]; }, sc);
      sc.sorted.assign(sc.top.begin(), sc.top.end());
      std::sort(sc.sorted.begin(), sc.sorted.end(), by_distance);
      select_neighbors(sc.sorted.data(), sc.sorted.size(), uint32_t(params_.m), sc.chosen);
      if (sc.chosen.empty() && !sc.sorted.empty()) sc.chosen.push_back(sc.sorted.front().s);
      for (uint32_t n : sc.chosen) add_reverse_link<false>(n, u, 0, sc);
      bool kept = false;
      for (uint32_t n : sc.chosen) {
        const uint32_t* lst = links(n, 0);
        kept = kept || std::find(lst + 1, lst + 1 + lst[0], u) != lst + 1 + lst[0];
      }
      if (!kept && !sc.chosen.empty()) force_link0(sc.chosen[0], u);
      ++repaired;
    }
  }
  return repaired;
}

void VectorIndex::consolidate() {
  if (n_deleted_ == 0) {
    repair_unreachable();
    return;
  }
  Scratch& sc = tls_scratch;
  std::vector<uint32_t> live;
  for (uint32_t s = 0; s < n_slots_; ++s) {
    if (state_[s] != kLive) continue;
    for (int l = 0; l <= levels_[s]; ++l) {
      uint32_t* lst = links(s, l);
      const uint32_t cnt = lst[0];
      live.clear();
      for (uint32_t i = 0; i < cnt; ++i)
        if (state_[lst[1 + i]] == kLive) live.push_back(lst[1 + i]);
      if (live.size() == cnt) continue;
      // A node keeping at least half its links just drops the dead ones (cheap, and new
      // inserts link into the region again); one left with fewer is rewired through the
      // dead neighbours' own links, like a fresh insert would be.
      if (live.size() * 2 >= max_links(l)) {
        std::copy(live.begin(), live.end(), lst + 1);
        lst[0] = uint32_t(live.size());
        continue;
      }
      sc.rev.clear();
      for (uint32_t x : live) sc.rev.push_back({distance(s, x), x});
      for (uint32_t i = 0; i < cnt; ++i) {
        const uint32_t d = lst[1 + i];
        if (state_[d] == kLive) continue;
        const uint32_t* dl = links(d, l);
        for (uint32_t j = 0; j < dl[0]; ++j) {
          const uint32_t x = dl[1 + j];
          if (x != s && state_[x] == kLive) sc.rev.push_back({distance(s, x), x});
        }
      }
      std::sort(sc.rev.begin(), sc.rev.end(), by_distance);
      sc.rev.erase(
          std::unique(sc.rev.begin(), sc.rev.end(), [](const Cand& a, const Cand& b) { return a.s == b.s; }),
          sc.rev.end());
      select_neighbors(sc.rev.data(), sc.rev.size(), max_links(l), sc.chosen);
      std::copy(sc.chosen.begin(), sc.chosen.end(), lst + 1);
      lst[0] = uint32_t(sc.chosen.size());
    }
  }
  for (uint32_t s = 0; s < n_slots_; ++s)
    if (state_[s] == kDeleted) free_slot(s);
  n_deleted_ = 0;
  if (entry_ != kNone && state_[entry_] != kLive) {
    entry_ = kNone;
    max_level_ = -1;
    for (uint32_t s = 0; s < n_slots_; ++s) {
      if (state_[s] == kLive && int(levels_[s]) > max_level_) {
        entry_ = s;
        max_level_ = levels_[s];
      }
    }
  }
  // Reuse low slots first, keeping the vectors of new inserts near the old ones.
  std::sort(free_.begin(), free_.end(), std::greater<>());
  repair_unreachable();
}

// --- searches ----------------------------------------------------------------------------

std::vector<Scored> VectorIndex::search_graph(const float* q, int k, int ef, const SlotFilter* filter) const {
  if (k <= 0 || entry_ == kNone || n_live_ == 0) return {};
  Scratch& sc = tls_scratch;
  Cand cur{-vector_kernels().dot(q, vector(entry_), size_t(params_.dim)), entry_};
  for (int l = max_level_; l > 0; --l) greedy<false>(q, cur, l, sc);
  ef = std::max(ef, k);
  if (filter) {
    search_layer<false>(
        q, &cur, 1, ef, 0, [this, filter](uint32_t s) { return state_[s] == kLive && filter->accept(s); },
        sc);
  } else {
    search_layer<false>(
        q, &cur, 1, ef, 0, [this](uint32_t s) { return state_[s] == kLive; }, sc);
  }
  std::sort(sc.top.begin(), sc.top.end(), by_distance);
  std::vector<Scored> out;
  out.reserve(std::min(sc.top.size(), size_t(k)));
  for (size_t i = 0; i < sc.top.size() && out.size() < size_t(k); ++i)
    out.push_back({-sc.top[i].d, sc.top[i].s});
  return out;
}

std::vector<Scored> VectorIndex::search_exact(const float* q, int k, const SlotFilter* filter) const {
  if (k <= 0) return {};
  const auto& kern = vector_kernels();
  const size_t dim = size_t(params_.dim);
  std::vector<Scored> heap;
  heap.reserve(size_t(k) + 1);
  constexpr uint32_t kBlock = 256;
  float dots[kBlock];
  for (uint32_t base = 0; base < n_slots_; base += kBlock) {
    const uint32_t nb = std::min(kBlock, n_slots_ - base);
    uint32_t n_ok = 0;
    bool ok[kBlock];
    for (uint32_t i = 0; i < nb; ++i) {
      ok[i] = state_[base + i] == kLive && (!filter || filter->accept(base + i));
      n_ok += ok[i];
    }
    if (n_ok == 0) continue;
    if (n_ok * 4 >= nb) {
      kern.dot_rows(q, vector(base), nb, dim, dim, dots);
    } else {
      for (uint32_t i = 0; i < nb; ++i)
        if (ok[i]) dots[i] = kern.dot(q, vector(base + i), dim);
    }
    for (uint32_t i = 0; i < nb; ++i)
      if (ok[i]) push_result(heap, size_t(k), {dots[i], base + i});
  }
  return sorted_results(std::move(heap));
}

std::vector<Scored> VectorIndex::search_exact_slots(const float* q, int k, const uint32_t* slots,
                                                    size_t n) const {
  if (k <= 0) return {};
  const auto& kern = vector_kernels();
  const size_t dim = size_t(params_.dim);
  std::vector<Scored> heap;
  heap.reserve(size_t(k) + 1);
  constexpr size_t kAhead = 4;
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) {
      const float* p = vector(slots[i + kAhead]);
      for (size_t b = 0; b < dim * sizeof(float); b += 64) prefetch(reinterpret_cast<const char*>(p) + b);
    }
    if (state_[slots[i]] != kLive) continue;
    push_result(heap, size_t(k), {kern.dot(q, vector(slots[i]), dim), slots[i]});
  }
  return sorted_results(std::move(heap));
}

std::string VectorIndex::check_graph() const {
  size_t live = 0, dead = 0;
  for (uint32_t s = 0; s < n_slots_; ++s) {
    if (state_[s] == kFree) continue;
    (state_[s] == kLive ? live : dead)++;
    if (state_[s] == kLive && labels_map_.find(labels_[s]) != s)
      return "slot " + std::to_string(s) + " (label " + std::to_string(labels_[s]) +
             ") is not in the label map";
    for (int l = 0; l <= levels_[s]; ++l) {
      const uint32_t* lst = links(s, l);
      if (lst[0] > max_links(l)) return "slot " + std::to_string(s) + " has too many links";
      for (uint32_t i = 0; i < lst[0]; ++i) {
        const uint32_t n = lst[1 + i];
        if (n >= n_slots_ || state_[n] == kFree)
          return "slot " + std::to_string(s) + " links to unused slot " + std::to_string(n);
        if (n == s) return "slot " + std::to_string(s) + " links to itself";
        if (levels_[n] < l)
          return "slot " + std::to_string(s) + " links to a node below level " + std::to_string(l);
      }
    }
  }
  if (live != n_live_ || dead != n_deleted_) return "live/deleted counts disagree with slot states";
  if (labels_map_.size() != n_live_) return "label map size disagrees with the live count";
  if (live + dead > 0 && (entry_ == kNone || state_[entry_] == kFree)) return "no usable entry point";
  if (entry_ != kNone && levels_[entry_] != max_level_) return "entry point is not on the top level";
  if (const size_t lost = count_unreachable())
    return std::to_string(lost) + " live node(s) cannot be reached from the entry point";
  return "";
}

}  // namespace xnai::rag::store

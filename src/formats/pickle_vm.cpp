#include "formats/pickle_vm.h"

#include <cstring>
#include <unordered_map>

#include "core/error.h"

namespace xnai::pickle {
namespace {

// Globals a state-dict pickle may name. Anything else is refused before it is used.
bool allowed_global(const std::string& g) {
  static const char* const kAllowed[] = {
      "collections.OrderedDict",
      "torch._utils._rebuild_tensor_v2",
      "torch._utils._rebuild_parameter",
      "torch.FloatStorage",
      "torch.DoubleStorage",
      "torch.HalfStorage",
      "torch.BFloat16Storage",
      "torch.LongStorage",
      "torch.IntStorage",
      "torch.ShortStorage",
      "torch.CharStorage",
      "torch.ByteStorage",
      "torch.BoolStorage",
  };
  for (const char* a : kAllowed)
    if (g == a) return true;
  return false;
}

class Machine {
 public:
  Machine(const uint8_t* data, size_t size, const std::string& name,
          std::vector<std::unique_ptr<Value>>& arena)
      : start_(data), p_(data), end_(data + size), name_(name), arena_(arena) {}

  ValuePtr run() {
    for (;;) {
      if (p_ >= end_) fail("pickle ends without STOP");
      const uint8_t op = *p_++;
      switch (op) {
        case 0x80:
          take(1);
          break;  // PROTO
        case 0x95:
          take(8);
          break;     // FRAME
        case '.': {  // STOP
          if (stack_.size() != 1 || marks_.size() != 0) fail("unbalanced stack at STOP");
          return stack_.back();
        }
        case '(':
          marks_.push_back(stack_.size());
          break;  // MARK
        case 'N':
          push(make(Value::Kind::None));
          break;
        case 0x88:
          push(make_int(Value::Kind::Bool, 1));
          break;  // NEWTRUE
        case 0x89:
          push(make_int(Value::Kind::Bool, 0));
          break;  // NEWFALSE
        case 'K':
          push(make_int(Value::Kind::Int, le(take(1), 1)));
          break;
        case 'M':
          push(make_int(Value::Kind::Int, le(take(2), 2)));
          break;
        case 'J':
          push(make_int(Value::Kind::Int, static_cast<int32_t>(le(take(4), 4))));
          break;
        case 0x8a: {  // LONG1
          const size_t n = *take(1);
          if (n > 8) fail("integer wider than 64 bits");
          const uint8_t* b = take(n);
          uint64_t v = n ? le(b, static_cast<int>(n)) : 0;
          if (n && n < 8 && (b[n - 1] & 0x80)) v |= ~uint64_t{0} << (8 * n);  // sign-extend
          push(make_int(Value::Kind::Int, static_cast<int64_t>(v)));
          break;
        }
        case 'G': {  // BINFLOAT (big endian)
          const uint8_t* b = take(8);
          uint64_t u = 0;
          for (int k = 0; k < 8; ++k) u = u << 8 | b[k];
          auto v = make(Value::Kind::Float);
          std::memcpy(&v->f, &u, 8);
          push(v);
          break;
        }
        case 'X':
          push_string(le(take(4), 4));
          break;  // BINUNICODE
        case 0x8c:
          push_string(*take(1));
          break;  // SHORT_BINUNICODE
        case 'U':
          push_string(*take(1));
          break;  // SHORT_BINSTRING
        case 'T':
          push_string(le(take(4), 4));
          break;  // BINSTRING
        case 0x8e:
          push_string(le(take(8), 8));
          break;  // BINBYTES8 / treat as string
        case 'C':
          push_string(*take(1));
          break;  // SHORT_BINBYTES
        case 'B':
          push_string(le(take(4), 4));
          break;  // BINBYTES
        case '}':
          push(make(Value::Kind::Dict));
          break;  // EMPTY_DICT
        case ']':
          push(make(Value::Kind::List));
          break;  // EMPTY_LIST
        case ')':
          push(make(Value::Kind::Tuple));
          break;     // EMPTY_TUPLE
        case 't': {  // TUPLE
          auto v = make(Value::Kind::Tuple);
          v->items = pop_mark();
          push(v);
          break;
        }
        case 0x85:
        case 0x86:
        case 0x87: {  // TUPLE1..3
          const size_t n = op - 0x84;
          need(n);
          auto v = make(Value::Kind::Tuple);
          v->items.assign(stack_.end() - n, stack_.end());
          stack_.resize(stack_.size() - n);
          push(v);
          break;
        }
        case 'l': {  // LIST
          auto v = make(Value::Kind::List);
          v->items = pop_mark();
          push(v);
          break;
        }
        case 'd': {  // DICT
          auto v = make(Value::Kind::Dict);
          auto items = pop_mark();
          if (items.size() % 2) fail("odd number of items for DICT");
          for (size_t k = 0; k < items.size(); k += 2) v->dict.emplace_back(items[k], items[k + 1]);
          push(v);
          break;
        }
        case 'a': {  // APPEND
          need(2);
          auto x = pop();
          list_top()->items.push_back(x);
          break;
        }
        case 'e': {  // APPENDS
          auto items = pop_mark();
          auto l = list_top();
          l->items.insert(l->items.end(), items.begin(), items.end());
          break;
        }
        case 's': {  // SETITEM
          need(3);
          auto v = pop();
          auto k = pop();
          dict_top()->dict.emplace_back(k, v);
          break;
        }
        case 'u': {  // SETITEMS
          auto items = pop_mark();
          if (items.size() % 2) fail("odd number of items for SETITEMS");
          auto d = dict_top();
          for (size_t k = 0; k < items.size(); k += 2) d->dict.emplace_back(items[k], items[k + 1]);
          break;
        }
        case 'q':
          memo_put(*take(1));
          break;  // BINPUT
        case 'r':
          memo_put(le(take(4), 4));
          break;  // LONG_BINPUT
        case 0x94:
          memo_put(memo_.size());
          break;  // MEMOIZE
        case 'h':
          memo_get(*take(1));
          break;  // BINGET
        case 'j':
          memo_get(le(take(4), 4));
          break;  // LONG_BINGET
        case '0':
          need(1);
          pop();
          break;  // POP
        case '1':
          pop_mark();
          break;  // POP_MARK
        case '2':
          need(1);
          push(stack_.back());
          break;     // DUP
        case 'c': {  // GLOBAL
          std::string module = line(), nm = line();
          push_global(module + "." + nm);
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          need(2);
          auto nm = pop(), module = pop();
          if (module->kind != Value::Kind::String || nm->kind != Value::Kind::String)
            fail("STACK_GLOBAL needs two strings");
          push_global(module->s + "." + nm->s);
          break;
        }
        case 'Q': {  // BINPERSID
          need(1);
          push(persistent_load(pop()));
          break;
        }
        case 'R': {  // REDUCE
          need(2);
          auto args = pop();
          auto fn = pop();
          push(reduce(fn, args));
          break;
        }
        case 'b': {  // BUILD
          need(2);
          pop();  // the state: OrderedDict _metadata, or tensor extras; not needed
          const auto& obj = stack_.back();
          if (obj->kind != Value::Kind::Dict && obj->kind != Value::Kind::Tensor)
            fail("BUILD on something that is neither a dict nor a tensor");
          break;
        }
        default:
          throw Error(ErrorKind::Unsupported, name_ + ": unsupported pickle opcode " + std::to_string(op) +
                                                  " at byte " + std::to_string(p_ - 1 - begin()));
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& why) {
    throw Error(ErrorKind::InvalidFormat, name_ + ": bad pickle in data.pkl (" + why + ")");
  }
  const uint8_t* begin() const { return start_; }
  static uint64_t le(const uint8_t* b, int n) {
    uint64_t v = 0;
    for (int k = n - 1; k >= 0; --k) v = v << 8 | b[k];
    return v;
  }
  const uint8_t* take(uint64_t n) {
    if (n > static_cast<uint64_t>(end_ - p_)) fail("truncated");
    const uint8_t* b = p_;
    p_ += n;
    return b;
  }
  std::string line() {
    const uint8_t* b = p_;
    while (p_ < end_ && *p_ != '\n') ++p_;
    if (p_ >= end_) fail("truncated GLOBAL");
    std::string s(reinterpret_cast<const char*>(b), p_ - b);
    ++p_;
    return s;
  }
  ValuePtr make(Value::Kind k) {
    if (arena_.size() > (1u << 24)) fail("too many objects");
    arena_.push_back(std::make_unique<Value>());
    arena_.back()->kind = k;
    return arena_.back().get();
  }
  ValuePtr make_int(Value::Kind k, int64_t i) {
    auto v = make(k);
    v->i = i;
    return v;
  }
  void push(ValuePtr v) {
    if (stack_.size() > (1u << 24)) fail("stack too deep");
    stack_.push_back(v);
  }
  void push_string(uint64_t n) {
    const uint8_t* b = take(n);
    auto v = make(Value::Kind::String);
    v->s.assign(reinterpret_cast<const char*>(b), n);
    push(v);
  }
  void push_global(const std::string& g) {
    if (!allowed_global(g))
      throw Error(ErrorKind::Unsupported, name_ + ": unknown global " + g + " in data.pkl");
    auto v = make(Value::Kind::Global);
    v->s = g;
    push(v);
  }
  void need(size_t n) {
    const size_t floor = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() < floor + n) fail("stack underflow");
  }
  ValuePtr pop() {
    auto v = stack_.back();
    stack_.pop_back();
    return v;
  }
  std::vector<ValuePtr> pop_mark() {
    if (marks_.empty()) fail("no MARK on the stack");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> items(stack_.begin() + m, stack_.end());
    stack_.resize(m);
    return items;
  }
  ValuePtr list_top() {
    need(1);
    if (stack_.back()->kind != Value::Kind::List) fail("APPEND to something that is not a list");
    return stack_.back();
  }
  ValuePtr dict_top() {
    need(1);
    if (stack_.back()->kind != Value::Kind::Dict) fail("SETITEM on something that is not a dict");
    return stack_.back();
  }
  void memo_put(uint64_t idx) {
    need(1);
    memo_[idx] = stack_.back();
  }
  void memo_get(uint64_t idx) {
    auto it = memo_.find(idx);
    if (it == memo_.end()) fail("memo index " + std::to_string(idx) + " not set");
    push(it->second);
  }
  ValuePtr persistent_load(const ValuePtr& pid) {
    // ("storage", <StorageType>, key, location, numel)
    if (pid->kind != Value::Kind::Tuple || pid->items.size() != 5 ||
        pid->items[0]->kind != Value::Kind::String || pid->items[0]->s != "storage")
      fail("persistent id is not a storage record");
    const auto& ty = pid->items[1];
    const auto& key = pid->items[2];
    const auto& numel = pid->items[4];
    if (ty->kind != Value::Kind::Global || key->kind != Value::Kind::String ||
        numel->kind != Value::Kind::Int || numel->i < 0)
      fail("malformed storage record");
    if (ty->s.size() < 8 || ty->s.compare(ty->s.size() - 7, 7, "Storage") != 0)
      fail("storage type " + ty->s + " is not a storage class");
    auto v = make(Value::Kind::Storage);
    v->s = ty->s;
    v->key = key->s;
    v->i = numel->i;
    return v;
  }
  ValuePtr reduce(const ValuePtr& fn, const ValuePtr& args) {
    if (fn->kind != Value::Kind::Global) fail("REDUCE of something that is not a global");
    if (args->kind != Value::Kind::Tuple) fail("REDUCE arguments are not a tuple");
    if (fn->s == "collections.OrderedDict") {
      if (!args->items.empty()) fail("OrderedDict with arguments");
      return make(Value::Kind::Dict);
    }
    if (fn->s == "torch._utils._rebuild_tensor_v2") {
      if (args->items.size() < 4) fail("_rebuild_tensor_v2 needs (storage, offset, size, stride, ...)");
      auto v = make(Value::Kind::Tensor);
      v->items = args->items;
      return v;
    }
    if (fn->s == "torch._utils._rebuild_parameter") {
      if (args->items.empty() || args->items[0]->kind != Value::Kind::Tensor)
        fail("_rebuild_parameter without a tensor");
      return args->items[0];
    }
    fail("global " + fn->s + " cannot be called");
  }

  const uint8_t* start_;
  const uint8_t* p_;
  const uint8_t* end_;
  const std::string& name_;
  std::vector<std::unique_ptr<Value>>& arena_;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, ValuePtr> memo_;
};

}  // namespace

Pickled unpickle(const uint8_t* data, size_t size, const std::string& name) {
  Pickled out;
  Machine m(data, size, name, out.arena);
  out.root = m.run();
  return out;
}

}  // namespace xnai::pickle

#include "flowood/io/torch_pickle.hpp"

#include <cstring>
#include <functional>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "flowood/core/error.hpp"
#include "flowood/io/atomic_file.hpp"

namespace flowood::io {

const PyValue* PyValue::find(const std::string& key) const {
  for (const auto& [k, v] : entries)
    if (k && k->kind == Kind::kString && k->text == key) return v;
  return nullptr;
}

std::string PyValue::type_name() const {
  switch (kind) {
    case Kind::kNone: return "None";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "str";
    case Kind::kTensor: return "tensor";
    case Kind::kList: return "list";
    case Kind::kTuple: return "tuple";
    case Kind::kDict: return "dict";
    case Kind::kObject: return text;
  }
  return "?";
}

namespace {

uint64_t read_le(const std::string& b, size_t at, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(b[at + i])) << (8 * i);
  return v;
}

// ---- storages ------------------------------------------------------------------------------

/// The element type of a pickled storage class ("torch.FloatStorage" …).
std::optional<torch::ScalarType> storage_dtype(const std::string& cls) {
  static const std::map<std::string, torch::ScalarType> types = {
      {"torch.FloatStorage", torch::kFloat32},  {"torch.DoubleStorage", torch::kFloat64},
      {"torch.HalfStorage", torch::kFloat16},   {"torch.BFloat16Storage", torch::kBFloat16},
      {"torch.LongStorage", torch::kInt64},     {"torch.IntStorage", torch::kInt32},
      {"torch.ShortStorage", torch::kInt16},    {"torch.CharStorage", torch::kInt8},
      {"torch.ByteStorage", torch::kUInt8},     {"torch.BoolStorage", torch::kBool}};
  const auto it = types.find(cls);
  if (it == types.end()) return std::nullopt;
  return it->second;
}

/// A storage named by a persistent id: its key, element type and element count.
struct StorageRef {
  std::string key;
  torch::ScalarType dtype = torch::kFloat32;
  int64_t numel = 0;
};

/// Returns the 1-D tensor of a storage (or an undefined tensor in a dry run).
using StorageLoader = std::function<torch::Tensor(const StorageRef&)>;

// ---- the pickle machine --------------------------------------------------------------------

/// Owns every value of one unpickled tree.
using Arena = std::vector<std::unique_ptr<PyValue>>;
using Ptr = PyValue*;

class Unpickler {
 public:
  /// Tensors rebuilt from storages may hold `max_tensor_bytes` in all (a pickle can view one
  /// storage many times; each view is a copy).
  Unpickler(const std::string& bytes, size_t pos, std::string name, StorageLoader loader, uint64_t max_tensor_bytes)
      : b_(bytes), pos_(pos), name_(std::move(name)), loader_(std::move(loader)), budget_(max_tensor_bytes) {}

  /// Unpickles up to STOP; the values live in the arena (shared with the returned root).
  PyRef run() {
    auto arena = std::make_shared<Arena>();
    arena_ = arena.get();
    const Ptr root = parse();
    arena_ = nullptr;
    return PyRef(arena, root);
  }

  size_t position() const { return pos_; }

 private:
  Ptr make(PyValue::Kind kind) {
    arena_->push_back(std::make_unique<PyValue>());
    arena_->back()->kind = kind;
    return arena_->back().get();
  }
  Ptr make_int(int64_t i) {
    auto v = make(PyValue::Kind::kInt);
    v->integer = i;
    return v;
  }
  Ptr make_string(std::string s, PyValue::Kind kind = PyValue::Kind::kString) {
    auto v = make(kind);
    v->text = std::move(s);
    return v;
  }

  Ptr parse() {
    while (true) {
      const size_t at = pos_;
      const auto op = static_cast<unsigned char>(byte());
      switch (op) {
        case 0x80: take(1); break;                  // PROTO
        case 0x95: take(8); break;                  // FRAME
        case '.': return pop(at);                   // STOP
        case '(': marks_.push_back(stack_.size()); break;
        case 'N': push(make(PyValue::Kind::kNone)); break;
        case 0x88: case 0x89: {                     // NEWTRUE, NEWFALSE
          auto v = make(PyValue::Kind::kBool);
          v->boolean = op == 0x88;
          push(v);
          break;
        }
        case 'K': push(make_int(static_cast<int64_t>(u(1)))); break;
        case 'M': push(make_int(static_cast<int64_t>(u(2)))); break;
        case 'J': push(make_int(static_cast<int32_t>(u(4)))); break;
        case 0x8a: case 0x8b: {                     // LONG1, LONG4
          const auto n = static_cast<size_t>(u(op == 0x8a ? 1 : 4));
          const auto at_bytes = take(n);
          if (n > 8) {  // wider than int64 (the legacy format's magic number): kept as its bytes
            push(make_string("int:" + hex(at_bytes, n), PyValue::Kind::kObject));
            break;
          }
          uint64_t v = read_le(b_, at_bytes, n);
          if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);  // sign-extend
          push(make_int(static_cast<int64_t>(v)));
          break;
        }
        case 'G': {                                 // BINFLOAT, big-endian
          const auto p = take(8);
          uint64_t bits = 0;
          for (size_t i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<unsigned char>(b_[p + i]);
          auto v = make(PyValue::Kind::kFloat);
          std::memcpy(&v->number, &bits, 8);
          push(v);
          break;
        }
        case 'X': case 'T': case 'B': push(make_string(text(u(4)))); break;
        case 0x8c: case 'U': case 'C': push(make_string(text(u(1)))); break;
        case 0x8d: case 0x8e: push(make_string(text(u(8)))); break;
        case 'c': {                                 // GLOBAL "module\nname\n"
          const auto module = line(at);
          push(make_string(module + "." + line(at), PyValue::Kind::kObject));
          break;
        }
        case 0x93: {                                // STACK_GLOBAL
          const auto cls = pop(at);
          const auto module = pop(at);
          push(make_string(module->text + "." + cls->text, PyValue::Kind::kObject));
          break;
        }
        case ')': push(make(PyValue::Kind::kTuple)); break;
        case 0x85: case 0x86: case 0x87: {          // TUPLE1..3
          auto t = make(PyValue::Kind::kTuple);
          t->items.resize(op - 0x84);
          for (auto it = t->items.rbegin(); it != t->items.rend(); ++it) *it = pop(at);
          push(t);
          break;
        }
        case 't': case 'l': {                       // TUPLE, LIST (from the mark)
          auto t = make(op == 't' ? PyValue::Kind::kTuple : PyValue::Kind::kList);
          const auto items = pop_mark(at);
          t->items.assign(items.begin(), items.end());
          push(t);
          break;
        }
        case ']': push(make(PyValue::Kind::kList)); break;
        case 0x8f: push(make(PyValue::Kind::kList)); break;  // EMPTY_SET (kept as a list)
        case 'a': {                                 // APPEND
          auto v = pop(at);
          container(at, PyValue::Kind::kList)->items.push_back(v);
          break;
        }
        case 'e': case 0x90: {                      // APPENDS, ADDITEMS
          auto vs = pop_mark(at);
          auto& items = container(at, PyValue::Kind::kList)->items;
          items.insert(items.end(), vs.begin(), vs.end());
          break;
        }
        case 0x91: {                                // FROZENSET
          auto t = make(PyValue::Kind::kList);
          const auto items = pop_mark(at);
          t->items.assign(items.begin(), items.end());
          push(t);
          break;
        }
        case '}': push(make(PyValue::Kind::kDict)); break;
        case 'd': {                                 // DICT (from the mark)
          auto d = make(PyValue::Kind::kDict);
          add_pairs(at, *d, pop_mark(at));
          push(d);
          break;
        }
        case 's': {                                 // SETITEM
          auto v = pop(at);
          auto k = pop(at);
          container(at, PyValue::Kind::kDict)->entries.emplace_back(k, v);
          break;
        }
        case 'u': {                                 // SETITEMS
          auto kv = pop_mark(at);
          add_pairs(at, *container(at, PyValue::Kind::kDict), kv);
          break;
        }
        case 'q': memo_[u(1)] = top(at); break;      // BINPUT
        case 'r': memo_[u(4)] = top(at); break;      // LONG_BINPUT
        case 0x94: memo_[memo_.size()] = top(at); break;  // MEMOIZE
        case 'h': case 'j': {                       // BINGET, LONG_BINGET
          const auto it = memo_.find(u(op == 'h' ? 1 : 4));
          if (it == memo_.end()) fail(at, "a reference to an object not stored before");
          push(it->second);
          break;
        }
        case '0': pop(at); break;                   // POP
        case '1': pop_mark(at); break;              // POP_MARK
        case '2': push(top(at)); break;             // DUP
        case 'Q': push(persistent(at, pop(at))); break;  // BINPERSID
        case 'R': {                                 // REDUCE
          auto args = pop(at);
          auto callable = pop(at);
          push(reduce(at, *callable, *args));
          break;
        }
        case 0x81: {                                // NEWOBJ: cls.__new__(cls, *args)
          pop(at);
          auto cls = pop(at);
          push(make_string(cls->text, PyValue::Kind::kObject));
          break;
        }
        case 'b': pop(at); top(at); break;          // BUILD: the object's state is not needed
        default:
          fail(at, fmt::format("pickle opcode 0x{:02x}, which a PyTorch checkpoint does not use", op));
      }
    }
  }

  [[noreturn]] void fail(size_t at, const std::string& what) const {
    throw IoError(name_, fmt::format("not a readable PyTorch file: {} (pickle byte {})", what, at));
  }
  size_t take(uint64_t n) {
    if (n > b_.size() - pos_) fail(pos_, "the file ends inside a pickle record (truncated?)");
    const size_t at = pos_;
    pos_ += static_cast<size_t>(n);
    return at;
  }
  char byte() { return b_[take(1)]; }
  uint64_t u(size_t n) { return read_le(b_, take(n), n); }
  std::string text(uint64_t n) {
    const auto at = take(n);
    return b_.substr(at, static_cast<size_t>(n));
  }
  std::string hex(size_t at, size_t n) const {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += fmt::format("{:02x}", static_cast<unsigned char>(b_[at + i]));
    return s;
  }
  std::string line(size_t at) {
    const auto end = b_.find('\n', pos_);
    if (end == std::string::npos || end - pos_ > 256) fail(at, "a class name without its line end");
    std::string s = b_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }
  void push(Ptr v) { stack_.push_back(std::move(v)); }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  Ptr pop(size_t at) {
    if (stack_.size() <= floor()) fail(at, "a record takes more values than the pickle has pushed");
    auto v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  Ptr top(size_t at) const {
    if (stack_.size() <= floor()) fail(at, "a record needs a value the pickle has not pushed");
    return stack_.back();
  }
  std::vector<Ptr> pop_mark(size_t at) {
    if (marks_.empty()) fail(at, "a record needs a mark the pickle has not set");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<Ptr> out(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return out;
  }
  Ptr container(size_t at, PyValue::Kind kind) const {
    auto c = top(at);
    if (c->kind != kind && c->kind != PyValue::Kind::kObject)
      fail(at, fmt::format("items added to a {}", c->type_name()));
    return c;
  }
  void add_pairs(size_t at, PyValue& d, const std::vector<Ptr>& kv) const {
    if (kv.size() % 2 != 0) fail(at, "a dict record with a key but no value");
    if (d.kind != PyValue::Kind::kDict) return;  // an opaque object's items are not kept
    for (size_t i = 0; i < kv.size(); i += 2) d.entries.emplace_back(kv[i], kv[i + 1]);
  }

  /// ('storage', storage class, key, location, numel[, view metadata]) → the storage as a 1-D tensor.
  Ptr persistent(size_t at, const PyValue* pid) {
    const auto& t = pid->items;
    if (pid->kind != PyValue::Kind::kTuple || t.size() < 5 || t[0]->text != "storage")
      fail(at, "a persistent reference that is not a tensor storage");
    if (t.size() > 5 && t[5]->kind != PyValue::Kind::kNone)
      fail(at, "a storage that is a view of another (PyTorch before 1.0); load and save it again with a newer PyTorch");
    StorageRef ref;
    const auto dtype = storage_dtype(t[1]->text);
    if (!dtype) fail(at, fmt::format("a storage of type {}", t[1]->text));
    ref.dtype = *dtype;
    ref.key = t[2]->kind == PyValue::Kind::kInt ? std::to_string(t[2]->integer) : t[2]->text;
    if (t[4]->kind != PyValue::Kind::kInt || t[4]->integer < 0) fail(at, "a storage of negative size");
    ref.numel = t[4]->integer;
    auto v = make(PyValue::Kind::kTensor);
    v->tensor = loader_(ref);
    return v;
  }

  Ptr reduce(size_t at, const PyValue& callable, const PyValue& args) {
    const auto& f = callable.text;
    const auto& a = args.items;
    if (f == "torch._utils._rebuild_tensor_v2" || f == "torch._utils._rebuild_tensor") {
      if (a.size() < 4) fail(at, f + " with too few arguments");
      return rebuild_tensor(at, *a[0], *a[1], *a[2], *a[3]);
    }
    if (f == "torch._utils._rebuild_parameter" || f == "torch._utils._rebuild_parameter_with_state") {
      if (a.empty() || a[0]->kind != PyValue::Kind::kTensor) fail(at, f + " without a tensor");
      return const_cast<Ptr>(a[0]);  // a value of this tree (the arena owns it)
    }
    if (f == "collections.OrderedDict") {
      auto d = make(PyValue::Kind::kDict);
      if (!a.empty() && a[0]->kind == PyValue::Kind::kList)
        for (const auto& pair : a[0]->items)
          if (pair->items.size() == 2) d->entries.emplace_back(pair->items[0], pair->items[1]);
      return d;
    }
    return make_string(f, PyValue::Kind::kObject);  // anything else: opaque
  }

  Ptr rebuild_tensor(size_t at, const PyValue& storage, const PyValue& offset, const PyValue& size,
                       const PyValue& stride) {
    auto v = make(PyValue::Kind::kTensor);
    if (storage.kind != PyValue::Kind::kTensor || offset.kind != PyValue::Kind::kInt)
      fail(at, "a tensor without its storage");
    if (!storage.tensor.defined()) return v;  // dry run
    std::vector<int64_t> sizes, strides;
    for (const auto& s : size.items) sizes.push_back(s->integer);
    for (const auto& s : stride.items) strides.push_back(s->integer);
    if (sizes.size() != strides.size()) fail(at, "a tensor whose size and stride differ in length");
    if (offset.integer < 0) fail(at, "a tensor at a negative storage offset");
    int64_t last = offset.integer;
    bool empty = false;
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (sizes[i] < 0 || strides[i] < 0) fail(at, "a tensor of negative size or stride");
      if (sizes[i] == 0) empty = true;
      else if (strides[i] > 0 && sizes[i] - 1 > (INT64_MAX - last) / strides[i]) fail(at, "a tensor of impossible size");
      else last += (sizes[i] - 1) * strides[i];
    }
    if (!empty && last >= storage.tensor.numel())
      fail(at, fmt::format("a tensor of size {} reaching element {} of a storage of {}", c10::str(c10::IntArrayRef(sizes)), last,
                           storage.tensor.numel()));
    uint64_t bytes = static_cast<uint64_t>(storage.tensor.element_size());
    for (const auto s : sizes) bytes = s == 0 ? 0 : (bytes > budget_ / static_cast<uint64_t>(s) ? budget_ + 1 : bytes * s);
    if (bytes > budget_) fail(at, "tensors that together hold more data than the file (one storage viewed over and over)");
    budget_ -= bytes;
    try {
      v->tensor = empty ? torch::empty(sizes, storage.tensor.options())
                        : storage.tensor.as_strided(sizes, strides, offset.integer).clone();
    } catch (const c10::Error& e) {  // e.g. an empty tensor whose other sizes overflow int64 together
      fail(at, std::string("a tensor LibTorch cannot make: ") + e.what_without_backtrace());
    }
    return v;
  }

  const std::string& b_;
  size_t pos_;
  std::string name_;
  StorageLoader loader_;
  uint64_t budget_;
  std::vector<Ptr> stack_;
  std::vector<size_t> marks_;
  std::map<uint64_t, Ptr> memo_;
  Arena* arena_ = nullptr;
};

/// How much tensor data a file of `size` bytes may rebuild: each storage viewed about once, with
/// room for tied weights (two tensors on one storage) and 1 MiB for the smallest files.
uint64_t tensor_allowance(size_t size) { return 2 * static_cast<uint64_t>(size) + (uint64_t{1} << 20); }

/// Bytes [at, at + numel·itemsize) of `bytes` as a 1-D tensor of `dtype` (a copy).
torch::Tensor storage_tensor(const std::string& bytes, size_t at, const StorageRef& ref) {
  const auto n = static_cast<size_t>(ref.numel);
  auto t = torch::empty({ref.numel}, torch::TensorOptions().dtype(ref.dtype));
  if (n > 0) std::memcpy(t.data_ptr(), bytes.data() + at, n * t.element_size());
  return t;
}

// ---- zip format (PyTorch >= 1.6) -----------------------------------------------------------

struct ZipEntry {
  size_t offset = 0;  ///< of the data
  size_t size = 0;
};

/// The stored (uncompressed, as torch.save writes them) entries of a zip archive by name.
std::map<std::string, ZipEntry> zip_entries(const std::string& b, const std::string& name) {
  const auto bad = [&](const std::string& what) { return IoError(name, "not a readable PyTorch zip file: " + what); };
  if (b.size() < 22) throw bad("too short");
  size_t eocd = std::string::npos;
  const size_t lowest = b.size() >= 22 + 65535 ? b.size() - 22 - 65535 : 0;
  for (size_t i = b.size() - 22 + 1; i-- > lowest;)
    if (read_le(b, i, 4) == 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd == std::string::npos) throw bad("no end-of-archive record (truncated?)");
  const auto count = read_le(b, eocd + 10, 2);
  const auto cd_size = read_le(b, eocd + 12, 4);
  const auto cd_offset = read_le(b, eocd + 16, 4);
  if (count == 0xFFFF || cd_offset == 0xFFFFFFFF)
    throw bad("a zip64 archive (a checkpoint over 4 GiB); not supported");
  if (cd_offset > eocd || cd_size > eocd - cd_offset) throw bad("the directory lies outside the file");
  std::map<std::string, ZipEntry> out;
  size_t p = static_cast<size_t>(cd_offset);
  for (uint64_t k = 0; k < count; ++k) {
    if (p + 46 > eocd || read_le(b, p, 4) != 0x02014b50) throw bad("a damaged directory entry");
    const auto method = read_le(b, p + 10, 2);
    const auto comp = read_le(b, p + 20, 4), raw = read_le(b, p + 24, 4);
    const auto n = read_le(b, p + 28, 2), extra = read_le(b, p + 30, 2), comment = read_le(b, p + 32, 2);
    const auto local = read_le(b, p + 42, 4);
    if (p + 46 + n > eocd) throw bad("a damaged directory entry");
    const std::string entry = b.substr(p + 46, n);
    p += 46 + n + extra + comment;
    if (method != 0 || comp != raw) throw bad("entry " + entry + " is compressed (torch.save stores entries uncompressed)");
    if (local + 30 > b.size() || read_le(b, local, 4) != 0x04034b50) throw bad("entry " + entry + " has no header");
    const size_t data = local + 30 + read_le(b, local + 26, 2) + read_le(b, local + 28, 2);
    if (data > b.size() || raw > b.size() - data) throw bad("entry " + entry + " runs past the end of the file (truncated?)");
    out[entry] = {data, static_cast<size_t>(raw)};
  }
  return out;
}

PyRef parse_zip(const std::string& b, const std::string& name) {
  const auto entries = zip_entries(b, name);
  // Every entry sits under one top-level folder (archive/ or the file's stem).
  std::string prefix;
  for (const auto& [entry, _] : entries) {
    const auto slash = entry.find('/');
    if (slash != std::string::npos && entry.compare(slash + 1, std::string::npos, "data.pkl") == 0)
      prefix = entry.substr(0, slash + 1);
  }
  const auto pkl = entries.find(prefix + "data.pkl");
  if (pkl == entries.end()) throw IoError(name, "not a PyTorch file: the zip archive has no data.pkl");
  const auto order = entries.find(prefix + "byteorder");
  if (order != entries.end() && b.substr(order->second.offset, order->second.size) != "little")
    throw IoError(name, "the checkpoint was written on a big-endian machine; not supported");
  const std::string pickle = b.substr(pkl->second.offset, pkl->second.size);
  std::map<std::string, torch::Tensor> loaded;  // a storage referred to again is not copied again
  Unpickler unpickler(pickle, 0, name, [&](const StorageRef& ref) {
    if (const auto done = loaded.find(ref.key); done != loaded.end()) {
      if (done->second.scalar_type() != ref.dtype || done->second.numel() != ref.numel)
        throw IoError(name, "not a readable PyTorch file: storage " + ref.key + " is described two ways");
      return done->second;
    }
    const auto it = entries.find(prefix + "data/" + ref.key);
    if (it == entries.end()) throw IoError(name, "not a readable PyTorch file: storage " + ref.key + " is missing");
    const auto itemsize = static_cast<uint64_t>(c10::elementSize(ref.dtype));
    if (static_cast<uint64_t>(ref.numel) > it->second.size / itemsize)
      throw IoError(name, fmt::format("not a readable PyTorch file: storage {} claims {} elements but holds {} bytes",
                                      ref.key, ref.numel, it->second.size));
    return loaded[ref.key] = storage_tensor(b, it->second.offset, ref);
  }, tensor_allowance(b.size()));
  return unpickler.run();
}

// ---- legacy format (PyTorch < 1.6) ---------------------------------------------------------
// Five pickles in a row (magic number, protocol version, system info, the object, the list of
// storage keys), then each storage in that order as an int64 element count and its raw bytes.

PyRef parse_legacy(const std::string& b, const std::string& name) {
  const auto dry = [](const StorageRef&) { return torch::Tensor(); };
  size_t pos = 0;
  const auto next = [&](StorageLoader loader) {
    Unpickler u(b, pos, name, std::move(loader), tensor_allowance(b.size()));
    auto v = u.run();
    pos = u.position();
    return v;
  };
  // The magic number 0x1950a86a20f9469cfc6c, pickled little-endian.
  if (next(dry)->text != "int:6cfc9c46f9206aa85019")
    throw IoError(name, "not a PyTorch file: a pickle, but not one torch.save wrote");
  next(dry);  // protocol version
  next(dry);  // system info
  const size_t object_at = pos;
  std::map<std::string, StorageRef> refs;
  next([&](const StorageRef& ref) {
    refs[ref.key] = ref;
    return torch::Tensor();
  });
  const auto keys = next(dry);
  std::map<std::string, size_t> data_at;
  for (const auto& key : keys->items) {
    const auto it = refs.find(key->text);
    if (it == refs.end()) throw IoError(name, "not a readable PyTorch file: an unknown storage " + key->text);
    if (pos + 8 > b.size()) throw IoError(name, "not a readable PyTorch file: the file ends before its tensors (truncated?)");
    const auto numel = read_le(b, pos, 8);
    const auto itemsize = static_cast<uint64_t>(c10::elementSize(it->second.dtype));
    pos += 8;
    if (numel != static_cast<uint64_t>(it->second.numel) || numel > (b.size() - pos) / itemsize)
      throw IoError(name, "not a readable PyTorch file: storage " + key->text + " is truncated or of the wrong size");
    data_at[key->text] = pos;
    pos += static_cast<size_t>(numel * itemsize);
  }
  pos = object_at;
  std::map<std::string, torch::Tensor> loaded;
  return next([&](const StorageRef& ref) {
    if (const auto done = loaded.find(ref.key); done != loaded.end()) return done->second;
    const auto it = data_at.find(ref.key);
    if (it == data_at.end()) throw IoError(name, "not a readable PyTorch file: storage " + ref.key + " is missing");
    const auto& first = refs.at(ref.key);
    if (first.dtype != ref.dtype || first.numel != ref.numel)
      throw IoError(name, "not a readable PyTorch file: storage " + ref.key + " is described two ways");
    return loaded[ref.key] = storage_tensor(b, it->second, ref);
  });
}

}  // namespace

PyRef parse_torch_file(const std::string& bytes, const std::string& name) {
  if (bytes.size() >= 4 && read_le(bytes, 0, 4) == 0x04034b50) return parse_zip(bytes, name);
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x80) return parse_legacy(bytes, name);
  throw IoError(name, "not a PyTorch file (torch.save writes a zip archive or, before PyTorch 1.6, a pickle)");
}

PyRef load_torch_file(const std::string& path) { return parse_torch_file(read_file(path), path); }

}  // namespace flowood::io

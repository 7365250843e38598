// SPDX-License-Identifier: GPL-3.0-or-later
// A state-dict reader: the zip archive through LibTorch's PyTorchStreamReader, data.pkl
// through the pickle machine below (see state_dict.h for the sources).
#include "core/io/state_dict.h"

#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <unordered_map>

#include "core/errors.h"

namespace qnn {

namespace {

struct PyObj;
using Obj = std::shared_ptr<PyObj>;

/// One Python value of a state-dict pickle.
struct PyObj {
  enum class Kind { None, Bool, Int, Float, Str, Tuple, List, Dict, Global, Storage, Tensor };
  Kind kind = Kind::None;
  int64_t i = 0;  // Bool, Int; Storage: numel
  double f = 0.0;
  std::string s;  // Str; Global: "module.name"; Storage: record key
  std::vector<Obj> items;                      // Tuple, List
  std::vector<std::pair<Obj, Obj>> dict;       // Dict (insertion order)
  torch::ScalarType dtype = torch::kFloat;     // Storage
  torch::Tensor tensor;                        // Tensor
};

Obj make(PyObj::Kind k) {
  auto o = std::make_shared<PyObj>();
  o->kind = k;
  return o;
}

const char* kind_name(PyObj::Kind k) {
  switch (k) {
    case PyObj::Kind::None: return "None";
    case PyObj::Kind::Bool: return "bool";
    case PyObj::Kind::Int: return "int";
    case PyObj::Kind::Float: return "float";
    case PyObj::Kind::Str: return "str";
    case PyObj::Kind::Tuple: return "tuple";
    case PyObj::Kind::List: return "list";
    case PyObj::Kind::Dict: return "dict";
    case PyObj::Kind::Global: return "class or function";
    case PyObj::Kind::Storage: return "storage";
    case PyObj::Kind::Tensor: return "tensor";
  }
  return "value";
}

const std::map<std::string, torch::ScalarType>& storage_types() {
  static const std::map<std::string, torch::ScalarType> m{
      {"torch.FloatStorage", torch::kFloat},   {"torch.DoubleStorage", torch::kDouble},
      {"torch.HalfStorage", torch::kHalf},     {"torch.BFloat16Storage", torch::kBFloat16},
      {"torch.LongStorage", torch::kLong},     {"torch.IntStorage", torch::kInt},
      {"torch.ShortStorage", torch::kShort},   {"torch.CharStorage", torch::kChar},
      {"torch.ByteStorage", torch::kByte},     {"torch.BoolStorage", torch::kBool}};
  return m;
}

class Unpickler {
 public:
  Unpickler(const std::string& path, const uint8_t* data, size_t size, caffe2::serialize::PyTorchStreamReader& zip)
      : m_path(path), m_p(data), m_end(data + size), m_zip(zip) {}

  Obj run() {
    while (true) {
      const uint8_t op = byte();
      switch (op) {
        case 0x80: byte(); break;               // PROTO
        case 0x95: bytes(8); break;             // FRAME
        case '.': return pop();                 // STOP
        case '(': m_marks.push_back(m_stack.size()); break;  // MARK
        case 'N': m_stack.push_back(make(PyObj::Kind::None)); break;
        case 0x88: push_bool(true); break;      // NEWTRUE
        case 0x89: push_bool(false); break;     // NEWFALSE
        case 'J': push_int(int32_t(le(4))); break;  // BININT
        case 'K': push_int(int64_t(le(1))); break;  // BININT1
        case 'M': push_int(int64_t(le(2))); break;  // BININT2
        case 0x8a: {                            // LONG1
          const size_t n = byte();
          if (n > 8) fail("an integer of " + std::to_string(n) + " bytes");
          uint64_t v = le(n);
          if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);  // sign-extend
          push_int(int64_t(v));
          break;
        }
        case 'G': {                             // BINFLOAT (big-endian)
          uint64_t v = 0;
          for (int k = 0; k < 8; ++k) v = (v << 8) | byte();
          double d;
          std::memcpy(&d, &v, 8);
          auto o = make(PyObj::Kind::Float);
          o->f = d;
          m_stack.push_back(o);
          break;
        }
        case 'X': push_str(size_t(le(4))); break;     // BINUNICODE
        case 0x8c: push_str(byte()); break;           // SHORT_BINUNICODE
        case 'U': push_str(byte()); break;            // SHORT_BINSTRING
        case 'T': push_str(size_t(le(4))); break;     // BINSTRING
        case 'C': push_str(byte()); break;            // SHORT_BINBYTES
        case 'B': push_str(size_t(le(4))); break;     // BINBYTES
        case 'c': {                                   // GLOBAL
          auto o = make(PyObj::Kind::Global);
          const std::string module = line(), name = line();
          o->s = module + "." + name;
          m_stack.push_back(o);
          break;
        }
        case 0x93: {                                  // STACK_GLOBAL
          const Obj name = pop(), module = pop();
          auto o = make(PyObj::Kind::Global);
          o->s = module->s + "." + name->s;
          m_stack.push_back(o);
          break;
        }
        case 'q': m_memo[uint32_t(le(1))] = top(); break;  // BINPUT
        case 'r': m_memo[uint32_t(le(4))] = top(); break;  // LONG_BINPUT
        case 0x94: m_memo[uint32_t(m_memo.size())] = top(); break;  // MEMOIZE
        case 'h': get(uint32_t(le(1))); break;             // BINGET
        case 'j': get(uint32_t(le(4))); break;             // LONG_BINGET
        case '}': m_stack.push_back(make(PyObj::Kind::Dict)); break;   // EMPTY_DICT
        case ']': m_stack.push_back(make(PyObj::Kind::List)); break;   // EMPTY_LIST
        case ')': m_stack.push_back(make(PyObj::Kind::Tuple)); break;  // EMPTY_TUPLE
        case 't': {                                                    // TUPLE
          auto o = make(PyObj::Kind::Tuple);
          o->items = pop_to_mark();
          m_stack.push_back(o);
          break;
        }
        case 0x85: case 0x86: case 0x87: {                             // TUPLE1..3
          auto o = make(PyObj::Kind::Tuple);
          const size_t n = size_t(op - 0x84);
          if (m_stack.size() < n) fail("a tuple without its items");
          o->items.assign(m_stack.end() - std::ptrdiff_t(n), m_stack.end());
          m_stack.resize(m_stack.size() - n);
          m_stack.push_back(o);
          break;
        }
        case 'l': {                                                    // LIST
          auto o = make(PyObj::Kind::List);
          o->items = pop_to_mark();
          m_stack.push_back(o);
          break;
        }
        case 'a': {                                                    // APPEND
          const Obj v = pop();
          expect(top(), PyObj::Kind::List, "APPEND")->items.push_back(v);
          break;
        }
        case 'e': {                                                    // APPENDS
          std::vector<Obj> vs = pop_to_mark();
          Obj l = expect(top(), PyObj::Kind::List, "APPENDS");
          l->items.insert(l->items.end(), vs.begin(), vs.end());
          break;
        }
        case 'd': {                                                    // DICT
          auto o = make(PyObj::Kind::Dict);
          add_pairs(o, pop_to_mark());
          m_stack.push_back(o);
          break;
        }
        case 's': {                                                    // SETITEM
          const Obj v = pop(), k = pop();
          expect(top(), PyObj::Kind::Dict, "SETITEM")->dict.emplace_back(k, v);
          break;
        }
        case 'u': {                                                    // SETITEMS
          std::vector<Obj> kv = pop_to_mark();
          add_pairs(expect(top(), PyObj::Kind::Dict, "SETITEMS"), kv);
          break;
        }
        case 'b': pop(); break;  // BUILD: an OrderedDict's __dict__ (state_dict._metadata): not needed
        case 'R': {              // REDUCE
          const Obj args = pop(), fn = pop();
          m_stack.push_back(reduce(fn, args));
          break;
        }
        case 'Q': {              // BINPERSID
          m_stack.push_back(storage(pop()));
          break;
        }
        default: {
          char hex[8];
          std::snprintf(hex, sizeof hex, "0x%02x", unsigned(op));
          fail(std::string("pickle opcode ") + hex + " (not written by torch.save for a state dict)");
        }
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw ConfigError(m_path + ": not a state dict torch.save wrote: " + what + " at byte " +
                      std::to_string(m_offset) + " of data.pkl");
  }
  uint8_t byte() {
    if (m_p >= m_end) fail("the pickle ends early (truncated file?)");
    ++m_offset;
    return *m_p++;
  }
  std::string bytes(size_t n) {
    if (size_t(m_end - m_p) < n) fail("the pickle ends early (truncated file?)");
    std::string s(reinterpret_cast<const char*>(m_p), n);
    m_p += n;
    m_offset += n;
    return s;
  }
  uint64_t le(size_t n) {
    uint64_t v = 0;
    for (size_t k = 0; k < n; ++k) v |= uint64_t(byte()) << (8 * k);
    return v;
  }
  std::string line() {
    std::string s;
    for (uint8_t c = byte(); c != '\n'; c = byte()) s += char(c);
    return s;
  }
  Obj pop() {
    if (m_stack.empty()) fail("an empty stack");
    Obj o = m_stack.back();
    m_stack.pop_back();
    return o;
  }
  Obj top() {
    if (m_stack.empty()) fail("an empty stack");
    return m_stack.back();
  }
  void get(uint32_t k) {
    auto it = m_memo.find(k);
    if (it == m_memo.end()) fail("a memo entry that was never stored");
    m_stack.push_back(it->second);
  }
  std::vector<Obj> pop_to_mark() {
    if (m_marks.empty()) fail("no MARK");
    const size_t m = m_marks.back();
    m_marks.pop_back();
    if (m > m_stack.size()) fail("a MARK above the stack");
    std::vector<Obj> out(m_stack.begin() + std::ptrdiff_t(m), m_stack.end());
    m_stack.resize(m);
    return out;
  }
  Obj expect(const Obj& o, PyObj::Kind k, const char* op) {
    if (o->kind != k) fail(std::string(op) + " on a " + kind_name(o->kind));
    return o;
  }
  void add_pairs(const Obj& d, const std::vector<Obj>& kv) {
    if (kv.size() % 2) fail("a dict with a key but no value");
    for (size_t k = 0; k < kv.size(); k += 2) d->dict.emplace_back(kv[k], kv[k + 1]);
  }
  void push_bool(bool b) {
    auto o = make(PyObj::Kind::Bool);
    o->i = b;
    m_stack.push_back(o);
  }
  void push_int(int64_t v) {
    auto o = make(PyObj::Kind::Int);
    o->i = v;
    m_stack.push_back(o);
  }
  void push_str(size_t n) {
    auto o = make(PyObj::Kind::Str);
    o->s = bytes(n);
    m_stack.push_back(o);
  }

  std::vector<int64_t> ints(const Obj& t, const char* what) {
    if (t->kind != PyObj::Kind::Tuple && t->kind != PyObj::Kind::List) fail(std::string(what) + " is not a tuple");
    std::vector<int64_t> v;
    for (const Obj& e : t->items) {
      if (e->kind != PyObj::Kind::Int) fail(std::string(what) + " holds a " + kind_name(e->kind));
      v.push_back(e->i);
    }
    return v;
  }

  // ('storage', torch.FloatStorage, '0', 'cpu', numel)
  Obj storage(const Obj& pid) {
    if (pid->kind != PyObj::Kind::Tuple || pid->items.size() < 5 || pid->items[0]->kind != PyObj::Kind::Str ||
        pid->items[0]->s != "storage")
      fail("a persistent id that is not a tensor storage");
    const Obj& type = pid->items[1];
    auto it = type->kind == PyObj::Kind::Global ? storage_types().find(type->s) : storage_types().end();
    if (it == storage_types().end())
      fail("storage type " + (type->kind == PyObj::Kind::Global ? type->s : std::string(kind_name(type->kind))));
    if (pid->items[2]->kind != PyObj::Kind::Str || pid->items[4]->kind != PyObj::Kind::Int)
      fail("a storage without its key or size");
    auto o = make(PyObj::Kind::Storage);
    o->dtype = it->second;
    o->s = pid->items[2]->s;
    o->i = pid->items[4]->i;
    return o;
  }

  torch::Tensor storage_tensor(const Obj& st) {
    auto cached = m_storages.find(st->s);
    if (cached != m_storages.end()) return cached->second;
    const std::string record = "data/" + st->s;
    if (!m_zip.hasRecord(record)) fail("storage record " + record + " is missing from the archive");
    at::DataPtr data;
    size_t size = 0;
    std::tie(data, size) = m_zip.getRecord(record);
    const size_t need = size_t(st->i) * c10::elementSize(st->dtype);
    if (st->i < 0 || size < need)
      fail("storage record " + record + " holds " + std::to_string(size) + " bytes, the tensor needs " +
           std::to_string(need));
    torch::Tensor t = torch::empty({st->i}, torch::TensorOptions().dtype(st->dtype));
    if (need) std::memcpy(t.data_ptr(), data.get(), need);
    m_storages[st->s] = t;
    return t;
  }

  Obj reduce(const Obj& fn, const Obj& args) {
    if (fn->kind != PyObj::Kind::Global) fail("a call of a " + std::string(kind_name(fn->kind)));
    if (args->kind != PyObj::Kind::Tuple) fail("call arguments that are not a tuple");
    const auto& a = args->items;
    if (fn->s == "collections.OrderedDict") {
      auto d = make(PyObj::Kind::Dict);
      if (!a.empty() && a[0]->kind == PyObj::Kind::List)
        for (const Obj& kv : a[0]->items)
          if (kv->kind == PyObj::Kind::Tuple && kv->items.size() == 2) d->dict.emplace_back(kv->items[0], kv->items[1]);
      return d;
    }
    if (fn->s == "torch._utils._rebuild_tensor_v2" || fn->s == "torch._utils._rebuild_tensor") {
      if (a.size() < 4 || a[0]->kind != PyObj::Kind::Storage || a[1]->kind != PyObj::Kind::Int)
        fail(fn->s + " with unexpected arguments");
      const torch::Tensor flat = storage_tensor(a[0]);
      const std::vector<int64_t> size = ints(a[2], "a tensor size"), stride = ints(a[3], "a tensor stride");
      if (size.size() != stride.size()) fail("a tensor whose size and stride differ in length");
      int64_t last = a[1]->i;  // the highest element index the view touches
      bool empty = false;
      for (size_t d = 0; d < size.size(); ++d) {
        if (size[d] < 0 || stride[d] < 0) fail("a negative tensor size or stride");
        if (size[d] == 0) empty = true;
        last += (size[d] - 1) * stride[d];
      }
      if (a[1]->i < 0 || (!empty && last >= flat.numel()))
        fail("a tensor that reaches past its storage (" + std::to_string(flat.numel()) + " elements)");
      auto o = make(PyObj::Kind::Tensor);
      o->tensor = empty ? torch::empty(size, flat.options()) : flat.as_strided(size, stride, a[1]->i).clone();
      return o;
    }
    if (fn->s == "torch._utils._rebuild_parameter" || fn->s == "torch._utils._rebuild_parameter_with_state") {
      if (a.empty() || a[0]->kind != PyObj::Kind::Tensor) fail(fn->s + " without a tensor");
      return a[0];
    }
    fail("a call of " + fn->s + " (a state dict holds only tensors)");
  }

  const std::string& m_path;
  const uint8_t* m_p;
  const uint8_t* m_end;
  size_t m_offset = 0;
  caffe2::serialize::PyTorchStreamReader& m_zip;
  std::vector<Obj> m_stack;
  std::vector<size_t> m_marks;
  std::unordered_map<uint32_t, Obj> m_memo;
  std::map<std::string, torch::Tensor> m_storages;
};

}  // namespace

StateDict read_state_dict(const std::string& path) {
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) throw IoError("cannot open " + path + " for reading");
    char magic[2] = {0, 0};
    probe.read(magic, 2);
    if (probe.gcount() < 2 || magic[0] != 'P' || magic[1] != 'K')
      throw ConfigError(path + " is not a PyTorch zip checkpoint (torch.save since PyTorch 1.6): " +
                        (probe.gcount() >= 1 && uint8_t(magic[0]) == 0x80
                             ? std::string("it looks like the legacy format (torch.save before 1.6 or "
                                           "_use_new_zipfile_serialization=False); save it again with a current "
                                           "PyTorch")
                             : std::string("it does not start like one")));
  }
  try {
    caffe2::serialize::PyTorchStreamReader zip(path);
    if (!zip.hasRecord("data.pkl"))
      throw ConfigError(path + " is a zip archive without data.pkl: not a file torch.save wrote");
    at::DataPtr data;
    size_t size = 0;
    std::tie(data, size) = zip.getRecord("data.pkl");
    Unpickler u(path, static_cast<const uint8_t*>(data.get()), size, zip);
    const Obj root = u.run();
    if (root->kind != PyObj::Kind::Dict)
      throw ConfigError(path + " holds a " + kind_name(root->kind) + " at the top, not a state dict (save "
                        "model.state_dict(), not the model or a list)");
    StateDict out;
    for (const auto& [k, v] : root->dict) {
      if (k->kind != PyObj::Kind::Str)
        throw ConfigError(path + ": a state-dict key is a " + kind_name(k->kind) + ", not a name");
      if (v->kind != PyObj::Kind::Tensor)
        throw ConfigError(path + ": " + k->s + " holds a " + kind_name(v->kind) + ", not a tensor (is this an "
                          "optimizer state or a training checkpoint dict? save model.state_dict())");
      out.emplace_back(k->s, v->tensor);
    }
    return out;
  } catch (const c10::Error& e) {
    // LibTorch's zip reader speaks of its own internals ("PytorchStreamReader failed
    // ..."): say what it means for the file.
    const std::string what = e.what_without_backtrace();
    const std::string why = what.find("central directory") != std::string::npos
                                ? "the archive is truncated or damaged (its zip directory is missing); copy or save "
                                  "it again"
                            : what.find("record") != std::string::npos
                                ? "a record of the archive is missing or damaged; save it again with torch.save"
                                : "the zip archive is damaged; save it again with torch.save";
    throw ConfigError(path + " cannot be read as a PyTorch zip checkpoint: " + why);
  }
}

}  // namespace qnn

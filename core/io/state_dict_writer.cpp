// SPDX-License-Identifier: GPL-3.0-or-later
// A state-dict writer: data.pkl from the small pickler below (the opcodes torch.save
// emits at protocol 2, all of which core/io/state_dict.cpp reads back), the zip archive
// from LibTorch's PyTorchStreamWriter (see state_dict_writer.h).
#include "core/io/state_dict_writer.h"

#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <map>
#include <set>

#include "core/errors.h"
#include "core/io/atomic_file.h"

namespace qnn {

namespace {

/// The torch storage class of a dtype (torch/storage.py: _LegacyStorage names).
const char* storage_class(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat: return "FloatStorage";
    case torch::kDouble: return "DoubleStorage";
    case torch::kHalf: return "HalfStorage";
    case torch::kBFloat16: return "BFloat16Storage";
    case torch::kLong: return "LongStorage";
    case torch::kInt: return "IntStorage";
    case torch::kShort: return "ShortStorage";
    case torch::kChar: return "CharStorage";
    case torch::kByte: return "ByteStorage";
    case torch::kBool: return "BoolStorage";
    default: return nullptr;
  }
}

/// Pickle protocol 2 opcodes (Python's pickletools).
class Pickler {
 public:
  void proto() { m_out += "\x80\x02"; }
  void stop() { m_out += '.'; }
  void mark() { m_out += '('; }
  void tuple() { m_out += 't'; }
  void empty_tuple() { m_out += ')'; }
  void reduce() { m_out += 'R'; }
  void setitems() { m_out += 'u'; }
  void binpersid() { m_out += 'Q'; }
  void boolean(bool b) { m_out += b ? '\x88' : '\x89'; }
  void global(const std::string& module, const std::string& name) { m_out += 'c' + module + '\n' + name + '\n'; }
  void str(const std::string& s) {  // BINUNICODE: 4-byte little-endian length, UTF-8
    m_out += 'X';
    le(uint64_t(s.size()), 4);
    m_out += s;
  }
  void integer(int64_t v) {
    if (v >= 0 && v < 256) {
      m_out += 'K';
      le(uint64_t(v), 1);
    } else if (v >= 0 && v < 65536) {
      m_out += 'M';
      le(uint64_t(v), 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      m_out += 'J';
      le(uint64_t(uint32_t(int32_t(v))), 4);
    } else {  // LONG1: two's complement, little-endian, 8 bytes (always enough)
      m_out += '\x8a';
      m_out += char(8);
      le(uint64_t(v), 8);
    }
  }
  void int_tuple(const std::vector<int64_t>& v) {
    mark();
    for (int64_t x : v) integer(x);
    tuple();
  }
  const std::string& bytes() const { return m_out; }

 private:
  void le(uint64_t v, int n) {
    for (int k = 0; k < n; ++k) m_out += char((v >> (8 * k)) & 0xff);
  }
  std::string m_out;
};

}  // namespace

std::string state_dict_bytes(const StateDict& tensors) {
  std::set<std::string> seen;
  std::vector<torch::Tensor> storages;
  Pickler p;
  p.proto();
  p.global("collections", "OrderedDict");
  p.empty_tuple();
  p.reduce();
  p.mark();
  for (const auto& [key, tensor] : tensors) {
    if (!seen.insert(key).second) throw ConfigError("state dict key " + key + " appears twice");
    if (!tensor.defined()) throw ConfigError("state dict entry " + key + " holds no tensor");
    const char* cls = storage_class(tensor.scalar_type());
    if (!cls)
      throw ConfigError("state dict entry " + key + " has dtype " + std::string(c10::toString(tensor.scalar_type())) +
                        ", which torch.save storages do not cover here");
    const torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous().clone();
    const std::string storage_key = std::to_string(storages.size());
    storages.push_back(t);
    std::vector<int64_t> stride(size_t(t.dim()), 1);
    for (int64_t d = t.dim() - 2; d >= 0; --d) stride[size_t(d)] = stride[size_t(d + 1)] * t.size(d + 1);

    p.str(key);
    p.global("torch._utils", "_rebuild_tensor_v2");
    p.mark();
    p.mark();  // persistent id ('storage', torch.<Type>Storage, key, 'cpu', numel)
    p.str("storage");
    p.global("torch", cls);
    p.str(storage_key);
    p.str("cpu");
    p.integer(t.numel());
    p.tuple();
    p.binpersid();
    p.integer(0);  // storage offset
    p.int_tuple(t.sizes().vec());
    p.int_tuple(stride);
    p.boolean(false);  // requires_grad (state_dict() detaches)
    p.global("collections", "OrderedDict");  // backward hooks
    p.empty_tuple();
    p.reduce();
    p.tuple();
    p.reduce();
  }
  p.setitems();
  p.stop();

  std::string out;
  try {
    caffe2::serialize::PyTorchStreamWriter writer([&out](const void* data, size_t size) {
      out.append(static_cast<const char*>(data), size);
      return size;
    });
    writer.writeRecord("data.pkl", p.bytes().data(), p.bytes().size());
    static const char kLittle[] = "little";
    writer.writeRecord("byteorder", kLittle, sizeof kLittle - 1);
    for (size_t k = 0; k < storages.size(); ++k) {
      const torch::Tensor& t = storages[k];
      writer.writeRecord("data/" + std::to_string(k), t.data_ptr(), size_t(t.numel()) * t.element_size());
    }
    writer.writeEndOfFile();
  } catch (const c10::Error& e) {
    throw ConfigError(std::string("cannot build the state dict archive: ") + e.what_without_backtrace());
  }
  return out;
}

void write_state_dict(const std::string& path, const StateDict& tensors) {
  write_text_atomically(path, "state dict", state_dict_bytes(tensors));
}

}  // namespace qnn

// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/export/packed_model.h"

#include <zlib.h>

#include <cctype>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/graph/layer_rules.h"
#include "core/graph/validate.h"
#include "core/layers/layer_descriptor.h"
#include "core/quant/int_quant.h"

namespace qnn {

namespace {

using json = nlohmann::ordered_json;
constexpr char kMagic[8] = {'Q', 'N', 'N', 'P', 'A', 'C', 'K', '\0'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 32;

void put_u32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
uint32_t get_u32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(static_cast<unsigned char>(s[at + size_t(i)])) << (8 * i);
  return v;
}

/// Appends raw little-endian bytes of a float32 / int32 tensor; returns its offset.
int64_t append_tensor(std::string& data, const torch::Tensor& t, torch::ScalarType type) {
  const torch::Tensor c = t.detach().to(type).contiguous();
  const int64_t at = int64_t(data.size());
  data.append(static_cast<const char*>(c.data_ptr()), size_t(c.numel() * c.element_size()));
  return at;
}

json describe_point(const QuantPoint& q) {
  return json{{"bit_width", q.bit_width}, {"signed", q.is_signed}, {"narrow", q.narrow_range},
              {"min_int", q.range.min_int}, {"max_int", q.range.max_int}, {"channels", q.scale.numel()}};
}

void add_point(json& e, std::string& data, const QuantPoint& q) {
  e["scale_offset"] = append_tensor(data, q.scale.reshape({-1}), torch::kFloat32);
  e["zero_point_offset"] = append_tensor(data, q.zero_point.reshape({-1}), torch::kInt32);
}

void add_codes(json& tensors, std::string& data, const std::string& layer, const std::string& role,
               const torch::Tensor& codes, const QuantPoint& q) {
  json e{{"name", layer + "." + role}, {"layer", layer}, {"role", role}, {"shape", codes.sizes().vec()},
         {"kind", "codes"}};
  e.update(describe_point(q));
  std::string packed;
  try {
    packed = pack_codes(codes, q.bit_width, q.range.min_int);
  } catch (const ExportError& e) {  // name the tensor: "conv1.weight: code 9 does not fit 3 bits"
    throw ExportError(layer + "." + role + ": " + e.what());
  }
  e["codes_offset"] = int64_t(data.size());
  e["codes_bytes"] = int64_t(packed.size());
  data += packed;
  add_point(e, data, q);
  tensors.push_back(e);
}

void add_float(json& tensors, std::string& data, const std::string& layer, const std::string& role,
               const torch::Tensor& t) {
  json e{{"name", layer + "." + role}, {"layer", layer}, {"role", role}, {"shape", t.sizes().vec()},
         {"kind", "float32"}};
  e["offset"] = append_tensor(data, t, torch::kFloat32);
  e["bytes"] = t.numel() * 4;
  tensors.push_back(e);
}

std::string c_identifier(const std::string& s) {
  std::string out;
  for (char c : s) out.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return out;
}

}  // namespace

// ---------------------------------------------------------------- bit packing

std::string pack_codes(const torch::Tensor& codes, int bits, int64_t min_int) {
  if (bits < 1 || bits > 32) throw ExportError("cannot pack codes of " + std::to_string(bits) + " bits");
  const torch::Tensor c = codes.detach().to(torch::kInt64).contiguous().reshape({-1});
  const int64_t n = c.numel();
  const int64_t* p = c.data_ptr<int64_t>();
  std::string out(size_t((n * bits + 7) / 8), '\0');
  const uint64_t limit = bits == 64 ? ~uint64_t(0) : (uint64_t(1) << bits) - 1;
  uint64_t bit = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t u = p[i] - min_int;
    if (u < 0 || uint64_t(u) > limit)
      throw ExportError("code " + std::to_string(p[i]) + " does not fit " + std::to_string(bits) + " bits");
    for (int b = 0; b < bits; ++b, ++bit)
      if ((uint64_t(u) >> b) & 1u) out[size_t(bit / 8)] = char(uint8_t(out[size_t(bit / 8)]) | (1u << (bit % 8)));
  }
  return out;
}

torch::Tensor unpack_codes(const std::string& bytes, int64_t count, int bits, int64_t min_int) {
  if (bits < 1 || bits > 32 || int64_t(bytes.size()) * 8 < count * bits)
    throw ExportError("packed codes are truncated");
  torch::Tensor out = torch::empty({count}, torch::kInt64);
  int64_t* p = out.data_ptr<int64_t>();
  uint64_t bit = 0;
  for (int64_t i = 0; i < count; ++i) {
    uint64_t u = 0;
    for (int b = 0; b < bits; ++b, ++bit)
      u |= uint64_t((uint8_t(bytes[size_t(bit / 8)]) >> (bit % 8)) & 1u) << b;
    p[i] = int64_t(u) + min_int;
  }
  return out;
}

// ---------------------------------------------------------------- writer

std::string packed_model_bytes(const ExportPlan& plan, PackedSize* size) {
  json tensors = json::array();
  std::string data;
  int64_t float32_bytes = 0;
  for (const PlanNode& n : plan.nodes) {
    if (n.op == PlanOp::Conv || n.op == PlanOp::Linear) {
      float32_bytes += n.weight.numel() * 4;
      if (n.weight_q)
        add_codes(tensors, data, n.id, "weight", n.weight_codes, *n.weight_q);
      else
        add_float(tensors, data, n.id, "weight", n.weight);
      if (n.bias.defined()) {
        float32_bytes += n.bias.numel() * 4;
        if (n.bias_q)
          add_codes(tensors, data, n.id, "bias", n.bias_codes, *n.bias_q);
        else
          add_float(tensors, data, n.id, "bias", n.bias);
      }
    } else if (n.op == PlanOp::TruncPool && n.input_q) {  // the input grid the truncation starts from
      json e{{"name", n.id + ".input"}, {"layer", n.id}, {"role", "input"}, {"shape", json::array()}, {"kind", "quant"}};
      e.update(describe_point(*n.input_q));
      add_point(e, data, *n.input_q);
      tensors.push_back(e);
    } else if (n.op == PlanOp::Act && n.act_q) {
      json e{{"name", n.id + ".act"}, {"layer", n.id}, {"role", "act"}, {"shape", json::array()}, {"kind", "quant"}};
      e.update(describe_point(*n.act_q));
      add_point(e, data, *n.act_q);
      tensors.push_back(e);
    }
  }
  json doc;
  doc["format"] = "qnn-packed";
  doc["version"] = kVersion;
  doc["project"] = json::parse(project_to_json(plan.project));
  doc["preprocessing"] = json::parse(preprocessing_json(plan.project));
  doc["tensors"] = tensors;
  doc["output"] = plan.output_source;
  const std::string text = doc.dump();

  uLongf zlen = compressBound(uLong(text.size()));
  std::string z(size_t(zlen), '\0');
  if (compress2(reinterpret_cast<Bytef*>(z.data()), &zlen, reinterpret_cast<const Bytef*>(text.data()),
                uLong(text.size()), Z_BEST_COMPRESSION) != Z_OK)
    throw ExportError("cannot compress the graph JSON");
  z.resize(size_t(zlen));

  std::string out(kMagic, sizeof kMagic);
  put_u32(out, kVersion);
  put_u32(out, 1u);  // flags: zlib JSON
  put_u32(out, uint32_t(z.size()));
  put_u32(out, uint32_t(text.size()));
  put_u32(out, uint32_t(data.size()));
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(z.data()), uInt(z.size()));
  crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data()), uInt(data.size()));
  put_u32(out, uint32_t(crc));
  out += z;
  out += data;
  if (size) {
    size->file_bytes = int64_t(out.size());
    size->payload_bytes = int64_t(data.size());
    size->float32_bytes = float32_bytes;
  }
  return out;
}

std::string packed_c_header(const ExportPlan& plan) {
  std::ostringstream h;
  const std::string guard = "QNN_MODEL_" + c_identifier(plan.project.name.empty() ? "MODEL" : plan.project.name);
  std::string upper_guard;
  for (char c : guard) upper_guard.push_back(char(std::toupper(static_cast<unsigned char>(c))));
  h << "/* Generated by QNN Studio: the packed integer model of \"" << plan.project.name << "\".\n"
    << " * Codes: u = q - MIN_INT in BITS bits, row-major, one bit stream, least significant bit first.\n"
    << " * Value: (q - zero_point[c]) * scale[c] (c: index along dim 0 when per channel).\n"
    << " * Preprocessing: " << preprocessing_json(plan.project) << "\n */\n"
    << "#ifndef " << upper_guard << "_H\n#define " << upper_guard << "_H\n\n#include <stdint.h>\n\n";
  h << std::setprecision(9);
  auto array_f = [&](const std::string& name, const torch::Tensor& t) {
    const torch::Tensor c = t.detach().to(torch::kFloat32).contiguous().reshape({-1});
    h << "static const float " << name << "[" << c.numel() << "] = {";
    for (int64_t i = 0; i < c.numel(); ++i) h << (i ? ", " : "") << c.data_ptr<float>()[i] << "f";
    h << "};\n";
  };
  auto array_i = [&](const std::string& name, const torch::Tensor& t) {
    const torch::Tensor c = t.detach().to(torch::kInt64).contiguous().reshape({-1});
    h << "static const int32_t " << name << "[" << c.numel() << "] = {";
    for (int64_t i = 0; i < c.numel(); ++i) h << (i ? ", " : "") << c.data_ptr<int64_t>()[i];
    h << "};\n";
  };
  auto point = [&](const std::string& base, const QuantPoint& q) {
    std::string up;
    for (char c : base) up.push_back(char(std::toupper(static_cast<unsigned char>(c))));
    h << "#define QNN_" << up << "_BITS " << q.bit_width << "\n#define QNN_" << up << "_MIN_INT (" << q.range.min_int
      << ")\n#define QNN_" << up << "_MAX_INT " << q.range.max_int << "\n";
    array_f("qnn_" + base + "_scale", q.scale);
    array_i("qnn_" + base + "_zero_point", q.zero_point);
  };
  auto codes = [&](const std::string& base, const torch::Tensor& c, const QuantPoint& q) {
    point(base, q);
    const std::string packed = pack_codes(c, q.bit_width, q.range.min_int);
    h << "/* shape [";
    for (int64_t i = 0; i < c.dim(); ++i) h << (i ? ", " : "") << c.size(i);
    h << "] */\nstatic const uint8_t qnn_" << base << "_codes[" << packed.size() << "] = {";
    for (size_t i = 0; i < packed.size(); ++i)
      h << (i ? (i % 16 ? ", " : ",\n  ") : "\n  ") << "0x" << std::hex << std::setw(2) << std::setfill('0')
        << int(uint8_t(packed[i])) << std::dec << std::setfill(' ');
    h << "};\n";
  };
  for (const PlanNode& n : plan.nodes) {
    const std::string id = c_identifier(n.id);
    if (n.op == PlanOp::Conv || n.op == PlanOp::Linear) {
      h << "\n/* " << n.id << ": " << to_string(n.type) << " */\n";
      if (n.weight_q) codes(id + "_weight", n.weight_codes, *n.weight_q);
      else array_f("qnn_" + id + "_weight", n.weight);
      if (n.bias_q) codes(id + "_bias", n.bias_codes, *n.bias_q);
      else if (n.bias.defined()) array_f("qnn_" + id + "_bias", n.bias);
    } else if (n.op == PlanOp::TruncPool && n.input_q) {
      h << "\n/* " << n.id << ": " << to_string(n.type) << " input grid of the truncation */\n";
      point(id + "_input", *n.input_q);
    } else if (n.op == PlanOp::Act && n.act_q) {
      h << "\n/* " << n.id << ": " << to_string(n.type) << " activation quantizer */\n";
      point(id + "_act", *n.act_q);
    }
  }
  h << "\n#endif\n";
  return h.str();
}

// ---------------------------------------------------------------- reader

PackedModel read_packed_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read packed model '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_packed_model(ss.str(), path);
}

PackedModel parse_packed_model(const std::string& bytes, const std::string& source) {
  auto bad = [&](const std::string& why) { return ExportError(source + ": " + why); };
  if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw bad("not a QNN Studio packed model (bad magic)");
  const uint32_t version = get_u32(bytes, 8), flags = get_u32(bytes, 12), jlen = get_u32(bytes, 16),
                 jraw = get_u32(bytes, 20), dlen = get_u32(bytes, 24), crc_stored = get_u32(bytes, 28);
  if (version != kVersion) throw bad("packed format version " + std::to_string(version) + " is not supported");
  if (bytes.size() != kHeaderBytes + size_t(jlen) + size_t(dlen)) throw bad("file is truncated or has extra bytes");
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + kHeaderBytes), uInt(jlen + dlen));
  if (uint32_t(crc) != crc_stored) throw bad("CRC mismatch (the file is corrupt)");
  std::string text;
  if (flags & 1u) {
    // zlib expands at most ~1032:1; a larger claim (the header is outside the CRC) is
    // damage, refused before allocating it.
    if (uint64_t(jraw) > uint64_t(jlen) * 1032u + 64u)
      throw bad("the header claims " + std::to_string(jraw) + " bytes of graph JSON from " + std::to_string(jlen) +
                " compressed bytes (the file is corrupt)");
    text.resize(jraw);
    uLongf len = jraw;
    if (uncompress(reinterpret_cast<Bytef*>(text.data()), &len,
                   reinterpret_cast<const Bytef*>(bytes.data() + kHeaderBytes), jlen) != Z_OK || len != jraw)
      throw bad("cannot decompress the graph JSON");
  } else {
    text = bytes.substr(kHeaderBytes, jlen);
  }
  const std::string data = bytes.substr(kHeaderBytes + jlen, dlen);
  PackedModel m;
  try {
    const json doc = json::parse(text);
    m.project = project_from_json(doc.at("project").dump(), source);
    m.output = doc.at("output").get<std::string>();
    auto slice = [&](int64_t off, int64_t n) {
      if (off < 0 || n < 0 || size_t(off + n) > data.size()) throw bad("tensor data out of bounds");
      return data.substr(size_t(off), size_t(n));
    };
    auto read_f32 = [&](int64_t off, int64_t count) {
      const std::string s = slice(off, count * 4);
      return torch::from_blob(const_cast<char*>(s.data()), {count}, torch::kFloat32).clone();
    };
    auto read_i32 = [&](int64_t off, int64_t count) {
      const std::string s = slice(off, count * 4);
      return torch::from_blob(const_cast<char*>(s.data()), {count}, torch::kInt32).to(torch::kFloat32);
    };
    for (const json& e : doc.at("tensors")) {
      PackedTensor t;
      t.name = e.at("name").get<std::string>();
      t.layer = e.at("layer").get<std::string>();
      t.role = e.at("role").get<std::string>();
      t.kind = e.at("kind").get<std::string>();
      t.shape = e.at("shape").get<std::vector<int64_t>>();
      int64_t numel = 1;
      for (int64_t d : t.shape) numel *= d;
      if (t.kind == "float32") {
        t.values = read_f32(e.at("offset").get<int64_t>(), numel).reshape(t.shape);
      } else {
        QuantPoint& q = t.q;
        q.bit_width = e.at("bit_width").get<int>();
        q.is_signed = e.at("signed").get<bool>();
        q.narrow_range = e.at("narrow").get<bool>();
        q.range = IntRange{e.at("min_int").get<int64_t>(), e.at("max_int").get<int64_t>()};
        const int64_t channels = e.at("channels").get<int64_t>();
        q.scale = read_f32(e.at("scale_offset").get<int64_t>(), channels);
        q.zero_point = read_i32(e.at("zero_point_offset").get<int64_t>(), channels);
        if (channels == 1) {
          q.scale = q.scale.reshape({});
          q.zero_point = q.zero_point.reshape({});
        }
        if (t.kind == "codes")
          t.codes = unpack_codes(slice(e.at("codes_offset").get<int64_t>(), e.at("codes_bytes").get<int64_t>()),
                                 numel, q.bit_width, q.range.min_int)
                        .reshape(t.shape);
      }
      m.tensors[t.name] = std::move(t);
    }
  } catch (const json::exception& e) {
    throw bad(std::string("malformed graph JSON: ") + e.what());
  } catch (const ConfigError& e) {
    throw bad(e.what());
  }
  return m;
}

// ---------------------------------------------------------------- inference

torch::Tensor run_packed_model(const PackedModel& m, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  const ValidationResult v = validate(m.project);
  if (!v.ok()) throw ExportError("the packed model's graph is invalid: " + v.error_text());
  auto tensor = [&](const std::string& name) -> const PackedTensor* {
    const auto it = m.tensors.find(name);
    return it == m.tensors.end() ? nullptr : &it->second;
  };
  // (q - z) * s with the scale broadcast along dim 0 of a `dims`-D tensor.
  auto dequant = [](const PackedTensor& t, int64_t dims) {
    torch::Tensor s = t.q.scale, z = t.q.zero_point;
    if (s.dim() == 1) {
      std::vector<int64_t> shape(size_t(dims), 1);
      shape[0] = s.size(0);
      if (t.role == "weight") {
        s = s.view(shape);
        z = z.view(shape);
      }
    }
    return (t.codes.to(torch::kFloat32) - z) * s;
  };
  auto param = [&](const std::string& name, int64_t dims) -> torch::Tensor {
    const PackedTensor* t = tensor(name);
    if (!t) return torch::Tensor();
    return t->kind == "codes" ? dequant(*t, dims) : t->values;
  };
  std::map<std::string, torch::Tensor> values;
  for (const std::string& id : v.order) {
    const LayerSpec& l = *m.project.find(id);
    if (l.type == LayerType::Input) {
      values[id] = x;
      continue;
    }
    const LayerDescriptor& d = descriptor(l.type);
    if (!d.export_rules.packed_forward)  // refused by preflight() before a packed file is written
      throw ExportError(id + ": " + to_string(l.type) + " is not supported in packed models");
    std::vector<torch::Tensor> inputs;
    for (int port = 0; port < d.input_ports(l); ++port) inputs.push_back(values.at(l.inputs.at(size_t(port))));
    const torch::Tensor y = d.export_rules.packed_forward(PackedRunContext{l, inputs, param, tensor});
    values[id] = y;
  }
  return values.at(m.output);
}

}  // namespace qnn

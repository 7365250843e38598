// SPDX-License-Identifier: GPL-3.0-or-later
// The project document and its JSON form ("qnn-studio-project", version 2, 3 with a
// saved sweep; version 1
// files are migrated on load: per-layer "inputs" become port-indexed connections).
#include "core/graph/project.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/graph/json_field.h"
#include "core/graph/sweep_record_json.h"
#include "core/io/atomic_file.h"
#include "core/layers/layer_descriptor.h"

namespace qnn {

namespace {

using json = nlohmann::ordered_json;
using detail::Field;

constexpr const char* kFormatMarker = "qnn-studio-project";

/// Highest port index a file may name (validation reports ports the type lacks).
constexpr int64_t kMaxPort = 63;


// ------------------------------------------------------------------ quantizers

json quant_to_json(const QuantSpec& q) {
  QuantSpec base;
  try {
    base = presets::by_name(q.preset);
  } catch (const ConfigError&) {
    base = QuantSpec{};  // unknown preset: written as is; loading will name it
  }
  json j;
  j["preset"] = q.preset;
  if (q.role != base.role) j["role"] = to_string(q.role);
  if (q.scaling != base.scaling) j["scaling"] = to_string(q.scaling);
  if (q.bit_width != base.bit_width) j["bit_width"] = q.bit_width;
  if (q.is_signed != base.is_signed) j["signed"] = q.is_signed;
  if (q.narrow_range != base.narrow_range) j["narrow_range"] = q.narrow_range;
  if (q.per_channel != base.per_channel) j["per_channel"] = q.per_channel;
  if (q.shifted != base.shifted) j["shifted"] = q.shifted;
  if (q.power_of_two != base.power_of_two) j["power_of_two"] = q.power_of_two;
  if (q.binary != base.binary) j["binary"] = q.binary;
  if (q.collect_stats_steps != base.collect_stats_steps) j["collect_stats_steps"] = q.collect_stats_steps;
  if (q.momentum != base.momentum) j["momentum"] = q.momentum;
  if (q.high_percentile_q != base.high_percentile_q) j["high_percentile_q"] = q.high_percentile_q;
  if (q.low_percentile_q != base.low_percentile_q) j["low_percentile_q"] = q.low_percentile_q;
  if (q.min_val != base.min_val) j["min_val"] = q.min_val;
  if (q.max_val != base.max_val) j["max_val"] = q.max_val;
  return j;
}

QuantSpec quant_from_json(const Field& f) {
  f.expect_object();
  f.allow_keys({"preset", "role", "scaling", "bit_width", "signed", "narrow_range", "per_channel",
                "shifted", "power_of_two", "binary", "collect_stats_steps", "momentum", "high_percentile_q",
                "low_percentile_q", "min_val", "max_val"});
  const Field preset = f.at("preset");
  QuantSpec q;
  try {
    q = presets::by_name(preset.str());
  } catch (const ConfigError& e) {
    preset.fail(e.what());
  }
  if (f.has("role")) {
    const Field r = f.at("role");
    try {
      q.role = quant_role_from_string(r.str());
    } catch (const ConfigError& e) {
      r.fail(e.what());
    }
  }
  if (f.has("scaling")) {
    const Field s = f.at("scaling");
    try {
      q.scaling = scaling_kind_from_string(s.str());
    } catch (const ConfigError& e) {
      s.fail(e.what());
    }
  }
  if (f.has("bit_width")) q.bit_width = f.at("bit_width").int32();
  if (f.has("signed")) q.is_signed = f.at("signed").boolean();
  if (f.has("narrow_range")) q.narrow_range = f.at("narrow_range").boolean();
  if (f.has("per_channel")) q.per_channel = f.at("per_channel").boolean();
  if (f.has("shifted")) q.shifted = f.at("shifted").boolean();
  if (f.has("power_of_two")) q.power_of_two = f.at("power_of_two").boolean();
  if (f.has("binary")) q.binary = f.at("binary").boolean();
  if (f.has("collect_stats_steps")) q.collect_stats_steps = f.at("collect_stats_steps").int32();
  if (f.has("momentum")) q.momentum = f.at("momentum").number();
  if (f.has("high_percentile_q")) q.high_percentile_q = f.at("high_percentile_q").number();
  if (f.has("low_percentile_q")) q.low_percentile_q = f.at("low_percentile_q").number();
  if (f.has("min_val")) q.min_val = f.at("min_val").number();
  if (f.has("max_val")) q.max_val = f.at("max_val").number();
  return q;
}

std::optional<QuantSpec> optional_quant(const Field& layer, const char* key) {
  if (!layer.has(key) || layer.value().at(key).is_null()) return std::nullopt;
  return quant_from_json(layer.at(key));
}

// ---------------------------------------------------------------------- layers

json param_to_json(const std::string& name, double v) {
  if (name == "bias" && (v == 0.0 || v == 1.0)) return json(v == 1.0);
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.0e15) return json(static_cast<int64_t>(v));
  return json(v);
}

json layer_to_json(const LayerSpec& l) {
  json j;
  j["id"] = l.id;
  j["type"] = to_string(l.type);
  json params = json::object();
  for (const auto& [k, v] : l.params) params[k] = param_to_json(k, v);
  for (const auto& [k, v] : l.pairs) params[k] = json::array({param_to_json(k, v[0]), param_to_json(k, v[1])});
  j["params"] = params;
  if (l.weight_quant) j["weight_quant"] = quant_to_json(*l.weight_quant);
  if (l.bias_quant) j["bias_quant"] = quant_to_json(*l.bias_quant);
  if (l.act_quant) j["act_quant"] = quant_to_json(*l.act_quant);
  if (l.input_quant) j["input_quant"] = quant_to_json(*l.input_quant);
  j["return_quant_tensor"] = l.return_quant_tensor;
  j["position"] = json::array({param_to_json("position", l.x), param_to_json("position", l.y)});
  return j;
}

/// layers[i] named with its id when it has one: "layers[3] (conv1)", so a complaint
/// about a field names the layer as well as its place in the file.
Field labelled_layer(const Field& f) {
  const json& v = f.value();
  if (!v.is_object()) return f;
  const auto id = v.find("id");
  if (id == v.end() || !id->is_string()) return f;
  const Field idf(*id, "", f.path());
  if (idf.overflowed()) return f;
  std::string text = id->get<std::string>();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return Field(v, f.path() + " (" + text + ")", f.source());
}

/// A layer parameter's number. A whole-number parameter of the type's schema (e.g.
/// out_channels) that is not a number, or too large for a double, is refused as "1e400
/// is not a valid integer (expected 1 … 2^31-1)"; validation checks the range of
/// numbers that do fit (so a file with e.g. out_channels 0 still opens).
double param_number(const Field& p, LayerType type, const std::string& name) {
  const ParamSchema* schema = descriptor(type).param(name);
  const bool whole = schema && (schema->kind == ParamKind::Int || schema->kind == ParamKind::IntTuple);
  if (whole && (p.overflowed() || !p.value().is_number()))
    p.fail(p.shown() + " is not a valid integer (expected " + std::to_string(static_cast<int64_t>(schema->minimum)) +
           " … 2^31-1)");
  return p.number();
}

LayerSpec layer_from_json(const Field& f, int64_t version) {
  f.expect_object();
  if (version >= 2 && f.has("inputs"))
    f.at("inputs").fail("per-layer \"inputs\" belong to version 1 files; version " +
                        std::to_string(Project::kFormatVersion) +
                        " lists the edges in the top-level \"connections\" array ({\"from\": id, \"to\": id, \"port\": n})");
  if (version >= 2)
    f.allow_keys({"id", "type", "params", "weight_quant", "bias_quant", "act_quant", "input_quant",
                  "return_quant_tensor", "position"});
  else
    f.allow_keys({"id", "type", "inputs", "params", "weight_quant", "bias_quant", "act_quant",
                  "return_quant_tensor", "position"});
  LayerSpec l;
  l.id = f.at("id").str();
  const Field type = f.at("type");
  try {
    l.type = layer_type_from_string(type.str());
  } catch (const ConfigError& e) {
    type.fail(e.what());
  }
  if (f.has("inputs")) {
    const Field inputs = f.at("inputs");
    inputs.expect_array();
    // The same limit as a version 2 connection's port: the migrated file must load again.
    if (inputs.value().size() > static_cast<size_t>(kMaxPort) + 1)
      inputs.fail("a layer takes at most " + std::to_string(kMaxPort + 1) + " inputs (ports 0 to " +
                  std::to_string(kMaxPort) + "), got " + std::to_string(inputs.value().size()));
    for (size_t i = 0; i < inputs.value().size(); ++i) l.inputs.push_back(inputs.at(i).str());
  }
  if (f.has("params")) {
    const Field params = f.at("params");
    params.expect_object();
    for (const auto& item : params.value().items()) {
      const Field p = params.at(item.key());
      if (p.value().is_array()) {  // [h, w]
        if (p.value().size() != 2)
          p.fail("expected a number or a pair [h, w], got a list of " + std::to_string(p.value().size()) +
                 " entries");
        l.pairs[item.key()] = {param_number(p.at(0), l.type, item.key()), param_number(p.at(1), l.type, item.key())};
      } else {
        l.params[item.key()] = p.value().is_boolean() ? (p.boolean() ? 1.0 : 0.0) : param_number(p, l.type, item.key());
      }
    }
  }
  l.weight_quant = optional_quant(f, "weight_quant");
  l.bias_quant = optional_quant(f, "bias_quant");
  l.act_quant = optional_quant(f, "act_quant");
  l.input_quant = optional_quant(f, "input_quant");
  if (f.has("return_quant_tensor")) l.return_quant_tensor = f.at("return_quant_tensor").boolean();
  if (f.has("position")) {
    const Field pos = f.at("position");
    pos.expect_array();
    if (pos.value().size() != 2) pos.fail("expected [x, y], got " + pos.shown());
    l.x = pos.at(0).number();
    l.y = pos.at(1).number();
  }
  return l;
}

void read_dataset(const Field& f, DatasetSpec& d) {
  f.expect_object();
  f.allow_keys({"name", "path", "pad", "normalize", "fit", "test_fraction"});
  if (f.has("name")) d.name = f.at("name").str();
  if (f.has("path")) d.path = f.at("path").str();
  if (f.has("pad")) {
    d.pad = f.at("pad").int32();
    if (d.pad < 0) f.at("pad").fail("padding must be 0 or more, got " + std::to_string(d.pad));
  } else if (is_image_folder_dataset(d.name)) {
    d.pad = 0;  // own images are fitted to the whole input
  }
  if (f.has("normalize")) d.normalize = f.at("normalize").boolean();
  if (f.has("fit")) {
    d.fit = f.at("fit").str();
    if (std::find(kDatasetFits.begin(), kDatasetFits.end(), d.fit) == kDatasetFits.end())
      f.at("fit").fail("unknown fit \"" + d.fit + "\"; use \"resize\", \"pad\" or \"none\"");
  }
  if (f.has("test_fraction")) {
    d.test_fraction = f.at("test_fraction").number();
    if (!(d.test_fraction > 0.0 && d.test_fraction < 1.0))
      f.at("test_fraction").fail("must be between 0 and 1 (exclusive), e.g. 0.2");
  }
}

void read_training(const Field& f, TrainingSpec& t) {
  f.expect_object();
  f.allow_keys({"optimizer", "learning_rate", "momentum", "weight_decay", "batch_size", "epochs",
                "seed", "threads"});
  if (f.has("optimizer")) t.optimizer = f.at("optimizer").str();
  if (f.has("learning_rate")) t.learning_rate = f.at("learning_rate").number();
  if (f.has("momentum")) t.momentum = f.at("momentum").number();
  if (f.has("weight_decay")) t.weight_decay = f.at("weight_decay").number();
  if (f.has("batch_size")) t.batch_size = f.at("batch_size").integer();
  if (f.has("epochs")) t.epochs = f.at("epochs").integer();
  if (f.has("seed")) t.seed = f.at("seed").unsigned_integer();
  if (f.has("threads")) t.threads = f.at("threads").int32();
}

/// Version 2 edges: [{"from": id, "to": id, "port": n}, ...] into LayerSpec::inputs.
/// "to" must name a layer; "from" may name a missing one (validation reports it, so a
/// saved half-edited document always loads again); each port takes one edge.
void read_connections(const Field& f, Project& p, const std::map<std::string, size_t>& index) {
  f.expect_array();
  std::map<std::pair<std::string, int64_t>, size_t> used;
  for (size_t i = 0; i < f.value().size(); ++i) {
    const Field c = f.at(i);
    c.expect_object();
    c.allow_keys({"from", "to", "port"});
    const Field from = c.at("from");
    const std::string src = from.str();
    if (src.empty()) from.fail("empty layer id");
    const Field to = c.at("to");
    const std::string dst = to.str();
    const auto it = index.find(dst);
    if (it == index.end()) to.fail("no layer has the id \"" + dst + "\"");
    int64_t port = 0;
    if (c.has("port")) {
      port = c.at("port").integer();
      if (port < 0 || port > kMaxPort)
        c.at("port").fail("port must be between 0 and " + std::to_string(kMaxPort) + ", got " +
                          std::to_string(port));
    }
    const auto [prev, fresh] = used.emplace(std::make_pair(dst, port), i);
    if (!fresh)
      c.fail("input port " + std::to_string(port) + " of " + dst + " is already connected by connections[" +
             std::to_string(prev->second) + "]; a port takes one connection");
    LayerSpec& l = p.layers[it->second];
    if (l.inputs.size() <= static_cast<size_t>(port)) l.inputs.resize(static_cast<size_t>(port) + 1);
    l.inputs[static_cast<size_t>(port)] = src;
  }
}

}  // namespace

// ------------------------------------------------------------------ LayerType

std::string to_string(LayerType t) {
  const auto& all = all_descriptors();
  const auto i = static_cast<size_t>(t);
  return i < all.size() ? all[i].name : "?";
}

const std::vector<LayerType>& all_layer_types() {
  static const std::vector<LayerType> types = [] {
    std::vector<LayerType> v;
    for (const LayerDescriptor& d : all_descriptors()) v.push_back(d.type);
    return v;
  }();
  return types;
}

int input_port_count(LayerType t) {
  LayerSpec l;
  l.type = t;
  return input_port_count(l);
}

int input_port_count(const LayerSpec& l) { return descriptor(l.type).input_ports(l); }

LayerType layer_type_from_string(const std::string& s) {
  if (const LayerDescriptor* d = find_descriptor(s)) return d->type;
  std::string known;
  for (const LayerDescriptor& d : all_descriptors()) known += (known.empty() ? "" : ", ") + d.name;
  throw ConfigError("unknown layer type '" + s + "'; known types: " + known);
}

// ------------------------------------------------------------ plain data parts

double LayerSpec::param(const std::string& name, double fallback) const {
  const auto it = params.find(name);
  if (it != params.end()) return it->second;
  const auto pt = pairs.find(name);
  return pt == pairs.end() ? fallback : pt->second[0];
}

int64_t LayerSpec::int_param(const std::string& name, int64_t fallback) const {
  return has_param(name) ? static_cast<int64_t>(std::llround(param(name, 0.0))) : fallback;
}

std::array<int64_t, 2> LayerSpec::pair_param(const std::string& name, int64_t fallback) const {
  const auto pt = pairs.find(name);
  if (pt != pairs.end()) return {std::llround(pt->second[0]), std::llround(pt->second[1])};
  const int64_t v = int_param(name, fallback);
  return {v, v};
}

bool LayerSpec::has_param(const std::string& name) const { return params.count(name) || pairs.count(name); }

void LayerSpec::set_param(const std::string& name, double value) {
  pairs.erase(name);
  params[name] = value;
}

void LayerSpec::set_pair(const std::string& name, double h, double w) {
  params.erase(name);
  pairs[name] = {h, w};
}

void LayerSpec::erase_param(const std::string& name) {
  params.erase(name);
  pairs.erase(name);
}

namespace {
/// Port lists compared without trailing unconnected ports.
bool same_ports(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  size_t na = a.size(), nb = b.size();
  while (na > 0 && a[na - 1].empty()) --na;
  while (nb > 0 && b[nb - 1].empty()) --nb;
  return na == nb && std::equal(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(na), b.begin());
}
}  // namespace

bool LayerSpec::operator==(const LayerSpec& o) const {
  return id == o.id && type == o.type && same_ports(inputs, o.inputs) && params == o.params && pairs == o.pairs &&
         weight_quant == o.weight_quant && bias_quant == o.bias_quant && act_quant == o.act_quant &&
         input_quant == o.input_quant && return_quant_tensor == o.return_quant_tensor && x == o.x && y == o.y;
}

bool is_image_folder_dataset(const std::string& name) {
  std::string n;
  for (char c : name)
    if (c != '-' && c != '_' && c != ' ') n += char(std::tolower(static_cast<unsigned char>(c)));
  return n == "imagefolder";
}

bool DatasetSpec::operator==(const DatasetSpec& o) const {
  return name == o.name && path == o.path && pad == o.pad && normalize == o.normalize && fit == o.fit &&
         test_fraction == o.test_fraction;
}

bool TrainingSpec::operator==(const TrainingSpec& o) const {
  return optimizer == o.optimizer && learning_rate == o.learning_rate && momentum == o.momentum &&
         weight_decay == o.weight_decay && batch_size == o.batch_size && epochs == o.epochs &&
         seed == o.seed && threads == o.threads;
}

const LayerSpec* Project::find(const std::string& id) const {
  for (const LayerSpec& l : layers)
    if (l.id == id) return &l;
  return nullptr;
}

LayerSpec* Project::find(const std::string& id) {
  for (LayerSpec& l : layers)
    if (l.id == id) return &l;
  return nullptr;
}

std::vector<Connection> Project::connections() const {
  std::vector<Connection> out;
  for (const LayerSpec& l : layers)
    for (size_t port = 0; port < l.inputs.size(); ++port)
      if (!l.inputs[port].empty()) out.push_back({l.inputs[port], l.id, static_cast<int>(port)});
  return out;
}

bool Project::operator==(const Project& o) const {
  return name == o.name && description == o.description && input_shape == o.input_shape &&
         layers == o.layers && dataset == o.dataset && training == o.training && sweep == o.sweep &&
         deployment_target == o.deployment_target;
}

std::string to_string(DeploymentTarget t) {
  switch (t) {
    case DeploymentTarget::None: return "none";
    case DeploymentTarget::OnnxRuntime: return "onnxruntime";
    case DeploymentTarget::Finn: return "finn";
  }
  return "none";
}

std::optional<DeploymentTarget> deployment_target_from_string(const std::string& s) {
  for (DeploymentTarget t : {DeploymentTarget::None, DeploymentTarget::OnnxRuntime, DeploymentTarget::Finn})
    if (to_string(t) == s) return t;
  return std::nullopt;
}

// ----------------------------------------------------------------------- JSON

Project project_from_json(const std::string& text, const std::string& source) {
  const json doc = detail::parse_document(text, source);  // every parser complaint names the file
  const Field root(doc, "", source);
  if (!doc.is_object()) root.fail("expected a JSON object holding a QNN Studio project, got " + root.shown());
  if (!root.has("format"))
    root.fail("missing \"format\": \"" + std::string(kFormatMarker) + "\"; this is not a QNN Studio project file");
  const Field format = root.at("format");
  if (!format.value().is_string() || format.value().get<std::string>() != kFormatMarker)
    format.fail("expected \"" + std::string(kFormatMarker) + "\", got " + format.shown() +
                "; this is not a QNN Studio project file");
  const int64_t version = root.at("version").integer();
  if (version > Project::kFormatVersion)
    root.at("version").fail("written by a newer QNN Studio (version " + std::to_string(version) +
                            "): this file needs a newer QNN Studio; this build reads format versions 1 to " +
                            std::to_string(Project::kFormatVersion));
  if (version < 1) root.at("version").fail("unsupported version " + std::to_string(version));
  // A field of a later format version, e.g. written by hand into an older file: say which
  // version it needs rather than only "unknown field".
  if (version < 4 && root.has("deployment_target"))
    root.at("deployment_target")
        .fail("needs format version 4 (this file says \"version\": " + std::to_string(version) +
              "); set \"version\": 4 to use it");
  if (version >= 4)
    root.allow_keys({"format", "version", "name", "description", "input", "dataset", "training", "layers",
                     "sweep", "deployment_target", "connections"});
  else if (version == 3)
    root.allow_keys({"format", "version", "name", "description", "input", "dataset", "training", "layers",
                     "sweep", "connections"});
  else if (version == 2)
    root.allow_keys({"format", "version", "name", "description", "input", "dataset", "training", "layers",
                     "connections"});
  else
    root.allow_keys({"format", "version", "name", "description", "input", "dataset", "training", "layers"});

  Project p;
  if (root.has("name")) p.name = root.at("name").str();
  if (root.has("description")) p.description = root.at("description").str();
  if (version >= 4 && root.has("deployment_target")) {
    const Field target = root.at("deployment_target");
    const std::optional<DeploymentTarget> t = deployment_target_from_string(target.str());
    if (!t) target.fail("unknown deployment target " + target.shown() + " (known: \"none\", \"onnxruntime\", \"finn\")");
    p.deployment_target = *t;
  }
  const Field input = root.at("input");
  input.expect_object();
  input.allow_keys({"shape"});
  const Field shape = input.at("shape");
  shape.expect_array();
  p.input_shape.clear();
  for (size_t i = 0; i < shape.value().size(); ++i) p.input_shape.push_back(shape.at(i).integer());
  if (root.has("dataset")) read_dataset(root.at("dataset"), p.dataset);
  if (root.has("training")) read_training(root.at("training"), p.training);

  const Field layers = root.at("layers");
  layers.expect_array();
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < layers.value().size(); ++i) {
    const Field lf = labelled_layer(layers.at(i));
    LayerSpec l = layer_from_json(lf, version);
    const auto [it, inserted] = seen.emplace(l.id, i);
    if (!inserted)
      lf.at("id").fail("duplicate layer id \"" + l.id + "\" (also used by layers[" +
                       std::to_string(it->second) + "])");
    p.layers.push_back(std::move(l));
  }
  if (version >= 2 && root.has("connections")) read_connections(root.at("connections"), p, seen);
  if (version >= 3 && root.has("sweep")) {
    try {
      p.sweep = detail::sweep_from_json(root.at("sweep"));
    } catch (const ConfigError& e) {
      // Only a saved result is damaged: say how to keep the network.
      throw ConfigError(std::string(e.what()) +
                        " (the saved sensitivity sweep is damaged; delete the \"sweep\" member to open the project "
                        "without it)");
    }
  }
  for (LayerSpec& l : p.layers)
    if (l.inputs.size() < static_cast<size_t>(input_port_count(l)))
      l.inputs.resize(static_cast<size_t>(input_port_count(l)));
  return p;
}

std::string project_to_json(const Project& p) {
  json j;
  j["format"] = kFormatMarker;
  // Version 3 adds "sweep", 4 "deployment_target": files without them stay version 2,
  // readable by older builds.
  const bool target = p.deployment_target != DeploymentTarget::None;
  j["version"] = target ? 4 : p.sweep ? 3 : 2;
  j["name"] = p.name;
  j["description"] = p.description;
  if (target) j["deployment_target"] = to_string(p.deployment_target);
  j["input"] = json{{"shape", p.input_shape}};
  j["dataset"] = json{{"name", p.dataset.name},
                      {"path", p.dataset.path},
                      {"pad", p.dataset.pad},
                      {"normalize", p.dataset.normalize}};
  // The image-folder settings: always for that dataset, otherwise only when set (so
  // files of the other datasets keep their bytes).
  const DatasetSpec defaults;
  if (is_image_folder_dataset(p.dataset.name) || p.dataset.fit != defaults.fit) j["dataset"]["fit"] = p.dataset.fit;
  if (is_image_folder_dataset(p.dataset.name) || p.dataset.test_fraction != defaults.test_fraction)
    j["dataset"]["test_fraction"] = p.dataset.test_fraction;
  j["training"] = json{{"optimizer", p.training.optimizer},
                       {"learning_rate", p.training.learning_rate},
                       {"momentum", p.training.momentum},
                       {"weight_decay", p.training.weight_decay},
                       {"batch_size", p.training.batch_size},
                       {"epochs", p.training.epochs},
                       {"seed", p.training.seed},
                       {"threads", p.training.threads}};
  json layers = json::array();
  for (const LayerSpec& l : p.layers) layers.push_back(layer_to_json(l));
  j["layers"] = layers;
  if (p.sweep) j["sweep"] = detail::sweep_to_json(*p.sweep);
  // "connections" last, one edge per line: dump the rest, reopen the closing brace.
  std::string text = j.dump(2);
  text.erase(text.size() - 2);  // "\n}"
  const std::vector<Connection> edges = p.connections();
  text += ",\n  \"connections\": [";
  for (size_t i = 0; i < edges.size(); ++i) {
    text += std::string(i ? "," : "") + "\n    {\"from\": " + json(edges[i].from).dump() + ", \"to\": " +
            json(edges[i].to).dump() + ", \"port\": " + std::to_string(edges[i].port) + "}";
  }
  text += edges.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return text;
}

// ---------------------------------------------------------------------- files

Project load_project(const std::string& path) {
  check_readable_file(path, "project file", int64_t(256) << 20);  // folder, /dev/zero, > 256 MB: refused
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open project file '" + path + "': " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw IoError("cannot read project file '" + path + "': " + std::strerror(errno));
  return project_from_json(text.str(), path);
}

std::string network_difference(const Project& a, const Project& b) {
  if (a.input_shape != b.input_shape) return "the input shapes differ";
  auto quant = [](const std::optional<QuantSpec>& q) { return q ? q->preset + " " + q->summary() : "none"; };
  // Id indexes (the first layer of an id, like Project::find): linear, not quadratic.
  auto index = [](const Project& p) {
    std::unordered_map<std::string, const LayerSpec*> by_id;
    by_id.reserve(p.layers.size());
    for (const LayerSpec& l : p.layers) by_id.emplace(l.id, &l);
    return by_id;
  };
  const auto in_a = index(a), in_b = index(b);
  // Layers present in only one network first: they explain the other differences.
  for (const LayerSpec& la : a.layers)
    if (!in_b.count(la.id)) return "layer " + la.id + " exists in one network only";
  for (const LayerSpec& lb : b.layers)
    if (!in_a.count(lb.id)) return "layer " + lb.id + " exists in one network only";
  for (const LayerSpec& la : a.layers) {
    const LayerSpec* lb = in_b.at(la.id);
    const std::string where = "layer " + la.id + ": ";
    if (la.type != lb->type) return where + "type " + to_string(la.type) + " vs " + to_string(lb->type);
    if (!same_ports(la.inputs, lb->inputs)) return where + "its inputs differ";
    if (la.params != lb->params || la.pairs != lb->pairs) return where + "its parameters differ";
    if (la.weight_quant != lb->weight_quant)
      return where + "weight_quant " + quant(la.weight_quant) + " vs " + quant(lb->weight_quant);
    if (la.bias_quant != lb->bias_quant)
      return where + "bias_quant " + quant(la.bias_quant) + " vs " + quant(lb->bias_quant);
    if (la.act_quant != lb->act_quant)
      return where + "act_quant " + quant(la.act_quant) + " vs " + quant(lb->act_quant);
    if (la.input_quant != lb->input_quant)
      return where + "input_quant " + quant(la.input_quant) + " vs " + quant(lb->input_quant);
    if (la.return_quant_tensor != lb->return_quant_tensor) return where + "return_quant_tensor differs";
  }
  return {};
}

void save_project(const Project& p, const std::string& path) {
  write_text_atomically(path, "project file", project_to_json(p));
}

}  // namespace qnn

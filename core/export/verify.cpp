// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/export/verify.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/export/packed_model.h"
#include "core/layers/layer_descriptor.h"
#include "qnn_source_dir.h"  // generated: QNN_CONFIGURED_SOURCE_DIR

namespace qnn {

namespace fs = std::filesystem;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// Folders that may hold tools/ and third_party/: the configured source tree, then
/// the executable's ancestors (build/app/qnn -> the checkout).
std::vector<fs::path> roots() {
  std::vector<fs::path> r{fs::path(QNN_CONFIGURED_SOURCE_DIR)};
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec)
    for (fs::path p = exe.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) r.push_back(p);
  return r;
}

std::string which(const std::string& program) {
  const std::string path = env("PATH");
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    const fs::path p = fs::path(dir.empty() ? "." : dir) / program;
    if (access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "";
}

class TempDir {
 public:
  TempDir() {
    std::string t = (fs::temp_directory_path() / "qnn-verify-XXXXXX").string();
    if (!mkdtemp(t.data())) throw ExportError("cannot create a temporary folder for the verification");
    m_path = t;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  fs::path operator/(const std::string& name) const { return m_path / name; }

 private:
  fs::path m_path;
};

class EvalScope {
 public:
  explicit EvalScope(QuantModel& m) : m_model(m), m_was(m->is_training()) { m_model->eval(); }
  ~EvalScope() { m_model->train(m_was); }
  EvalScope(const EvalScope&) = delete;
  EvalScope& operator=(const EvalScope&) = delete;

 private:
  QuantModel& m_model;
  bool m_was;
};

}  // namespace

OrtRunner find_ort_runner() {
  OrtRunner r;
  r.node = env("QNN_NODE");
  if (r.node.empty()) r.node = which("node");
  if (r.node.empty())
    throw ExportError("ONNX Runtime check: Node.js ('node') is not installed or not on PATH; "
                      "run scripts/install-deps (or set QNN_NODE)");
  r.script = env("QNN_ORT_SCRIPT");
  r.package = env("QNN_ORT_PACKAGE");
  for (const fs::path& root : roots()) {
    if (r.script.empty() && fs::exists(root / "tools/ort_run.mjs")) r.script = (root / "tools/ort_run.mjs").string();
    const fs::path pkg = root / "third_party/onnxruntime-node/node_modules/onnxruntime-node";
    if (r.package.empty() && fs::exists(pkg / "package.json")) r.package = pkg.string();
  }
  if (r.script.empty())
    throw ExportError("ONNX Runtime check: tools/ort_run.mjs not found (set QNN_ORT_SCRIPT)");
  if (r.package.empty() || !fs::exists(fs::path(r.package) / "package.json"))
    throw ExportError("ONNX Runtime check: the npm package onnxruntime-node is not installed in "
                      "third_party/onnxruntime-node; run scripts/install-deps (or set QNN_ORT_PACKAGE)");
  return r;
}

torch::Tensor run_onnx_runtime(const OrtRunner& ort, const std::string& onnx_path, const torch::Tensor& x) {
  TempDir tmp;
  const fs::path in = tmp / "input.f32", out = tmp / "output.f32";
  const torch::Tensor c = x.detach().to(torch::kFloat32).contiguous();
  {
    std::ofstream f(in, std::ios::binary);
    f.write(static_cast<const char*>(c.data_ptr()), std::streamsize(c.numel() * 4));
    if (!f) throw ExportError("cannot write the verification input to " + in.string());
  }
  std::string shape;
  for (int64_t i = 0; i < c.dim(); ++i) shape += (i ? "," : "") + std::to_string(c.size(i));
  const std::string cmd = shell_quote(ort.node) + " " + shell_quote(ort.script) + " --package " +
                          shell_quote(ort.package) + " --model " + shell_quote(onnx_path) + " --input " +
                          shell_quote(in.string()) + " --shape " + shape + " --output " +
                          shell_quote(out.string()) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw ExportError("cannot start node for the ONNX Runtime check");
  std::string text;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) text.append(buf, n);
  const int status = pclose(p);
  if (status != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw ExportError("ONNX Runtime failed to run " + onnx_path + ": " + text);
  // The last line is {"dims":[N,K],"runtime":"..."}.
  const size_t brace = text.rfind("{\"dims\"");
  if (brace == std::string::npos) throw ExportError("ONNX Runtime runner gave no result: " + text);
  const nlohmann::json info = nlohmann::json::parse(text.substr(brace), nullptr, false);
  if (info.is_discarded()) throw ExportError("ONNX Runtime runner gave a malformed result: " + text);
  const std::vector<int64_t> dims = info.at("dims").get<std::vector<int64_t>>();
  int64_t numel = 1;
  for (int64_t d : dims) numel *= d;
  torch::Tensor y = torch::empty(dims, torch::kFloat32);
  std::ifstream f(out, std::ios::binary);
  f.read(static_cast<char*>(y.data_ptr()), std::streamsize(numel * 4));
  if (!f) throw ExportError("ONNX Runtime output is truncated");
  return y;
}

std::string VerifyResult::text() const {
  std::ostringstream o;
  if (non_finite_app || non_finite_exported) {
    o << "non-finite logits (NaN/Inf): " << non_finite_exported << " of " << samples
      << " samples in the exported file's output, " << non_finite_app << " in the app's -> FAIL";
    if (!note.empty()) o << "; " << note;
    return o.str();
  }
  o << "agreement " << agree + ties << "/" << samples << " (" << std::fixed << std::setprecision(2)
    << 100.0 * agreement << "%";
  if (ties) o << "; " << ties << " with tied top logits decided the other way, strict " << agree << "/" << samples;
  o << "), max |diff| " << std::defaultfloat << std::setprecision(6) << max_abs_diff;
  if (max_steps >= 0.0)
    o << " (" << std::setprecision(4) << max_steps << " output-scale steps; " << over_one_step
      << " samples over one step)";
  else
    o << " (float logits: no output grid)";
  o << " -> " << (passed ? "PASS" : "FAIL");
  if (!note.empty()) o << "; " << note;
  return o.str();
}

VerifyResult compare_logits(const torch::Tensor& reference, const torch::Tensor& exported, const torch::Tensor& step,
                            const VerifyOptions& options) {
  torch::NoGradGuard no_grad;
  if (reference.sizes() != exported.sizes())
    throw ExportError("the exported model gives logits of shape " + c10::str(exported.sizes()) +
                      ", the app " + c10::str(reference.sizes()));
  VerifyResult r;
  const torch::Tensor ref = reference.to(torch::kFloat64), out = exported.to(torch::kFloat64);
  r.samples = ref.size(0);
  if (r.samples) {
    const auto bad_rows = [](const torch::Tensor& t) {
      return torch::isfinite(t).logical_not().reshape({t.size(0), -1}).any(1).sum().item<int64_t>();
    };
    r.non_finite_app = bad_rows(ref);
    r.non_finite_exported = bad_rows(out);
    if (r.non_finite_app || r.non_finite_exported) {  // NaN compares false: no difference is meaningful
      r.max_abs_diff = std::numeric_limits<double>::quiet_NaN();
      r.passed = false;
      return r;
    }
  }
  const torch::Tensor ref_pred = ref.argmax(1), out_pred = out.argmax(1);
  const torch::Tensor same = ref_pred.eq(out_pred);
  r.agree = same.sum().item<int64_t>();
  if (step.defined() && r.samples) {
    // The exported choice scores within half a grid step of the app's best: a tie.
    const torch::Tensor chosen = ref.gather(1, out_pred.unsqueeze(1)).squeeze(1);
    const torch::Tensor half = 0.5 * step.to(torch::kFloat64).index_select(0, out_pred);
    const torch::Tensor tied = (std::get<0>(ref.max(1)) - chosen).le(half).logical_and(same.logical_not());
    r.ties = tied.sum().item<int64_t>();
  }
  r.strict_agreement = r.samples ? double(r.agree) / double(r.samples) : 1.0;
  r.agreement = r.samples ? double(r.agree + r.ties) / double(r.samples) : 1.0;
  const torch::Tensor diff = (out - ref).abs();
  r.max_abs_diff = r.samples ? diff.max().item<double>() : 0.0;
  bool close = false;
  if (step.defined()) {
    const torch::Tensor steps = diff / step.to(torch::kFloat64).reshape({1, -1});
    r.max_steps = r.samples ? steps.max().item<double>() : 0.0;
    r.over_one_step = r.samples ? std::get<0>(steps.max(1)).gt(1.0 + 1e-4).sum().item<int64_t>() : 0;
    // A float32 sum that lands on an activation's rounding boundary in one runtime and
    // not in the other moves one code, and the logits of that image by several steps:
    // rare, so up to (1 - min_agreement) of the images may exceed the bound.
    const int64_t beyond =
        r.samples ? std::get<0>(steps.max(1)).gt(options.max_steps + 1e-4).sum().item<int64_t>() : 0;
    const auto allowed = static_cast<int64_t>(std::floor((1.0 - options.min_agreement) * double(r.samples) + 1e-9));
    close = beyond <= allowed;
  } else {
    const double scale = 1.0 + (r.samples ? ref.abs().max().item<double>() : 0.0);
    close = r.max_abs_diff <= options.float_tolerance * scale;
  }
  r.passed = close && r.agreement >= options.min_agreement;
  return r;
}

torch::Tensor app_logits(QuantModel& model, const torch::Tensor& x) {
  EvalScope eval(model);
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < x.size(0); i += 500) parts.push_back(model->forward(x.slice(0, i, i + 500)));
  return torch::cat(parts);
}

VerifyResult verify_export(QuantModel& model, ExportFormat format, const std::string& path,
                           const torch::Tensor& images, const VerifyOptions& options,
                           const VerifyProgress& progress) {
  auto report = [&](const std::string& stage, double f) {
    if (progress) progress(stage, f);
  };
  const ExportPlan plan = make_export_plan(model);
  report("app eval forward", 0.1);
  const torch::Tensor ref = app_logits(model, images);
  torch::Tensor out;
  VerifyResult r;
  if (format == ExportFormat::Qcdq) {
    const OrtRunner ort = find_ort_runner();
    report("ONNX Runtime", 0.4);
    out = run_onnx_runtime(ort, path, images);
    std::ifstream pj(fs::path(ort.package) / "package.json");
    const nlohmann::json pkg = nlohmann::json::parse(pj, nullptr, false);
    r.runtime = "onnxruntime-node " + (pkg.is_discarded() ? std::string("?") : pkg.value("version", "?")) + " (CPU)";
  } else if (format == ExportFormat::Packed) {
    report("packed reader", 0.4);
    const PackedModel m = read_packed_model(path);
    std::vector<torch::Tensor> parts;
    for (int64_t i = 0; i < images.size(0); i += 500)
      parts.push_back(run_packed_model(m, images.slice(0, i, i + 500)));
    out = torch::cat(parts);
    r.runtime = "packed reader (C++)";
  } else {
    throw ExportError("--verify runs qcdq (in ONNX Runtime) and packed exports; " + to_string(format) +
                      " cannot be run here");
  }
  report("comparing", 0.9);
  const std::string runtime = r.runtime;
  VerifyOptions o = options;
  std::string note;
  if (format == ExportFormat::Qcdq)
    for (const LayerSpec& l : model->project().layers)
      if (descriptor(l.type).export_rules.runtime_kernel) {
        o.max_steps = std::numeric_limits<double>::infinity();
        std::ostringstream pct;
        pct << o.min_agreement * 100.0;
        note = "output-step bound not applied: " + l.id + " (" + to_string(l.type) +
               ") runs on ONNX Runtime's own kernel, whose last bit may differ from LibTorch's and move a code "
               "across a rounding boundary; the >= " + pct.str() + "% agreement is required";
        break;
      }
  r = compare_logits(ref, out, plan.logit_step, o);
  r.runtime = runtime;
  r.note = note;
  report("done", 1.0);
  return r;
}

}  // namespace qnn

// SPDX-License-Identifier: GPL-3.0-or-later
// qnn_bench_weights: how long does loading weights from elsewhere take (issue 10 target:
// a Brevitas state dict < 1 s)? Times, median of N runs (default 9) after one warm-up:
//   1. read_state_dict of the Brevitas 0.12.1 LeNet state dict in tests/data/golden/
//      (torch.save zip, 284 KiB), and load_weights of it into the low-precision LeNet;
//   2. load_weights of a QNN Studio checkpoint of the CNV example (1.5 M parameters,
//      written first to a temporary file) into the same network: the warm-start path;
//   3. import_onnx (issue 10 target: a 1 MB QONNX file < 1 s) of the public TFC_2W2A
//      QONNX file and of our own QONNX export of the CNV example (5.9 MB), and
//      build_imported_model of each (the model ready to evaluate).
//   qnn_bench_weights [--runs=N]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/io/atomic_file.h"
#include "core/export/export_plan.h"
#include "core/export/qcdq_export.h"
#include "core/graph/model.h"
#include "core/io/onnx_import.h"
#include "core/graph/project.h"
#include "core/io/state_dict.h"
#include "core/train/checkpoint.h"
#include "core/train/weights.h"

namespace {

using Clock = std::chrono::steady_clock;

double median_ms(int runs, const std::function<void()>& f) {
  f();  // warm-up
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    const auto a = Clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 9;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--runs=", 7) == 0) runs = std::max(1, std::atoi(argv[i] + 7));
  torch::set_num_threads(1);
  const std::string root = QNN_SOURCE_DIR;
  const std::string pt = root + "/tests/data/golden/lowprec_lenet_brevitas_state_dict.pt";
  try {
    const double read = median_ms(runs, [&] { (void)qnn::read_state_dict(pt); });
    qnn::QuantModel lenet = qnn::build_model(qnn::load_project(root + "/resources/examples/lenet_lowprec.qnn.json"));
    const double load = median_ms(runs, [&] { qnn::load_weights(lenet, pt); });
    std::printf("brevitas state dict (%.0f KB): read_state_dict %.2f ms, load_weights %.2f ms (median of %d)\n",
                double(std::filesystem::file_size(pt)) / 1024.0, read, load, runs);

    qnn::QuantModel cnv = qnn::build_model(qnn::load_project(root + "/resources/examples/cnv_w2a2.qnn.json"));
    const std::string ckpt = (std::filesystem::temp_directory_path() / "qnn_bench_cnv.pt").string();
    qnn::save_checkpoint(cnv, ckpt);
    const double warm = median_ms(runs, [&] { qnn::load_weights(cnv, ckpt); });
    std::printf("CNV checkpoint (%.1f MB): load_weights %.2f ms (median of %d)\n",
                double(std::filesystem::file_size(ckpt)) / 1048576.0, warm, runs);
    std::filesystem::remove(ckpt);

    auto import = [&](const std::string& file) {
      const double read = median_ms(runs, [&] { (void)qnn::import_onnx(file); });
      const qnn::ImportedModel m = qnn::import_onnx(file);
      const double build = median_ms(runs, [&] { (void)qnn::build_imported_model(m); });
      std::printf("import %s (%.2f MB, %zu layers): import_onnx %.2f ms, build_imported_model %.2f ms (median of %d)\n",
                  std::filesystem::path(file).filename().c_str(), double(std::filesystem::file_size(file)) / 1048576.0,
                  m.project.layers.size(), read, build, runs);
    };
    import(root + "/tests/data/models/TFC_2W2A.onnx");
    const std::string cnv_onnx = (std::filesystem::temp_directory_path() / "qnn_bench_cnv.onnx").string();
    qnn::write_bytes_atomically(cnv_onnx, "QONNX model", qnn::qonnx_model_bytes(qnn::make_export_plan(cnv)));
    import(cnv_onnx);
    std::filesystem::remove(cnv_onnx);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qnn_bench_weights: %s\n", e.what());
    return 1;
  }
  return 0;
}

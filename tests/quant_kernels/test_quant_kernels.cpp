// SPDX-License-Identifier: GPL-3.0-or-later
// The fused fake-quant kernels and the one-pass order statistics (core/quant) against
// the op-by-op formulas: values and element-wise gradients bit-identical (NaN equal to
// NaN); the scale and zero-point sums, which issue 13 moved into the pass, within
// 1e-5 of the sum of |terms|; a percentile with tied elements gives its gradient to
// the first of them (issue 13). The scale adjoint of the input quantizer (issue 13) is
// checked against the plain autograd path in scale_adjoint_checks.cpp; QuantTanh's
// one-node tanh + fake quantization (issue 11) against the two nodes in tanh_checks.cpp;
// the fully connected kernels (issue 13) against torch::linear in linear_checks.cpp.
#include <QtTest>

#include <torch/torch.h>

#include "core/quant/fake_quant_kernel.h"
#include "core/quant/kth_select.h"
#include "tests/quant_kernels/kernel_checks.h"

class TestQuantKernels : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void fusedPathIsTakenForLayerShapes();
  void fakeQuantBitIdentical_data();
  void fakeQuantBitIdentical();
  void statisticsBitIdentical_data();
  void statisticsBitIdentical();
  void scanFallsBackOnTiesAndNaN();
  void scaleAdjointMatchesAutograd_data();
  void scaleAdjointMatchesAutograd();
  void truncQuantMatchesOpByOp_data();
  void truncQuantMatchesOpByOp();
  void tanhQuantMatchesComposition_data();
  void tanhQuantMatchesComposition();
  void linearMatchesReferenceBlas_data();
  void linearMatchesReferenceBlas();
};

// The checks below would pass trivially if fake_quant never took the fused path.
void TestQuantKernels::fusedPathIsTakenForLayerShapes() {
  using qnn::detail::fused_fake_quant_supported;
  const torch::Tensor act = torch::randn({64, 6, 28, 28});
  const torch::Tensor w = torch::randn({16, 6, 5, 5});
  QVERIFY(fused_fake_quant_supported(act, torch::ones({}), torch::zeros({})));
  QVERIFY(fused_fake_quant_supported(w, torch::ones({16, 1, 1, 1}), torch::zeros({16, 1, 1, 1})));
  // Not per row of dim 0, or not contiguous: the op-by-op formula is used.
  QVERIFY(!fused_fake_quant_supported(act, torch::ones({1, 6, 1, 1}), torch::zeros({})));
  QVERIFY(!fused_fake_quant_supported(w.transpose(0, 1), torch::ones({}), torch::zeros({})));
  QVERIFY(!fused_fake_quant_supported(act.to(torch::kDouble), torch::ones({}), torch::zeros({})));
}

void TestQuantKernels::fakeQuantBitIdentical_data() {
  QTest::addColumn<int>("threads");
  QTest::newRow("1 thread") << 1;
  QTest::newRow("2 threads") << 2;
}

void TestQuantKernels::fakeQuantBitIdentical() {
  QFETCH(int, threads);
  int cases = 0;
  const int failures = qnn::test::fake_quant_failures(threads, cases);
  QCOMPARE(cases, 9 * 7 * 2 * 3);
  QCOMPARE(failures, 0);
}

void TestQuantKernels::statisticsBitIdentical_data() { fakeQuantBitIdentical_data(); }

void TestQuantKernels::statisticsBitIdentical() {
  QFETCH(int, threads);
  int cases = 0;
  const int failures = qnn::test::statistics_failures(threads, cases);
  QVERIFY2(cases > 250, qPrintable(QString::number(cases)));
  QCOMPARE(failures, 0);
}

void TestQuantKernels::scanFallsBackOnTiesAndNaN() {
  using qnn::detail::kth_scan;
  torch::Tensor x = torch::tensor({0.5f, -3.0f, 2.0f, 3.0f, 1.0f});
  // Largest |x| is 3 twice: value found, count 2, index the first of them (-3 at 1).
  auto r = kth_scan(x, 5, /*abs=*/true);
  QVERIFY(r.ok);
  QCOMPARE(r.value, 3.0f);
  QCOMPARE(r.count, int64_t(2));
  QCOMPARE(r.index, int64_t(1));
  // Without abs: the maximum 3 is unique at index 3; the 2nd smallest is 0.5 at index 0.
  r = kth_scan(x, 5, false);
  QVERIFY(r.ok);
  QCOMPARE(r.count, int64_t(1));
  QCOMPARE(r.index, int64_t(3));
  r = kth_scan(x, 2, false);
  QVERIFY(r.ok);
  QCOMPARE(r.value, 0.5f);
  QCOMPARE(r.index, int64_t(0));
  // A NaN anywhere: not handled, kthvalue decides.
  x[2] = std::numeric_limits<float>::quiet_NaN();
  QVERIFY(!kth_scan(x, 5, true).ok);
  // A rank far from both ends of a large tensor: not handled by the scan.
  QVERIFY(!kth_scan(torch::randn({1000}), 500, false).ok);
  const auto m = qnn::detail::abs_max_scan(torch::tensor({1.0f, -4.0f, 4.0f, 2.0f}));
  QVERIFY(m.ok);
  QCOMPARE(m.value, 4.0f);
  QCOMPARE(m.count, int64_t(2));
}

void TestQuantKernels::scaleAdjointMatchesAutograd_data() { fakeQuantBitIdentical_data(); }

void TestQuantKernels::scaleAdjointMatchesAutograd() {
  QFETCH(int, threads);
  int cases = 0;
  const int failures = qnn::test::scale_adjoint_failures(threads, cases);
  QCOMPARE(cases, 2 * 5 * 2 * 2 + 4 + 4 + 4 + 1);
  QCOMPARE(failures, 0);
}

void TestQuantKernels::truncQuantMatchesOpByOp_data() { fakeQuantBitIdentical_data(); }

void TestQuantKernels::truncQuantMatchesOpByOp() {
  QFETCH(int, threads);
  int cases = 0;
  const int failures = qnn::test::trunc_quant_failures(threads, cases);
  QCOMPARE(cases, 2 * 3 * 2 * 2 * 2);
  QCOMPARE(failures, 0);
}

void TestQuantKernels::tanhQuantMatchesComposition_data() { fakeQuantBitIdentical_data(); }

void TestQuantKernels::tanhQuantMatchesComposition() {
  QFETCH(int, threads);
  int cases = 0;
  const int failures = qnn::test::tanh_quant_failures(threads, cases);
  QCOMPARE(cases, 5 * 2 * 3 * 2);
  QCOMPARE(failures, 0);
}

void TestQuantKernels::linearMatchesReferenceBlas_data() { fakeQuantBitIdentical_data(); }

void TestQuantKernels::linearMatchesReferenceBlas() {
  QFETCH(int, threads);
  int cases = 0;
  const int failures = qnn::test::linear_exact_failures(threads, cases);
  QCOMPARE(cases, 12 * 2 * 2 + 2 * 6 + 1 + 2);
  QCOMPARE(failures, 0);
}

QTEST_MAIN(TestQuantKernels)
#include "test_quant_kernels.moc"

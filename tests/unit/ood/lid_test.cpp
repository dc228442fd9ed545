// The local-intrinsic-dimension estimate: the closed form against the derivative of the
// linearised model's log-density, Lanczos quadrature against exact matrix functions, the flow's
// Jacobian against finite differences and its log-det, the randomised estimate against the exact
// one, and the dual-threshold score by hand.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/flows/factory.hpp"
#include "flowood/ood/lid.hpp"
#include "tiny_images.hpp"

namespace flowood::ood {
namespace {

/// log N(x0; x0 − J z0, J Jᵀ + e^{2δ} I) for the generator's Jacobian J = A⁻¹: the linearised
/// flow convolved with noise of scale e^δ, at the point itself.
double log_rho(const torch::Tensor& a, const torch::Tensor& z, double delta) {
  const auto j = torch::linalg::inv(a);
  const auto d = a.size(0);
  const auto cov = torch::matmul(j, j.t()) + std::exp(2 * delta) * torch::eye(d, torch::kFloat64);
  const auto r = torch::matmul(j, z);
  const auto quad = torch::dot(r, torch::linalg::solve(cov, r, true)).item<double>();
  return -0.5 * quad - 0.5 * torch::logdet(cov).item<double>() - 0.5 * static_cast<double>(d) * std::log(2 * M_PI);
}

TEST(Lid, ClosedFormIsTheRateOfChangeOfTheConvolvedDensity) {
  torch::manual_seed(1);
  const int64_t d = 6;
  const auto a = torch::randn({d, d}, torch::kFloat64) * 2 + torch::eye(d, torch::kFloat64) * 3;
  const auto z = torch::randn({d}, torch::kFloat64);
  for (const double delta : {-2.0, -0.5, 1.0}) {
    const double h = 1e-5;
    const double fd = (log_rho(a, z, delta + h) - log_rho(a, z, delta - h)) / (2 * h);
    EXPECT_NEAR(lid_exact(a, z, delta).lid(), static_cast<double>(d) + fd, 1e-6) << delta;
  }
}

TEST(Lid, HandValuesOnADiagonalJacobian) {
  // A = diag(a): N has eigenvalues a², eigenvectors the axes, so w = z.
  const auto a = torch::tensor({0.5, 2.0, 10.0}, torch::kFloat64);
  const auto z = torch::tensor({1.0, -2.0, 0.5}, torch::kFloat64);
  const double delta = std::log(0.25), s2 = 0.0625;
  double trace = 0, quad = 0;
  for (int i = 0; i < 3; ++i) {
    const double l = a[i].item<double>() * a[i].item<double>(), w = z[i].item<double>();
    trace += 1 / (1 + s2 * l);
    quad += s2 * l * w * w / ((1 + s2 * l) * (1 + s2 * l));
  }
  const auto t = lid_exact(torch::diag(a), z, delta);
  EXPECT_NEAR(t.trace, trace, 1e-12);
  EXPECT_NEAR(t.quadratic, quad, 1e-12);
  // 1/(1 + 0.0625·0.25) + 1/(1 + 0.25) + 1/(1 + 6.25) by hand.
  EXPECT_NEAR(t.trace, 0.98461538461538 + 0.8 + 0.13793103448276, 1e-12);
}

TEST(Lid, CountsTheDirectionsWiderThanTheNoise) {
  // Two directions the model spreads by 10 (generator singular value), two by 1e-4: at σ = 0.01
  // the LID is 2 (up to O(σ²/s²) and O(s²/σ²)).
  const auto a = torch::diag(torch::tensor({0.1, 0.1, 1e4, 1e4}, torch::kFloat64));
  const auto z = torch::tensor({0.3, -1.2, 0.8, 2.0}, torch::kFloat64);
  EXPECT_NEAR(lid_exact(a, z, std::log(0.01)).lid(), 2.0, 1e-3);
}

TEST(Lanczos, QuadratureIsExactWithAsManyStepsAsEigenvalues) {
  torch::manual_seed(2);
  const int64_t d = 12;
  const auto b = torch::randn({d, d}, torch::kFloat64);
  const auto n = torch::matmul(b, b.t());
  const auto [lam, vecs] = torch::linalg::eigh(n, "L");
  const auto v = torch::randn({3, d}, torch::kFloat64);
  const auto matvec = [&](const torch::Tensor& x) { return torch::matmul(x, n); };
  const auto rule = lanczos_rule(matvec, v, d);
  for (const double s2 : {0.01, 1.0}) {
    const auto h = 1.0 / (1.0 + s2 * lam);
    const auto exact = (torch::matmul(v, vecs).pow(2) * h).sum(1);
    const auto approx = (rule.weights / (1.0 + s2 * rule.nodes)).sum(1);
    EXPECT_LT((exact - approx).abs().max().item<double>(), 1e-8 * exact.abs().max().item<double>()) << s2;
  }
  // The weights sum to ‖v‖² whatever the number of steps.
  const auto few = lanczos_rule(matvec, v, 4);
  EXPECT_LT((few.weights.sum(1) - v.pow(2).sum(1)).abs().max().item<double>(), 1e-9);
}

TEST(Lanczos, AnExhaustedKrylovSpaceStaysExact) {
  // Three distinct eigenvalues: the third step ends the Krylov space; more steps change nothing.
  const auto n = torch::diag(torch::tensor({1.0, 1.0, 4.0, 4.0, 9.0, 9.0}, torch::kFloat64));
  const auto v = torch::tensor({{1.0, 2.0, -1.0, 0.5, 3.0, -2.0}}, torch::kFloat64);
  const auto matvec = [&](const torch::Tensor& x) { return torch::matmul(x, n); };
  const auto rule = lanczos_rule(matvec, v, 6);
  const auto exact = (v.pow(2) * torch::tensor({1.0, 1.0, 4.0, 4.0, 9.0, 9.0}, torch::kFloat64).sqrt()).sum();
  const auto approx = (rule.weights * rule.nodes.sqrt()).sum();
  EXPECT_NEAR(approx.item<double>(), exact.item<double>(), 1e-9);
  EXPECT_FALSE(torch::isnan(rule.nodes).any().item<bool>());
}

flows::FlowModel tiny_flow() {
  config::ModelConfig m;
  m.flow = "realnvp";
  m.in_shape = {1, 4, 4};
  m.num_scales = 2;
  m.num_blocks = 1;
  m.mid_channels = 4;
  torch::manual_seed(3);
  auto model = flows::make_flow(m);
  model->to(torch::kFloat64);
  // Non-trivial weights (the reference initialises some layers to the identity).
  {
    torch::NoGradGuard g;
    for (auto& p : model->parameters()) p.add_(torch::randn_like(p) * 0.2);
  }
  model->eval();
  return model;
}

TEST(LidFlow, JacobianMatchesFiniteDifferencesAndTheLogDet) {
  auto model = tiny_flow();
  const auto x = data::to_model_input(tiny_data(1).images, torch::kCPU).to(torch::kFloat64);
  const auto u = torch::rand_like(x);
  const auto d = data_point(*model, x, u);
  const auto jac = latent_jacobian(*model, d);
  ASSERT_EQ(jac.sizes(), (std::vector<int64_t>{16, 16}));
  torch::NoGradGuard g;
  const double h = 1e-6;
  for (int64_t k = 0; k < 16; k += 5) {
    auto e = torch::zeros_like(d);
    e.view({-1})[k] = h;
    const auto col = (latent_of(*model, d + e) - latent_of(*model, d - e)).view({-1}) / (2 * h);
    EXPECT_LT((col - jac.select(1, k)).abs().max().item<double>(), 1e-6 * (1 + col.abs().max().item<double>())) << k;
  }
  // log|det ∂z/∂d| is the model's log-det (which is with respect to k/255 pixels: + D log(255/256)).
  const auto logdet = model->forward_with_noise(x, u).logdet.item<double>();
  EXPECT_NEAR(std::get<1>(torch::linalg::slogdet(jac)).item<double>() + 16 * std::log(255.0 / 256.0), logdet, 1e-9);
}

TEST(LidFlow, EstimateAgreesWithTheExactJacobian) {
  auto model = tiny_flow();
  const auto data = tiny_data(2);
  LoglikOptions o;
  o.batch_size = 4096;
  LidOptions exact{-3.0, 0, 1};
  const auto e = lid_statistics(*model, data, o, exact);
  ASSERT_EQ(e.size(), 3u);
  ASSERT_EQ(e[0].values.size(), 2u);
  // With as many Lanczos steps as dimensions the quadrature is exact: the quadratic term (one
  // deterministic start vector, z0) agrees to rounding, the trace to its sampling error.
  LidOptions est{-3.0, 400, 16};
  const auto s = lid_statistics(*model, data, o, est);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_NEAR(s[2].values[i], e[2].values[i], 1e-6 * (1 + std::abs(e[2].values[i]))) << i;
    EXPECT_NEAR(s[1].values[i], e[1].values[i], 0.05 * e[1].values[i] + 0.05) << i;
    EXPECT_NEAR(s[0].values[i], s[1].values[i] + s[2].values[i], 1e-12);
    EXPECT_GT(e[0].values[i], 0.0);
    EXPECT_LE(e[1].values[i], 16.0);
  }
  // An example's probes come from its own stream: the batch size does not change its estimate.
  o.batch_size = 3;  // 1 + probes rows: one example per batch
  LidOptions few{-3.0, 2, 6};
  const auto one = lid_statistics(*model, data, o, few);
  o.batch_size = 4096;
  const auto both = lid_statistics(*model, data, o, few);
  for (size_t i = 0; i < 2; ++i) EXPECT_NEAR(one[0].values[i], both[0].values[i], 1e-9) << i;
}

TEST(LidFlow, RejectsBadOptions) {
  auto model = tiny_flow();
  const auto data = tiny_data(1);
  LoglikOptions o;
  EXPECT_THROW(lid_statistics(*model, data, o, {std::nan(""), 2, 4}), ConfigError);
  EXPECT_THROW(lid_statistics(*model, data, o, {-3.0, -1, 4}), ConfigError);
  EXPECT_THROW(lid_statistics(*model, data, o, {-3.0, 2, 0}), ConfigError);
}

TEST(DualThreshold, MinimumOfTheTwoReferenceQuantiles) {
  const std::vector<double> ref_ll = {4, 1, 3, 2}, ref_lid = {10, 40, 20, 30};
  const auto s = dual_threshold_scores(ref_ll, ref_lid, {2.5, 5.0, 0.0, 3.0}, {35, 5, 50, 20}, "ref");
  // (2.5, 35): F_L = 2/4, F_LID = 3/4 → 0.5; (5, 5): 1 and 0 → 0; (0, 50): 0; (3, 20): 3/4 and 2/4.
  EXPECT_EQ(s, (std::vector<double>{0.5, 0.0, 0.0, 0.5}));
  EXPECT_THROW(dual_threshold_scores({}, {}, {1}, {1}, "ref"), DataError);
  EXPECT_THROW(dual_threshold_scores({1, std::nan("")}, {1, 2}, {1}, {1}, "ref"), DataError);
  EXPECT_THROW(dual_threshold_scores({1}, {1}, {1, 2}, {1}, "ref"), ConfigError);
}

}  // namespace
}  // namespace flowood::ood

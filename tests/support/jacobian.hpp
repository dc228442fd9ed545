#pragma once
// Brute-force Jacobians for checking log-determinants in double precision.
#include <functional>

#include <torch/torch.h>

namespace flowood::testing {

/// log|det ∂f(x)/∂x| for one example x [1, ...] (f maps [1, ...] → [1, ...] with as many
/// elements), by building the full Jacobian row by row with autograd.
inline double brute_force_logdet(const std::function<torch::Tensor(const torch::Tensor&)>& f, const torch::Tensor& x) {
  auto input = x.detach().clone().requires_grad_(true);
  auto y = f(input).flatten();
  const auto d = input.numel();
  EXPECT_EQ(y.numel(), d) << "f must map to as many elements as it takes";
  auto jac = torch::zeros({d, d}, x.options().requires_grad(false));
  for (int64_t i = 0; i < d; ++i) {
    auto grad = torch::autograd::grad({y[i]}, {input}, {}, /*retain_graph=*/true, /*create_graph=*/false,
                                      /*allow_unused=*/true)[0];
    if (grad.defined()) jac[i] = grad.flatten();
  }
  auto [sign, logabs] = torch::linalg::slogdet(jac);
  return logabs.item<double>();
}

/// Relative error |a − b| / max(|b|, 1e-12).
inline double relative_error(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-12); }

}  // namespace flowood::testing

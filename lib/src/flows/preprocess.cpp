#include "flowood/flows/preprocess.hpp"

#include <cmath>

namespace flowood::flows {

FlowResult dequantize_logit(const torch::Tensor& x, const torch::Tensor& u, double c) {
  const auto z0 = (x * 255.0 + u) / 256.0;
  const auto y = z0 * c + (1.0 - c) / 2.0;
  const auto l = torch::log(y) - torch::log1p(-y);
  const int64_t dim = x[0].numel();
  // softplus(l) + softplus(−l) = −log y − log(1−y); softplus(log((1−c)/c)) = −log c.
  auto per_elem = -torch::log(y) - torch::log1p(-y) + std::log(c);
  auto logdet = per_elem.flatten(1).sum(1) + static_cast<double>(dim) * std::log(255.0 / 256.0);
  return {l, logdet};
}

torch::Tensor logit_inverse(const torch::Tensor& l, double c) {
  return ((torch::sigmoid(l) - (1.0 - c) / 2.0) / c).clamp(0.0, 1.0);
}

torch::Tensor standard_normal_log_prob(const torch::Tensor& z) {
  const auto flat = z.flatten(1);
  const double d = static_cast<double>(flat.size(1));
  return -0.5 * flat.pow(2).sum(1) - 0.5 * d * std::log(2.0 * M_PI);
}

torch::Tensor nats_to_bits_per_dim(const torch::Tensor& loglik, int64_t dim) {
  return -loglik / (static_cast<double>(dim) * std::log(2.0));
}

}  // namespace flowood::flows

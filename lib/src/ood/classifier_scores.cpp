#include "flowood/ood/classifier_scores.hpp"

#include <fmt/format.h>
#include <torch/linalg.h>

#include "flowood/core/error.hpp"

namespace flowood::ood {
namespace {
std::vector<double> to_vector(const torch::Tensor& t) {
  const auto c = t.to(torch::kCPU, torch::kFloat64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}
void check_logits(const torch::Tensor& logits) {
  if (!logits.defined() || logits.dim() != 2 || logits.size(1) < 2)
    throw Error(fmt::format("classifier scores need logits [N, K >= 2] (got {})",
                            logits.defined() ? c10::str(logits.sizes()) : std::string("none")));
}
}  // namespace

std::vector<double> max_softmax_probability(const torch::Tensor& logits) {
  check_logits(logits);
  return to_vector(torch::softmax(logits.to(torch::kFloat64), 1).amax(1));
}

std::vector<double> negative_energy(const torch::Tensor& logits, double temperature) {
  check_logits(logits);
  if (!(temperature > 0)) throw Error(fmt::format("energy temperature must be > 0 (got {})", temperature));
  return to_vector(temperature * torch::logsumexp(logits.to(torch::kFloat64) / temperature, 1));
}

MahalanobisModel fit_mahalanobis(const torch::Tensor& features, const torch::Tensor& labels, double ridge) {
  if (!features.defined() || features.dim() != 2 || !labels.defined() || labels.dim() != 1 ||
      labels.size(0) != features.size(0))
    throw DataError("", "Mahalanobis needs training features [N, D] with one label each");
  if (features.size(0) < 2) throw DataError("", "Mahalanobis needs at least two training examples");
  const auto f = features.to(torch::kCPU, torch::kFloat64);
  if (!torch::isfinite(f).all().item<bool>()) throw DataError("", "Mahalanobis: the training features hold NaN or inf");
  const auto y = labels.to(torch::kCPU, torch::kInt64);
  MahalanobisModel m;
  m.ridge = ridge;
  const auto classes = std::get<0>(torch::_unique(y, /*sorted=*/true));
  std::vector<torch::Tensor> means;
  auto centred = torch::empty_like(f);
  for (int64_t k = 0; k < classes.size(0); ++k) {
    const auto label = classes[k].item<int64_t>();
    const auto rows = (y == label).nonzero().flatten();
    const auto mean = f.index_select(0, rows).mean(0);
    centred.index_copy_(0, rows, f.index_select(0, rows) - mean);
    means.push_back(mean);
    m.classes.push_back(label);
  }
  m.means = torch::stack(means);
  auto cov = centred.t().mm(centred) / static_cast<double>(f.size(0));
  const double scale = cov.diagonal().mean().item<double>();
  cov = cov + torch::eye(f.size(1), torch::kFloat64) * (ridge * (scale > 0 ? scale : 1.0));
  m.precision = torch::linalg::pinv(cov, 1e-12, /*hermitian=*/true);
  return m;
}

std::vector<double> mahalanobis_scores(const MahalanobisModel& m, const torch::Tensor& features) {
  if (!features.defined() || features.dim() != 2 || features.size(1) != m.means.size(1))
    throw DataError("", fmt::format("Mahalanobis: features of {} dimensions for a model of {}",
                                    features.defined() && features.dim() == 2 ? features.size(1) : -1, m.means.size(1)));
  const auto f = features.to(torch::kCPU, torch::kFloat64);
  // d_k(x) = (x − μ_k)ᵀ P (x − μ_k), for every class, in one [N, K] matrix.
  const auto fp = f.mm(m.precision);                                   // [N, D]
  const auto xx = (fp * f).sum(1, true);                               // [N, 1]
  const auto mp = m.means.mm(m.precision);                             // [K, D]
  const auto mm = (mp * m.means).sum(1).unsqueeze(0);                  // [1, K]
  const auto d = xx - 2.0 * fp.mm(m.means.t()) + mm;                   // [N, K]
  return to_vector(-std::get<0>(d.min(1)));
}

}  // namespace flowood::ood

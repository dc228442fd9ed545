#include "flowood/flows/standardize.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"

namespace flowood::flows {

StandardizeImpl::StandardizeImpl(int64_t dim) {
  mean_ = register_buffer("mean", torch::zeros({dim}));
  sd_ = register_buffer("sd", torch::ones({dim}));
  fitted_ = register_buffer("fitted", torch::zeros({}));
}

bool StandardizeImpl::fitted() const { return fitted_.item<double>() != 0.0; }

void StandardizeImpl::fit(const torch::Tensor& rows) {
  if (rows.dim() != 2 || rows.size(1) != mean_.size(0))
    throw Error(fmt::format("standardisation expects rows [N, {}], got [{}]", mean_.size(0), fmt::join(rows.sizes(), ", ")));
  if (rows.size(0) < 2) throw Error("standardisation needs at least two training rows");
  torch::NoGradGuard no_grad;
  const auto x = rows.to(torch::kFloat64);
  const auto mean = x.mean(0);
  auto sd = x.std(0, /*unbiased=*/false);
  sd = torch::where(sd > 1e-12, sd, torch::ones_like(sd));
  mean_.copy_(mean.to(mean_.options()));
  sd_.copy_(sd.to(sd_.options()));
  fitted_.fill_(1.0);
}

FlowResult StandardizeImpl::forward(const torch::Tensor& x) {
  if (!fitted())
    throw Error("the standardisation layer has no statistics yet: it is fitted on the training set when training starts");
  const auto logdet = -torch::log(sd_).sum();
  return {(x - mean_) / sd_, logdet.expand({x.size(0)}).to(x.scalar_type())};
}

torch::Tensor StandardizeImpl::inverse(const torch::Tensor& y) { return y * sd_ + mean_; }

std::string StandardizeImpl::describe() const {
  return fmt::format("standardise (training-set mean/sd{})", fitted() ? "" : ", not fitted yet");
}

bool fit_standardization(FlowModelImpl& model, const torch::Tensor& rows) {
  bool any = false;
  for (const auto& layer : model.body().layers()) {
    if (auto s = std::dynamic_pointer_cast<StandardizeImpl>(layer); s && !s->fitted()) {
      s->fit(rows.to(s->mean().device()));
      any = true;
    }
  }
  return any;
}

}  // namespace flowood::flows

#include "flowood/flows/inspect.hpp"

#include <fmt/format.h>
#include <torch/nn/functional/padding.h>

#include "flowood/flows/coupling.hpp"
#include "flowood/flows/preprocess.hpp"

namespace flowood::flows {
namespace {
// The tensor the body sees for pixels x and noise u.
torch::Tensor body_input(FlowModelImpl& model, const torch::Tensor& x, const torch::Tensor& u) {
  return model.preprocessing() == Preprocessing::kLogit ? dequantize_logit(x, u).y : x;
}
}  // namespace

std::vector<CouplingView> trace_couplings(FlowModelImpl& model, const torch::Tensor& x, const torch::Tensor& u) {
  auto& body = model.body();
  std::vector<torch::Tensor> aside;        // values set aside so far, in order
  std::vector<CouplingView> views;
  std::vector<std::pair<size_t, CouplingTrace>> traces;
  body.set_step_observer([&](size_t i, const torch::Tensor& h) {
    if (i < body.num_steps() && !body.step_layer(i)) {
      const auto keep = body.shape_before(i + 1)[0];
      aside.push_back(h.narrow(1, keep, h.size(1) - keep));
    }
  });
  std::vector<std::shared_ptr<AffineCouplingImpl>> couplings;
  for (size_t i = 0; i < body.num_steps(); ++i)
    if (auto c = std::dynamic_pointer_cast<AffineCouplingImpl>(body.step_layer(i))) {
      couplings.push_back(c);
      c->set_observer([&, i](const CouplingTrace& t) {
        // Set-aside blocks known when the layer runs are exactly those factored out before it.
        CouplingView v;
        v.step = i;
        v.label = fmt::format("step {}: {}", i, t.layer->mask().describe());
        const auto& mask = t.layer->mask();
        const auto [s_full, t_full] = mask.to_full(t.s, t.t);
        const auto region = mask.to_full(torch::ones_like(t.s), torch::zeros_like(t.t)).first;
        v.input = body.lift(i, t.x, aside);
        v.output = body.lift(i, t.y, aside);
        v.scale = body.lift(i, torch::exp(s_full), {}, 1.0);
        v.shift = body.lift(i, -t_full, {}, 0.0);
        v.region = body.lift(i, region, {}, 0.0);
        views.push_back(std::move(v));
      });
    }
  struct Cleanup {
    MultiScaleFlowImpl& body;
    std::vector<std::shared_ptr<AffineCouplingImpl>>& couplings;
    ~Cleanup() {
      body.set_step_observer(nullptr);
      for (auto& c : couplings) c->set_observer(nullptr);
    }
  } cleanup{body, couplings};
  (void)body.forward(body_input(model, x, u));
  return views;
}

torch::Tensor latent_image(FlowModelImpl& model, const torch::Tensor& x, const torch::Tensor& u) {
  const auto z = model.body().forward(body_input(model, x, u)).y;
  return model.body().to_input_layout(z);
}

bool has_batch_norm(torch::nn::Module& model) {
  for (const auto& b : model.named_buffers())
    if (b.key().find("running_mean") != std::string::npos) return true;
  return false;
}

torch::Tensor latent_image_train_mode(FlowModelImpl& model, const torch::Tensor& x, const torch::Tensor& u) {
  std::vector<std::pair<std::string, torch::Tensor>> saved;
  for (const auto& b : model.named_buffers()) saved.emplace_back(b.key(), b.value().clone());
  const bool was_training = model.is_training();
  model.train();
  const auto z = latent_image(model, x, u);
  model.train(was_training);
  auto buffers = model.named_buffers();
  for (auto& [key, value] : saved) buffers[key].copy_(value);
  return z;
}

torch::Tensor predictability_error(const CouplingView& v) {
  const auto r = v.region.flatten(1);
  const auto x = v.input.flatten(1), pred = v.shift.flatten(1);
  const auto count = r.sum(1).clamp_min(1.0);
  const auto mean = (x * r).sum(1) / count;
  const auto err = ((pred - x).pow(2) * r).sum(1);
  const auto var = ((x - mean.unsqueeze(1)).pow(2) * r).sum(1);
  return err / var.clamp_min(1e-12);
}

torch::Tensor sobel_magnitude(const torch::Tensor& images) {
  const auto c = images.size(1);
  const auto opts = images.options();
  const auto gx = torch::tensor({-1.0, 0.0, 1.0, -2.0, 0.0, 2.0, -1.0, 0.0, 1.0}, opts).view({1, 1, 3, 3});
  const auto gy = gx.transpose(2, 3).contiguous();
  namespace F = torch::nn::functional;
  const auto padded = F::pad(images, F::PadFuncOptions({1, 1, 1, 1}).mode(torch::kReplicate));
  const std::vector<int64_t> one{1, 1}, zero{0, 0};
  const auto dx = torch::conv2d(padded, gx.expand({c, 1, 3, 3}).contiguous(), torch::Tensor(), one, zero, one, c);
  const auto dy = torch::conv2d(padded, gy.expand({c, 1, 3, 3}).contiguous(), torch::Tensor(), one, zero, one, c);
  return torch::sqrt(dx.pow(2) + dy.pow(2));
}

torch::Tensor pearson_per_example(const torch::Tensor& a, const torch::Tensor& b) {
  const auto x = a.flatten(1).to(torch::kFloat64), y = b.flatten(1).to(torch::kFloat64);
  const auto xc = x - x.mean(1, true), yc = y - y.mean(1, true);
  const auto denom = torch::sqrt(xc.pow(2).sum(1) * yc.pow(2).sum(1));
  return torch::where(denom > 1e-12, (xc * yc).sum(1) / denom.clamp_min(1e-12), torch::zeros_like(denom));
}

torch::Tensor edge_correlation(const torch::Tensor& latent, const torch::Tensor& images) {
  return pearson_per_example(latent.abs(), sobel_magnitude(images));
}

}  // namespace flowood::flows

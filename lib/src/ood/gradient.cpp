#include "flowood/ood/gradient.hpp"

#include <cmath>

#include <fmt/format.h>
#include <torch/autograd.h>

#include "flowood/core/error.hpp"

namespace flowood::ood {
namespace {

/// The parameters of each measured layer, in step order.
std::vector<std::pair<std::string, std::vector<torch::Tensor>>> layer_parameters(flows::FlowModelImpl& model) {
  std::vector<std::pair<std::string, std::vector<torch::Tensor>>> out;
  auto& body = model.body();
  for (size_t i = 0; i < body.num_steps(); ++i) {
    const auto layer = body.step_layer(i);
    if (!layer) continue;
    std::vector<torch::Tensor> params;
    for (const auto& p : layer->parameters())
      if (p.requires_grad()) params.push_back(p);
    if (!params.empty()) out.emplace_back(fmt::format("step{}", i), std::move(params));
  }
  return out;
}

}  // namespace

std::vector<std::string> gradient_layer_names(flows::FlowModelImpl& model) {
  std::vector<std::string> names;
  for (const auto& [name, params] : layer_parameters(model)) names.push_back(name);
  return names;
}

std::vector<Statistic> gradient_statistics(flows::FlowModelImpl& model, const data::ImageDataset& data,
                                           const LoglikOptions& o) {
  if (o.batch_size < 1) throw ConfigError("score.batch_size", "must be >= 1");
  if (flows::Shape(data.image_shape()) != model.input_shape())
    throw DataError(data.spec, "examples are " + flows::shape_string(data.image_shape()) + " but the model expects " +
                                   flows::shape_string(model.input_shape()));
  const auto layers = layer_parameters(model);
  if (layers.empty()) throw ConfigError("scores", "gradient needs a model with trainable parameters");
  std::vector<torch::Tensor> all;
  std::vector<size_t> owner;  // layer of each entry of `all`
  for (size_t l = 0; l < layers.size(); ++l)
    for (const auto& p : layers[l].second) {
      all.push_back(p);
      owner.push_back(l);
    }
  const bool was_training = model.is_training();
  model.eval();
  const auto device = all.front().device();
  const int64_t total = o.limit > 0 ? std::min(o.limit, data.size()) : data.size();
  std::vector<Statistic> out;
  for (const auto& [name, params] : layers) out.push_back({"grad_" + name, {}});
  out.push_back({"loglik", {}});
  for (auto& s : out) s.values.reserve(static_cast<size_t>(total));
  const auto key = dataset_key(data.spec);
  std::vector<double> sq(layers.size());
  for (int64_t first = 0; first < total; first += o.batch_size) {
    const auto n = std::min(o.batch_size, total - first);
    const auto x = data::to_model_input(data.images.narrow(0, first, n), device).to(all.front().scalar_type());
    const auto u = per_example_noise(x, first, o.seed, 0, key);
    // One example at a time: a per-example gradient is one backward pass of its own log p(x).
    for (int64_t i = 0; i < n; ++i) {
      const auto lp = model.log_prob_from(model.forward_with_noise(x.narrow(0, i, 1), u.narrow(0, i, 1))).sum();
      const auto grads = torch::autograd::grad({lp}, all, {}, /*retain_graph=*/false, /*create_graph=*/false,
                                               /*allow_unused=*/true);
      std::fill(sq.begin(), sq.end(), 0.0);
      for (size_t k = 0; k < grads.size(); ++k)
        if (grads[k].defined()) sq[owner[k]] += grads[k].to(torch::kFloat64).pow(2).sum().item<double>();
      for (size_t l = 0; l < layers.size(); ++l) out[l].values.push_back(0.5 * std::log(sq[l]));
      out.back().values.push_back(lp.item<double>());
    }
    if (o.progress) o.progress(first + n, total);
  }
  model.train(was_training);
  return out;
}

}  // namespace flowood::ood

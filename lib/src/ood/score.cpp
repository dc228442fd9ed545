#include "flowood/ood/score.hpp"

#include <cmath>

#include <torch/nn/modules/batchnorm.h>

#include "flowood/core/error.hpp"
#include "flowood/core/rng.hpp"
#include "flowood/flows/preprocess.hpp"
#include "flowood/flows/weight_norm.hpp"

namespace flowood::ood {

uint64_t dataset_key(const std::string& spec) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : spec) h = (h ^ c) * 1099511628211ULL;
  return h;
}

torch::Tensor per_example_noise(const torch::Tensor& like, int64_t first, uint64_t seed, int64_t sample,
                                uint64_t dataset) {
  const auto n = like.size(0);
  auto shape = like.sizes().vec();
  shape[0] = 1;
  // The set's key moves the base seed, so (set, i, k) streams never coincide across sets.
  const auto base = dataset == 0 ? seed : derive_seed(seed, Stream::kScoreNoise, dataset);
  std::vector<torch::Tensor> parts;
  parts.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    auto gen = make_generator(base, Stream::kScoreNoise, static_cast<uint64_t>(first + i), static_cast<uint64_t>(sample));
    parts.push_back(at::rand(shape, gen, torch::TensorOptions().dtype(torch::kFloat32)));
  }
  return torch::cat(parts, 0).to(like.device(), like.scalar_type());
}

LoglikScores score_loglik(flows::FlowModelImpl& model, const data::ImageDataset& data, const LoglikOptions& o) {
  if (o.batch_size < 1) throw ConfigError("score.batch_size", "must be >= 1");
  if (o.samples < 1) throw ConfigError("score.samples", "must be >= 1");
  const auto shape = data.image_shape();
  if (flows::Shape(shape) != model.input_shape())
    throw DataError(data.spec, std::string(data.is_features() ? "feature rows" : "images") + " are " + flows::shape_string(shape) + " but the model expects " +
                                   flows::shape_string(model.input_shape()));
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;
  flows::InferenceScope folding;  // the model stays as it is until the end: weights folded once
  // Batch-norm train mode: only the batch-norm layers switch (dropout stays off); their running
  // statistics are put back afterwards.
  std::vector<std::pair<torch::Tensor, torch::Tensor>> saved;
  if (o.batch_norm_train_mode) {
    for (auto& module : model.modules(/*include_self=*/false)) {
      if (!module->as<torch::nn::BatchNorm2d>() && !module->as<torch::nn::BatchNorm1d>()) continue;
      module->train(true);
      for (auto& b : module->buffers(/*recurse=*/false)) saved.emplace_back(b, b.clone());
    }
    if (saved.empty()) throw ConfigError("score.method", "bn-train needs a model with batch norm, and " + model.name() + " has none");
  }
  const auto params = model.parameters();
  const auto device = params.empty() ? torch::Device(torch::kCPU) : params.front().device();
  const int64_t total = o.limit > 0 ? std::min(o.limit, data.size()) : data.size();
  LoglikScores out;
  out.loglik.reserve(total);
  out.bpd.reserve(total);
  const double log_k = std::log(static_cast<double>(o.samples));
  const auto key = dataset_key(data.spec);
  auto append = [](std::vector<double>& to, const torch::Tensor& values) {
    const auto v = values.to(torch::kCPU, torch::kFloat64).contiguous();
    to.insert(to.end(), v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
  };
  // One batch at a time, each freed before the next: memory stays one batch whatever the dataset
  // size. (Preparing the next batch on a second thread was measured: no gain, since a batch's
  // input and noise take well under 1 % of its time, and growing memory — docs/performance.md.)
  for (int64_t first = 0; first < total; first += o.batch_size) {
    const auto n = std::min(o.batch_size, total - first);
    const auto x = data::to_model_input(data.images.narrow(0, first, n), device);
    std::vector<torch::Tensor> lps, level, sqnorm;
    torch::Tensor outside;
    for (int64_t k = 0; k < o.samples; ++k) {
      auto terms = model.likelihood_terms(x, per_example_noise(x, first, o.seed, k, key));
      lps.push_back(model.log_prob_from(terms.result));
      // The terms, in float64, averaged over the K draws.
      const double w = 1.0 / static_cast<double>(o.samples);
      const auto o_k = w * terms.outside.to(torch::kFloat64);
      outside = k == 0 ? o_k : outside + o_k;
      for (size_t l = 0; l < terms.levels.size(); ++l) {
        const auto& z = terms.levels[l].z;
        auto c = (flows::standard_normal_log_prob(z) + terms.levels[l].logdet).to(torch::kFloat64);
        auto q = z.to(torch::kFloat64).pow(2).sum(1);
        if (k == 0) {
          level.push_back(w * c);
          sqnorm.push_back(w * q);
          if (first == 0) out.level_dims.push_back(z.size(1));
        } else {
          level[l] = level[l] + w * c;
          sqnorm[l] = sqnorm[l] + w * q;
        }
      }
    }
    if (out.level.empty()) {
      out.level.resize(level.size());
      out.sqnorm.resize(level.size());
    }
    append(out.outside, outside);
    for (size_t l = 0; l < level.size(); ++l) {
      append(out.level[l], level[l]);
      append(out.sqnorm[l], sqnorm[l]);
    }
    auto lp = o.samples == 1 ? lps[0] : torch::logsumexp(torch::stack(lps, 0).to(torch::kFloat64), 0) - log_k;
    lp = lp.to(torch::kCPU, torch::kFloat64).contiguous();
    const auto bpd = flows::nats_to_bits_per_dim(lp, model.dim()).contiguous();
    const double* lp_data = lp.data_ptr<double>();
    const double* bpd_data = bpd.data_ptr<double>();
    out.loglik.insert(out.loglik.end(), lp_data, lp_data + n);
    out.bpd.insert(out.bpd.end(), bpd_data, bpd_data + n);
    if (o.progress) o.progress(first + n, total);
  }
  for (auto& [buffer, value] : saved) buffer.copy_(value);
  model.train(was_training);
  return out;
}

}  // namespace flowood::ood

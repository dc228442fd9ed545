#include "flowood/flows/flow_model.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "flowood/core/error.hpp"
#include "flowood/flows/layout.hpp"
#include "flowood/flows/preprocess.hpp"

namespace flowood::flows {

// ---- MultiScaleFlow ------------------------------------------------------------------------

MultiScaleFlowImpl::MultiScaleFlowImpl(Shape input) : input_(std::move(input)) { shapes_.push_back(input_); }

FlowLayer MultiScaleFlowImpl::add(FlowLayer layer) {
  const auto index = steps_.size();
  register_module(std::to_string(index), layer);
  shapes_.push_back(layer->output_shape(current_shape()));
  steps_.push_back({layer, 0});
  return layer;
}

void MultiScaleFlowImpl::factor_out(int64_t keep) {
  const auto& shape = current_shape();
  if (keep < 1 || keep >= shape[0])
    throw ConfigError("model", fmt::format("cannot keep {} of {} channels when factoring out", keep, shape[0]));
  Shape kept = shape;
  kept[0] = keep;
  steps_.push_back({nullptr, keep});
  shapes_.push_back(kept);
}

FlowResult MultiScaleFlowImpl::forward(const torch::Tensor& x) { return forward_levels(x, nullptr); }

FlowResult MultiScaleFlowImpl::forward_levels(const torch::Tensor& x, std::vector<Level>* levels) {
  auto h = in_layout(x);
  auto logdet = torch::zeros({x.size(0)}, x.options());
  auto level_logdet = logdet;  // since the last factor-out
  std::vector<torch::Tensor> zs;
  for (size_t i = 0; i < steps_.size(); ++i) {
    const auto& step = steps_[i];
    if (step_observer_) step_observer_(i, h);
    if (step.layer) {
      auto r = step.layer->forward(h);
      h = std::move(r.y);
      logdet = logdet + r.logdet;
      if (levels) level_logdet = level_logdet + r.logdet;
    } else {
      zs.push_back(h.narrow(1, step.keep, h.size(1) - step.keep).flatten(1));
      h = h.narrow(1, 0, step.keep);
      if (levels) {
        levels->push_back({zs.back(), level_logdet});
        level_logdet = torch::zeros_like(logdet);
      }
    }
  }
  if (step_observer_) step_observer_(steps_.size(), h);
  zs.push_back(h.flatten(1));
  if (levels) levels->push_back({zs.back(), level_logdet});
  return {torch::cat(zs, 1), logdet};
}

std::pair<std::vector<torch::Tensor>, torch::Tensor> MultiScaleFlowImpl::split_latent(const torch::Tensor& z) const {
  const auto n = z.size(0);
  // The set-aside blocks lie first in z, in order of factoring out; the final block last.
  int64_t offset = 0;
  std::vector<torch::Tensor> aside;
  for (size_t i = 0; i < steps_.size(); ++i) {
    if (steps_[i].layer) continue;
    Shape full{n};
    full.insert(full.end(), shapes_[i].begin(), shapes_[i].end());
    full[1] -= steps_[i].keep;
    const auto size = numel(Shape(full.begin() + 1, full.end()));
    aside.push_back(z.narrow(1, offset, size).reshape(full));
    offset += size;
  }
  Shape last{n};
  last.insert(last.end(), current_shape().begin(), current_shape().end());
  return {aside, z.narrow(1, offset, numel(current_shape())).reshape(last)};
}

torch::Tensor MultiScaleFlowImpl::inverse(const torch::Tensor& z) {
  auto [aside, h] = split_latent(z);
  for (size_t i = steps_.size(); i-- > 0;) {
    if (steps_[i].layer) {
      h = steps_[i].layer->inverse(h);
    } else {
      h = torch::cat({h, aside.back()}, 1);
      aside.pop_back();
    }
  }
  return h;
}

torch::Tensor MultiScaleFlowImpl::to_latent_layout(const torch::Tensor& x) {
  auto h = x;
  std::vector<torch::Tensor> zs;
  for (const auto& step : steps_) {
    if (step.layer) {
      if (step.layer->rearranges()) h = step.layer->forward(h).y;
    } else {
      zs.push_back(h.narrow(1, step.keep, h.size(1) - step.keep).flatten(1));
      h = h.narrow(1, 0, step.keep);
    }
  }
  zs.push_back(h.flatten(1));
  return torch::cat(zs, 1);
}

torch::Tensor MultiScaleFlowImpl::to_input_layout(const torch::Tensor& z) {
  auto [aside, h] = split_latent(z);
  return lift(steps_.size(), h, aside);
}

torch::Tensor MultiScaleFlowImpl::lift(size_t step, torch::Tensor v, const std::vector<torch::Tensor>& aside,
                                       double fill) {
  size_t factor_outs = 0;
  for (size_t i = 0; i < step; ++i) factor_outs += steps_[i].layer ? 0 : 1;
  if (!aside.empty() && aside.size() < factor_outs)
    throw std::invalid_argument("MultiScaleFlow::lift: fewer set-aside blocks than factor-outs before the step");
  for (size_t i = step; i-- > 0;) {
    if (steps_[i].layer) {
      if (steps_[i].layer->rearranges()) v = steps_[i].layer->inverse(v);
    } else {
      --factor_outs;
      auto block = aside.empty() ? torch::full({v.size(0), shapes_[i][0] - steps_[i].keep, v.size(2), v.size(3)}, fill,
                                               v.options())
                                 : aside[factor_outs];
      v = torch::cat({v, block.to(v.options())}, 1);
    }
  }
  return v;
}

Shape MultiScaleFlowImpl::output_shape(const Shape& input) const { return {numel(input)}; }

std::string MultiScaleFlowImpl::describe() const { return fmt::format("multi-scale flow of {} steps", steps_.size()); }

std::vector<FlowLayer> MultiScaleFlowImpl::layers() const {
  std::vector<FlowLayer> out;
  for (const auto& s : steps_)
    if (s.layer) out.push_back(s.layer);
  return out;
}

std::vector<std::string> MultiScaleFlowImpl::summary_lines() const {
  std::vector<std::string> lines;
  for (size_t i = 0; i < steps_.size(); ++i) {
    const auto what = steps_[i].layer ? steps_[i].layer->describe()
                                      : fmt::format("factor out {} channels", shapes_[i][0] - steps_[i].keep);
    int64_t params = 0;
    if (steps_[i].layer)
      for (const auto& p : steps_[i].layer->parameters()) params += p.numel();
    lines.push_back(fmt::format("{:>3}  {:<88} {:>10}  → {}", i, what, params ? fmt::format("{}", params) : "",
                                shape_string(shapes_[i + 1])));
  }
  return lines;
}

// ---- FlowModel -----------------------------------------------------------------------------

torch::Tensor uniform_noise_like(const torch::Tensor& x, std::optional<at::Generator> generator) {
  if (!generator) return torch::rand_like(x);
  const auto device = generator->device();
  auto u = at::rand(x.sizes(), *generator, torch::TensorOptions().dtype(torch::kFloat32).device(device));
  return u.to(x.device(), x.scalar_type());
}

FlowModelImpl::FlowModelImpl(MultiScaleFlow body, Preprocessing preprocessing, std::string name, std::string family)
    : body_(std::move(body)), preprocessing_(preprocessing), name_(std::move(name)), family_(std::move(family)) {
  register_module("body", body_);
}

FlowResult FlowModelImpl::forward(const torch::Tensor& x, std::optional<at::Generator> generator) {
  if (preprocessing_ == Preprocessing::kNone) return body_->forward(x);
  return forward_with_noise(x, uniform_noise_like(x, generator));
}

FlowResult FlowModelImpl::forward_with_noise(const torch::Tensor& x, const torch::Tensor& u) {
  if (preprocessing_ == Preprocessing::kNone) return body_->forward(x);
  auto pre = dequantize_logit(x, u);
  auto out = body_->forward(pre.y);
  return {out.y, out.logdet + pre.logdet};
}

FlowModelImpl::Terms FlowModelImpl::likelihood_terms(const torch::Tensor& x, const torch::Tensor& u) {
  Terms t;
  if (preprocessing_ == Preprocessing::kNone) {
    t.result = body_->forward_levels(x, &t.levels);
    t.outside = torch::zeros_like(t.result.logdet);
    return t;
  }
  auto pre = dequantize_logit(x, u);
  auto out = body_->forward_levels(pre.y, &t.levels);
  t.result = {out.y, out.logdet + pre.logdet};
  t.outside = pre.logdet - static_cast<double>(dim()) * std::log(256.0);
  return t;
}

torch::Tensor FlowModelImpl::log_prob_from(const FlowResult& r) const {
  auto lp = standard_normal_log_prob(r.y) + r.logdet;
  if (preprocessing_ == Preprocessing::kLogit) lp = lp - static_cast<double>(dim()) * std::log(256.0);
  return lp;
}

torch::Tensor FlowModelImpl::log_prob(const torch::Tensor& x, std::optional<at::Generator> generator) {
  return log_prob_from(forward(x, std::move(generator)));
}

torch::Tensor FlowModelImpl::inverse(const torch::Tensor& z) {
  auto x = body_->inverse(z);
  return preprocessing_ == Preprocessing::kLogit ? logit_inverse(x) : x;
}

int64_t FlowModelImpl::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

std::string FlowModelImpl::summary() const {
  std::ostringstream out;
  out << "model: " << name_ << "\n";
  out << "input: " << shape_string(input_shape()) << " (D = " << dim() << ")\n";
  out << "preprocessing: "
      << (preprocessing_ == Preprocessing::kLogit ? "dequantise + logit (c = 0.9)" : "none") << "\n";
  out << "layers:\n";
  for (const auto& line : body_->summary_lines()) out << line << "\n";
  out << "latent: " << dim() << " dims, standard normal prior\n";
  out << "parameters: " << num_parameters() << "\n";
  return out.str();
}

}  // namespace flowood::flows

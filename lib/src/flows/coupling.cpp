#include "flowood/flows/coupling.hpp"

#include <fmt/format.h>

namespace flowood::flows {

AffineCouplingImpl::AffineCouplingImpl(MaskPtr mask, StNetOptions st, const Shape& input) : mask_(std::move(mask)) {
  mask_->check_shape(input);
  const auto channels = mask_->st_channels(input[0]);
  st.in_channels = channels;
  st.out_channels = 2 * channels;
  st.double_after_norm = mask_->double_after_norm();
  st_options_ = st;
  st_net_ = register_module("st_net", make_st_net(st));
  rescale_ = register_module("rescale", Rescale(channels, static_cast<int64_t>(input.size()) - 1));
}

std::pair<torch::Tensor, torch::Tensor> AffineCouplingImpl::scale_shift(const torch::Tensor& x_id) {
  const auto st = st_net_->forward(x_id);
  auto halves = st.chunk(2, 1);
  const auto s = rescale_->forward(torch::tanh(halves[0]));
  return mask_->restrict(s, halves[1]);
}

FlowResult AffineCouplingImpl::forward(const torch::Tensor& x) {
  const auto [x_id, x_change] = mask_->split(x);
  const auto [s, t] = scale_shift(x_id);
  const auto y = mask_->merge(x_id, (x_change + t) * torch::exp(s));
  if (observer_) observer_({this, x, x_id, x_change, s, t, y});
  return {y, s.flatten(1).sum(1)};
}

torch::Tensor AffineCouplingImpl::inverse(const torch::Tensor& y) {
  const auto [y_id, y_change] = mask_->split(y);
  const auto [s, t] = scale_shift(y_id);
  return mask_->merge(y_id, y_change * torch::exp(-s) - t);
}

std::string AffineCouplingImpl::describe() const {
  return fmt::format("affine coupling, {} mask, {} st-net (in {}, mid {}, blocks {}{})", mask_->describe(),
                     st_options_.type, st_options_.in_channels, st_options_.mid_channels, st_options_.num_blocks,
                     st_options_.batch_norm ? "" : ", no batch norm");
}

}  // namespace flowood::flows

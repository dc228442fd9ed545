#include "flowood/flows/coupling.hpp"

#include <fmt/format.h>

#include "flowood/core/error.hpp"
#include "flowood/flows/precision.hpp"

namespace flowood::flows {

AffineCouplingImpl::AffineCouplingImpl(MaskPtr mask, StNetOptions st, const Shape& input) : mask_(std::move(mask)) {
  mask_->check_shape(input);
  const bool tabular = input.size() == 1;
  if (st_net_is_tabular(st.type) != tabular)
    throw ConfigError("model.st_net",
                      tabular ? fmt::format("tabular inputs {} need the mlp st-network (got '{}')", shape_string(input),
                                            st.type)
                              : fmt::format("the {} st-network is for tabular inputs [D]; images {} need a "
                                            "convolutional one",
                                            st.type, shape_string(input)));
  const auto seen = mask_->st_input_shape(input);
  st.in_channels = seen[0];
  st.out_channels = 2 * seen[0];
  if (seen.size() == 3) {
    st.height = seen[1];
    st.width = seen[2];
  }
  st.double_after_norm = mask_->double_after_norm();
  st_options_ = st;
  st_net_ = register_module("st_net", make_st_net(st));
  rescale_ = register_module("rescale", Rescale(seen[0], static_cast<int64_t>(seen.size()) - 1));
}

std::pair<torch::Tensor, torch::Tensor> AffineCouplingImpl::scale_shift(const torch::Tensor& x_id) {
  torch::Tensor st;
  {
    StAutocast autocast(x_id.is_cuda());  // bf16 st-network when asked; s, t and all after in float32
    st = st_net_->forward(x_id);
    if (autocast.active()) st = st.to(x_id.scalar_type());
  }
  auto halves = st.chunk(2, 1);
  const auto s = rescale_->forward(torch::tanh(halves[0]));
  return mask_->restrict(s, halves[1]);
}

FlowResult AffineCouplingImpl::forward(const torch::Tensor& x) {
  const auto xf = mask_->fold(x);
  const auto [x_id, x_change] = mask_->split(xf);
  const auto [s, t] = scale_shift(x_id);
  const auto y = mask_->unfold(mask_->merge(x_id, (x_change + t) * torch::exp(s)));
  auto logdet = s.flatten(1).sum(1);
  if (mask_->tiles() > 1) logdet = logdet.view({-1, mask_->tiles()}).sum(1);
  if (observer_)
    observer_({this, x, mask_->unfold(x_id), mask_->unfold(x_change), mask_->unfold(s), mask_->unfold(t), y});
  return {y, logdet};
}

torch::Tensor AffineCouplingImpl::inverse(const torch::Tensor& y) {
  const auto [y_id, y_change] = mask_->split(mask_->fold(y));
  const auto [s, t] = scale_shift(y_id);
  return mask_->unfold(mask_->merge(y_id, y_change * torch::exp(-s) - t));
}

std::string AffineCouplingImpl::describe() const {
  std::string extra;
  if (st_options_.type == "resnet-bottleneck") extra += fmt::format(", bottleneck {}", st_options_.bottleneck_dim);
  if (!st_options_.batch_norm && (st_options_.type == "resnet" || st_options_.type == "resnet-bottleneck"))
    extra += ", no batch norm";
  return fmt::format("affine coupling, {} mask, {} st-net (in {}, mid {}, blocks {}{})", mask_->describe(),
                     st_options_.type, st_options_.in_channels, st_options_.mid_channels, st_options_.num_blocks, extra);
}

}  // namespace flowood::flows

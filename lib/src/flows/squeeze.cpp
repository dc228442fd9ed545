#include "flowood/flows/squeeze.hpp"

#include "flowood/core/error.hpp"
#include "flowood/flows/layout.hpp"

namespace flowood::flows {

// Channels-last: the same rearrangement done on the [N, H, W, C] view of the memory, so the result
// is channels-last too (no conversion back to NCHW and forth again around every squeeze).
torch::Tensor squeeze2x2(const torch::Tensor& x) {
  const auto n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  if (layout() == Layout::kChannelsLast)
    return in_layout(x)
        .permute({0, 2, 3, 1})
        .reshape({n, h / 2, 2, w / 2, 2, c})
        .permute({0, 1, 3, 5, 2, 4})
        .reshape({n, h / 2, w / 2, c * 4})
        .permute({0, 3, 1, 2});
  return x.reshape({n, c, h / 2, 2, w / 2, 2}).permute({0, 1, 3, 5, 2, 4}).reshape({n, c * 4, h / 2, w / 2});
}

torch::Tensor unsqueeze2x2(const torch::Tensor& x) {
  const auto n = x.size(0), c = x.size(1) / 4, h = x.size(2), w = x.size(3);
  if (layout() == Layout::kChannelsLast)
    return in_layout(x)
        .permute({0, 2, 3, 1})
        .reshape({n, h, w, c, 2, 2})
        .permute({0, 1, 4, 2, 5, 3})
        .reshape({n, h * 2, w * 2, c})
        .permute({0, 3, 1, 2});
  return x.reshape({n, c, 2, 2, h, w}).permute({0, 1, 4, 2, 5, 3}).reshape({n, c, h * 2, w * 2});
}

FlowResult SqueezeImpl::forward(const torch::Tensor& x) {
  return {squeeze2x2(x), torch::zeros({x.size(0)}, x.options())};
}

torch::Tensor SqueezeImpl::inverse(const torch::Tensor& y) { return unsqueeze2x2(y); }

Shape SqueezeImpl::output_shape(const Shape& in) const {
  if (in.size() != 3 || in[1] % 2 != 0 || in[2] % 2 != 0)
    throw ConfigError("model", "squeeze needs an even height and width, got " + shape_string(in));
  return {in[0] * 4, in[1] / 2, in[2] / 2};
}

}  // namespace flowood::flows

#include "flowood/flows/mask.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"

namespace flowood::flows {

// ---- SpatialMask ---------------------------------------------------------------------------

torch::Tensor SpatialMask::update_pattern(int64_t height, int64_t width) const {
  return 1.0 - condition_pattern(height, width);
}

std::pair<torch::Tensor, torch::Tensor> SpatialMask::patterns_like(const torch::Tensor& x) const {
  const auto h = x.size(-2), w = x.size(-1);
  const auto key = std::make_tuple(h, w, static_cast<int>(x.scalar_type()), static_cast<int>(x.device().type()),
                                   static_cast<int>(x.device().index()));
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    const auto opts = x.options().requires_grad(false);
    auto cond = condition_pattern(h, w).to(opts).view({1, 1, h, w});
    auto upd = update_pattern(h, w).to(opts).view({1, 1, h, w});
    it = cache_.emplace(key, std::make_pair(cond, upd)).first;
  }
  return it->second;
}

void SpatialMask::check_shape(const Shape& input) const {
  if (input.size() != 3)
    throw ConfigError("model", fmt::format("{} mask needs images [C, H, W], got {}", describe(), shape_string(input)));
  const auto cond = condition_pattern(input[1], input[2]);
  const auto upd = update_pattern(input[1], input[2]);
  if (cond.sum().item<double>() == 0.0)
    throw ConfigError("model", fmt::format("{} mask on {} has no conditioning pixels", describe(), shape_string(input)));
  if (upd.sum().item<double>() == 0.0)
    throw ConfigError("model", fmt::format("{} mask on {} transforms no pixel", describe(), shape_string(input)));
}

std::pair<torch::Tensor, torch::Tensor> SpatialMask::split(const torch::Tensor& x) const {
  const auto [cond, upd] = patterns_like(x);
  (void)upd;
  return {x * cond, x * (1.0 - cond)};
}

std::pair<torch::Tensor, torch::Tensor> SpatialMask::restrict(const torch::Tensor& s, const torch::Tensor& t) const {
  const auto upd = patterns_like(s).second;
  return {s * upd, t * upd};
}

torch::Tensor SpatialMask::merge(const torch::Tensor& x_id, const torch::Tensor& y_change) const {
  const auto cond = patterns_like(x_id).first;
  return x_id * cond + y_change * (1.0 - cond);
}

std::pair<torch::Tensor, torch::Tensor> SpatialMask::to_full(const torch::Tensor& s, const torch::Tensor& t) const {
  return restrict(s, t);
}

// ---- Checkerboard --------------------------------------------------------------------------

std::string CheckerboardMask::describe() const { return reverse_ ? "checkerboard (reversed)" : "checkerboard"; }

torch::Tensor CheckerboardMask::condition_pattern(int64_t height, int64_t width) const {
  const auto i = torch::arange(height, torch::kLong).view({height, 1});
  const auto j = torch::arange(width, torch::kLong).view({1, width});
  auto odd = ((i + j) % 2).to(torch::kFloat32);  // 1 where i + j is odd: conditions when not reversed
  return reverse_ ? 1.0 - odd : odd;
}

// ---- Channel-wise --------------------------------------------------------------------------

std::string ChannelMask::describe() const { return reverse_ ? "channel-wise (reversed)" : "channel-wise"; }

void ChannelMask::check_shape(const Shape& input) const {
  if (input.size() < 2 || input[0] < 2 || input[0] % 2 != 0)
    throw ConfigError("model", "channel-wise mask needs an even number (>= 2) of channels, got " + shape_string(input));
}

std::pair<torch::Tensor, torch::Tensor> ChannelMask::split(const torch::Tensor& x) const {
  auto halves = x.chunk(2, 1);
  // not reversed: first half changes, second half conditions.
  return reverse_ ? std::make_pair(halves[0], halves[1]) : std::make_pair(halves[1], halves[0]);
}

torch::Tensor ChannelMask::merge(const torch::Tensor& x_id, const torch::Tensor& y_change) const {
  return reverse_ ? torch::cat({x_id, y_change}, 1) : torch::cat({y_change, x_id}, 1);
}

std::pair<torch::Tensor, torch::Tensor> ChannelMask::to_full(const torch::Tensor& s, const torch::Tensor& t) const {
  const auto zs = torch::zeros_like(s), zt = torch::zeros_like(t);
  return {merge(zs, s), merge(zt, t)};
}

// ---- factory -------------------------------------------------------------------------------

std::vector<std::string> mask_names() { return {"checkerboard", "channel"}; }

MaskPtr make_mask(const std::string& name, bool reverse) {
  if (name == "checkerboard") return std::make_shared<CheckerboardMask>(reverse);
  if (name == "channel") return std::make_shared<ChannelMask>(reverse);
  throw ConfigError("model.masks", fmt::format("unknown mask '{}' (valid: {})", name, fmt::join(mask_names(), ", ")));
}

}  // namespace flowood::flows

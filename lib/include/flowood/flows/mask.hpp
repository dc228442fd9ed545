#pragma once
/// Coupling masks (reference-spec §3): which part of the input conditions the st-network and
/// which part is transformed. Masks are data, not modules: they hold no parameters.
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "flowood/flows/flow_layer.hpp"

namespace flowood::flows {

/// A coupling mask. The coupling computes
///   (x_id, x_change) = split(x); (s, t) = restrict(st_net(x_id)); y = merge(x_id, (x_change + t)·eˢ).
class Mask {
 public:
  virtual ~Mask() = default;
  /// e.g. "checkerboard", "checkerboard (reversed)".
  virtual std::string describe() const = 0;
  /// Channels the st-network sees (and the channels of s and t) for a layer input of `channels`.
  virtual int64_t st_channels(int64_t channels) const { return channels; }
  /// The ResNet st-network doubles its normalised input for checkerboard masks only (spec §2.5).
  virtual bool double_after_norm() const { return false; }
  /// Throws ConfigError("model.masks") when the mask cannot apply to this per-example shape.
  virtual void check_shape(const Shape& input) const = 0;
  /// x [N, C, H, W] → (x_id, x_change).
  virtual std::pair<torch::Tensor, torch::Tensor> split(const torch::Tensor& x) const = 0;
  /// Zeroes s and t where nothing is transformed. s, t [N, C', H, W].
  virtual std::pair<torch::Tensor, torch::Tensor> restrict(const torch::Tensor& s, const torch::Tensor& t) const = 0;
  /// Reassembles the layer output from the identity part and the transformed part.
  virtual torch::Tensor merge(const torch::Tensor& x_id, const torch::Tensor& y_change) const = 0;
  /// Lifts s and t [N, C', H, W] to the layer's full shape [N, C, H, W] for visualisation:
  /// positions that are not transformed get s = 0 and t = 0.
  virtual std::pair<torch::Tensor, torch::Tensor> to_full(const torch::Tensor& s, const torch::Tensor& t) const = 0;
};
using MaskPtr = std::shared_ptr<const Mask>;

/// A mask defined by a binary pattern over [H, W]: `condition` marks pixels (1) that the
/// st-network sees and that pass unchanged; `update` marks pixels that are transformed
/// (1 − condition for every mask except the cycle-mask quadrants). All channels share the pattern.
class SpatialMask : public Mask {
 public:
  void check_shape(const Shape& input) const override;
  std::pair<torch::Tensor, torch::Tensor> split(const torch::Tensor& x) const override;
  std::pair<torch::Tensor, torch::Tensor> restrict(const torch::Tensor& s, const torch::Tensor& t) const override;
  torch::Tensor merge(const torch::Tensor& x_id, const torch::Tensor& y_change) const override;
  std::pair<torch::Tensor, torch::Tensor> to_full(const torch::Tensor& s, const torch::Tensor& t) const override;

  /// Pattern of conditioning pixels, [H, W] float {0, 1}, on the CPU.
  virtual torch::Tensor condition_pattern(int64_t height, int64_t width) const = 0;
  /// Pattern of transformed pixels, [H, W]; default 1 − condition.
  virtual torch::Tensor update_pattern(int64_t height, int64_t width) const;

 protected:
  /// condition [1, 1, H, W] and update [1, 1, H, W] matching x's size, dtype and device (cached).
  std::pair<torch::Tensor, torch::Tensor> patterns_like(const torch::Tensor& x) const;

 private:
  mutable std::map<std::tuple<int64_t, int64_t, int, int, int>, std::pair<torch::Tensor, torch::Tensor>> cache_;
};

/// Checkerboard (spec §3): condition where (i + j) is odd; reversed swaps the two.
class CheckerboardMask : public SpatialMask {
 public:
  explicit CheckerboardMask(bool reverse) : reverse_(reverse) {}
  std::string describe() const override;
  bool double_after_norm() const override { return true; }
  torch::Tensor condition_pattern(int64_t height, int64_t width) const override;

 private:
  bool reverse_;
};

/// Channel-wise (spec §3): not reversed, the first half of the channels is transformed and the
/// second half conditions; reversed, the other way round. The st-network sees C/2 channels.
class ChannelMask : public Mask {
 public:
  explicit ChannelMask(bool reverse) : reverse_(reverse) {}
  std::string describe() const override;
  int64_t st_channels(int64_t channels) const override { return channels / 2; }
  void check_shape(const Shape& input) const override;
  std::pair<torch::Tensor, torch::Tensor> split(const torch::Tensor& x) const override;
  std::pair<torch::Tensor, torch::Tensor> restrict(const torch::Tensor& s, const torch::Tensor& t) const override {
    return {s, t};
  }
  torch::Tensor merge(const torch::Tensor& x_id, const torch::Tensor& y_change) const override;
  std::pair<torch::Tensor, torch::Tensor> to_full(const torch::Tensor& s, const torch::Tensor& t) const override;

 private:
  bool reverse_;
};

/// The one factory for masks. `name` is one of mask_names(); throws ConfigError listing them.
MaskPtr make_mask(const std::string& name, bool reverse);
/// Names make_mask accepts.
std::vector<std::string> mask_names();

}  // namespace flowood::flows

#pragma once
/// Coupling masks (reference-spec §3): which part of the input conditions the st-network and
/// which part is transformed. Masks are data, not modules: they hold no parameters. A model's
/// mask sequence is declared in the experiment YAML (see mask_schedule.hpp).
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "flowood/flows/flow_layer.hpp"

namespace flowood::flows {

/// A coupling mask. The coupling computes, on x' = fold(x),
///   (x_id, x_change) = split(x'); (s, t) = restrict(st_net(x_id)); y = unfold(merge(x_id, (x_change + t)·eˢ)).
class Mask {
 public:
  virtual ~Mask() = default;
  /// e.g. "checkerboard", "checkerboard (reversed)", "quadrant 0→1".
  virtual std::string describe() const = 0;
  /// Per-example shape the st-network sees for a layer input `input` (its channels C' are also
  /// the channels of s and t): the input itself, except channel-wise (C/2), sub-quadrant (one
  /// tile) and tabular ([D]).
  virtual Shape st_input_shape(const Shape& input) const { return input; }
  /// The ResNet st-network doubles its normalised input for checkerboard masks only (spec §2.5).
  virtual bool double_after_norm() const { return false; }
  /// Throws ConfigError("model.masks") when the mask cannot apply to this per-example shape.
  virtual void check_shape(const Shape& input) const = 0;
  /// Positions the layer transforms: a float {0, 1} CPU tensor of the per-example shape.
  virtual torch::Tensor transformed(const Shape& input) const = 0;
  /// Reshapes a batch for the st-network and back; identity except sub-quadrant masks, whose
  /// tiles become batch elements (spec §3). `tiles()` tiles per example.
  virtual torch::Tensor fold(const torch::Tensor& x) const { return x; }
  virtual torch::Tensor unfold(const torch::Tensor& x) const { return x; }
  virtual int64_t tiles() const { return 1; }
  /// x → (x_id, x_change).
  virtual std::pair<torch::Tensor, torch::Tensor> split(const torch::Tensor& x) const = 0;
  /// Zeroes s and t where nothing is transformed. s, t [N, C', ...].
  virtual std::pair<torch::Tensor, torch::Tensor> restrict(const torch::Tensor& s, const torch::Tensor& t) const = 0;
  /// Reassembles the layer output from the identity part and the transformed part.
  virtual torch::Tensor merge(const torch::Tensor& x_id, const torch::Tensor& y_change) const = 0;
  /// Lifts unfolded s and t [N, C', ...] to the layer's full shape for visualisation:
  /// positions that are not transformed get s = 0 and t = 0.
  virtual std::pair<torch::Tensor, torch::Tensor> to_full(const torch::Tensor& s, const torch::Tensor& t) const = 0;
};
using MaskPtr = std::shared_ptr<const Mask>;

/// A mask defined by binary patterns over [H, W] shared by all channels: `condition` marks
/// pixels (1) that the st-network sees and that pass unchanged; `update` marks pixels that are
/// transformed (1 − condition for every mask except the cycle-mask quadrants).
class SpatialMask : public Mask {
 public:
  void check_shape(const Shape& input) const override;
  torch::Tensor transformed(const Shape& input) const override;
  std::pair<torch::Tensor, torch::Tensor> split(const torch::Tensor& x) const override;
  std::pair<torch::Tensor, torch::Tensor> restrict(const torch::Tensor& s, const torch::Tensor& t) const override;
  torch::Tensor merge(const torch::Tensor& x_id, const torch::Tensor& y_change) const override;
  std::pair<torch::Tensor, torch::Tensor> to_full(const torch::Tensor& s, const torch::Tensor& t) const override;

  /// Pattern of conditioning pixels, [H, W] float {0, 1}, on the CPU.
  virtual torch::Tensor condition_pattern(int64_t height, int64_t width) const = 0;
  /// Pattern of transformed pixels, [H, W]; default 1 − condition.
  virtual torch::Tensor update_pattern(int64_t height, int64_t width) const;

 protected:
  /// Extra shape requirements of a subclass (called by check_shape with [C, H, W]).
  virtual void check_size(int64_t /*height*/, int64_t /*width*/) const {}
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

/// Horizontal and vertical halves (spec §3). Horizontal: rows [0, H/2) condition and the bottom
/// half is transformed; reversed, the other way round. Vertical: the same with columns (left half
/// conditions when not reversed).
class HalfMask : public SpatialMask {
 public:
  enum class Axis { kHorizontal, kVertical };
  HalfMask(Axis axis, bool reverse) : axis_(axis), reverse_(reverse) {}
  std::string describe() const override;
  torch::Tensor condition_pattern(int64_t height, int64_t width) const override;

 private:
  Axis axis_;
  bool reverse_;
};

/// The cycle-mask building block (spec §3). Quadrants 0 = top-left, 1 = top-right,
/// 2 = bottom-right, 3 = bottom-left (clockwise; the split is at H/2 and W/2). The st-network
/// sees only the input quadrant; only the output quadrant is transformed; the other two pass.
class QuadrantMask : public SpatialMask {
 public:
  QuadrantMask(int input, int output);
  std::string describe() const override;
  torch::Tensor condition_pattern(int64_t height, int64_t width) const override;
  torch::Tensor update_pattern(int64_t height, int64_t width) const override;
  int input() const { return input_; }
  int output() const { return output_; }

 protected:
  void check_size(int64_t height, int64_t width) const override;

 private:
  int input_, output_;
};

/// Sub-quadrant (spec §3): the image is cut into a factor×factor grid of tiles, each tile becomes
/// its own batch element for the st-network, and the quadrant mask applies inside every tile.
/// The log-det of an example is the sum over its tiles; batch norm sees N·factor² tiles.
class SubQuadrantMask : public Mask {
 public:
  SubQuadrantMask(int input, int output, int64_t factor);
  std::string describe() const override;
  Shape st_input_shape(const Shape& input) const override;
  void check_shape(const Shape& input) const override;
  torch::Tensor transformed(const Shape& input) const override;
  torch::Tensor fold(const torch::Tensor& x) const override;
  torch::Tensor unfold(const torch::Tensor& x) const override;
  int64_t tiles() const override { return factor_ * factor_; }
  std::pair<torch::Tensor, torch::Tensor> split(const torch::Tensor& x) const override { return inner_.split(x); }
  std::pair<torch::Tensor, torch::Tensor> restrict(const torch::Tensor& s, const torch::Tensor& t) const override {
    return inner_.restrict(s, t);
  }
  torch::Tensor merge(const torch::Tensor& x_id, const torch::Tensor& y_change) const override {
    return inner_.merge(x_id, y_change);
  }
  /// s and t given unfolded are already zero outside the transformed positions.
  std::pair<torch::Tensor, torch::Tensor> to_full(const torch::Tensor& s, const torch::Tensor& t) const override {
    return {s, t};
  }

 private:
  QuadrantMask inner_;
  int64_t factor_;
};

/// Center (spec §3): the centre [margin, H − margin) × [margin, W − margin) conditions and the
/// border is transformed; reversed, the border conditions and the centre is transformed. (The
/// reference ignores `reverse` for this mask; flowood honours it — docs/architecture.md.)
class CenterMask : public SpatialMask {
 public:
  CenterMask(int64_t margin, bool reverse) : margin_(margin), reverse_(reverse) {}
  std::string describe() const override;
  torch::Tensor condition_pattern(int64_t height, int64_t width) const override;

 protected:
  void check_size(int64_t height, int64_t width) const override;

 private:
  int64_t margin_;
  bool reverse_;
};

/// A user's mask read from a PNG (grayscale; pixels > 127 condition) or an NPY file ([H, W];
/// non-zero conditions). Reversed swaps the two. The image size must match the layer's.
class FileMask : public SpatialMask {
 public:
  /// Reads the file now; IoError(path) when it cannot be read or is not a 2-D binary pattern.
  FileMask(std::string path, bool reverse);
  std::string describe() const override;
  torch::Tensor condition_pattern(int64_t height, int64_t width) const override;

 protected:
  void check_size(int64_t height, int64_t width) const override;

 private:
  std::string path_;
  bool reverse_;
  torch::Tensor pattern_;  ///< [H, W] float {0, 1}: 1 = conditions (before reversal)
};

/// Channel-wise (spec §3): not reversed, the first half of the channels is transformed and the
/// second half conditions; reversed, the other way round. The st-network sees C/2 channels.
class ChannelMask : public Mask {
 public:
  explicit ChannelMask(bool reverse) : reverse_(reverse) {}
  std::string describe() const override;
  Shape st_input_shape(const Shape& input) const override;
  void check_shape(const Shape& input) const override;
  torch::Tensor transformed(const Shape& input) const override;
  std::pair<torch::Tensor, torch::Tensor> split(const torch::Tensor& x) const override;
  std::pair<torch::Tensor, torch::Tensor> restrict(const torch::Tensor& s, const torch::Tensor& t) const override {
    return {s, t};
  }
  torch::Tensor merge(const torch::Tensor& x_id, const torch::Tensor& y_change) const override;
  std::pair<torch::Tensor, torch::Tensor> to_full(const torch::Tensor& s, const torch::Tensor& t) const override;

 private:
  bool reverse_;
};

/// Tabular (spec §3) for [N, D] inputs: not reversed, the first D/2 features condition and the
/// rest are transformed; reversed, the other way round. The st-network sees all D (zeros where
/// masked).
class TabularMask : public Mask {
 public:
  explicit TabularMask(bool reverse) : reverse_(reverse) {}
  std::string describe() const override;
  void check_shape(const Shape& input) const override;
  torch::Tensor transformed(const Shape& input) const override;
  std::pair<torch::Tensor, torch::Tensor> split(const torch::Tensor& x) const override;
  std::pair<torch::Tensor, torch::Tensor> restrict(const torch::Tensor& s, const torch::Tensor& t) const override;
  torch::Tensor merge(const torch::Tensor& x_id, const torch::Tensor& y_change) const override;
  std::pair<torch::Tensor, torch::Tensor> to_full(const torch::Tensor& s, const torch::Tensor& t) const override {
    return restrict(s, t);
  }

 private:
  /// condition pattern [1, D] like x.
  torch::Tensor condition_like(const torch::Tensor& x) const;
  bool reverse_;
};

/// Builds one of the simple masks by name and orientation ("checkerboard", "channel",
/// "horizontal", "vertical", "center", "tabular"); ConfigError("model.masks") otherwise.
MaskPtr make_mask(const std::string& name, bool reverse);

}  // namespace flowood::flows

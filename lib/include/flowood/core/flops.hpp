#pragma once
/// Counting the floating-point work of a forward pass from the layers that do it.
///
/// Convolution and Linear layers report their work while a `flops::Counter` is alive on the
/// calling thread; nothing else is counted (element-wise ops, batch norm, the coupling's affine
/// update and log-det are cheap by comparison). A multiply-add is 2 FLOPs and bias additions are
/// not counted — the convention of reference-cpu.md (FashionMNIST RealNVP: 7.406 GFLOP per image).
/// With no Counter alive anywhere, each report costs one relaxed atomic load and a branch.
#include <atomic>
#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace flowood::flops {

namespace detail {
/// Number of live Counters in the process: the one thing the disabled path reads.
extern std::atomic<int> g_live_counters;
void add_conv2d_slow(const at::Tensor& input, const at::Tensor& weight);
void add_linear_slow(const at::Tensor& input, const at::Tensor& weight);
}  // namespace detail

/// True while some Counter is alive (on any thread).
inline bool enabled() noexcept { return detail::g_live_counters.load(std::memory_order_relaxed) != 0; }

/// A stride-1 "same" convolution (every convolution of the flows): input [N, C_in, H, W], weight
/// [C_out, C_in/groups, kh, kw] (or [C_out, C_in] for a 1×1 convolution's matrix) →
/// 2·N·H·W·C_out·(C_in/groups·kh·kw) FLOPs. Reads only shapes.
inline void add_conv2d(const at::Tensor& input, const at::Tensor& weight) {
  if (enabled()) detail::add_conv2d_slow(input, weight);
}

/// A Linear layer applied once per example: input [N, ...] (N rows, each example's features
/// flattened), weight [out, in] → 2·N·out·in FLOPs. Reads only shapes.
inline void add_linear(const at::Tensor& input, const at::Tensor& weight) {
  if (enabled()) detail::add_linear_slow(input, weight);
}

/// One distinct convolution a forward pass ran: per-example input [in_channels, height, width],
/// kernel [out_channels, in_channels, kernel, kernel] ("same" padding, stride 1), and how often.
struct ConvShape {
  int64_t in_channels = 0, out_channels = 0, kernel = 0, height = 0, width = 0;
  int64_t calls = 0;
  bool same_as(const ConvShape& o) const {
    return in_channels == o.in_channels && out_channels == o.out_channels && kernel == o.kernel && height == o.height &&
           width == o.width;
  }
};

/// Counts the work reported on this thread while it is alive. Counters nest: an inner Counter's
/// work is added to the enclosing one when it ends. Not copyable; end it on the thread that
/// made it.
class Counter {
 public:
  Counter();
  ~Counter();
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  /// FLOPs of convolutions so far.
  int64_t conv() const noexcept { return conv_; }
  /// FLOPs of Linear layers and matmuls so far.
  int64_t linear() const noexcept { return linear_; }
  /// Everything so far.
  int64_t total() const noexcept { return conv_ + linear_; }
  /// The distinct convolutions so far, in order of first use (what the layout choice times).
  const std::vector<ConvShape>& conv_shapes() const noexcept { return shapes_; }

 private:
  friend void detail::add_conv2d_slow(const at::Tensor&, const at::Tensor&);
  friend void detail::add_linear_slow(const at::Tensor&, const at::Tensor&);
  Counter* parent_ = nullptr;
  int64_t conv_ = 0;
  int64_t linear_ = 0;
  std::vector<ConvShape> shapes_;
  void add_shape(const ConvShape& shape);
};

}  // namespace flowood::flops

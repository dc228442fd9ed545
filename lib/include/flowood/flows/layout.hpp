#pragma once
/// Memory layout of the flows' 4-D activations: NCHW (PyTorch's default) or channels-last
/// (NHWC in memory, the same logical [N, C, H, W] tensor). The layout changes strides only, never
/// a value's position in the logical tensor, so the log-likelihoods agree to rounding either way;
/// which one is faster depends on the CPU (oneDNN's channels-last 3×3 convolutions win on AVX-512
/// and lose or tie on AVX2). A process-wide setting like the st-network precision: the verbs set
/// it once (from the config's `layout`, or by measurement for `auto`) before building work.
#include <string>

#include <ATen/core/Tensor.h>

namespace flowood::flows {

enum class Layout { kNchw, kChannelsLast };

/// "nchw" / "channels-last" → the layout; throws flowood::ConfigError naming `key` otherwise.
Layout parse_layout(const std::string& name, const std::string& key = "layout");
std::string layout_name(Layout layout);

void set_layout(Layout layout);
Layout layout();

/// A 4-D tensor in the process-wide layout (no copy when it already is); others unchanged.
at::Tensor in_layout(const at::Tensor& x);

/// A convolution's input in the process-wide layout. Channels-last with autograd: LibTorch's CPU
/// convolution returns the input's gradient NCHW whatever the input's layout, and every
/// element-wise backward before it (ReLU, batch norm, additions) would then mix NCHW gradients
/// with channels-last activations, which is several times slower; a gradient hook turns that
/// gradient channels-last at once.
at::Tensor conv_input(const at::Tensor& x);

/// While alive on this thread, a forward pass is a probe of the model's shapes (the layout choice
/// counting its convolutions): layers that initialise from their first training batch (Glow's
/// ActNorm) neither initialise from it nor refuse to run uninitialised.
class ShapeProbe {
 public:
  ShapeProbe();
  ~ShapeProbe();
  ShapeProbe(const ShapeProbe&) = delete;
  ShapeProbe& operator=(const ShapeProbe&) = delete;
  /// True inside a ShapeProbe on this thread.
  static bool active();

 private:
  bool was_active_;
};

}  // namespace flowood::flows

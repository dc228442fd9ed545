#include "flowood/core/flops.hpp"

namespace flowood::flops {
namespace {
// The innermost live Counter of this thread (work reported on other threads is not counted).
thread_local Counter* t_current = nullptr;
}  // namespace

namespace detail {
std::atomic<int> g_live_counters{0};

void add_conv2d_slow(const at::Tensor& input, const at::Tensor& weight) {
  Counter* c = t_current;
  if (c == nullptr || input.dim() < 3 || weight.dim() < 1 || weight.size(0) == 0) return;
  const int64_t n = input.dim() == 4 ? input.size(0) : 1;
  const int64_t pixels = input.size(-1) * input.size(-2);
  const int64_t out_channels = weight.size(0);
  const int64_t fan_in = weight.numel() / out_channels;
  c->conv_ += 2 * n * pixels * out_channels * fan_in;
  ConvShape shape;
  shape.in_channels = input.size(-3);
  shape.out_channels = out_channels;
  shape.kernel = weight.dim() == 4 ? weight.size(-1) : 1;
  shape.height = input.size(-2);
  shape.width = input.size(-1);
  shape.calls = 1;
  c->add_shape(shape);
}

void add_linear_slow(const at::Tensor& input, const at::Tensor& weight) {
  Counter* c = t_current;
  if (c == nullptr || input.dim() < 1) return;
  c->linear_ += 2 * input.size(0) * weight.numel();
}
}  // namespace detail

Counter::Counter() : parent_(t_current) {
  t_current = this;
  detail::g_live_counters.fetch_add(1, std::memory_order_relaxed);
}

void Counter::add_shape(const ConvShape& shape) {
  for (auto& s : shapes_)
    if (s.same_as(shape)) {
      s.calls += shape.calls;
      return;
    }
  shapes_.push_back(shape);
}

Counter::~Counter() {
  t_current = parent_;
  if (parent_) {
    parent_->conv_ += conv_;
    parent_->linear_ += linear_;
    for (const auto& s : shapes_) parent_->add_shape(s);
  }
  detail::g_live_counters.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace flowood::flops

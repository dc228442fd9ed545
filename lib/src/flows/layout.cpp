#include "flowood/flows/layout.hpp"

#include <atomic>
#include <utility>

#include "flowood/core/error.hpp"

namespace flowood::flows {
namespace {
std::atomic<Layout> g_layout{Layout::kNchw};
thread_local bool t_probing = false;
}  // namespace

Layout parse_layout(const std::string& name, const std::string& key) {
  if (name == "nchw") return Layout::kNchw;
  if (name == "channels-last") return Layout::kChannelsLast;
  throw ConfigError(key, "must be nchw or channels-last (got '" + name + "')");
}

std::string layout_name(Layout layout) { return layout == Layout::kChannelsLast ? "channels-last" : "nchw"; }

void set_layout(Layout layout) { g_layout.store(layout); }
Layout layout() { return g_layout.load(); }

at::Tensor in_layout(const at::Tensor& x) {
  if (x.dim() != 4) return x;
  return x.contiguous(layout() == Layout::kChannelsLast ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous);
}

at::Tensor conv_input(const at::Tensor& x) {
  auto in = in_layout(x);
  if (layout() == Layout::kChannelsLast && in.requires_grad())
    in.register_hook([](const at::Tensor& grad) { return grad.contiguous(at::MemoryFormat::ChannelsLast); });
  return in;
}

ShapeProbe::ShapeProbe() : was_active_(std::exchange(t_probing, true)) {}
ShapeProbe::~ShapeProbe() { t_probing = was_active_; }
bool ShapeProbe::active() { return t_probing; }

}  // namespace flowood::flows

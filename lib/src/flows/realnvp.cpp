#include "flowood/flows/realnvp.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/flows/coupling.hpp"
#include "flowood/flows/squeeze.hpp"

namespace flowood::flows {
namespace {
void add_coupling(MultiScaleFlowImpl& body, const std::string& mask, bool reverse, const StNetOptions& st) {
  body.add(std::make_shared<AffineCouplingImpl>(make_mask(mask, reverse), st, body.current_shape()));
}
}  // namespace

FlowModel build_realnvp(const RealNVPOptions& o) {
  if (o.in_shape.size() != 3) throw ConfigError("model.in_shape", "RealNVP needs [C, H, W]");
  if (o.num_scales < 1) throw ConfigError("model.num_scales", "must be >= 1");
  auto body = std::make_shared<MultiScaleFlowImpl>(o.in_shape);
  StNetOptions st = o.st;
  for (int64_t scale = 0; scale < o.num_scales; ++scale) {
    for (bool reverse : {false, true, false}) add_coupling(*body, "checkerboard", reverse, st);
    if (scale == o.num_scales - 1) {
      add_coupling(*body, "checkerboard", true, st);
    } else {
      body->add(std::make_shared<SqueezeImpl>());
      st.mid_channels *= 2;  // stays doubled for the next scale (spec §10.13)
      for (bool reverse : {false, true, false}) add_coupling(*body, "channel", reverse, st);
      body->factor_out(body->current_shape()[0] / 2);
    }
  }
  return FlowModel(body, Preprocessing::kLogit,
                   fmt::format("realnvp ({} scales, {} blocks, mid {})", o.num_scales, o.st.num_blocks, o.st.mid_channels));
}

std::vector<std::string> flow_names() { return {"realnvp"}; }

FlowModel make_flow(const config::ModelConfig& m) {
  StNetOptions st;
  st.type = m.st_net;
  st.mid_channels = m.mid_channels;
  st.num_blocks = m.num_blocks;
  st.batch_norm = m.batch_norm;
  st.skip = m.skip;
  if (m.flow == "realnvp") return build_realnvp({m.in_shape, m.num_scales, st});
  throw ConfigError("model.flow", fmt::format("unknown flow '{}' (valid: {})", m.flow, fmt::join(flow_names(), ", ")));
}

}  // namespace flowood::flows

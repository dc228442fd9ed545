#include "flowood/flows/factory.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/flows/glow.hpp"
#include "flowood/flows/realnvp.hpp"

namespace flowood::flows {

std::vector<std::string> flow_names() { return {"realnvp", "coupling", "glow", "tabular"}; }

bool flow_is_tabular(const std::string& flow) { return flow == "tabular"; }

FlowModel make_flow(const config::ModelConfig& m) {
  StNetOptions st;
  st.type = m.st_net;
  st.mid_channels = m.mid_channels;
  st.num_blocks = m.num_blocks;
  st.batch_norm = m.batch_norm;
  st.skip = m.skip;
  st.bottleneck_dim = m.bottleneck_dim;
  st.dropout = m.dropout;
  if (m.flow == "realnvp") return build_realnvp({m.in_shape, m.num_scales, st});
  if (m.flow == "coupling" || m.flow == "tabular") return build_coupling_stack({m.in_shape, m.masks, st, m.standardize}, m.flow);
  if (m.flow == "glow") {
    GlowOptions g;
    g.in_shape = m.in_shape;
    g.num_scales = m.num_scales;
    g.num_steps = m.num_steps;
    g.multi_scale = m.multi_scale;
    g.lu = m.conv_lu;
    g.st = st;
    return build_glow(g);
  }
  throw ConfigError("model.flow", fmt::format("unknown flow '{}' (valid: {})", m.flow, fmt::join(flow_names(), ", ")));
}

}  // namespace flowood::flows

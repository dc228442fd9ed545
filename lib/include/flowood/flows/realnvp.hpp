#pragma once
/// Multi-scale RealNVP (reference-spec §4.1) and the flow factory.
#include <string>
#include <vector>

#include "flowood/config/experiment.hpp"
#include "flowood/flows/flow_model.hpp"
#include "flowood/flows/st_net.hpp"

namespace flowood::flows {

struct RealNVPOptions {
  Shape in_shape = {1, 28, 28};  ///< [C, H, W]
  int64_t num_scales = 2;        ///< S
  StNetOptions st;               ///< type, mid_channels (first scale), num_blocks, batch_norm, skip
};

/// Per scale: 3 checkerboard couplings (reverse F, T, F); then on the last scale one more
/// checkerboard (reverse T), otherwise squeeze, double the width, 3 channel-wise couplings
/// (F, T, F) and factor out half the channels. 6(S−1) + 4 couplings.
FlowModel build_realnvp(const RealNVPOptions& options);

/// The one factory for flows: builds the model a ModelConfig describes (initialised from the
/// global LibTorch RNG; seed it first). Throws ConfigError naming the key.
FlowModel make_flow(const config::ModelConfig& model);
/// Names make_flow accepts for model.flow.
std::vector<std::string> flow_names();

}  // namespace flowood::flows

#pragma once
/// Multi-scale RealNVP (reference-spec §4.1) and the fixed-size coupling stacks (§4.3, §4.4).
#include <string>
#include <vector>

#include "flowood/flows/flow_model.hpp"
#include "flowood/flows/st_net.hpp"

namespace flowood::flows {

struct RealNVPOptions {
  Shape in_shape = {1, 28, 28};  ///< [C, H, W]
  int64_t num_scales = 2;        ///< S
  StNetOptions st;               ///< type, mid_channels (first scale), num_blocks, batch_norm, skip, …
};

/// Per scale: 3 checkerboard couplings (reverse F, T, F); then on the last scale one more
/// checkerboard (reverse T), otherwise squeeze, double the width, 3 channel-wise couplings
/// (F, T, F) and factor out half the channels. 6(S−1) + 4 couplings.
FlowModel build_realnvp(const RealNVPOptions& options);

struct CouplingStackOptions {
  Shape in_shape = {1, 28, 28};      ///< [C, H, W] images, or [D] tabular vectors
  std::vector<std::string> masks;    ///< model.masks entries (mask_schedule.hpp), one layer per mask
  StNetOptions st;
  bool standardize = false;          ///< tabular only: a first Standardize layer (standardize.hpp)
};

/// A stack of affine couplings on the full input, no squeeze and no factor-out (spec §4.3: the
/// mask-study models; §4.4: the tabular RealNVP). Images get dequantisation + logit
/// preprocessing; tabular vectors none. `family` names it ("coupling" or "tabular").
FlowModel build_coupling_stack(const CouplingStackOptions& options, const std::string& family = "coupling");

}  // namespace flowood::flows

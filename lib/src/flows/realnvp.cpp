#include "flowood/flows/realnvp.hpp"

#include <fmt/format.h>

#include "flowood/core/error.hpp"
#include "flowood/flows/coupling.hpp"
#include "flowood/flows/mask_schedule.hpp"
#include "flowood/flows/squeeze.hpp"
#include "flowood/flows/standardize.hpp"

namespace flowood::flows {
namespace {
void add_coupling(MultiScaleFlowImpl& body, MaskPtr mask, const StNetOptions& st) {
  body.add(std::make_shared<AffineCouplingImpl>(std::move(mask), st, body.current_shape()));
}
}  // namespace

FlowModel build_realnvp(const RealNVPOptions& o) {
  if (o.in_shape.size() != 3) throw ConfigError("model.in_shape", "RealNVP needs [C, H, W]");
  if (o.num_scales < 1) throw ConfigError("model.num_scales", "must be >= 1");
  auto body = std::make_shared<MultiScaleFlowImpl>(o.in_shape);
  StNetOptions st = o.st;
  for (int64_t scale = 0; scale < o.num_scales; ++scale) {
    for (bool reverse : {false, true, false}) add_coupling(*body, make_mask("checkerboard", reverse), st);
    if (scale == o.num_scales - 1) {
      add_coupling(*body, make_mask("checkerboard", true), st);
    } else {
      body->add(std::make_shared<SqueezeImpl>());
      st.mid_channels *= 2;  // stays doubled for the next scale (spec §10.13)
      for (bool reverse : {false, true, false}) add_coupling(*body, make_mask("channel", reverse), st);
      body->factor_out(body->current_shape()[0] / 2);
    }
  }
  std::string st_name = o.st.type == "resnet" ? "" : ", " + o.st.type;
  if (o.st.type == "resnet-bottleneck") st_name += fmt::format(" l = {}", o.st.bottleneck_dim);
  return FlowModel(body, Preprocessing::kLogit,
                   fmt::format("realnvp ({} scales, {} blocks, mid {}{})", o.num_scales, o.st.num_blocks,
                               o.st.mid_channels, st_name),
                   "realnvp");
}

FlowModel build_coupling_stack(const CouplingStackOptions& o, const std::string& family) {
  if (o.masks.empty()) throw ConfigError("model.masks", "a coupling stack needs at least one mask");
  const auto masks = parse_masks(o.masks, o.in_shape);
  auto body = std::make_shared<MultiScaleFlowImpl>(o.in_shape);
  const bool tabular = o.in_shape.size() == 1;
  if (o.standardize) {
    if (!tabular) throw ConfigError("model.standardize", "is for tabular flows ([D] inputs)");
    body->add(std::make_shared<StandardizeImpl>(o.in_shape[0]));
  }
  for (const auto& mask : masks) add_coupling(*body, mask, o.st);
  return FlowModel(body, tabular ? Preprocessing::kNone : Preprocessing::kLogit,
                   fmt::format("{} stack of {} couplings ({} st-net, mid {}, blocks {})", family, masks.size(),
                               o.st.type, o.st.mid_channels, o.st.num_blocks),
                   family);
}

}  // namespace flowood::flows

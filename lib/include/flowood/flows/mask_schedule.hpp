#pragma once
/// A flow's mask sequence declared as data (the `model.masks` list of the experiment YAML).
///
/// Each entry is a mask with its options, optionally repeated:
///   checkerboard            checkerboard:reverse       channel[:reverse]
///   horizontal[:reverse]    vertical[:reverse]         tabular[:reverse]
///   center[:reverse][:margin=N]                        (margin default 4)
///   quadrant:A>B            sub-quadrant:A>B[:factor=N] (quadrants 0..3 clockwise from top-left)
///   file:PATH[:reverse]     (PNG: pixels > 127 condition; NPY [H, W]: non-zero conditions)
///   cycle                   the cycle-mask schedule: quadrant 0>1, 1>2, 2>3, 3>0
/// and " xK" after any entry repeats it K times, continuing its schedule: an oriented mask
/// alternates its orientation (checkerboard x8 = F, T, F, T, …), a quadrant mask advances
/// clockwise (quadrant:0>1 x8 = cycle x2).
#include <string>
#include <vector>

#include "flowood/flows/mask.hpp"

namespace flowood::flows {

/// Most coupling layers a masks list may make (a guard against a typo like "checkerboard x3000000").
inline constexpr int64_t kMaxCouplingLayers = 1024;

/// One mask per coupling layer, each checked against the per-example `input` shape (coupling
/// stacks keep the shape). Throws ConfigError("model.masks[i]", …) naming the offending entry.
std::vector<MaskPtr> parse_masks(const std::vector<std::string>& entries, const Shape& input);

/// "" when every position is transformed by some layer, otherwise a sentence saying how many
/// positions never are and where the first one is.
std::string coverage_warning(const std::vector<MaskPtr>& masks, const Shape& input);

/// The mask names parse_masks knows (for help texts and errors).
std::vector<std::string> mask_names();

}  // namespace flowood::flows

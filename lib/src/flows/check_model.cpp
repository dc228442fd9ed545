// Validation of model.* (joined with the other sections in experiment/validate.hpp).
#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/device.hpp"
#include "flowood/core/error.hpp"
#include "flowood/flows/factory.hpp"
#include "flowood/flows/mask_schedule.hpp"
#include "flowood/flows/st_net.hpp"

namespace flowood::flows {
namespace {
template <class T>
void at_least(std::vector<config::ConfigProblem>& out, const std::string& key, T value, T min) {
  if (value < min) out.push_back({key, fmt::format("must be >= {} (got {})", min, value)});
}
void one_of(std::vector<config::ConfigProblem>& out, const std::string& key, const std::string& value,
            const std::vector<std::string>& valid) {
  for (const auto& v : valid)
    if (v == value) return;
  out.push_back({key, fmt::format("must be one of {} (got '{}')", fmt::join(valid, ", "), value)});
}
}  // namespace

std::vector<config::ConfigProblem> check_model(const config::ModelConfig& m) {
  std::vector<config::ConfigProblem> p;
  one_of(p, "model.flow", m.flow, flow_names());
  one_of(p, "model.st_net", m.st_net, st_net_names());
  const bool tabular = flow_is_tabular(m.flow);
  const size_t rank = tabular ? 1 : 3;
  bool shape_ok = false;
  if (m.in_shape.size() != rank) {
    p.push_back({"model.in_shape", fmt::format("must be {} (got {} values)", tabular ? "[D] for flow tabular" : "[C, H, W]",
                                               m.in_shape.size())});
  } else if (std::any_of(m.in_shape.begin(), m.in_shape.end(), [](int64_t d) { return d < 1; })) {
    p.push_back({"model.in_shape", fmt::format("must be positive (got [{}])", fmt::join(m.in_shape, ", "))});
  } else {
    shape_ok = true;
  }
  const auto& st_names = st_net_names();
  const bool known_st = std::find(st_names.begin(), st_names.end(), m.st_net) != st_names.end();
  if (known_st && st_net_is_tabular(m.st_net) != tabular)
    p.push_back({"model.st_net", tabular ? fmt::format("must be mlp for flow tabular (got '{}')", m.st_net)
                                         : fmt::format("mlp is for flow tabular, not {} (use a convolutional "
                                                       "st-network)",
                                                       m.flow)});
  at_least<int64_t>(p, "model.num_scales", m.num_scales, 1);
  at_least<int64_t>(p, "model.num_steps", m.num_steps, 1);
  at_least<int64_t>(p, "model.num_blocks", m.num_blocks, 1);
  at_least<int64_t>(p, "model.mid_channels", m.mid_channels, 1);
  at_least<int64_t>(p, "model.bottleneck_dim", m.bottleneck_dim, 1);
  // Upper bounds: a typo (an extra zero or three) must be a config error, not an allocation of
  // terabytes. Far above any model the paper or its follow-ups train.
  const auto at_most = [&](const char* key, int64_t value, int64_t max) {
    if (value > max) p.push_back({key, fmt::format("must be <= {} (got {})", max, value)});
  };
  at_most("model.num_steps", m.num_steps, 512);
  at_most("model.num_blocks", m.num_blocks, 512);
  at_most("model.mid_channels", m.mid_channels, 16384);
  at_most("model.bottleneck_dim", m.bottleneck_dim, 1 << 20);
  for (size_t i = 0; i < m.in_shape.size(); ++i) at_most("model.in_shape", m.in_shape[i], 1 << 20);
  {
    // Parameters of the st-networks, roughly (3×3 convolutions of width w, or w×w Linear layers for
    // mlp): refuse what would not fit in memory long before LibTorch tries to allocate it.
    const double w = static_cast<double>(std::min<int64_t>(m.mid_channels, 16384));
    const double per_block = st_net_is_tabular(m.st_net) ? w * w : 18.0 * w * w;
    double layers = 0, width_factor = 1;  // width_factor: mean of (width / mid_channels)² over the layers
    if (m.flow == "realnvp" && m.num_scales <= 20) {
      // realnvp doubles the st-network width at each squeeze: 6 couplings per scale, 4 at the last.
      double weighted = 0;
      for (int64_t s = 0; s < m.num_scales; ++s) {
        const double couplings = s + 1 < m.num_scales ? 6 : 4;
        layers += couplings;
        weighted += couplings * std::pow(4.0, static_cast<double>(s));
      }
      width_factor = weighted / layers;
    } else if (m.flow == "glow") {
      layers = static_cast<double>(std::min<int64_t>(m.num_steps, 512) * std::min<int64_t>(m.num_scales, 20));
    } else {
      for (const auto& entry : m.masks) {  // "MASK xK" counts K layers (cycle: 4 per repeat)
        const auto x = entry.rfind(" x");
        double k = 1;
        try {
          if (x != std::string::npos) k = std::stod(entry.substr(x + 2));
        } catch (const std::exception&) {
        }
        layers += std::min(k, 1024.0) * (entry.rfind("cycle", 0) == 0 ? 4 : 1);
      }
    }
    const double estimate = layers * std::min<int64_t>(m.num_blocks, 512) * per_block * width_factor;
    if (const auto limit = parameter_limit(); estimate > limit.parameters)
      p.push_back({"model.mid_channels",
                   fmt::format("with model.num_blocks {} this model would have about {:.2g} parameters ({:.1f} GB to train "
                               "in float32 with Adam), more than {:.2g} ({}); choose a smaller width or depth, or set "
                               "FLOWOOD_MAX_PARAMETERS",
                               m.num_blocks, estimate, estimate * 16 / 1e9, limit.parameters, limit.why)});
  }
  if (!(m.dropout >= 0 && m.dropout < 1)) p.push_back({"model.dropout", fmt::format("must be in [0, 1) (got {})", m.dropout)});
  if (m.standardize && !tabular)
    p.push_back({"model.standardize", fmt::format("is for flow tabular (feature rows), not {}", m.flow)});
  if ((m.flow == "realnvp" || m.flow == "glow") && shape_ok && m.num_scales >= 1) {
    // realnvp squeezes 2×2 after each scale but the last, glow before each: H and W must be
    // divisible by 2^squeezes. Past 2^61 the factor no longer fits in int64_t (shifting by 63 or
    // more is undefined), and no image does.
    const int64_t squeezes = m.flow == "glow" ? m.num_scales : m.num_scales - 1;
    bool fits = squeezes < 62;
    if (fits) {
      const int64_t factor = int64_t{1} << squeezes;
      fits = m.in_shape[1] % factor == 0 && m.in_shape[2] % factor == 0;
    }
    if (!fits)
      p.push_back({"model.num_scales", fmt::format("{} scales need H and W divisible by {} (in_shape is [{}])",
                                                   m.num_scales,
                                                   squeezes < 62 ? std::to_string(int64_t{1} << squeezes)
                                                                 : fmt::format("2^{}", squeezes),
                                                   fmt::join(m.in_shape, ", "))});
  }
  std::vector<config::ConfigProblem> warnings;
  if (m.flow == "coupling" || m.flow == "tabular") {
    if (m.masks.empty()) {
      p.push_back({"model.masks", fmt::format("flow {} needs a list of masks, e.g. [{}]", m.flow,
                                              tabular ? "tabular x8" : "checkerboard x8")});
    } else if (shape_ok) {
      try {
        const auto masks = parse_masks(m.masks, m.in_shape);
        if (const auto w = coverage_warning(masks, m.in_shape); !w.empty())
          warnings.push_back({"model.masks", w, true});
      } catch (const ConfigError& e) {
        std::string what = e.what();
        if (what.rfind(e.key() + ": ", 0) == 0) what = what.substr(e.key().size() + 2);
        p.push_back({e.key(), what});
      }
    }
  } else if (!m.masks.empty()) {
    p.push_back({"model.masks", fmt::format("is only used by flows coupling and tabular (flow {} has its own masks)",
                                            m.flow)});
  }

  p.insert(p.end(), warnings.begin(), warnings.end());
  return p;
}

}  // namespace flowood::flows

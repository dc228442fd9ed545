#pragma once
/// Which memory layout (flows/layout.hpp) a model runs in on this machine. The config's `layout`
/// (or the FLOWOOD_LAYOUT environment variable, which wins) names one, or `auto` measures: the
/// model's own convolutions — the distinct shapes of one forward pass, each counted as often as it
/// runs — are timed at the working batch in NCHW and in channels-last (forward for scoring,
/// forward and backward for training), and channels-last is kept when it is at least 5 % faster.
/// A measurement is cached per machine in the flowood cache directory (layout-choices.json), keyed
/// by the CPU, threads, device, precision, work, batch and shapes, so later commands reuse it
/// (and reruns compute in the same layout).
#include <cstdint>
#include <string>

#include <torch/types.h>

#include "flowood/config/experiment.hpp"
#include "flowood/flows/flow_model.hpp"
#include "flowood/flows/layout.hpp"

namespace flowood::experiment {

/// Environment variable overriding the config's layout: auto, nchw or channels-last.
inline constexpr const char* kLayoutEnvVar = "FLOWOOD_LAYOUT";

enum class LayoutWork { kTrain, kScore };

struct LayoutChoice {
  flows::Layout layout = flows::Layout::kNchw;
  std::string source;             ///< "config", "FLOWOOD_LAYOUT", "measured", "cached", "no convolutions"
  double nchw_ms = 0;             ///< one batch's convolutions in NCHW (0 when not measured)
  double channels_last_ms = 0;    ///< the same in channels-last
  int64_t shapes = 0;             ///< distinct convolution shapes timed
  /// "channels-last (measured: convolutions 412.0 ms NCHW, 251.3 ms channels-last per batch of 32)".
  std::string describe() const;
};

/// The layout for `model` doing `work` at `batch` on `device`: `setting` (auto, nchw or
/// channels-last; FLOWOOD_LAYOUT overrides it) or, for auto, the cached or new measurement.
/// A model without convolutions (tabular flows) is NCHW. Throws ConfigError naming `key` for an
/// unknown setting.
LayoutChoice choose_layout(const std::string& setting, flows::FlowModelImpl& model, LayoutWork work, int64_t batch,
                           const torch::Device& device, const std::string& key = "layout");

/// choose_layout with the config's `layout`, then makes it the process-wide layout and logs it.
LayoutChoice apply_layout(const config::ExperimentConfig& config, flows::FlowModelImpl& model, LayoutWork work,
                          int64_t batch, const torch::Device& device);

}  // namespace flowood::experiment

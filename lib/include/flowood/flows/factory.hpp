#pragma once
/// The one factory for flows: model.flow → a built model.
#include <string>
#include <vector>

#include "flowood/config/experiment.hpp"
#include "flowood/flows/flow_model.hpp"

namespace flowood::flows {

/// Builds the model a ModelConfig describes (initialised from the global LibTorch RNG; seed it
/// first). Throws ConfigError naming the key.
FlowModel make_flow(const config::ModelConfig& model);
/// Names make_flow accepts for model.flow.
std::vector<std::string> flow_names();
/// Whether the flow takes tabular vectors [D] rather than images [C, H, W].
bool flow_is_tabular(const std::string& flow);
/// Every problem of model.* (names, shapes, scales, masks), then its warnings (warning = true).
/// experiment::validate joins it with the other sections.
std::vector<config::ConfigProblem> check_model(const config::ModelConfig& model);

}  // namespace flowood::flows

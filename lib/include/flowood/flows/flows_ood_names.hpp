#pragma once
/// The names the authors' code (reference-spec §4; its state_dict) gives each parameter and buffer
/// of a flowood model, and loading such a state dict into a flowood model. docs/import.md gives
/// the correspondence with examples.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "flowood/flows/flow_model.hpp"

namespace flowood::flows {

/// (flowood name, the authors' name) for every parameter and buffer the authors' model has, in
/// flowood's registration order. The authors' names are as their model's state_dict() writes them,
/// without the "module." prefix of a DataParallel wrapper. ActNorm's `initialized` buffer has no
/// counterpart (the authors keep that flag outside the state dict) and is left out.
/// Throws ConfigError naming the key for a model their code cannot express: tabular flows
/// (model.flow), LU-decomposed 1×1 convolutions (model.conv_lu), an mlp st-network.
std::vector<std::pair<std::string, std::string>> flows_ood_names(FlowModelImpl& model);

/// Copies `state` (the authors' names, without "module.") into `model`, converting each tensor
/// to the parameter's dtype, and declares every ActNorm initialised. Throws IoError naming
/// `source` and listing every parameter that is missing, unexpected or of the wrong shape (all of
/// them, not only the first), or the first tensor that holds NaN or ±inf.
void load_flows_ood_state(FlowModelImpl& model, const std::map<std::string, torch::Tensor>& state,
                          const std::string& source);

}  // namespace flowood::flows

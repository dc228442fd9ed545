#pragma once
/// Per-example gradients of log p(x) with respect to the flow's parameters, one norm per layer
/// (Bergamin et al. 2022; Dauncey et al. 2024): the statistics of the `gradient` score.
#include <string>
#include <vector>

#include "flowood/data/dataset.hpp"
#include "flowood/flows/flow_model.hpp"
#include "flowood/ood/score.hpp"
#include "flowood/ood/statistics.hpp"

namespace flowood::ood {

/// The layers whose gradients are measured: every step of the model's body with trainable
/// parameters, named "step<i>" by its position (model summaries number the steps the same way).
std::vector<std::string> gradient_layer_names(flows::FlowModelImpl& model);

/// For each example of `data` (the first `options.limit`, 0 = all): log p(x) under the noise
/// score_loglik uses for its first sample, and for each layer of gradient_layer_names the statistic
/// "grad_step<i>" = log ‖∂ log p(x) / ∂θ_i‖₂ over that layer's parameters. Eval mode (batch norm
/// uses its running statistics, so an example's gradient does not depend on its batch): one
/// backward pass per example. The model's mode and its parameters' .grad are left unchanged.
/// Returns the statistics, log p(x) last (named "loglik").
std::vector<Statistic> gradient_statistics(flows::FlowModelImpl& model, const data::ImageDataset& data,
                                           const LoglikOptions& options);

}  // namespace flowood::ood

#pragma once
/// The whole check of an experiment config: the plain sections (config/), the model (flows/) and
/// the scores list (ood/), joined here so that no lower tier needs a higher one.
#include <vector>

#include "flowood/config/experiment.hpp"

namespace flowood::experiment {

/// Every problem of the configuration (empty when valid), then the warnings (warning = true).
std::vector<config::ConfigProblem> validate(const config::ExperimentConfig& config);

}  // namespace flowood::experiment

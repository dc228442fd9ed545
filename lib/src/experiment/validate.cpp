#include "flowood/experiment/validate.hpp"

#include "flowood/flows/factory.hpp"
#include "flowood/ood/methods.hpp"

namespace flowood::experiment {

std::vector<config::ConfigProblem> validate(const config::ExperimentConfig& c) {
  std::vector<config::ConfigProblem> problems, warnings;
  for (auto part : {config::validate(c), flows::check_model(c.model), ood::check_scores(c.scores, c.model)})
    for (auto& p : part) (p.warning ? warnings : problems).push_back(std::move(p));
  problems.insert(problems.end(), warnings.begin(), warnings.end());
  return problems;
}

}  // namespace flowood::experiment

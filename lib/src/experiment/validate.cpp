#include "flowood/experiment/validate.hpp"

#include <algorithm>
#include <string>

#include "flowood/flows/factory.hpp"
#include "flowood/ood/methods.hpp"

namespace flowood::experiment {
namespace {

/// Problems are reported in the order of the sections in an experiment file.
int section_rank(const std::string& key) {
  const auto section = key.substr(0, key.find_first_of(".["));
  static const std::vector<std::string> order = {"threads", "seed",  "model",      "data",
                                                 "train",   "score", "background", "histogram"};
  const auto name = section == "scores" ? std::string("score") : section;
  const auto it = std::find(order.begin(), order.end(), name);
  return it == order.end() ? 0 : std::max<int>(1, static_cast<int>(it - order.begin()));
}

}  // namespace

std::vector<config::ConfigProblem> validate(const config::ExperimentConfig& c) {
  std::vector<config::ConfigProblem> problems, warnings;
  for (auto part : {config::validate(c), flows::check_model(c.model), ood::check_scores(c.scores, c.model)})
    for (auto& p : part) (p.warning ? warnings : problems).push_back(std::move(p));
  const auto by_section = [](const config::ConfigProblem& a, const config::ConfigProblem& b) {
    return section_rank(a.key) < section_rank(b.key);
  };
  std::stable_sort(problems.begin(), problems.end(), by_section);
  std::stable_sort(warnings.begin(), warnings.end(), by_section);
  problems.insert(problems.end(), warnings.begin(), warnings.end());
  return problems;
}

}  // namespace flowood::experiment

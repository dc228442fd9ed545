#include "flowood/experiment/validate.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/flows/factory.hpp"
#include "flowood/ood/methods.hpp"

namespace flowood::experiment {
namespace {

/// Problems are reported in the order of the sections in an experiment file.
int section_rank(const std::string& key) {
  const auto section = key.substr(0, key.find_first_of(".["));
  static const std::vector<std::string> order = {"threads", "layout", "seed",  "model",      "data",     "train",
                                                 "embedding", "score", "background", "histogram"};
  const auto name = section == "scores" ? std::string("score") : section;
  const auto it = std::find(order.begin(), order.end(), name);
  return it == order.end() ? 0 : std::max<int>(1, static_cast<int>(it - order.begin()));
}

/// What an embedding run (or a run that lists a classifier baseline) needs of the rest of the config.
std::vector<config::ConfigProblem> check_embedding(const config::ExperimentConfig& c) {
  std::vector<config::ConfigProblem> p;
  const auto& extractor = c.embedding.extractor;
  for (size_t i = 0; i < c.scores.size(); ++i) {
    const auto& m = c.scores[i];
    const auto key = fmt::format("scores[{}]", i);
    if ((m == "msp" || m == "energy") && extractor != "classifier")
      p.push_back({key, fmt::format("{} needs classifier logits: set embedding.extractor: classifier", m)});
    if (m == "mahalanobis" && extractor.empty())
      p.push_back({key, "mahalanobis needs features: set embedding.extractor (classifier or torchscript:PATH)"});
    if (!extractor.empty() && (m == "likelihood-ratio" || m == "waic"))
      p.push_back({key, fmt::format("{} trains extra flows on the data; an embedding run does not support it yet", m)});
  }
  if (extractor.empty()) return p;
  if (!flows::flow_is_tabular(c.model.flow))
    p.push_back({"model.flow", fmt::format("must be tabular for an embedding run (the flow models feature vectors; got {})",
                                           c.model.flow)});
  if (extractor == "classifier" && c.model.in_shape != std::vector<int64_t>{4 * c.embedding.width})
    p.push_back({"model.in_shape", fmt::format("must be [{}] for the classifier extractor: its features have 4 × "
                                               "embedding.width = {} dimensions (got [{}])",
                                               4 * c.embedding.width, 4 * c.embedding.width, fmt::join(c.model.in_shape, ", "))});
  return p;
}

}  // namespace

std::vector<config::ConfigProblem> validate(const config::ExperimentConfig& c) {
  std::vector<config::ConfigProblem> problems, warnings;
  for (auto part : {config::validate(c), flows::check_model(c.model), ood::check_scores(c.scores, c.model), check_embedding(c)})
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

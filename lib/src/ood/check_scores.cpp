// Validation of the scores list (joined with the other sections in experiment/validate.hpp).
#include <algorithm>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/flows/factory.hpp"
#include "flowood/ood/methods.hpp"

namespace flowood::ood {

std::vector<config::ConfigProblem> check_scores(const std::vector<std::string>& scores, const config::ModelConfig& m) {
  std::vector<config::ConfigProblem> p;
  const auto methods = score_method_names();
  const bool tabular = flows::flow_is_tabular(m.flow);
  for (size_t i = 0; i < scores.size(); ++i) {
    const auto key = fmt::format("scores[{}]", i);
    if (std::find(methods.begin(), methods.end(), scores[i]) == methods.end())
      p.push_back({key, fmt::format("must be one of {} (got '{}')", fmt::join(methods, ", "), scores[i])});
    if (std::count(scores.begin(), scores.end(), scores[i]) > 1 &&
        std::find(scores.begin(), scores.end(), scores[i]) - scores.begin() < static_cast<long>(i))
      p.push_back({key, fmt::format("'{}' is listed twice", scores[i])});
    if (tabular && scores[i] == "input-complexity")
      p.push_back({key, "input-complexity compresses images; flow tabular has feature rows"});
    const bool levels = (m.flow == "realnvp" && m.num_scales >= 2) || (m.flow == "glow" && m.multi_scale && m.num_scales >= 2);
    if (scores[i] == "level-ratio" && !levels)
      p.push_back({key, fmt::format("level-ratio needs a flow with two or more levels: realnvp or glow (multi_scale) "
                                    "with num_scales >= 2 (flow {}, num_scales {})", m.flow, m.num_scales)});
    if (scores[i] == "bn-train" && (tabular || m.flow == "glow" || !m.batch_norm))
      p.push_back({key, fmt::format("bn-train needs batch norm in the st-networks (flow {}, batch_norm {})", m.flow,
                                    m.batch_norm)});
  }
  return p;
}

}  // namespace flowood::ood

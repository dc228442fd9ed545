#include "picks.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/data/registry.hpp"
#include "flowood/experiment/stages.hpp"

namespace flowood::app {

Pick load_pick(const std::string& text, int64_t first, int64_t min_count, const config::ExperimentConfig& config,
               const std::vector<int64_t>& shape, const std::string& flag) {
  Pick p;
  const auto hash = text.rfind('#');
  p.spec = text.substr(0, hash);
  if (hash != std::string::npos) {
    std::string rest = text.substr(hash + 1);
    size_t start = 0;
    while (start <= rest.size()) {
      const auto comma = rest.find(',', start);
      const auto item = rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      try {
        size_t used = 0;
        const auto v = std::stoll(item, &used);
        if (used != item.size() || v < 0) throw std::invalid_argument(item);
        p.indices.push_back(v);
      } catch (const std::exception&) {
        throw ConfigError(flag, fmt::format("'{}': '{}' is not an image index (expected SPEC#I,J,…)", text, item));
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  } else {
    for (int64_t i = 0; i < first; ++i) p.indices.push_back(i);
  }
  if (p.spec.empty() || p.indices.empty()) throw ConfigError(flag, fmt::format("'{}': expected SPEC or SPEC#I,J,…", text));
  const auto need = std::max(*std::max_element(p.indices.begin(), p.indices.end()) + 1, min_count);
  p.dataset = data::load_dataset(p.spec, experiment::roots_of(config), need);
  if (p.dataset.image_shape() != shape)
    throw DataError(p.spec, fmt::format("images are [{}] but the model takes [{}]", fmt::join(p.dataset.image_shape(), ", "),
                                        fmt::join(shape, ", ")));
  for (const auto i : p.indices)
    if (i >= p.dataset.size())
      throw ConfigError(flag, fmt::format("'{}': index {} is past the end ({} images)", text, i, p.dataset.size()));
  p.images = p.dataset.images.index_select(0, torch::tensor(p.indices, torch::kLong));
  for (const auto i : p.indices) p.labels.push_back(fmt::format("{} #{}", p.dataset.spec, i));
  return p;
}

std::vector<std::string> default_picks(const config::ExperimentConfig& config) {
  std::vector<std::string> picks{config.data.test + "#4"};
  if (!config.data.ood.empty()) picks.push_back(config.data.ood.front() + "#10");
  return picks;
}

}  // namespace flowood::app

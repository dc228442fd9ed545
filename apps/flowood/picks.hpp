#pragma once
// Choosing images for the inspection verbs (visualize-latents, visualize-coupling, measures):
// "SPEC#I,J" picks images I and J of a dataset; "SPEC" picks its first N.
#include <string>
#include <vector>

#include <torch/types.h>

#include "flowood/config/experiment.hpp"
#include "flowood/data/dataset.hpp"

namespace flowood::app {

/// Images chosen from one dataset.
struct Pick {
  std::string spec;                 ///< dataset spec as given (before '#')
  std::vector<int64_t> indices;     ///< positions in the dataset
  data::ImageDataset dataset;       ///< the dataset's first max(indices)+1 (or `batch`) images
  torch::Tensor images;             ///< [n, C, H, W] uint8, the picked images
  std::vector<std::string> labels;  ///< "mnist:test #10" per picked image
};

/// Parses "SPEC#I,J,…" (or "SPEC": the first `first` images), loads the dataset with the run's
/// data roots (at least `min_count` images, for batch statistics) and checks every index
/// (ConfigError naming `flag` and the text on a bad index). Images must match `shape`.
Pick load_pick(const std::string& text, int64_t first, int64_t min_count, const config::ExperimentConfig& config,
               const std::vector<int64_t>& shape, const std::string& flag);

/// The default picks: the run's test set image 4 and its first OOD set's image 10 (the images
/// of the paper's Fashion-MNIST figures).
std::vector<std::string> default_picks(const config::ExperimentConfig& config);

}  // namespace flowood::app

#pragma once
/// Embedding runs (paper §8): a run whose config names `embedding.extractor` trains (or loads) the
/// extractor, embeds every dataset it reads, and its tabular flow models the features. Embeddings
/// are cached per (extractor, dataset spec, limit) in <run>/embeddings/ and reused while the
/// extractor is the same.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "flowood/config/experiment.hpp"
#include "flowood/data/dataset.hpp"
#include "flowood/embedding/classifier_training.hpp"
#include "flowood/embedding/extractor.hpp"
#include "flowood/experiment/run_dir.hpp"

namespace flowood::experiment {

/// True when the config's flow models an extractor's features.
inline bool is_embedding_run(const config::ExperimentConfig& c) { return !c.embedding.extractor.empty(); }

/// True when `spec` names a feature-array kind (npy:, npz:, csv:, arff:): such sets are already
/// features and are not embedded again.
bool is_feature_spec(const std::string& spec);

/// The extractor of the embedding run in `run_dir` (its classifier checkpoint, or the module the
/// config names), loaded once per process and file version.
std::shared_ptr<embedding::Extractor> run_extractor(const config::ExperimentConfig& config, const std::string& run_dir);

/// Embeddings (and logits, labels) of `spec`, first `limit` examples (0 = all), under the run's
/// extractor; cached in <run_dir>/embeddings/ when `run_dir` is set. A feature-array spec gives its
/// rows as they are (no logits).
embedding::Embeddings embeddings_of(const config::ExperimentConfig& config, const std::string& run_dir,
                                    const std::string& spec, int64_t limit);

/// Trains the classifier extractor of `config` into <run>/extractor/ (skipped when its checkpoint
/// is final); `stop` as for train_stage. Result.stopped when a signal stopped it.
embedding::ClassifierTrainResult train_extractor(const config::ExperimentConfig& config, const RunPaths& run,
                                                 const std::string& config_text, const std::atomic<bool>* stop);

}  // namespace flowood::experiment

#pragma once
/// The likelihood-based OOD scores (paper §3): the names users write, what each file holds, and
/// the computations beyond the plain log-likelihood (score.hpp): input complexity (Serrà et al.
/// 2019), the likelihood ratio (Ren et al. 2019), the typicality test (Nalisnick et al. 2019b),
/// WAIC over an ensemble (Choi et al. 2018) and batch-norm-train-mode likelihoods (Song et al. 2019).
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "flowood/config/experiment.hpp"

namespace flowood::ood {

/// What a score method is and how its files read.
struct ScoreMethodInfo {
  std::string name;      ///< the name users write: loglik, bpd, input-complexity, …
  bool higher_is_in;     ///< orientation of the score column
  bool per_example;      ///< false for typicality (one score per batch of M examples)
  std::string unit;      ///< "nats", "bits/dim", "bits"
  std::string summary;   ///< one line for help texts and docs
};

/// Every method, in the order tables show them.
const std::vector<ScoreMethodInfo>& score_methods();
/// Names of every method, in table order.
std::vector<std::string> score_method_names();
/// The method called `name`; ConfigError(key) listing the valid names otherwise.
const ScoreMethodInfo& score_method(const std::string& name, const std::string& key = "score.method");
/// Problems of an experiment's `scores` list for a model: unknown or repeated names, methods the
/// model cannot have (input-complexity on feature rows, bn-train without batch norm).
std::vector<config::ConfigProblem> check_scores(const std::vector<std::string>& scores, const config::ModelConfig& model);

// ---- input complexity ---------------------------------------------------------------------------

/// Lossless codecs for the complexity estimate L(x).
enum class Codec { kPng, kJpeg2000 };
/// "png" → kPng, "jpeg2000" → kJpeg2000; ConfigError(key) otherwise, or when this OpenCV build
/// cannot write JPEG 2000.
Codec parse_codec(const std::string& name, const std::string& key = "score.codec");

/// L(x): the length in bits of each image [N, C, H, W] uint8 (C = 1 or 3, RGB) compressed
/// losslessly — PNG at maximum compression (level 9), or lossless JPEG 2000 — whole file bytes × 8.
std::vector<double> compressed_bits(const torch::Tensor& images, Codec codec);

/// Serrà et al.'s S(x) = −log2 p(x) − L(x), both in bits: loglik in nats (as score_loglik gives)
/// is converted with 1/ln 2. Higher = more OOD.
std::vector<double> input_complexity_scores(const std::vector<double>& loglik_nats,
                                            const std::vector<double>& compressed_bits);

// ---- likelihood ratio, WAIC ---------------------------------------------------------------------

/// Ren et al.'s LLR(x) = log p(x) − log p_bg(x) per example (nats). Higher = more in-distribution.
std::vector<double> likelihood_ratio(const std::vector<double>& loglik, const std::vector<double>& loglik_background);

/// Choi et al.'s WAIC(x) = E_k[log p_k(x)] − Var_k[log p_k(x)] over an ensemble; `loglik[k][i]` is
/// model k's log-likelihood of example i. Population variance (1/K). Needs K >= 2 models of equal
/// length (ConfigError otherwise). Higher = more in-distribution.
std::vector<double> waic(const std::vector<std::vector<double>>& loglik);

// ---- typicality test ----------------------------------------------------------------------------

/// Nalisnick et al.'s test for batches of M examples: ε̂ = |mean NLL of the batch − Ĥ|, Ĥ the mean NLL
/// of held-out in-distribution data; a batch is called OOD when ε̂ exceeds the threshold, the
/// (1 − alpha) quantile of ε̂ over `bootstrap` batches drawn with replacement from the held-out data.
struct TypicalityOptions {
  int64_t batch = 10;          ///< M, examples per batch
  int64_t bootstrap = 1000;    ///< batches drawn from the reference data for the threshold
  double alpha = 0.01;         ///< false-alarm rate the threshold is set for
  uint64_t seed = 0;           ///< seed of the bootstrap draws
};

struct TypicalityReference {
  double entropy = 0;          ///< Ĥ, nats: mean NLL of the reference examples
  double threshold = 0;        ///< ε̂ above which a batch is called OOD, nats
  int64_t n = 0;               ///< reference examples (of Ĥ)
  int64_t n_heldout = 0;       ///< held-out examples the threshold's batches were drawn from
};

/// Ĥ from `reference_loglik` (training data, nats) and the threshold from bootstrap batches of
/// `heldout_loglik` (held-out in-distribution data): ε̂ = |mean NLL of a held-out batch − Ĥ|, so the
/// threshold covers the gap between training and unseen data as well as the batch-to-batch spread.
/// ConfigError for M < 1, bootstrap < 1, alpha outside (0, 1) or fewer examples than M in either set.
TypicalityReference typicality_reference(const std::vector<double>& reference_loglik,
                                         const std::vector<double>& heldout_loglik, const TypicalityOptions& options);
/// The same with one set for both (the threshold then assumes unseen data look like the reference).
TypicalityReference typicality_reference(const std::vector<double>& reference_loglik, const TypicalityOptions& options);

/// One batch's statistic.
struct TypicalityBatch {
  int64_t first = 0;           ///< index of its first example in the scored set
  double mean_nll = 0;         ///< nats
  double epsilon = 0;          ///< |mean_nll − Ĥ|, nats (higher = more OOD)
};

/// Consecutive, disjoint batches of M examples in the order given (a last partial batch is
/// dropped); empty when fewer than M examples.
std::vector<TypicalityBatch> typicality_batches(const std::vector<double>& loglik, double entropy, int64_t batch);

}  // namespace flowood::ood

#include "flowood/ood/methods.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <opencv2/imgcodecs.hpp>

#include "flowood/core/error.hpp"

namespace flowood::ood {

const std::vector<ScoreMethodInfo>& score_methods() {
  static const std::vector<ScoreMethodInfo> methods = {
      {"loglik", true, true, "nats", "log-likelihood log p(x) (the paper's score)"},
      {"bpd", false, true, "bits/dim", "bits per dimension, −log p(x) / (D ln 2)"},
      {"input-complexity", false, true, "bits",
       "S(x) = −log2 p(x) − L(x), L the losslessly compressed length (Serrà et al. 2019)"},
      {"likelihood-ratio", true, true, "nats",
       "log p(x) − log p_bg(x), background model trained on mutated inputs (Ren et al. 2019)"},
      {"typicality", false, false, "nats",
       "|mean NLL of a batch of M − entropy estimate|, per batch (Nalisnick et al. 2019b)"},
      {"waic", true, true, "nats", "mean − variance of log p(x) over an ensemble of runs (Choi et al. 2018)"},
      {"bn-train", true, true, "nats", "log p(x) with batch norm in train mode, statistics of the scored batch (Song et al. 2019)"},
      {"level-ratio", true, true, "nats/dim",
       "last level's log-likelihood contribution per dimension − the first level's (after Schirrmeister et al. 2020)"},
      {"dose", true, true, "nats",
       "Σ log KDE of summary statistics (log p(x), log-det, ‖z‖², per level) fitted on training data (Morningstar et "
       "al. 2021)"},
      {"gradient", false, true, "χ²",
       "Fisher's combination of the standardised per-layer gradient norms and log p(x)'s typicality (Bergamin et al. "
       "2022)"},
      {"lid", true, true, "quantile",
       "min of the fit-set CDFs of log p(x) and the flow's local intrinsic dimension: their dual threshold (after "
       "Kamkari et al. 2024)"},
      {"msp", true, true, "probability",
       "maximum softmax probability of the embedding run's classifier (Hendrycks & Gimpel 2017)"},
      {"energy", true, true, "logits", "negative free energy logsumexp of the classifier's logits (Liu et al. 2020)"},
      {"mahalanobis", true, true, "squared distance",
       "−min over classes of the Mahalanobis distance² of the features to the class means, shared covariance "
       "(Lee et al. 2018)"},
  };
  return methods;
}

std::vector<std::string> score_method_names() {
  std::vector<std::string> names;
  for (const auto& m : score_methods()) names.push_back(m.name);
  return names;
}

const ScoreMethodInfo& score_method(const std::string& name, const std::string& key) {
  for (const auto& m : score_methods())
    if (m.name == name) return m;
  throw ConfigError(key, fmt::format("unknown score method '{}' (valid: {})", name, fmt::join(score_method_names(), ", ")));
}

Codec parse_codec(const std::string& name, const std::string& key) {
  if (name == "png") return Codec::kPng;
  if (name == "jpeg2000") {
    if (!cv::haveImageWriter(".jp2"))
      throw ConfigError(key, "jpeg2000: this OpenCV build cannot write JPEG 2000 (no OpenJPEG); use png");
    return Codec::kJpeg2000;
  }
  throw ConfigError(key, fmt::format("must be png or jpeg2000 (got '{}')", name));
}

std::vector<double> compressed_bits(const torch::Tensor& images, Codec codec) {
  if (images.dim() != 4 || images.scalar_type() != torch::kUInt8 || (images.size(1) != 1 && images.size(1) != 3))
    throw Error(fmt::format("input complexity needs uint8 images [N, 1 or 3, H, W], got [{}] {}",
                            fmt::join(images.sizes(), ", "), std::string(c10::toString(images.scalar_type()))));
  // HWC with OpenCV's BGR channel order, so a colour image is compressed as the image it is.
  auto hwc = images.permute({0, 2, 3, 1});
  if (images.size(1) == 3) hwc = hwc.flip({3});
  hwc = hwc.contiguous();
  const int h = static_cast<int>(images.size(2)), w = static_cast<int>(images.size(3));
  if (codec == Codec::kJpeg2000 && (h < 32 || w < 32))
    throw ConfigError("score.codec", fmt::format("jpeg2000 needs images of at least 32×32 (OpenJPEG codes 6 "
                                                 "resolution levels); these are {}×{}: use png",
                                                 h, w));
  const int type = images.size(1) == 3 ? CV_8UC3 : CV_8UC1;
  const std::string ext = codec == Codec::kPng ? ".png" : ".jp2";
  const std::vector<int> params = codec == Codec::kPng ? std::vector<int>{cv::IMWRITE_PNG_COMPRESSION, 9}
                                                       : std::vector<int>{cv::IMWRITE_JPEG2000_COMPRESSION_X1000, 1000};
  std::vector<double> bits(static_cast<size_t>(images.size(0)));
  std::vector<uchar> buffer;
  for (int64_t i = 0; i < images.size(0); ++i) {
    const cv::Mat img(h, w, type, hwc[i].data_ptr<uint8_t>());
    bool ok = false;
    try {
      ok = cv::imencode(ext, img, buffer, params);
    } catch (const cv::Exception& e) {
      throw Error(fmt::format("{} encoding of image {} failed: {}", ext, i, e.what()));
    }
    if (!ok) throw Error(fmt::format("{} encoding of image {} failed", ext, i));
    bits[static_cast<size_t>(i)] = 8.0 * static_cast<double>(buffer.size());
  }
  return bits;
}

namespace {
void require_same_length(size_t a, size_t b, const char* what) {
  if (a != b) throw Error(fmt::format("{}: {} scores against {}", what, a, b));
}
}  // namespace

std::vector<double> input_complexity_scores(const std::vector<double>& loglik_nats, const std::vector<double>& bits) {
  require_same_length(loglik_nats.size(), bits.size(), "input complexity");
  std::vector<double> s(bits.size());
  for (size_t i = 0; i < s.size(); ++i) s[i] = -loglik_nats[i] / std::log(2.0) - bits[i];
  return s;
}

std::vector<double> likelihood_ratio(const std::vector<double>& loglik, const std::vector<double>& background) {
  require_same_length(loglik.size(), background.size(), "likelihood ratio");
  std::vector<double> r(loglik.size());
  for (size_t i = 0; i < r.size(); ++i) r[i] = loglik[i] - background[i];
  return r;
}

std::vector<double> waic(const std::vector<std::vector<double>>& loglik) {
  if (loglik.size() < 2) throw ConfigError("score.ensemble", fmt::format("WAIC needs at least 2 models (got {})", loglik.size()));
  const size_t n = loglik.front().size();
  for (const auto& member : loglik) require_same_length(member.size(), n, "WAIC ensemble member");
  const double k = static_cast<double>(loglik.size());
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i) {
    double mean = 0, var = 0;
    for (const auto& member : loglik) mean += member[i];
    mean /= k;
    for (const auto& member : loglik) var += (member[i] - mean) * (member[i] - mean);
    out[i] = mean - var / k;
  }
  return out;
}

TypicalityReference typicality_reference(const std::vector<double>& reference, const TypicalityOptions& o) {
  return typicality_reference(reference, reference, o);
}

TypicalityReference typicality_reference(const std::vector<double>& reference, const std::vector<double>& heldout,
                                         const TypicalityOptions& o) {
  if (o.batch < 1) throw ConfigError("score.typicality_batch", fmt::format("must be >= 1 (got {})", o.batch));
  if (o.bootstrap < 1) throw ConfigError("score.typicality_bootstrap", fmt::format("must be >= 1 (got {})", o.bootstrap));
  if (!(o.alpha > 0 && o.alpha < 1)) throw ConfigError("score.typicality_alpha", fmt::format("must be in (0, 1) (got {})", o.alpha));
  const auto n = static_cast<int64_t>(reference.size());
  if (n < o.batch)
    throw ConfigError("score.typicality_reference",
                      fmt::format("has {} examples, fewer than one batch of {}", n, o.batch));
  const auto m = static_cast<int64_t>(heldout.size());
  if (m < o.batch)
    throw ConfigError("score.typicality_heldout",
                      fmt::format("has {} examples, fewer than one batch of {}", m, o.batch));
  TypicalityReference r;
  r.n = n;
  r.n_heldout = m;
  for (double v : reference) r.entropy -= v;
  r.entropy /= static_cast<double>(n);
  // Bootstrap batches: indices from a 64-bit Mersenne Twister, reduced by rejection-free
  // multiply-shift, so the draw is the same on every platform.
  std::mt19937_64 rng(o.seed);
  std::vector<double> eps(static_cast<size_t>(o.bootstrap));
  for (auto& e : eps) {
    double sum = 0;
    for (int64_t j = 0; j < o.batch; ++j) {
      const auto idx = static_cast<size_t>((static_cast<unsigned __int128>(rng()) * static_cast<uint64_t>(m)) >> 64);
      sum -= heldout[idx];
    }
    e = std::abs(sum / static_cast<double>(o.batch) - r.entropy);
  }
  // The (1 − alpha) quantile, linear interpolation between order statistics (numpy's default).
  std::sort(eps.begin(), eps.end());
  const double pos = (1.0 - o.alpha) * static_cast<double>(eps.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, eps.size() - 1);
  r.threshold = eps[lo] + (pos - static_cast<double>(lo)) * (eps[hi] - eps[lo]);
  return r;
}

std::vector<TypicalityBatch> typicality_batches(const std::vector<double>& loglik, double entropy, int64_t batch) {
  if (batch < 1) throw ConfigError("score.typicality_batch", fmt::format("must be >= 1 (got {})", batch));
  std::vector<TypicalityBatch> out;
  const auto n = static_cast<int64_t>(loglik.size());
  for (int64_t first = 0; first + batch <= n; first += batch) {
    double sum = 0;
    for (int64_t j = first; j < first + batch; ++j) sum -= loglik[static_cast<size_t>(j)];
    TypicalityBatch b;
    b.first = first;
    b.mean_nll = sum / static_cast<double>(batch);
    b.epsilon = std::abs(b.mean_nll - entropy);
    out.push_back(b);
  }
  return out;
}

}  // namespace flowood::ood

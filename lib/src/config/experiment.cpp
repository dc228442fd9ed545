#include "flowood/config/experiment.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"

namespace flowood::config {
namespace {
template <class T>
void at_least(std::vector<ConfigProblem>& out, const std::string& key, T value, T min) {
  if (value < min) out.push_back({key, fmt::format("must be >= {} (got {})", min, value)});
}
/// ±inf passes the range checks above it (inf > 0) and then trains to NaN.
void finite(std::vector<ConfigProblem>& out, const std::string& key, double value) {
  if (!std::isfinite(value)) out.push_back({key, fmt::format("must be finite (got {})", value)});
}
void one_of(std::vector<ConfigProblem>& out, const std::string& key, const std::string& value,
            const std::vector<std::string>& valid) {
  for (const auto& v : valid)
    if (v == value) return;
  out.push_back({key, fmt::format("must be one of {} (got '{}')", fmt::join(valid, ", "), value)});
}
}  // namespace

std::vector<ConfigProblem> validate(const ExperimentConfig& c) {
  std::vector<ConfigProblem> p;
  at_least<int64_t>(p, "threads", c.threads, 0);
  one_of(p, "layout", c.layout, {"auto", "nchw", "channels-last"});
  at_least<int64_t>(p, "seed", c.seed, 0);

  if (c.data.train.empty()) p.push_back({"data.train", "must name a dataset"});
  if (c.data.test.empty()) p.push_back({"data.test", "must name a dataset"});
  at_least<int64_t>(p, "data.train_limit", c.data.train_limit, 0);
  at_least<int64_t>(p, "data.test_limit", c.data.test_limit, 0);

  const auto& t = c.train;
  one_of(p, "train.optimizer", t.optimizer, {"adam", "rmsprop"});
  one_of(p, "train.weight_decay_on", t.weight_decay_on, {"auto", "gains", "all"});
  if (!(t.lr > 0)) p.push_back({"train.lr", fmt::format("must be > 0 (got {})", t.lr)});
  else finite(p, "train.lr", t.lr);
  if (!(t.weight_decay >= 0)) p.push_back({"train.weight_decay", fmt::format("must be >= 0 (got {})", t.weight_decay)});
  else finite(p, "train.weight_decay", t.weight_decay);
  if (!(t.max_grad_norm >= 0)) p.push_back({"train.max_grad_norm", fmt::format("must be >= 0 (got {})", t.max_grad_norm)});
  else finite(p, "train.max_grad_norm", t.max_grad_norm);
  at_least<int64_t>(p, "train.batch_size", t.batch_size, 1);
  at_least<int64_t>(p, "train.epochs", t.epochs, 1);
  at_least<int64_t>(p, "train.max_steps", t.max_steps, 0);
  at_least<int64_t>(p, "train.checkpoint_every", t.checkpoint_every, 1);
  at_least<int64_t>(p, "train.eval_every", t.eval_every, 0);
  at_least<int64_t>(p, "train.eval_limit", t.eval_limit, 0);
  at_least<int64_t>(p, "train.log_every", t.log_every, 1);

  if (!(t.mutation_rate >= 0 && t.mutation_rate <= 1))
    p.push_back({"train.mutation_rate", fmt::format("must be in [0, 1] (got {})", t.mutation_rate)});
  if (!(t.negative.weight > 0)) p.push_back({"train.negative.weight", fmt::format("must be > 0 (got {})", t.negative.weight)});
  else finite(p, "train.negative.weight", t.negative.weight);
  finite(p, "train.negative.threshold", t.negative.threshold);

  const auto& e = c.embedding;
  if (!e.extractor.empty() && e.extractor != "classifier" && e.extractor.rfind("torchscript:", 0) != 0)
    p.push_back({"embedding.extractor", fmt::format("must be classifier, torchscript:PATH or empty (got '{}')", e.extractor)});
  if (e.extractor == "torchscript:") p.push_back({"embedding.extractor", "torchscript: needs the module's PATH"});
  at_least<int64_t>(p, "embedding.width", e.width, 1);
  at_least<int64_t>(p, "embedding.depth", e.depth, 1);
  at_least<int64_t>(p, "embedding.epochs", e.epochs, 1);
  at_least<int64_t>(p, "embedding.max_steps", e.max_steps, 0);
  at_least<int64_t>(p, "embedding.batch_size", e.batch_size, 1);
  if (!(e.lr > 0)) p.push_back({"embedding.lr", fmt::format("must be > 0 (got {})", e.lr)});
  else finite(p, "embedding.lr", e.lr);
  if (!(e.weight_decay >= 0)) p.push_back({"embedding.weight_decay", fmt::format("must be >= 0 (got {})", e.weight_decay)});
  else finite(p, "embedding.weight_decay", e.weight_decay);
  if (!e.resize.empty() && (e.resize.size() != 2 || e.resize[0] < 1 || e.resize[1] < 1 || e.resize[0] > 4096 || e.resize[1] > 4096))
    p.push_back({"embedding.resize", fmt::format("must be [H, W] with 1 <= H, W <= 4096 (got [{}])", fmt::join(e.resize, ", "))});
  if (e.channels < 0 || e.channels > 4)
    p.push_back({"embedding.channels", fmt::format("must be 0 (as the data), 1, 3 or 4 (got {})", e.channels)});
  if (e.mean.size() != e.std.size())
    p.push_back({"embedding.std", fmt::format("must have as many entries as embedding.mean ({} vs {})", e.std.size(), e.mean.size())});
  for (size_t i = 0; i < e.std.size(); ++i)
    if (!(e.std[i] > 0) || !std::isfinite(e.std[i]))
      p.push_back({fmt::format("embedding.std[{}]", i), fmt::format("must be a finite number > 0 (got {})", e.std[i])});
  for (size_t i = 0; i < e.mean.size(); ++i) finite(p, fmt::format("embedding.mean[{}]", i), e.mean[i]);

  const auto& s = c.score;
  at_least<int64_t>(p, "score.batch_size", s.batch_size, 1);
  at_least<int64_t>(p, "score.samples", s.samples, 1);
  one_of(p, "score.codec", s.codec, {"png", "jpeg2000"});
  at_least<int64_t>(p, "score.typicality_batch", s.typicality_batch, 1);
  at_least<int64_t>(p, "score.typicality_bootstrap", s.typicality_bootstrap, 1);
  if (!(s.typicality_alpha > 0 && s.typicality_alpha < 1))
    p.push_back({"score.typicality_alpha", fmt::format("must be in (0, 1) (got {})", s.typicality_alpha)});
  at_least<int64_t>(p, "score.fit_limit", s.fit_limit, 0);
  finite(p, "score.lid_delta", s.lid_delta);
  at_least<int64_t>(p, "score.lid_probes", s.lid_probes, 0);
  at_least<int64_t>(p, "score.lid_steps", s.lid_steps, 1);
  at_least<int64_t>(p, "score.ensemble", s.ensemble, 1);
  const bool wants_waic = std::find(c.scores.begin(), c.scores.end(), "waic") != c.scores.end();
  if (wants_waic && s.ensemble < 2)
    p.push_back({"score.ensemble", fmt::format("must be >= 2 when scores lists waic (got {})", s.ensemble)});
  at_least<int64_t>(p, "score.bootstrap", s.bootstrap, 0);
  const auto& b = c.background;
  if (!(b.mutation_rate > 0 && b.mutation_rate < 1))
    p.push_back({"background.mutation_rate", fmt::format("must be in (0, 1) (got {})", b.mutation_rate)});
  if (!(b.weight_decay >= 0))
    p.push_back({"background.weight_decay", fmt::format("must be >= 0 (got {})", b.weight_decay)});
  else finite(p, "background.weight_decay", b.weight_decay);
  at_least<int64_t>(p, "background.max_steps", b.max_steps, 0);
  if (!(c.histogram.clip_percent >= 0 && c.histogram.clip_percent < 100))
    p.push_back({"histogram.clip_percent", fmt::format("must be in [0, 100) (got {})", c.histogram.clip_percent)});
  at_least<int64_t>(p, "histogram.bins", c.histogram.bins, 1);
  return p;
}

}  // namespace flowood::config

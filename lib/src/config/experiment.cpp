#include "flowood/config/experiment.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/flows/factory.hpp"
#include "flowood/core/error.hpp"
#include "flowood/flows/mask_schedule.hpp"
#include "flowood/flows/st_net.hpp"
#include "flowood/ood/methods.hpp"

namespace flowood::config {
namespace {
template <class T>
void at_least(std::vector<ConfigProblem>& out, const std::string& key, T value, T min) {
  if (value < min) out.push_back({key, fmt::format("must be >= {} (got {})", min, value)});
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
  at_least<int64_t>(p, "seed", c.seed, 0);

  const auto& m = c.model;
  one_of(p, "model.flow", m.flow, flows::flow_names());
  one_of(p, "model.st_net", m.st_net, flows::st_net_names());
  const bool tabular = flows::flow_is_tabular(m.flow);
  const size_t rank = tabular ? 1 : 3;
  bool shape_ok = false;
  if (m.in_shape.size() != rank) {
    p.push_back({"model.in_shape", fmt::format("must be {} (got {} values)", tabular ? "[D] for flow tabular" : "[C, H, W]",
                                               m.in_shape.size())});
  } else if (std::any_of(m.in_shape.begin(), m.in_shape.end(), [](int64_t d) { return d < 1; })) {
    p.push_back({"model.in_shape", fmt::format("must be positive (got [{}])", fmt::join(m.in_shape, ", "))});
  } else {
    shape_ok = true;
  }
  const auto& st_names = flows::st_net_names();
  const bool known_st = std::find(st_names.begin(), st_names.end(), m.st_net) != st_names.end();
  if (known_st && flows::st_net_is_tabular(m.st_net) != tabular)
    p.push_back({"model.st_net", tabular ? fmt::format("must be mlp for flow tabular (got '{}')", m.st_net)
                                         : fmt::format("mlp is for flow tabular, not {} (use a convolutional "
                                                       "st-network)",
                                                       m.flow)});
  at_least<int64_t>(p, "model.num_scales", m.num_scales, 1);
  at_least<int64_t>(p, "model.num_steps", m.num_steps, 1);
  at_least<int64_t>(p, "model.num_blocks", m.num_blocks, 1);
  at_least<int64_t>(p, "model.mid_channels", m.mid_channels, 1);
  at_least<int64_t>(p, "model.bottleneck_dim", m.bottleneck_dim, 1);
  if (!(m.dropout >= 0 && m.dropout < 1)) p.push_back({"model.dropout", fmt::format("must be in [0, 1) (got {})", m.dropout)});
  if (m.standardize && !tabular)
    p.push_back({"model.standardize", fmt::format("is for flow tabular (feature rows), not {}", m.flow)});
  if ((m.flow == "realnvp" || m.flow == "glow") && shape_ok && m.num_scales >= 1) {
    // realnvp squeezes 2×2 after each scale but the last, glow before each: H and W must be
    // divisible by 2^squeezes. Past 2^61 the factor no longer fits in int64_t (shifting by 63 or
    // more is undefined), and no image does.
    const int64_t squeezes = m.flow == "glow" ? m.num_scales : m.num_scales - 1;
    bool fits = squeezes < 62;
    if (fits) {
      const int64_t factor = int64_t{1} << squeezes;
      fits = m.in_shape[1] % factor == 0 && m.in_shape[2] % factor == 0;
    }
    if (!fits)
      p.push_back({"model.num_scales", fmt::format("{} scales need H and W divisible by {} (in_shape is [{}])",
                                                   m.num_scales,
                                                   squeezes < 62 ? std::to_string(int64_t{1} << squeezes)
                                                                 : fmt::format("2^{}", squeezes),
                                                   fmt::join(m.in_shape, ", "))});
  }
  std::vector<ConfigProblem> warnings;
  if (m.flow == "coupling" || m.flow == "tabular") {
    if (m.masks.empty()) {
      p.push_back({"model.masks", fmt::format("flow {} needs a list of masks, e.g. [{}]", m.flow,
                                              tabular ? "tabular x8" : "checkerboard x8")});
    } else if (shape_ok) {
      try {
        const auto masks = flows::parse_masks(m.masks, m.in_shape);
        if (const auto w = flows::coverage_warning(masks, m.in_shape); !w.empty())
          warnings.push_back({"model.masks", w, true});
      } catch (const ConfigError& e) {
        std::string what = e.what();
        if (what.rfind(e.key() + ": ", 0) == 0) what = what.substr(e.key().size() + 2);
        p.push_back({e.key(), what});
      }
    }
  } else if (!m.masks.empty()) {
    p.push_back({"model.masks", fmt::format("is only used by flows coupling and tabular (flow {} has its own masks)",
                                            m.flow)});
  }

  if (c.data.train.empty()) p.push_back({"data.train", "must name a dataset"});
  if (c.data.test.empty()) p.push_back({"data.test", "must name a dataset"});
  at_least<int64_t>(p, "data.train_limit", c.data.train_limit, 0);
  at_least<int64_t>(p, "data.test_limit", c.data.test_limit, 0);

  const auto& t = c.train;
  one_of(p, "train.optimizer", t.optimizer, {"adam", "rmsprop"});
  one_of(p, "train.weight_decay_on", t.weight_decay_on, {"auto", "gains", "all"});
  if (!(t.lr > 0)) p.push_back({"train.lr", fmt::format("must be > 0 (got {})", t.lr)});
  if (!(t.weight_decay >= 0)) p.push_back({"train.weight_decay", fmt::format("must be >= 0 (got {})", t.weight_decay)});
  if (!(t.max_grad_norm >= 0)) p.push_back({"train.max_grad_norm", fmt::format("must be >= 0 (got {})", t.max_grad_norm)});
  at_least<int64_t>(p, "train.batch_size", t.batch_size, 1);
  at_least<int64_t>(p, "train.epochs", t.epochs, 1);
  at_least<int64_t>(p, "train.max_steps", t.max_steps, 0);
  at_least<int64_t>(p, "train.checkpoint_every", t.checkpoint_every, 1);
  at_least<int64_t>(p, "train.eval_every", t.eval_every, 0);
  at_least<int64_t>(p, "train.eval_limit", t.eval_limit, 0);
  at_least<int64_t>(p, "train.log_every", t.log_every, 1);

  if (!(t.mutation_rate >= 0 && t.mutation_rate <= 1))
    p.push_back({"train.mutation_rate", fmt::format("must be in [0, 1] (got {})", t.mutation_rate)});

  const auto methods = ood::score_method_names();
  for (size_t i = 0; i < c.scores.size(); ++i) {
    const auto key = fmt::format("scores[{}]", i);
    one_of(p, key, c.scores[i], methods);
    if (std::count(c.scores.begin(), c.scores.end(), c.scores[i]) > 1 &&
        std::find(c.scores.begin(), c.scores.end(), c.scores[i]) - c.scores.begin() < static_cast<long>(i))
      p.push_back({key, fmt::format("'{}' is listed twice", c.scores[i])});
    if (tabular && c.scores[i] == "input-complexity")
      p.push_back({key, "input-complexity compresses images; flow tabular has feature rows"});
    if (c.scores[i] == "bn-train" && (tabular || m.flow == "glow" || !m.batch_norm))
      p.push_back({key, fmt::format("bn-train needs batch norm in the st-networks (flow {}, batch_norm {})", m.flow,
                                    m.batch_norm)});
  }
  const auto& s = c.score;
  at_least<int64_t>(p, "score.batch_size", s.batch_size, 1);
  at_least<int64_t>(p, "score.samples", s.samples, 1);
  one_of(p, "score.codec", s.codec, {"png", "jpeg2000"});
  at_least<int64_t>(p, "score.typicality_batch", s.typicality_batch, 1);
  at_least<int64_t>(p, "score.typicality_bootstrap", s.typicality_bootstrap, 1);
  if (!(s.typicality_alpha > 0 && s.typicality_alpha < 1))
    p.push_back({"score.typicality_alpha", fmt::format("must be in (0, 1) (got {})", s.typicality_alpha)});
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
  at_least<int64_t>(p, "background.max_steps", b.max_steps, 0);
  if (!(c.histogram.clip_percent >= 0 && c.histogram.clip_percent < 100))
    p.push_back({"histogram.clip_percent", fmt::format("must be in [0, 100) (got {})", c.histogram.clip_percent)});
  at_least<int64_t>(p, "histogram.bins", c.histogram.bins, 1);
  p.insert(p.end(), warnings.begin(), warnings.end());
  return p;
}

}  // namespace flowood::config

#include "flowood/config/experiment.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/flows/realnvp.hpp"
#include "flowood/flows/st_net.hpp"

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
  if (m.in_shape.size() != 3) {
    p.push_back({"model.in_shape", fmt::format("must be [C, H, W] (got {} values)", m.in_shape.size())});
  } else if (std::any_of(m.in_shape.begin(), m.in_shape.end(), [](int64_t d) { return d < 1; })) {
    p.push_back({"model.in_shape", fmt::format("must be positive (got [{}])", fmt::join(m.in_shape, ", "))});
  }
  at_least<int64_t>(p, "model.num_scales", m.num_scales, 1);
  at_least<int64_t>(p, "model.num_blocks", m.num_blocks, 1);
  at_least<int64_t>(p, "model.mid_channels", m.mid_channels, 1);
  if (m.in_shape.size() == 3 && m.num_scales >= 1) {
    // Each scale but the last squeezes 2×2: H and W must be divisible by 2^(S-1). Past 2^61 the
    // factor no longer fits in int64_t (shifting by 63 or more is undefined), and no image does.
    const int64_t squeezes = m.num_scales - 1;
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

  if (c.data.train.empty()) p.push_back({"data.train", "must name a dataset"});
  if (c.data.test.empty()) p.push_back({"data.test", "must name a dataset"});
  at_least<int64_t>(p, "data.train_limit", c.data.train_limit, 0);
  at_least<int64_t>(p, "data.test_limit", c.data.test_limit, 0);

  const auto& t = c.train;
  one_of(p, "train.optimizer", t.optimizer, {"adam", "rmsprop"});
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

  at_least<int64_t>(p, "score.batch_size", c.score.batch_size, 1);
  at_least<int64_t>(p, "score.samples", c.score.samples, 1);
  if (!(c.histogram.clip_percent >= 0 && c.histogram.clip_percent < 100))
    p.push_back({"histogram.clip_percent", fmt::format("must be in [0, 100) (got {})", c.histogram.clip_percent)});
  at_least<int64_t>(p, "histogram.bins", c.histogram.bins, 1);
  return p;
}

}  // namespace flowood::config

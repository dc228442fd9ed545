// validate(): every rule names its key and says what is wrong; every problem is reported.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "flowood/config/experiment.hpp"
#include "flowood/experiment/validate.hpp"

namespace flowood::config {
namespace {

// The problems reported for `key`, in order.
std::vector<std::string> messages_for(const std::vector<ConfigProblem>& problems, const std::string& key) {
  std::vector<std::string> out;
  for (const auto& p : problems)
    if (p.key == key) out.push_back(p.message);
  return out;
}

// The integer field behind `key` (reached through visit_fields, the one list of keys).
int64_t& int_field(ExperimentConfig& c, const std::string& key) {
  int64_t* found = nullptr;
  visit_fields(c, [&](const char* k, auto& field, const char*) {
    if constexpr (std::is_same_v<std::decay_t<decltype(field)>, int64_t>)
      if (key == k) found = &field;
  });
  if (!found) throw std::runtime_error("no integer key " + key);
  return *found;
}

// Expects exactly one problem, for `key`, with `message`.
void expect_only(const ExperimentConfig& c, const std::string& key, const std::string& message) {
  const auto problems = experiment::validate(c);
  ASSERT_EQ(problems.size(), 1u) << "first: " << (problems.empty() ? "" : problems[0].key + " " + problems[0].message);
  EXPECT_EQ(problems[0].key, key);
  EXPECT_EQ(problems[0].message, message);
}

TEST(ValidateTest, DefaultConfigIsValid) {
  const auto problems = experiment::validate(ExperimentConfig{});
  for (const auto& p : problems) ADD_FAILURE() << p.key << " " << p.message;
  EXPECT_TRUE(problems.empty());
}

TEST(ValidateTest, EveryKeyOfTheDefaultConfigIsVisited) {
  // visit_fields is the one list of keys: keys are unique, at most two levels below the top
  // (train.negative.data), and a key is never also a section (train.negative is not a key).
  ExperimentConfig c;
  std::vector<std::string> keys;
  visit_fields(c, [&](const char* key, auto&, const char* doc) {
    keys.emplace_back(key);
    EXPECT_STRNE(doc, "") << key;
  });
  EXPECT_EQ(keys.size(), 76u);
  auto sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());
  for (const auto& k : keys) {
    EXPECT_LE(std::count(k.begin(), k.end(), '.'), 2) << k;
    for (const auto& other : keys) EXPECT_NE(other.rfind(k + ".", 0), 0u) << k << " is also a section of " << other;
  }
}

TEST(ValidateTest, IntegerRangeRulesNameKeyAndValue) {
  struct Case {
    const char* key;
    int64_t bad;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"seed", -1, "must be >= 0 (got -1)"},
      {"threads", -2, "must be >= 0 (got -2)"},
      {"model.num_scales", 0, "must be >= 1 (got 0)"},
      {"model.num_blocks", 0, "must be >= 1 (got 0)"},
      {"model.mid_channels", 0, "must be >= 1 (got 0)"},
      {"data.train_limit", -1, "must be >= 0 (got -1)"},
      {"data.test_limit", -5, "must be >= 0 (got -5)"},
      {"train.batch_size", 0, "must be >= 1 (got 0)"},
      {"train.epochs", 0, "must be >= 1 (got 0)"},
      {"train.max_steps", -1, "must be >= 0 (got -1)"},
      {"train.checkpoint_every", 0, "must be >= 1 (got 0)"},
      {"train.eval_every", -1, "must be >= 0 (got -1)"},
      {"train.eval_limit", -1, "must be >= 0 (got -1)"},
      {"train.log_every", 0, "must be >= 1 (got 0)"},
      {"score.batch_size", 0, "must be >= 1 (got 0)"},
      {"score.samples", 0, "must be >= 1 (got 0)"},
      {"score.lid_probes", -1, "must be >= 0 (got -1)"},
      {"score.lid_steps", 0, "must be >= 1 (got 0)"},
      {"histogram.bins", 0, "must be >= 1 (got 0)"},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.key);
    ExperimentConfig c;
    int_field(c, tc.key) = tc.bad;
    expect_only(c, tc.key, tc.message);
  }
}

TEST(ValidateTest, BoundaryValuesAreAccepted) {
  ExperimentConfig c;
  c.seed = 0;
  c.threads = 0;
  c.model.num_scales = 1;
  c.model.num_blocks = 1;
  c.model.mid_channels = 1;
  c.train.batch_size = 1;
  c.train.epochs = 1;
  c.train.checkpoint_every = 1;
  c.train.log_every = 1;
  c.train.weight_decay = 0;
  c.train.max_grad_norm = 0;
  c.score.batch_size = 1;
  c.score.samples = 1;
  c.histogram.clip_percent = 0;
  c.histogram.bins = 1;
  EXPECT_TRUE(experiment::validate(c).empty());
}

TEST(ValidateTest, RealRangeRules) {
  {
    ExperimentConfig c;
    c.train.lr = 0;
    expect_only(c, "train.lr", "must be > 0 (got 0)");
  }
  {
    ExperimentConfig c;
    c.train.lr = -1;
    expect_only(c, "train.lr", "must be > 0 (got -1)");
  }
  {
    ExperimentConfig c;
    c.train.lr = std::numeric_limits<double>::quiet_NaN();
    expect_only(c, "train.lr", "must be > 0 (got nan)");
  }
  {
    ExperimentConfig c;
    c.score.lid_delta = std::numeric_limits<double>::infinity();
    expect_only(c, "score.lid_delta", "must be finite (got inf)");
  }
  {
    ExperimentConfig c;
    c.train.weight_decay = -0.5;
    expect_only(c, "train.weight_decay", "must be >= 0 (got -0.5)");
  }
  {
    ExperimentConfig c;
    c.train.max_grad_norm = -1;
    expect_only(c, "train.max_grad_norm", "must be >= 0 (got -1)");
  }
  {
    ExperimentConfig c;
    c.histogram.clip_percent = 100;
    expect_only(c, "histogram.clip_percent", "must be in [0, 100) (got 100)");
  }
  {
    ExperimentConfig c;
    c.histogram.clip_percent = -1;
    expect_only(c, "histogram.clip_percent", "must be in [0, 100) (got -1)");
  }
}

TEST(ValidateTest, NamesMustBeKnown) {
  {
    ExperimentConfig c;
    c.model.flow = "glow2";
    const auto problems = experiment::validate(c);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].key, "model.flow");
    EXPECT_NE(problems[0].message.find("must be one of"), std::string::npos) << problems[0].message;
    EXPECT_NE(problems[0].message.find("realnvp"), std::string::npos) << problems[0].message;
    EXPECT_NE(problems[0].message.find("(got 'glow2')"), std::string::npos) << problems[0].message;
  }
  {
    ExperimentConfig c;
    c.model.st_net = "unet";
    const auto problems = experiment::validate(c);
    ASSERT_GE(problems.size(), 1u);
    EXPECT_EQ(problems[0].key, "model.st_net");
    EXPECT_NE(problems[0].message.find("resnet"), std::string::npos) << problems[0].message;
    EXPECT_NE(problems[0].message.find("(got 'unet')"), std::string::npos) << problems[0].message;
  }
  {
    ExperimentConfig c;
    c.train.optimizer = "sgd";
    expect_only(c, "train.optimizer", "must be one of adam, rmsprop (got 'sgd')");
  }
  {
    ExperimentConfig c;
    c.train.optimizer = "rmsprop";
    EXPECT_TRUE(experiment::validate(c).empty());
  }
}

TEST(ValidateTest, DatasetsMustBeNamed) {
  ExperimentConfig c;
  c.data.train = "";
  c.data.test = "";
  const auto problems = experiment::validate(c);
  EXPECT_EQ(messages_for(problems, "data.train"), std::vector<std::string>{"must name a dataset"});
  EXPECT_EQ(messages_for(problems, "data.test"), std::vector<std::string>{"must name a dataset"});
  EXPECT_EQ(problems.size(), 2u);
}

TEST(ValidateTest, InShapeMustBeThreePositiveDims) {
  {
    ExperimentConfig c;
    c.model.in_shape = {28, 28};
    expect_only(c, "model.in_shape", "must be [C, H, W] (got 2 values)");
  }
  {
    ExperimentConfig c;
    c.model.in_shape = {};
    expect_only(c, "model.in_shape", "must be [C, H, W] (got 0 values)");
  }
  {
    ExperimentConfig c;
    c.model.in_shape = {1, -28, 28};
    expect_only(c, "model.in_shape", "must be positive (got [1, -28, 28])");
  }
  {
    // Several bad dimensions are still one problem with the key.
    ExperimentConfig c;
    c.model.in_shape = {0, 28, 0};
    expect_only(c, "model.in_shape", "must be positive (got [0, 28, 0])");
  }
}

TEST(ValidateTest, NumScalesNeedsDivisibleHeightAndWidth) {
  {
    // 3 scales squeeze twice: 28 is divisible by 4.
    ExperimentConfig c;
    c.model.num_scales = 3;
    EXPECT_TRUE(experiment::validate(c).empty());
  }
  {
    // 4 scales need H and W divisible by 8; 28 is not.
    ExperimentConfig c;
    c.model.num_scales = 4;
    expect_only(c, "model.num_scales", "4 scales need H and W divisible by 8 (in_shape is [1, 28, 28])");
  }
  {
    // Only W fails.
    ExperimentConfig c;
    c.model.in_shape = {3, 32, 30};
    c.model.num_scales = 3;
    expect_only(c, "model.num_scales", "3 scales need H and W divisible by 4 (in_shape is [3, 32, 30])");
  }
  {
    // Only H fails.
    ExperimentConfig c;
    c.model.in_shape = {3, 30, 32};
    c.model.num_scales = 3;
    expect_only(c, "model.num_scales", "3 scales need H and W divisible by 4 (in_shape is [3, 30, 32])");
  }
  {
    // Odd sizes cannot squeeze even once.
    ExperimentConfig c;
    c.model.in_shape = {1, 27, 27};
    c.model.num_scales = 2;
    expect_only(c, "model.num_scales", "2 scales need H and W divisible by 2 (in_shape is [1, 27, 27])");
  }
  {
    ExperimentConfig c;
    c.model.in_shape = {3, 32, 32};
    c.model.num_scales = 6;
    c.model.mid_channels = 16;  // width 64 doubled five times would be a 2.6e9-parameter model
    EXPECT_TRUE(experiment::validate(c).empty());
  }
  {
    // One scale never squeezes: odd sizes are fine.
    ExperimentConfig c;
    c.model.in_shape = {1, 7, 5};
    c.model.num_scales = 1;
    EXPECT_TRUE(experiment::validate(c).empty());
  }
}

TEST(ValidateTest, HugeNumScalesIsRejectedNotShiftedOutOfRange) {
  // 2^(S-1) must not overflow: 64 or 100 scales can never fit any image.
  for (int64_t scales : {int64_t{40}, int64_t{64}, int64_t{65}, int64_t{100}}) {
    SCOPED_TRACE(scales);
    ExperimentConfig c;
    c.model.in_shape = {1, 32, 32};
    c.model.num_scales = scales;
    const auto problems = experiment::validate(c);
    EXPECT_EQ(messages_for(problems, "model.num_scales").size(), 1u);
  }
}

TEST(ValidateTest, ReportsEveryProblemNotOnlyTheFirst) {
  ExperimentConfig c;
  c.seed = -1;
  c.model.num_blocks = 0;
  c.model.mid_channels = -3;
  c.model.flow = "nope";
  c.train.lr = -1;
  c.train.batch_size = 0;
  c.score.samples = 0;
  c.histogram.bins = 0;
  c.histogram.clip_percent = 150;
  const auto problems = experiment::validate(c);
  std::vector<std::string> keys;
  for (const auto& p : problems) keys.push_back(p.key);
  const std::vector<std::string> expected = {"seed",
                                             "model.flow",
                                             "model.num_blocks",
                                             "model.mid_channels",
                                             "train.lr",
                                             "train.batch_size",
                                             "score.samples",
                                             "histogram.clip_percent",
                                             "histogram.bins"};
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(messages_for(problems, "model.num_blocks"), std::vector<std::string>{"must be >= 1 (got 0)"});
  EXPECT_EQ(messages_for(problems, "model.mid_channels"), std::vector<std::string>{"must be >= 1 (got -3)"});
}

TEST(ValidateTest, ExperimentsShapesAreValid) {
  // The paper's two shapes (experiments/*.yaml are checked end to end through the binary).
  ExperimentConfig fashion;
  EXPECT_TRUE(experiment::validate(fashion).empty());
  ExperimentConfig celeba;
  celeba.model.in_shape = {3, 32, 32};
  celeba.model.num_scales = 3;
  celeba.model.num_blocks = 8;
  EXPECT_TRUE(experiment::validate(celeba).empty());
}

}  // namespace
}  // namespace flowood::config

namespace flowood::config {
namespace {

TEST(ValidateTest, ModelsBeyondTheParameterLimitAreRefusedAndTheLimitCanBeRaised) {
  // The default model (a RealNVP of about 10^7 parameters by the estimate) against a limit of 10^5
  // set through the override; then without it, against this machine's memory.
  ExperimentConfig c;
  ::setenv("FLOWOOD_MAX_PARAMETERS", "1e5", 1);
  const auto limited = messages_for(experiment::validate(c), "model.mid_channels");
  ::setenv("FLOWOOD_MAX_PARAMETERS", "not a number", 1);  // ignored: the machine's limit applies
  const auto ignored = messages_for(experiment::validate(c), "model.mid_channels");
  ::unsetenv("FLOWOOD_MAX_PARAMETERS");
  ASSERT_EQ(limited.size(), 1u);
  EXPECT_NE(limited[0].find("more than 1e+05 (FLOWOOD_MAX_PARAMETERS)"), std::string::npos) << limited[0];
  EXPECT_TRUE(ignored.empty());
  EXPECT_TRUE(messages_for(experiment::validate(c), "model.mid_channels").empty());
  c.model.mid_channels = 8192;  // ~10^11 parameters: beyond any machine's limit (2·10^9)
  c.model.num_blocks = 64;
  const auto huge = messages_for(experiment::validate(c), "model.mid_channels");
  ASSERT_EQ(huge.size(), 1u);
  EXPECT_NE(huge[0].find("set FLOWOOD_MAX_PARAMETERS"), std::string::npos) << huge[0];
}

}  // namespace
}  // namespace flowood::config

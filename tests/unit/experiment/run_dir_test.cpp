// Run directories (experiment/run_dir.hpp) and the configs of auxiliary runs (stages.hpp).
#include <string>

#include <gtest/gtest.h>

#include "flowood/experiment/run_dir.hpp"
#include "flowood/experiment/stages.hpp"

namespace flowood::experiment {
namespace {

TEST(RunDir, Paths) {
  config::ExperimentConfig c;
  c.name = "quick";
  EXPECT_EQ(run_paths("", c).dir, "runs/quick");
  EXPECT_EQ(run_paths("x/y", c).dir, "x/y");
  EXPECT_EQ(RunPaths{"r"}.score_file("cifar10:test?gray"), "r/scores/cifar10_test_gray.csv");
  EXPECT_EQ(safe_file_name("npz:/a/b.npz#emb"), "npz__a_b.npz_emb");
}

TEST(RunDir, ResumeConflictsNameTheKeysThatChangeTheModel) {
  config::ExperimentConfig stored, now;
  EXPECT_TRUE(resume_conflicts(stored, now).empty());
  now.train.max_steps = 500;    // how long: allowed
  now.data.ood = {"svhn:test"};  // evaluation: allowed
  now.score.samples = 4;
  EXPECT_TRUE(resume_conflicts(stored, now).empty());
  now.model.batch_norm = false;
  now.train.lr = 1e-3;
  const auto changed = resume_conflicts(stored, now);
  ASSERT_EQ(changed.size(), 2u);
  EXPECT_EQ(changed[0], "model.batch_norm (true → false)");
  EXPECT_EQ(changed[1], "train.lr (5e-05 → 0.001)");
}

TEST(Stages, AuxiliaryRunConfigs) {
  config::ExperimentConfig c;
  c.name = "q";
  c.seed = 4;
  c.scores = {"loglik", "likelihood-ratio", "waic"};
  c.background.max_steps = 50;
  const auto bg = background_config(c);
  EXPECT_EQ(bg.name, "q-background");
  EXPECT_DOUBLE_EQ(bg.train.mutation_rate, c.background.mutation_rate);
  EXPECT_DOUBLE_EQ(bg.train.weight_decay, c.background.weight_decay);
  EXPECT_EQ(bg.train.weight_decay_on, "all");
  EXPECT_EQ(bg.train.max_steps, 50);
  EXPECT_EQ(bg.scores, std::vector<std::string>{"loglik"});
  const auto member = ensemble_member_config(c, 2);
  EXPECT_EQ(member.seed, 6);
  EXPECT_EQ(member.name, "q-seed6");
  EXPECT_EQ(member.scores, std::vector<std::string>{"loglik"});
}

TEST(Stages, Durations) {
  EXPECT_EQ(format_duration(4.4), "4s");
  EXPECT_EQ(format_duration(65), "1m05s");
  EXPECT_EQ(format_duration(3 * 3600 + 7 * 60), "3h07m");
  EXPECT_EQ(format_duration(-1), "?");
}

}  // namespace
}  // namespace flowood::experiment

// The score-method table and score-file reuse (experiment/scoring.hpp).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "flowood/core/error.hpp"
#include "flowood/experiment/scoring.hpp"
#include "flowood/io/csv.hpp"
#include "flowood/ood/methods.hpp"
#include "temp_dir.hpp"

namespace flowood::experiment {
namespace {

TEST(Scoring, EveryMethodHasARowInTheTable) {
  auto names = ood::score_method_names();
  auto implemented = MethodScorer::method_names();
  std::sort(names.begin(), names.end());
  std::sort(implemented.begin(), implemented.end());
  EXPECT_EQ(names, implemented);
}

TEST(Scoring, ScoreFileNames) {
  const RunPaths run{"runs/q"};
  EXPECT_EQ(method_score_file(run, "mnist:test", "loglik"), "runs/q/scores/mnist_test.csv");
  EXPECT_EQ(method_score_file(run, "mnist:test", "bpd"), "runs/q/scores/mnist_test.csv");
  EXPECT_EQ(method_score_file(run, "folder:/a b?gray", "typicality"), "runs/q/scores/folder__a_b_gray.typicality.csv");
}

TEST(Scoring, AFileIsCurrentOnlyWhenEveryKeyMatches) {
  testing::TempDir dir("scoring");
  const auto path = dir.file("s.csv");
  io::CsvTable t;
  t.meta = {{"dataset", "mnist:test"}, {"score", "loglik"}, {"higher_is_in", "true"}, {"model", "m"},
            {"spec", "mnist:test"},    {"step", "200"},     {"samples", "1"}};
  t.add_column(io::kScoreIndexColumn, {0, 1});
  t.add_column(io::kScoreLabelColumn, {3, 4});
  t.add_column(io::kScoreLoglikColumn, {-1.5, -2.5});
  t.add_column(io::kScoreBpdColumn, {1.0, 2.0});
  io::write_score_csv(path, t);
  EXPECT_TRUE(score_file_is_current(path, {{"spec", "mnist:test"}, {"step", "200"}}));
  EXPECT_FALSE(score_file_is_current(path, {{"spec", "mnist:test"}, {"step", "300"}}));  // retrained
  EXPECT_FALSE(score_file_is_current(path, {{"codec", "png"}}));                         // key missing
  EXPECT_TRUE(score_file_is_current(path, {{"precision", "fp32"}}));  // files from before the key are fp32
  EXPECT_FALSE(score_file_is_current(path, {{"precision", "bf16"}}));
  EXPECT_FALSE(score_file_is_current(dir.file("none.csv"), {}));
  EXPECT_FALSE(score_file_is_current("", {}));
}

TEST(Scoring, DefaultSourcesFindTheRunsOwnAuxiliaryRuns) {
  testing::TempDir dir("scoring");
  const auto run = dir.path().string();
  std::filesystem::create_directories(run + "/ensemble/seed-2");
  std::filesystem::create_directories(run + "/ensemble/seed-1");
  std::filesystem::create_directories(run + "/ensemble/untrained");
  std::ofstream(run + "/ensemble/seed-2/checkpoint.pt") << "x";
  std::ofstream(run + "/ensemble/seed-1/checkpoint.pt") << "x";
  config::ExperimentConfig c;
  c.score.typicality_reference = "fashion-mnist:train?holdout";
  const auto s = default_sources(run, c);
  EXPECT_EQ(s.background_dir, run + "/background");
  EXPECT_EQ(s.ensemble_dirs, (std::vector<std::string>{run + "/ensemble/seed-1", run + "/ensemble/seed-2"}));
  EXPECT_EQ(s.typicality_reference, "fashion-mnist:train?holdout");
  const auto given = default_sources(run, c, "/bg", {"/m"}, "mnist:test");
  EXPECT_EQ(given.background_dir, "/bg");
  EXPECT_EQ(given.ensemble_dirs, std::vector<std::string>{"/m"});
  EXPECT_EQ(given.typicality_reference, "mnist:test");
}

}  // namespace
}  // namespace flowood::experiment

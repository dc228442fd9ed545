// Sweep planning without YAML (experiment/sweep.hpp): expansion with a stub codec, the plan file
// round trip and the sbatch script.
#include <string>

#include <gtest/gtest.h>

#include "flowood/core/error.hpp"
#include "flowood/experiment/sweep.hpp"
#include "temp_dir.hpp"

namespace flowood::experiment {
namespace {

/// A codec that records the overrides each config was read with and writes the name.
ConfigCodec stub_codec(std::vector<std::vector<std::string>>* reads) {
  return {[reads](const std::string&, const std::vector<std::string>& overrides) {
            if (reads) reads->push_back(overrides);
            config::ExperimentConfig c;
            for (const auto& o : overrides)
              if (o == "seed=3") throw ConfigError("seed", "three is refused");
            return c;
          },
          [](const config::ExperimentConfig& c) { return "name: " + c.name + "\n"; }, {}};
}

SweepGrid grid(const std::string& dir) {
  SweepGrid g;
  g.path = "g.yaml";
  g.name = "g";
  g.base = "base.yaml";
  g.dir = dir;
  g.fixed = {"train.max_steps=5"};
  g.axes = {{"model.num_blocks", {"1", "2"}}, {"seed", {"1", "2"}}};
  return g;
}

TEST(Sweep, ExpandsAndValidatesEveryRun) {
  std::vector<std::vector<std::string>> reads;
  const auto plan = expand_sweep(grid("d"), stub_codec(&reads));
  ASSERT_EQ(plan.runs.size(), 4u);
  EXPECT_EQ(plan.runs[1].name, "num_blocks-1__seed-2");
  EXPECT_EQ(plan.runs[1].overrides,
            (std::vector<std::string>{"train.max_steps=5", "model.num_blocks=1", "seed=2", "name=g/num_blocks-1__seed-2"}));
  EXPECT_EQ(reads.size(), 4u);
  auto bad = grid("d");
  bad.axes.back().second.push_back("3");
  EXPECT_THROW((void)expand_sweep(bad, stub_codec(nullptr)), ConfigError);
}

TEST(Sweep, PlanFileRoundTrips) {
  testing::TempDir dir("sweep");
  const auto plan = expand_sweep(grid(dir.file("s")), stub_codec(nullptr));
  write_sweep(plan, stub_codec(nullptr));
  const auto back = read_sweep(dir.file("s"));
  EXPECT_EQ(back.name, "g");
  EXPECT_EQ(back.axes, plan.axes);
  ASSERT_EQ(back.runs.size(), plan.runs.size());
  for (size_t i = 0; i < plan.runs.size(); ++i) {
    EXPECT_EQ(back.runs[i].name, plan.runs[i].name);
    EXPECT_EQ(back.runs[i].values, plan.runs[i].values);
    EXPECT_EQ(back.runs[i].run_dir, plan.runs[i].run_dir);
  }
  EXPECT_THROW((void)read_sweep(dir.file("none")), IoError);
}

TEST(Sweep, SbatchScriptRequeuesOnExit75) {
  auto g = grid("/tmp/s");
  g.slurm.partition = "gpu";
  g.slurm.gpus = 1;
  SlurmOptions flags;
  flags.time = "01:00:00";
  merge_slurm_flags(g.slurm, flags);
  const auto script = sbatch_script(expand_sweep(g, stub_codec(nullptr)), "/bin/flowood");
  for (const char* line : {"#SBATCH --array=0-3", "#SBATCH --partition=gpu", "#SBATCH --time=01:00:00",
                           "#SBATCH --gres=gpu:1", "#SBATCH --signal=B:USR1@120", "#SBATCH --requeue",
                           "if [ \"$rc\" -eq 75 ]; then", "scontrol requeue"})
    EXPECT_NE(script.find(line), std::string::npos) << line;
}

}  // namespace
}  // namespace flowood::experiment

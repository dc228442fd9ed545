// Sweep grids through the binary's YAML reader and the library's expansion: run names, the order
// of the product, fixed overrides and the errors that name the grid file.
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "config_yaml.hpp"
#include "flowood/core/error.hpp"
#include "flowood/experiment/sweep.hpp"
#include "temp_dir.hpp"

namespace flowood::app {
namespace {

struct Grid {
  testing::TempDir dir{"sweep"};
  std::string path;
  explicit Grid(const std::string& body) {
    std::ofstream(dir.file("base.yaml")) << "name: base\ntrain:\n  max_steps: 3\n";
    path = dir.file("grid.yaml");
    std::ofstream(path) << "base: base.yaml\n" << body;
  }
};

TEST(SweepGrid, ProductIsLastAxisFastestWithReadableNames) {
  Grid g("set:\n  train.lr: 0.001\naxes:\n  model.masks: [[checkerboard x2], [cycle x2]]\n  seed: [1, 2]\n"
         "  model.flow: [coupling]\n");
  const auto plan = experiment::expand_sweep(read_sweep_grid(g.path, g.dir.file("out")), yaml_codec());
  ASSERT_EQ(plan.runs.size(), 4u);
  EXPECT_EQ(plan.name, "grid");
  EXPECT_EQ(plan.runs[0].name, "masks-checkerboard_x2__seed-1__flow-coupling");
  EXPECT_EQ(plan.runs[1].name, "masks-checkerboard_x2__seed-2__flow-coupling");
  EXPECT_EQ(plan.runs[3].name, "masks-cycle_x2__seed-2__flow-coupling");
  EXPECT_EQ(plan.runs[0].overrides.front(), "train.lr=0.001");
  EXPECT_EQ(plan.runs[2].config, g.dir.file("out") + "/configs/masks-cycle_x2__seed-1__flow-coupling.yaml");
  EXPECT_EQ(plan.runs[2].run_dir, g.dir.file("out") + "/runs/masks-cycle_x2__seed-1__flow-coupling");
}

TEST(SweepGrid, RepeatedNamesGetTheirIndex) {
  Grid g("axes:\n  data.train: ['a/x:train', 'b/x:train']\n");
  const auto plan = experiment::expand_sweep(read_sweep_grid(g.path, ""), yaml_codec());
  ASSERT_EQ(plan.runs.size(), 2u);
  EXPECT_EQ(plan.runs[0].name, "train-a_x_train");
  EXPECT_EQ(plan.runs[1].name, "train-b_x_train");
  EXPECT_EQ(experiment::sweep_slug("[cycle x2]"), "cycle_x2");
  EXPECT_EQ(experiment::sweep_slug("///"), "x");
}

TEST(SweepGrid, ABadRunNamesTheGridAndTheRun) {
  Grid g("axes:\n  train.lr: [0.1, -1]\n");
  try {
    (void)experiment::expand_sweep(read_sweep_grid(g.path, ""), yaml_codec());
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(g.path + ": run lr--1"), std::string::npos) << what;
    EXPECT_NE(what.find("train.lr must be > 0"), std::string::npos) << what;
  }
}

TEST(SweepGrid, UnknownKeysAreErrors) {
  Grid g("axis:\n  seed: [1]\n");
  EXPECT_THROW((void)read_sweep_grid(g.path, ""), ConfigError);
}

}  // namespace
}  // namespace flowood::app

// The golden test of `flowood import --from flows-ood` (experiment/import_run.hpp): checkpoints
// written in the authors' format by scripts/flows_ood_reference.py (tests/data/flows_ood, with
// the inputs, the dequantisation noise and the log-likelihoods that script computed in float64)
// give the same log-likelihoods in flowood, within 1e-5 relative in float64 — for RealNVP
// (checkerboard and channel couplings, two scales), a cycle-mask/horizontal coupling stack, the
// bottleneck and convnet st-networks, and Glow (ActNorm, 1×1 convolutions) with highway and
// glow-convnet st-networks. And every way an
// import can fail says which file, parameter or key, leaving no run directory behind.
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "config_yaml.hpp"
#include "flowood/core/error.hpp"
#include "flowood/experiment/import_run.hpp"
#include "flowood/experiment/stages.hpp"
#include "flowood/flows/factory.hpp"
#include "flowood/flows/flows_ood_names.hpp"
#include "flowood/io/npy.hpp"
#include "temp_dir.hpp"
#include "test_paths.hpp"

namespace flowood::app {
namespace {

const std::string kFixture = std::string(FLOWOOD_SOURCE_DIR) + "/tests/data/flows_ood/";

/// Imports `checkpoint` with the fixture's `yaml` (plus overrides) into `dir`; returns the error text or "".
std::string import_error(const std::string& checkpoint, const std::string& yaml, const std::string& dir,
                         const std::vector<std::string>& overrides = {}) {
  try {
    const auto config = load_config(kFixture + yaml, overrides).config;
    experiment::import_checkpoint("flows-ood", checkpoint, config, experiment::RunPaths{dir}, yaml_codec());
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

/// Max relative difference between flowood's float64 log-likelihoods of the imported run and the
/// reference script's, on the fixture's inputs and noise.
double golden_error(const std::string& run_dir, const std::string& name) {
  auto run = experiment::load_run(run_dir, torch::kCPU, yaml_codec());
  run.model->to(torch::kFloat64);
  const auto x = io::read_npy(kFixture + name + "_x.npy").tensor;
  const auto u = io::read_npy(kFixture + name + "_u.npy").tensor;
  const auto expected = io::read_npy(kFixture + name + "_loglik.npy").tensor;
  torch::NoGradGuard no_grad;
  const auto ours = run.model->log_prob_from(run.model->forward_with_noise(x, u));
  EXPECT_EQ(ours.scalar_type(), torch::kFloat64);
  return ((ours - expected).abs() / expected.abs()).max().item<double>();
}

class GoldenImport : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenImport, LogLikelihoodsAgreeWithTheAuthorsFormatInFloat64) {
  testing::TempDir dir("import");
  const auto& name = GetParam();
  const auto run_dir = dir.file("run");
  ASSERT_EQ(import_error(kFixture + name + ".pt", name + ".yaml", run_dir), "");
  const double err = golden_error(run_dir, name);
  EXPECT_LT(err, 1e-5) << name;
  EXPECT_LT(err, 1e-10) << name << ": agreement should be to rounding (same float32 weights, float64 arithmetic)";
  RecordProperty("max_relative_error", fmt::format("{:.3g}", err));
}

INSTANTIATE_TEST_SUITE_P(Fixture, GoldenImport,
                         ::testing::Values("realnvp", "cycle", "bottleneck", "glow", "convnet", "glowconv"));

TEST(Import, LegacyFormatGivesTheSameModel) {
  testing::TempDir dir("import");
  ASSERT_EQ(import_error(kFixture + "legacy.pt", "realnvp.yaml", dir.file("run")), "");
  EXPECT_LT(golden_error(dir.file("run"), "realnvp"), 1e-10);
}

TEST(Import, TheRunIsNotTrainedFurtherAndRecordsWhereItCameFrom) {
  testing::TempDir dir("import");
  const auto run_dir = dir.file("run");
  ASSERT_EQ(import_error(kFixture + "glow.pt", "glow.yaml", run_dir), "");
  const experiment::RunPaths run{run_dir};
  const auto source = experiment::imported_from(run);
  ASSERT_TRUE(source.has_value());
  EXPECT_NE(source->find("\"epoch\":7"), std::string::npos) << *source;
  EXPECT_NE(source->find("flows-ood"), std::string::npos) << *source;
  const auto config = yaml_codec().read(run.config(), {});
  const auto before = std::filesystem::last_write_time(run.checkpoint());
  const auto result = experiment::train_stage(config, run, yaml_codec());
  EXPECT_EQ(result.steps, 0);
  EXPECT_EQ(std::filesystem::last_write_time(run.checkpoint()), before);
}

TEST(Import, ArchitectureMismatchNamesEveryParameter) {
  testing::TempDir dir("import");
  const auto run_dir = dir.file("run");
  // Wider st-networks: every convolution has the wrong shape.
  auto e = import_error(kFixture + "realnvp.pt", "realnvp.yaml", run_dir, {"model.mid_channels=8"});
  EXPECT_NE(e.find("realnvp.pt"), std::string::npos) << e;
  EXPECT_NE(e.find("of the wrong shape"), std::string::npos) << e;
  EXPECT_NE(e.find("body.2.0.module1.st_net.in_conv.conv.weight_v is [4, 6, 3, 3], the config's model needs [8, 6, 3, 3]"),
            std::string::npos)
      << e;
  // One residual block more: its parameters are missing.
  e = import_error(kFixture + "realnvp.pt", "realnvp.yaml", run_dir, {"model.num_blocks=2"});
  EXPECT_NE(e.find("missing"), std::string::npos) << e;
  EXPECT_NE(e.find("body.2.0.module1.st_net.blocks.1.in_norm.weight"), std::string::npos) << e;
  // A coupling stack's checkpoint under the RealNVP config: unexpected names too.
  e = import_error(kFixture + "cycle.pt", "realnvp.yaml", run_dir);
  EXPECT_NE(e.find("unexpected"), std::string::npos) << e;
  // The authors have no LU-decomposed 1×1 convolutions.
  e = import_error(kFixture + "glow.pt", "glow.yaml", run_dir, {"model.conv_lu=true"});
  EXPECT_NE(e.find("model.conv_lu"), std::string::npos) << e;
  EXPECT_FALSE(std::filesystem::exists(run_dir)) << "a failed import left a run directory";
}

TEST(Import, DamagedOrMissingFilesAreRefusedBeforeAnythingIsWritten) {
  testing::TempDir dir("import");
  const auto run_dir = dir.file("run");
  std::ifstream in(kFixture + "cycle.pt", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(dir.file("cut.pt"), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  auto e = import_error(dir.file("cut.pt"), "cycle.yaml", run_dir);
  EXPECT_NE(e.find("cut.pt"), std::string::npos) << e;
  e = import_error(dir.file("nothing.pt"), "cycle.yaml", run_dir);
  EXPECT_NE(e.find("nothing.pt: no such file"), std::string::npos) << e;
  EXPECT_FALSE(std::filesystem::exists(run_dir));
}

TEST(Import, AnExistingRunIsNeverOverwritten) {
  testing::TempDir dir("import");
  const auto run_dir = dir.file("run");
  ASSERT_EQ(import_error(kFixture + "cycle.pt", "cycle.yaml", run_dir), "");
  const auto before = std::filesystem::last_write_time(experiment::RunPaths{run_dir}.checkpoint());
  const auto e = import_error(kFixture + "cycle.pt", "cycle.yaml", run_dir);
  EXPECT_NE(e.find("already holds a checkpoint"), std::string::npos) << e;
  EXPECT_EQ(std::filesystem::last_write_time(experiment::RunPaths{run_dir}.checkpoint()), before);
}

TEST(Import, NonFiniteValuesAreRefused) {
  const auto config = load_config(kFixture + "cycle.yaml", {}).config;
  auto model = flows::make_flow(config.model);
  std::map<std::string, torch::Tensor> state;
  for (const auto& [ours, theirs] : flows::flows_ood_names(*model)) {
    const auto* p = model->named_parameters().find(ours);
    state[theirs] = (p ? *p : *model->named_buffers().find(ours)).detach().clone();
  }
  state["body.3.0.module1.rescale.weight_g"].fill_(std::nan(""));
  try {
    flows::load_flows_ood_state(*model, state, "nan.pt");
    FAIL() << "loaded NaN";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("body.3.0.module1.rescale.weight_g holds NaN"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace flowood::app

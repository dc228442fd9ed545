// The layout choice (experiment/layout_choice.hpp): the config's setting, the environment's
// override, the measurement for `auto`, and its per-machine cache, including a damaged one.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/data/cache.hpp"
#include "flowood/experiment/layout_choice.hpp"
#include "flowood/flows/factory.hpp"
#include "flowood/io/json_file.hpp"
#include "temp_dir.hpp"

namespace flowood::experiment {
namespace {
namespace fs = std::filesystem;

// Sets (or unsets) an environment variable for the test's duration.
class EnvScope {
 public:
  EnvScope(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value->c_str(), 1);
    else ::unsetenv(name);
  }
  ~EnvScope() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

flows::FlowModel image_model() {
  config::ModelConfig m;
  m.in_shape = {1, 8, 8};
  m.num_blocks = 1;
  m.mid_channels = 8;
  torch::manual_seed(5);
  return flows::make_flow(m);
}

const torch::Device kCpu(torch::kCPU);

TEST(LayoutChoice, TheConfigNamesItAndTheEnvironmentOverrides) {
  EnvScope no_env(kLayoutEnvVar, std::nullopt);
  auto model = image_model();
  auto c = choose_layout("channels-last", *model, LayoutWork::kScore, 4, kCpu);
  EXPECT_EQ(c.layout, flows::Layout::kChannelsLast);
  EXPECT_EQ(c.source, "config");
  EXPECT_EQ(c.nchw_ms, 0.0);
  {
    EnvScope env(kLayoutEnvVar, "nchw");
    c = choose_layout("channels-last", *model, LayoutWork::kScore, 4, kCpu);
    EXPECT_EQ(c.layout, flows::Layout::kNchw);
    EXPECT_EQ(c.source, "FLOWOOD_LAYOUT");
  }
  try {
    choose_layout("nhwc", *model, LayoutWork::kScore, 4, kCpu);
    FAIL() << "nhwc accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("layout"), std::string::npos);
  }
  EnvScope bad(kLayoutEnvVar, "fast");
  try {
    choose_layout("auto", *model, LayoutWork::kScore, 4, kCpu);
    FAIL() << "FLOWOOD_LAYOUT=fast accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("FLOWOOD_LAYOUT"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("fast"), std::string::npos);
  }
}

TEST(LayoutChoice, ATabularFlowHasNoConvolutionsToTime) {
  EnvScope no_env(kLayoutEnvVar, std::nullopt);
  config::ModelConfig m;
  m.flow = "tabular";
  m.in_shape = {6};
  m.st_net = "mlp";
  m.masks = {"tabular x2"};
  auto model = flows::make_flow(m);
  const auto c = choose_layout("auto", *model, LayoutWork::kTrain, 16, kCpu);
  EXPECT_EQ(c.layout, flows::Layout::kNchw);
  EXPECT_EQ(c.source, "no convolutions");
}

TEST(LayoutChoice, MeasuresOnceCachesAndRecoversFromADamagedCache) {
  EnvScope no_env(kLayoutEnvVar, std::nullopt);
  flowood::testing::TempDir dir("layout");
  auto model = image_model();
  model->train();
  const auto a = dir.file("a");
  LayoutChoice measured;
  {
    EnvScope cache(data::kCacheEnvVar, a);
    measured = choose_layout("auto", *model, LayoutWork::kTrain, 4, kCpu);
  }
  EXPECT_TRUE(model->is_training()) << "the shape probe must leave the model's mode as it was";
  EXPECT_EQ(measured.source, "measured");
  EXPECT_GT(measured.shapes, 0);
  EXPECT_GT(measured.nchw_ms, 0.0);
  EXPECT_GT(measured.channels_last_ms, 0.0);
  EXPECT_EQ(measured.layout == flows::Layout::kChannelsLast, measured.channels_last_ms <= 0.95 * measured.nchw_ms);
  const auto file = a + "/layout-choices.json";
  auto cache = io::read_json_file(file);
  ASSERT_EQ(cache.size(), 1u);
  auto& entry = cache.begin().value();
  EXPECT_EQ(entry["layout"], flows::layout_name(measured.layout));

  // Another cache directory holding the opposite answer: it is read, not measured again.
  const auto opposite = measured.layout == flows::Layout::kNchw ? flows::Layout::kChannelsLast : flows::Layout::kNchw;
  entry["layout"] = flows::layout_name(opposite);
  fs::create_directories(dir.file("b"));
  io::write_json_file(dir.file("b") + "/layout-choices.json", cache);
  {
    EnvScope cache_env(data::kCacheEnvVar, dir.file("b"));
    const auto cached = choose_layout("auto", *model, LayoutWork::kTrain, 4, kCpu);
    EXPECT_EQ(cached.source, "cached");
    EXPECT_EQ(cached.layout, opposite);
  }

  // A damaged cache (not JSON; an entry of the wrong shape): measured again and rewritten whole.
  for (const std::string text : {"{ not json", R"({"x": 1})", "[1, 2]"}) {
    const auto c = dir.file("c" + std::to_string(text.size()));
    fs::create_directories(c);
    std::ofstream(c + "/layout-choices.json") << text;
    EnvScope cache_env(data::kCacheEnvVar, c);
    const auto again = choose_layout("auto", *model, LayoutWork::kTrain, 4, kCpu);
    EXPECT_EQ(again.source, "measured") << text;
    const auto rewritten = io::read_json_file(c + "/layout-choices.json");
    EXPECT_TRUE(rewritten.is_object()) << text;
  }
  fs::create_directories(dir.file("d"));
  auto wrong = cache;
  wrong.begin().value() = io::Json{{"layout", 5}};
  io::write_json_file(dir.file("d") + "/layout-choices.json", wrong);
  EnvScope cache_env(data::kCacheEnvVar, dir.file("d"));
  EXPECT_EQ(choose_layout("auto", *model, LayoutWork::kTrain, 4, kCpu).source, "measured");
}

}  // namespace
}  // namespace flowood::experiment

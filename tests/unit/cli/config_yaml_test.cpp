// The binary's YAML reader (apps/flowood/config_yaml.*): the reference config equals the defaults,
// --set parses values as YAML and names bad keys, and the codec round-trips every key.
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "config_yaml.hpp"
#include "flowood/core/error.hpp"
#include "flowood/experiment/run_dir.hpp"
#include "temp_dir.hpp"
#include "test_paths.hpp"

namespace flowood::app {
namespace {

std::string error_of(const std::string& path, const std::vector<std::string>& overrides) {
  try {
    (void)load_config(path, overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return {};
}

TEST(ConfigYaml, ReferenceFileEqualsTheDefaults) {
  const auto loaded = load_config(std::string(FLOWOOD_SOURCE_DIR) + "/experiments/reference.yaml", {});
  EXPECT_EQ(experiment::flatten(loaded.config), experiment::flatten(config::ExperimentConfig{}));
}

TEST(ConfigYaml, ReferenceTextReadsBackToTheDefaults) {
  testing::TempDir dir("cli");
  std::ofstream(dir.file("ref.yaml")) << reference_yaml();
  EXPECT_EQ(experiment::flatten(load_config(dir.file("ref.yaml"), {}).config),
            experiment::flatten(config::ExperimentConfig{}));
}

TEST(ConfigYaml, SetParsesValuesAsYaml) {
  const auto c = load_config("", {"train.lr=0.5", "model.in_shape=[3, 32, 32]", "data.ood=[a:test, b:test]",
                                  "model.batch_norm=false", "name=x"})
                     .config;
  EXPECT_DOUBLE_EQ(c.train.lr, 0.5);
  EXPECT_EQ(c.model.in_shape, (std::vector<int64_t>{3, 32, 32}));
  EXPECT_EQ(c.data.ood, (std::vector<std::string>{"a:test", "b:test"}));
  EXPECT_FALSE(c.model.batch_norm);
  EXPECT_EQ(c.name, "x");
}

TEST(ConfigYaml, NestedSectionsAndListsOfNumbers) {
  testing::TempDir dir("cli_nested");
  std::ofstream(dir.file("e.yaml")) << "model: {flow: tabular, in_shape: [128], masks: [tabular x2], st_net: mlp}\n"
                                       "train:\n  lr: 0.001\n  negative:\n    data: mnist:test\n    threshold: -30000\n"
                                       "embedding:\n  extractor: classifier\n  mean: [0.5, 0.25]\n  std: [0.5, 1]\n"
                                       "scores: [loglik, msp]\n";
  const auto c = load_config(dir.file("e.yaml"), {}).config;
  EXPECT_EQ(c.train.negative.data, "mnist:test");
  EXPECT_DOUBLE_EQ(c.train.negative.threshold, -30000);
  EXPECT_DOUBLE_EQ(c.train.negative.weight, 1.0);
  EXPECT_EQ(c.embedding.mean, (std::vector<double>{0.5, 0.25}));
  EXPECT_EQ(c.embedding.std, (std::vector<double>{0.5, 1.0}));
  // The writer nests train.negative under train, and reads back to the same config.
  const auto text = to_yaml(c);
  EXPECT_NE(text.find("  negative:\n    data: mnist:test"), std::string::npos) << text;
  EXPECT_EQ(experiment::flatten(load_config_text(text, "written").config), experiment::flatten(c));
  // Typos inside the nested section are named with their whole path.
  std::ofstream(dir.file("typo.yaml")) << "train:\n  negative:\n    wieght: 2\n";
  EXPECT_NE(error_of(dir.file("typo.yaml"), {}).find("unknown key 'train.negative.wieght' (did you mean "
                                                      "'train.negative.weight'?)"),
            std::string::npos)
      << error_of(dir.file("typo.yaml"), {});
  EXPECT_NE(error_of("", {"embedding.std=[a]"}).find("--set embedding.std: must be a list of numbers"), std::string::npos);
}

TEST(ConfigYaml, EmbeddingRunRules) {
  const std::vector<std::string> ok = {"model.flow=tabular", "model.in_shape=[128]", "model.masks=[tabular x2]",
                                       "model.st_net=mlp", "embedding.extractor=classifier"};
  EXPECT_EQ(error_of("", ok), "");
  auto with = [&](std::vector<std::string> extra) {
    auto all = ok;
    all.insert(all.end(), extra.begin(), extra.end());
    return error_of("", all);
  };
  EXPECT_NE(with({"model.in_shape=[64]"}).find("model.in_shape must be [128] for the classifier extractor"), std::string::npos);
  EXPECT_NE(with({"embedding.width=16", "scores=[loglik, waic]"}).find("scores[1] waic trains extra flows"), std::string::npos);
  EXPECT_NE(with({"embedding.extractor=vgg"}).find("embedding.extractor must be classifier, torchscript:PATH"),
            std::string::npos);
  EXPECT_NE(error_of("", {"scores=[loglik, mahalanobis]"}).find("scores[1] mahalanobis needs features"), std::string::npos);
  EXPECT_NE(with({"embedding.mean=[0.5]"}).find("embedding.std must have as many entries as embedding.mean"),
            std::string::npos);
  EXPECT_NE(with({"train.negative.weight=0"}).find("train.negative.weight must be > 0 (got 0)"), std::string::npos);
}

TEST(ConfigYaml, SetErrorsNameTheKey) {
  EXPECT_EQ(error_of("", {"train.lrr=1"}), "--set: unknown key 'train.lrr' (did you mean 'train.lr'?)");
  EXPECT_EQ(error_of("", {"train.lr"}), "--set train.lr: expected key.path=value");
  EXPECT_EQ(error_of("", {"train.batch_size=many"}), "--set train.batch_size: must be an integer");
  EXPECT_EQ(error_of("", {"train.lr=-1"}), "--set: train.lr must be > 0 (got -1)");
}

TEST(ConfigYaml, IntegersAreDecimalAndRatesFinite) {
  // yaml-cpp alone reads 010 as octal 8 and 0x10 as 16; a config key takes decimal digits only.
  EXPECT_EQ(error_of("", {"train.batch_size=010"}),
            "--set train.batch_size: must be an integer in decimal digits without a leading 0 (got '010', which YAML "
            "may read as octal or hex)");
  EXPECT_EQ(error_of("", {"train.batch_size=0x10"}),
            "--set train.batch_size: must be an integer in decimal digits without a leading 0 (got '0x10', which YAML "
            "may read as octal or hex)");
  EXPECT_NE(error_of("", {"model.in_shape=[1, 028, 28]"}).find("must be a list of integers in decimal digits"),
            std::string::npos);
  EXPECT_EQ(load_config("", {"train.batch_size=10", "seed=0", "data.test_limit=+5"}).config.train.batch_size, 10);
  EXPECT_EQ(error_of("", {"train.lr=.inf"}), "--set: train.lr must be finite (got inf)");
  EXPECT_EQ(error_of("", {"train.weight_decay=.inf"}), "--set: train.weight_decay must be finite (got inf)");
}

TEST(ConfigYaml, TextValuesAreCleanUtf8) {
  // A lone carriage return inside a value (found by libFuzzer: the written config dropped it, so the
  // config stored with a run differed from the one read) and bytes that are not UTF-8 are refused.
  for (const std::string& text : {std::string("name: experiment\r  # note\n"), std::string("name: caf\xE9\n")}) {
    try {
      flowood::app::load_config_text(text, "bad.yaml");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const flowood::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("name must be a string (plain text: the value holds a control character or "
                                           "bytes that are not UTF-8)"),
                std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(flowood::app::load_config_text("name: café\n", "ok.yaml").config.name, "café");
  EXPECT_EQ(flowood::app::load_config_text("name: crlf\r\nseed: 3\r\n", "dos.yaml").config.seed, 3);
}

TEST(ConfigYaml, LaterSetWins) {
  EXPECT_EQ(load_config("", {"seed=1", "seed=7"}).config.seed, 7);
}

TEST(ConfigYaml, CodecRoundTripsEveryKey) {
  testing::TempDir dir("cli");
  auto c = load_config("", {"name=round", "model.flow=coupling", "model.masks=[checkerboard x2]", "score.samples=3",
                            "scores=[loglik, typicality]", "data.roots=[/a, /b]"})
               .config;
  std::ofstream(dir.file("c.yaml")) << yaml_codec().write(c);
  EXPECT_EQ(experiment::flatten(yaml_codec().read(dir.file("c.yaml"), {})), experiment::flatten(c));
}

}  // namespace
}  // namespace flowood::app

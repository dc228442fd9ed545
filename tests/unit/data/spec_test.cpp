// Dataset spec parsing: the strings users type.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "flowood/core/error.hpp"
#include "flowood/data/registry.hpp"
#include "flowood/data/spec.hpp"

using namespace flowood::data;

namespace {

std::string parse_error(const std::string& spec) {
  try {
    parse_dataset_spec(spec);
  } catch (const flowood::DataError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected DataError for spec \"" << spec << "\"";
  return {};
}

}  // namespace

TEST(DatasetSpec, NamedWithAndWithoutSplit) {
  EXPECT_EQ(parse_dataset_spec("fashion-mnist"), (DatasetSpec{"fashion-mnist", "test", ""}));
  EXPECT_EQ(parse_dataset_spec("fashion-mnist:train"), (DatasetSpec{"fashion-mnist", "train", ""}));
  EXPECT_EQ(parse_dataset_spec("mnist:test"), (DatasetSpec{"mnist", "test", ""}));
  EXPECT_EQ(parse_dataset_spec("  MNIST:Train "), (DatasetSpec{"mnist", "train", ""}));
  EXPECT_EQ(parse_dataset_spec("mnist").to_string(), "mnist:test");
}

TEST(DatasetSpec, PathKindKeepsPathVerbatim) {
  const DatasetSpec spec = parse_dataset_spec("idx:/data/My Files/t10k:v2-images-idx3-ubyte.gz");
  EXPECT_EQ(spec.name, "idx");
  EXPECT_EQ(spec.split, "");
  EXPECT_EQ(spec.path, "/data/My Files/t10k:v2-images-idx3-ubyte.gz");
  EXPECT_EQ(spec.to_string(), "idx:/data/My Files/t10k:v2-images-idx3-ubyte.gz");
  EXPECT_EQ(parse_dataset_spec("IDX:Rel/Path.gz").path, "Rel/Path.gz");
}

TEST(DatasetSpec, UnknownNameListsValidOnes) {
  const std::string what = parse_error("imagenet:test");
  EXPECT_NE(what.find("imagenet:test"), std::string::npos) << what;
  EXPECT_NE(what.find("unknown dataset \"imagenet\""), std::string::npos) << what;
  for (const char* valid : {"fashion-mnist[:train|test]", "mnist[:train|test]", "idx:PATH", "cifar10[:train|test]",
                            "folder:PATH[?OPTIONS]"}) {
    EXPECT_NE(what.find(valid), std::string::npos) << what;
  }
  EXPECT_NE(parse_error("data/t10k-images-idx3-ubyte.gz").find("idx:data/t10k-images-idx3-ubyte.gz"),
            std::string::npos);
}

TEST(DatasetSpec, BadSplitsAndMissingPath) {
  const std::string split = parse_error("fashion-mnist:val");
  EXPECT_NE(split.find("fashion-mnist:val"), std::string::npos) << split;
  EXPECT_NE(split.find("unknown split \"val\""), std::string::npos) << split;
  EXPECT_NE(split.find("train, test"), std::string::npos) << split;
  EXPECT_NE(parse_error("mnist:test:extra").find("too many ':'"), std::string::npos);
  EXPECT_NE(parse_error("idx:").find("needs a path"), std::string::npos);
  EXPECT_NE(parse_error("   ").find("empty dataset spec"), std::string::npos);
  EXPECT_NE(parse_error("mnist:").find("unknown split \"\""), std::string::npos);
}

TEST(DatasetRegistry, KnownNamesAndSyntax) {
  EXPECT_EQ(known_dataset_names(),
            (std::vector<std::string>{"fashion-mnist", "mnist", "cifar10", "svhn", "celeba", "noise", "constant",
                                      "coloured-digits", "idx", "folder", "npy", "npz", "csv", "arff"}));
  EXPECT_EQ(dataset_spec_syntax(),
            "fashion-mnist[:train|test][?OPTIONS], mnist[:train|test][?OPTIONS], cifar10[:train|test][?OPTIONS], "
            "svhn[:train|test][?OPTIONS], celeba[:train|valid|test][?OPTIONS], noise[:uniform|gaussian][?OPTIONS], "
            "constant[?OPTIONS], coloured-digits[?OPTIONS], idx:PATH[?OPTIONS], folder:PATH[?OPTIONS], npy:PATH[?OPTIONS], "
            "npz:PATH[#ARRAY][?OPTIONS], csv:PATH[?OPTIONS], arff:PATH[?OPTIONS]");
  ASSERT_NE(find_dataset_kind("idx"), nullptr);
  EXPECT_TRUE(find_dataset_kind("idx")->takes_path);
  EXPECT_EQ(find_dataset_kind("imagenet"), nullptr);
  for (const auto& kind : dataset_kinds()) {
    EXPECT_NE(static_cast<bool>(kind.load), kind.is_features()) << kind.name << ": exactly one loader";
    EXPECT_FALSE(kind.summary.empty()) << kind.name;
    if (!kind.takes_path && !kind.generated) {
      EXPECT_TRUE(static_cast<bool>(kind.locate)) << kind.name;
      EXPECT_FALSE(kind.how_to_get.empty()) << kind.name;
    }
  }
}

TEST(DatasetSpec, Options) {
  DatasetSpec spec = parse_dataset_spec("folder:/data/my imgs?gray&size=28&INVERT");
  EXPECT_EQ(spec.path, "/data/my imgs");
  EXPECT_EQ(spec.options, (std::vector<std::pair<std::string, std::string>>{{"gray", ""}, {"size", "28"}, {"invert", ""}}));
  EXPECT_TRUE(spec.has_option("invert"));
  EXPECT_EQ(spec.option("size"), std::optional<std::string>("28"));
  EXPECT_EQ(spec.to_string(), "folder:/data/my imgs?gray&size=28&invert");
  EXPECT_EQ(parse_dataset_spec(spec.to_string()), spec);

  spec = parse_dataset_spec("noise:Gaussian?n=5&seed=2");
  EXPECT_EQ(spec.split, "gaussian");
  EXPECT_EQ(spec.to_string(), "noise:gaussian?n=5&seed=2");
  EXPECT_EQ(parse_dataset_spec("noise?n=5").split, "uniform");
  EXPECT_EQ(parse_dataset_spec("celeba?size=64").to_string(), "celeba:test?size=64");
  EXPECT_EQ(parse_dataset_spec("constant").to_string(), "constant");
  // A path containing '?' ends with '?' (empty options); '#' names an npz array.
  EXPECT_EQ(parse_dataset_spec("folder:/odd?dir?").path, "/odd?dir");
  spec = parse_dataset_spec("npz:/f/cifar10_features_test.npz#embeddings?labels=labels");
  EXPECT_EQ(spec.path, "/f/cifar10_features_test.npz");
  EXPECT_EQ(spec.option("array"), std::optional<std::string>("embeddings"));
  EXPECT_EQ(parse_dataset_spec("npz:/a#b/c.npz").path, "/a#b/c.npz");  // '#' before a '/' is part of the path
  // The canonical text parses back to the same spec, whatever '?' and '#' the path holds (cases
  // libFuzzer's round-trip check found).
  for (const char* text : {"npz:/f/e.npz#embeddings?labels=y", "npz:/f/a#b#x", "npz:/f/a?b#x?", "folder:/odd?dir?",
                           "npz:/f/e.npz?array=a/b", "idx:/p?q?", "csv:/x\r?",
                           "npz://t.?array=a=b#c"}) {
    const auto parsed = parse_dataset_spec(text);
    EXPECT_EQ(parse_dataset_spec(parsed.to_string()), parsed) << text << " → " << parsed.to_string();
  }
  EXPECT_EQ(parse_dataset_spec("npz:/f/e.npz#embeddings?labels=y").to_string(), "npz:/f/e.npz#embeddings?labels=y");
  EXPECT_EQ(parse_dataset_spec("folder:/odd?dir?").to_string(), "folder:/odd?dir?");

  EXPECT_EQ(spec_int_option(parse_dataset_spec("noise?n=12"), "n", 1, 1, 100), 12);
  EXPECT_EQ(spec_int_option(parse_dataset_spec("noise"), "n", 7, 1, 100), 7);
  EXPECT_EQ(spec_shape_option(parse_dataset_spec("noise?shape=1x28x28"), "shape", {}),
            (std::vector<int64_t>{1, 28, 28}));
  EXPECT_EQ(*spec_size_option(parse_dataset_spec("folder:x?resize=10x12"), "resize"), (std::pair<int64_t, int64_t>(10, 12)));
}

TEST(DatasetSpec, BadOptions) {
  std::string what = parse_error("folder:/x?grey");
  EXPECT_NE(what.find("unknown option \"grey\" for folder"), std::string::npos) << what;
  EXPECT_NE(what.find("gray, rgb, size=S"), std::string::npos) << what;
  EXPECT_NE(parse_error("folder:/x?gray=1").find("is a flag"), std::string::npos);
  EXPECT_NE(parse_error("folder:/x?size").find("needs a value"), std::string::npos);
  EXPECT_NE(parse_error("folder:/x?size=2&size=3").find("given twice"), std::string::npos);
  EXPECT_NE(parse_error("mnist?size=3").find("valid: classes=LIST, part=train|test, holdout=F, part_seed=N"),
            std::string::npos)
      << parse_error("mnist?size=3");
  EXPECT_NE(parse_error("folder:?gray").find("needs a path"), std::string::npos);
  EXPECT_NE(parse_error("npz:/a.npz#x?array=y").find("array given twice"), std::string::npos);
  EXPECT_NE(parse_error("npz:/f/e?b#??").find("holds '?', '&' or '='"), std::string::npos);
  try {
    spec_int_option(parse_dataset_spec("noise?n=abc"), "n", 1, 1, 10);
    ADD_FAILURE();
  } catch (const flowood::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("option n=abc: expected an integer in 1..10"), std::string::npos) << e.what();
  }
}

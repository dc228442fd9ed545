// Dataset spec parsing: the strings users type.
#include <gtest/gtest.h>

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
  const std::string what = parse_error("cifar10:test");
  EXPECT_NE(what.find("cifar10:test"), std::string::npos) << what;
  EXPECT_NE(what.find("unknown dataset \"cifar10\""), std::string::npos) << what;
  for (const char* valid : {"fashion-mnist[:train|test]", "mnist[:train|test]", "idx:PATH"}) {
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
  EXPECT_EQ(known_dataset_names(), (std::vector<std::string>{"fashion-mnist", "mnist", "idx"}));
  EXPECT_EQ(dataset_spec_syntax(), "fashion-mnist[:train|test], mnist[:train|test], idx:PATH");
  ASSERT_NE(find_dataset_kind("idx"), nullptr);
  EXPECT_TRUE(find_dataset_kind("idx")->takes_path);
  EXPECT_EQ(find_dataset_kind("cifar10"), nullptr);
  for (const auto& kind : dataset_kinds()) {
    EXPECT_TRUE(static_cast<bool>(kind.load)) << kind.name;
    EXPECT_FALSE(kind.summary.empty()) << kind.name;
  }
}

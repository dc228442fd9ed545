// Data roots: configured, then $FLOWOOD_DATA, then the defaults.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "flowood/data/roots.hpp"

using namespace flowood::data;
using Strings = std::vector<std::string>;

namespace {

/// Sets (or unsets, with nullopt) FLOWOOD_DATA for one test and restores it afterwards.
class ScopedDataEnv {
 public:
  explicit ScopedDataEnv(const std::optional<std::string>& value) {
    if (const char* old = std::getenv(kDataRootsEnvVar)) old_ = old;
    if (value) {
      ::setenv(kDataRootsEnvVar, value->c_str(), 1);
    } else {
      ::unsetenv(kDataRootsEnvVar);
    }
  }
  ~ScopedDataEnv() {
    if (old_) {
      ::setenv(kDataRootsEnvVar, old_->c_str(), 1);
    } else {
      ::unsetenv(kDataRootsEnvVar);
    }
  }

 private:
  std::optional<std::string> old_;
};

}  // namespace

TEST(DataRoots, SplitSearchPath) {
  EXPECT_EQ(split_search_path("a:b/c:/d"), (Strings{"a", "b/c", "/d"}));
  EXPECT_EQ(split_search_path("::a::b:"), (Strings{"a", "b"}));
  EXPECT_EQ(split_search_path(""), Strings{});
}

TEST(DataRoots, ConfiguredThenEnvThenDefaults) {
  ScopedDataEnv env(std::string("/env/one:../env/two/"));
  EXPECT_EQ(DataRoots::from({"/cfg/a", "cfg/b"}).dirs,
            (Strings{"/cfg/a", "cfg/b", "/env/one", "../env/two", "./data", "/usr/share/datasets"}));
}

TEST(DataRoots, WithoutEnvOnlyConfiguredAndDefaults) {
  ScopedDataEnv env(std::nullopt);
  EXPECT_EQ(DataRoots::from({}).dirs, (Strings{"./data", "/usr/share/datasets"}));
  EXPECT_EQ(DataRoots::from({"/x"}).dirs, (Strings{"/x", "./data", "/usr/share/datasets"}));
}

TEST(DataRoots, EmptyEnvAndDuplicatesAreDropped) {
  ScopedDataEnv env(std::string(":/usr/share/datasets/:"));
  // "data/" and "./data" are the same directory; the first mention keeps its place.
  EXPECT_EQ(DataRoots::from({"", "data/", "/usr/share/datasets"}).dirs,
            (Strings{"data", "/usr/share/datasets"}));
}

TEST(DataRoots, DefaultsAreStable) {
  EXPECT_EQ(default_data_roots(), (Strings{"./data", "/usr/share/datasets"}));
  EXPECT_STREQ(kDataRootsEnvVar, "FLOWOOD_DATA");
}

#pragma once
// A scratch directory for one test, removed with everything in it when the test ends.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

namespace flowood::testing {

class TempDir {
 public:
  /// <tmp>/flowood_<tag>_<pid>_<test name>, created empty.
  explicit TempDir(const std::string& tag) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("flowood_" + tag + "_" + std::to_string(::getpid()) + "_" + (info ? info->name() : "x"));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  /// Path of `name` inside the directory.
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace flowood::testing

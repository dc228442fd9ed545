#include "flowood/io/atomic_file.hpp"

#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "flowood/core/error.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

// A fresh directory per test, removed afterwards.
class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("flowood_atomic_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()));
  }
  fs::path dir_;
};

TEST_F(AtomicFileTest, WritesStreamContent) {
  const std::string path = (dir_ / "a.txt").string();
  flowood::io::write_file_atomic(path, [](std::ostream& out) { out << "hello\n" << 42; });
  EXPECT_EQ(flowood::io::read_file(path), "hello\n42");
  EXPECT_EQ(entries(), 1u);  // no temporary left behind
}

TEST_F(AtomicFileTest, WritesBinaryBlobAndReplacesExisting) {
  const std::string path = (dir_ / "b.bin").string();
  flowood::io::write_file_atomic(path, std::string("old"));
  const char blob[] = {'\0', '\x01', '\xff', 'x'};
  flowood::io::write_file_atomic(path, blob, sizeof(blob));
  EXPECT_EQ(flowood::io::read_file(path), std::string(blob, sizeof(blob)));
  EXPECT_EQ(entries(), 1u);
}

TEST_F(AtomicFileTest, ThrowingWriterLeavesOldFileAndNoTemporary) {
  const std::string path = (dir_ / "c.txt").string();
  flowood::io::write_file_atomic(path, std::string("original"));
  EXPECT_THROW(flowood::io::write_file_atomic(path,
                                          [](std::ostream& out) {
                                            out << "partial";
                                            throw std::runtime_error("writer failed");
                                          }),
               std::runtime_error);
  EXPECT_EQ(flowood::io::read_file(path), "original");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(AtomicFileTest, MissingDirectoryThrowsIoErrorNamingPath) {
  const std::string path = (dir_ / "no_such_dir" / "x.txt").string();
  try {
    flowood::io::write_file_atomic(path, std::string("data"));
    FAIL() << "expected IoError";
  } catch (const flowood::IoError& e) {
    EXPECT_EQ(e.path(), path);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_EQ(entries(), 0u);
}

TEST_F(AtomicFileTest, TargetIsADirectoryThrowsAndCleansUp) {
  const fs::path target = dir_ / "sub";
  fs::create_directories(target);
  EXPECT_THROW(flowood::io::write_file_atomic(target.string(), std::string("data")), flowood::IoError);
  EXPECT_EQ(entries(), 1u);  // only "sub"
  EXPECT_TRUE(fs::is_directory(target));
}

TEST_F(AtomicFileTest, ReadMissingFileThrowsIoError) {
  const std::string path = (dir_ / "missing.txt").string();
  try {
    flowood::io::read_file(path);
    FAIL() << "expected IoError";
  } catch (const flowood::IoError& e) {
    EXPECT_EQ(e.path(), path);
  }
}

}  // namespace

namespace {

TEST(AtomicFile, StaleTemporariesOfDeadProcessesAreRemoved) {
  namespace fs = std::filesystem;
  flowood::testing::TempDir dir("stale_tmp");
  const auto old = fs::file_time_type::clock::now() - std::chrono::hours(1);
  const auto make = [&](const std::string& name, bool aged) {
    std::ofstream(dir.file(name)) << "partial";
    if (aged) fs::last_write_time(dir.file(name), old);
  };
  make("checkpoint.pt.tmp.2147483646", true);                            // no such process: removed
  make("metrics.json.tmp.2147483645", false);                            // too recent: kept
  make("config.yaml.tmp." + std::to_string(::getpid()), true);           // this process: kept
  make("notes.tmp.txt", true);                                           // not a temporary: kept
  const auto removed = flowood::io::remove_stale_temporaries(dir.path().string());
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(fs::path(removed.front()).filename(), "checkpoint.pt.tmp.2147483646");
  EXPECT_FALSE(fs::exists(dir.file("checkpoint.pt.tmp.2147483646")));
  EXPECT_TRUE(fs::exists(dir.file("metrics.json.tmp.2147483645")));
  EXPECT_TRUE(fs::exists(dir.file("config.yaml.tmp." + std::to_string(::getpid()))));
  EXPECT_TRUE(fs::exists(dir.file("notes.tmp.txt")));
  EXPECT_TRUE(flowood::io::remove_stale_temporaries(dir.file("no_such_dir")).empty());
}

}  // namespace

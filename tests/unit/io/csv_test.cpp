#include "flowood/io/csv.hpp"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include <gtest/gtest.h>

#include "flowood/core/error.hpp"
#include "flowood/io/atomic_file.hpp"

namespace fs = std::filesystem;

namespace {

class CsvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("flowood_csv_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }
  void write_text(const std::string& path, const std::string& text) const { std::ofstream(path) << text; }
  fs::path dir_;
};

flowood::io::CsvTable loglik_table() {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  return flowood::io::make_loglik_score_table({-2301.5, -2250.25, 0.1 + 0.2}, {2.11, 2.07, 1.0 / 3.0}, {7, nan, 0},
                                          {{"dataset", "mnist:test"},
                                           {"score", "loglik"},
                                           {"higher_is_in", "true"},
                                           {"model", "runs/fashion"}});
}

TEST_F(CsvTest, WritesScoreFileInTheDecidedFormat) {
  const std::string path = file("scores.csv");
  flowood::io::write_score_csv(path, loglik_table());
  EXPECT_EQ(flowood::io::read_file(path),
            "# dataset=mnist:test\n"
            "# higher_is_in=true\n"
            "# model=runs/fashion\n"
            "# score=loglik\n"
            "index,label,loglik,bpd\n"
            "0,7,-2301.5,2.11\n"
            "1,,-2250.25,2.07\n"
            "2,0,0.30000000000000004,0.3333333333333333\n");
}

TEST_F(CsvTest, RoundTripsValuesExactly) {
  const std::string path = file("scores.csv");
  const auto written = loglik_table();
  flowood::io::write_score_csv(path, written);
  const auto read = flowood::io::read_score_csv(path);
  EXPECT_EQ(read.source, path);
  EXPECT_EQ(read.meta, written.meta);
  EXPECT_EQ(read.columns, written.columns);
  ASSERT_EQ(read.num_rows(), 3u);
  EXPECT_EQ(read.column("loglik"), written.column("loglik"));
  EXPECT_EQ(read.column("bpd"), written.column("bpd"));
  EXPECT_EQ(read.column("label")[0], 7.0);
  EXPECT_TRUE(std::isnan(read.column("label")[1]));
  EXPECT_TRUE(flowood::io::score_higher_is_in(read));
}

TEST_F(CsvTest, InfinitiesRoundTrip) {
  flowood::io::CsvTable t;
  t.add_column("x", {-std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(), 1e300});
  flowood::io::write_csv(file("inf.csv"), t);
  EXPECT_EQ(flowood::io::read_csv(file("inf.csv")).column("x"), t.column("x"));
}

TEST_F(CsvTest, MissingColumnNamesFileAndListsAvailable) {
  const std::string path = file("scores.csv");
  flowood::io::write_score_csv(path, loglik_table());
  const auto table = flowood::io::read_csv(path);
  try {
    table.column("llk");
    FAIL() << "expected IoError";
  } catch (const flowood::IoError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.path(), path);
    EXPECT_NE(msg.find("'llk'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("index, label, loglik, bpd"), std::string::npos) << msg;
  }
}

TEST_F(CsvTest, NonNumericCellNamesFileLineAndColumn) {
  const std::string path = file("bad.csv");
  write_text(path, "# score=loglik\nindex,loglik\n0,-1.5\n1,abc\n");
  try {
    flowood::io::read_csv(path);
    FAIL() << "expected IoError";
  } catch (const flowood::IoError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path + ":4:"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'loglik'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'abc'"), std::string::npos) << msg;
  }
}

TEST_F(CsvTest, RaggedRowNamesLine) {
  const std::string path = file("ragged.csv");
  write_text(path, "a,b\n1,2\n3\n");
  try {
    flowood::io::read_csv(path);
    FAIL();
  } catch (const flowood::IoError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":3:"), std::string::npos) << e.what();
  }
}

TEST_F(CsvTest, ToleratesCrlfBlankLinesAndFreeComments) {
  const std::string path = file("win.csv");
  write_text(path, "# written by hand\r\n# score=loglik\r\n\r\na, b\r\n1, +2\r\n\r\n3,NA\r\n");
  const auto t = flowood::io::read_csv(path);
  EXPECT_EQ(t.meta.size(), 1u);
  EXPECT_EQ(t.meta_at("score"), "loglik");
  EXPECT_EQ(t.column("a"), (std::vector<double>{1, 3}));
  EXPECT_EQ(t.column("b")[0], 2.0);
  EXPECT_TRUE(std::isnan(t.column("b")[1]));
}

TEST_F(CsvTest, ScoreFileMetadataIsChecked) {
  auto t = loglik_table();
  t.meta.erase("model");
  EXPECT_THROW(flowood::io::write_score_csv(file("s.csv"), t), flowood::IoError);
  t = loglik_table();
  t.meta["higher_is_in"] = "yes";
  EXPECT_THROW(flowood::io::write_score_csv(file("s.csv"), t), flowood::IoError);
  write_text(file("nometa.csv"), "index,loglik\n0,1\n");
  EXPECT_THROW(flowood::io::read_score_csv(file("nometa.csv")), flowood::IoError);
  EXPECT_FALSE(fs::exists(file("s.csv")));
}

TEST_F(CsvTest, TableValidation) {
  flowood::io::CsvTable t;
  t.add_column("a", {1, 2});
  EXPECT_THROW(t.add_column("b", {1}), flowood::ConfigError);
  EXPECT_THROW(t.add_column("a", {1, 2}), flowood::ConfigError);
  EXPECT_THROW(t.add_column("c,d", {1, 2}), flowood::ConfigError);
  EXPECT_THROW(flowood::io::make_loglik_score_table({1, 2}, {1}, {}, {}), flowood::ConfigError);
  t.meta["bad=key"] = "v";
  EXPECT_THROW(flowood::io::write_csv(file("t.csv"), t), flowood::IoError);
  EXPECT_THROW(flowood::io::read_csv(file("missing.csv")), flowood::IoError);
  write_text(file("empty.csv"), "# only=comments\n");
  EXPECT_THROW(flowood::io::read_csv(file("empty.csv")), flowood::IoError);
}

}  // namespace

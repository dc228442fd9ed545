#include "flowood/viz/histogram.hpp"

#include <unistd.h>

#include <filesystem>
#include <numeric>
#include <random>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "flowood/core/error.hpp"
#include "temp_dir.hpp"
#include "flowood/io/csv.hpp"

namespace fs = std::filesystem;

namespace {

class HistogramTest : public ::testing::Test {
 protected:
  std::string file(const std::string& name) const { return dir_.file(name); }
  flowood::testing::TempDir dir_{"hist"};
};

std::vector<flowood::viz::HistogramSeries> two_gaussians(std::size_t n = 500) {
  std::mt19937 rng(3);
  std::normal_distribution<double> a(-2500, 300), b(-1700, 250);
  flowood::viz::HistogramSeries s1{"fashion-mnist:test", {}}, s2{"mnist:test", {}};
  for (std::size_t i = 0; i < n; ++i) s1.values.push_back(a(rng));
  for (std::size_t i = 0; i < n + 17; ++i) s2.values.push_back(b(rng));
  return {s1, s2};
}

TEST_F(HistogramTest, PngDecodesWithRequestedSize) {
  flowood::viz::HistogramOptions o;
  o.title = "RealNVP trained on FashionMNIST";
  flowood::viz::write_histogram_png(file("h.png"), two_gaussians(), o);
  const cv::Mat img = cv::imread(file("h.png"), cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, 900);
  EXPECT_EQ(img.rows, 600);
  EXPECT_EQ(img.at<cv::Vec3b>(2, 2), cv::Vec3b(255, 255, 255));  // white background

  o.width = 400;
  o.height = 300;
  o.title.clear();
  flowood::viz::write_histogram_png(file("small.png"), two_gaussians(), o);
  const cv::Mat small = cv::imread(file("small.png"), cv::IMREAD_COLOR);
  EXPECT_EQ(small.cols, 400);
  EXPECT_EQ(small.rows, 300);
}

TEST_F(HistogramTest, CsvCountsSumToKeptValuesAndDensitiesIntegrateToOne) {
  flowood::viz::HistogramOptions o;
  o.bins = 37;
  o.drop_lowest_fraction = 0.05;
  o.csv_path = file("h.csv");
  const auto series = two_gaussians(500);
  const auto h = flowood::viz::write_histogram_png(file("h.png"), series, o);
  const auto table = flowood::io::read_csv(o.csv_path);
  ASSERT_EQ(table.num_rows(), 37u);
  EXPECT_EQ(table.columns.front(), "bin_left");
  EXPECT_EQ(table.columns[1], "bin_right");
  for (std::size_t s = 0; s < series.size(); ++s) {
    const auto& counts = table.column("count[" + series[s].label + "]");
    const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
    const auto expected_kept = series[s].values.size() - series[s].values.size() / 20;  // floor(5 %)
    EXPECT_EQ(total, static_cast<double>(expected_kept));
    EXPECT_EQ(h.n_kept[s], static_cast<std::int64_t>(expected_kept));
    EXPECT_EQ(table.meta_at("n_kept[" + series[s].label + "]"), std::to_string(expected_kept));
    const auto& dens = table.column("density[" + series[s].label + "]");
    double integral = 0;
    for (std::size_t i = 0; i < dens.size(); ++i)
      integral += dens[i] * (table.column("bin_right")[i] - table.column("bin_left")[i]);
    EXPECT_NEAR(integral, 1.0, 1e-9);
  }
}

TEST_F(HistogramTest, ClippingDropsTheLowestValues) {
  // 0..99 and 1000..1019: dropping 10 % removes 10 and 2 values, the smallest ones.
  flowood::viz::HistogramSeries a{"a", {}}, b{"b", {}};
  for (int i = 99; i >= 0; --i) a.values.push_back(i);
  for (int i = 0; i < 20; ++i) b.values.push_back(1000 + i);
  const auto h = flowood::viz::compute_histogram({a, b}, 10, 0.10);
  EXPECT_EQ(h.n_dropped, (std::vector<std::int64_t>{10, 2}));
  EXPECT_EQ(h.n_kept, (std::vector<std::int64_t>{90, 18}));
  EXPECT_DOUBLE_EQ(h.edges.front(), 10.0);  // smallest kept value of a
  EXPECT_DOUBLE_EQ(h.edges.back(), 1019.0);
  EXPECT_EQ(std::accumulate(h.counts[0].begin(), h.counts[0].end(), std::int64_t{0}), 90);
  EXPECT_EQ(h.counts[1].back(), 18);  // 1002..1019 all fall in the last bin (closed on the right)

  const auto none = flowood::viz::compute_histogram({a}, 5, 0.0);
  EXPECT_EQ(none.n_dropped[0], 0);
  EXPECT_EQ(none.counts[0], (std::vector<std::int64_t>{20, 20, 20, 20, 20}));
}

TEST_F(HistogramTest, DegenerateInputs) {
  const auto same = flowood::viz::compute_histogram({{"c", {5, 5, 5}}}, 4, 0.0);
  EXPECT_DOUBLE_EQ(same.edges.front(), 4.5);
  EXPECT_DOUBLE_EQ(same.edges.back(), 5.5);
  flowood::viz::write_histogram_png(file("same.png"), {{"c", {5, 5, 5}}});
  EXPECT_TRUE(fs::exists(file("same.png")));

  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_NO_THROW(flowood::viz::compute_histogram({{"x", {-inf, 1, 2, 3, 4, 5, 6, 7, 8, 9}}}, 4, 0.1));
  EXPECT_THROW(flowood::viz::compute_histogram({{"x", {-inf, 1, 2}}}, 4, 0.0), flowood::DataError);
  try {
    flowood::viz::compute_histogram({{"mnist:test", {1, std::nan(""), 2}}}, 4, 0.0);
    FAIL();
  } catch (const flowood::DataError& e) {
    EXPECT_EQ(e.path(), "mnist:test");
  }
  EXPECT_THROW(flowood::viz::compute_histogram({}, 4, 0.0), flowood::DataError);
  EXPECT_THROW(flowood::viz::compute_histogram({{"e", {}}}, 4, 0.0), flowood::DataError);
  EXPECT_THROW(flowood::viz::compute_histogram({{"e", {1}}}, 0, 0.0), flowood::ConfigError);
  EXPECT_THROW(flowood::viz::compute_histogram({{"e", {1}}}, 4, 1.0), flowood::ConfigError);
  flowood::viz::HistogramOptions tiny;
  tiny.width = 100;
  EXPECT_THROW(flowood::viz::write_histogram_png(file("t.png"), {{"e", {1}}}, tiny), flowood::ConfigError);
  EXPECT_FALSE(fs::exists(file("t.png")));
}

TEST_F(HistogramTest, DuplicateLabelsGetDistinctCsvColumns) {
  const auto h = flowood::viz::compute_histogram({{"x,y", {1, 2}}, {"x,y", {2, 3}}}, 3, 0.0);
  const auto t = h.to_table();
  EXPECT_TRUE(t.has_column("count[x_y]"));
  EXPECT_TRUE(t.has_column("count[x_y_2]"));
}

TEST_F(HistogramTest, BadOutputDirectoryIsIoErrorAndLeavesNoFile) {
  const std::string path = file("missing_dir/h.png");
  try {
    flowood::viz::write_histogram_png(path, two_gaussians(50));
    FAIL() << "expected IoError";
  } catch (const flowood::IoError& e) {
    EXPECT_EQ(e.path(), path);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(file("missing_dir")));
  EXPECT_TRUE(fs::is_empty(dir_.path()));
}

}  // namespace

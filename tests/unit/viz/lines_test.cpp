#include "flowood/viz/lines.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "flowood/core/error.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

using flowood::viz::LinePlotOptions;
using flowood::viz::LineSeries;
using flowood::viz::write_line_plot_png;

// The first two palette colours (BGR) and the chance line's grey.
const cv::Vec3b kBlue(178, 114, 0);
const cv::Vec3b kOrange(0, 159, 230);
const cv::Vec3b kGrey(128, 128, 128);
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

bool near(const cv::Vec3b& a, const cv::Vec3b& b, int tolerance = 40) {
  return std::abs(a[0] - b[0]) + std::abs(a[1] - b[1]) + std::abs(a[2] - b[2]) < tolerance;
}

// Pixels of `colour` in rows [row_begin, row_end), and the mean row they sit on.
struct ColourStats {
  int count = 0;
  double mean_row = 0;
};

ColourStats colour_stats(const cv::Mat& img, const cv::Vec3b& colour, int row_begin = 0, int row_end = -1) {
  ColourStats s;
  if (row_end < 0) row_end = img.rows;
  for (int r = row_begin; r < row_end; ++r)
    for (int c = 0; c < img.cols; ++c)
      if (near(img.at<cv::Vec3b>(r, c), colour)) {
        ++s.count;
        s.mean_row += r;
      }
  if (s.count) s.mean_row /= s.count;
  return s;
}

// Longest run of columns without `colour` (in rows [row_begin, row_end)) between the first and the
// last column that has it, as a fraction of that span.
double widest_gap(const cv::Mat& img, const cv::Vec3b& colour, int row_begin, int row_end) {
  std::vector<bool> has(static_cast<std::size_t>(img.cols), false);
  for (int r = row_begin; r < row_end; ++r)
    for (int c = 0; c < img.cols; ++c)
      if (near(img.at<cv::Vec3b>(r, c), colour)) has[static_cast<std::size_t>(c)] = true;
  int first = -1, last = -1, gap = 0, run = 0;
  for (int c = 0; c < img.cols; ++c) {
    if (!has[static_cast<std::size_t>(c)]) {
      ++run;
      continue;
    }
    if (first < 0) first = c;
    else gap = std::max(gap, run);
    last = c;
    run = 0;
  }
  return last > first ? static_cast<double>(gap) / (last - first) : 0.0;
}

class LinesTest : public ::testing::Test {
 protected:
  std::string file(const std::string& name) const { return dir_.file(name); }
  cv::Mat read(const std::string& name) const { return cv::imread(file(name), cv::IMREAD_COLOR); }
  flowood::testing::TempDir dir_{"lines"};
};

LineSeries roc_like(const std::string& label) {
  LineSeries s{label, {}, {}};
  for (int i = 0; i <= 50; ++i) {
    const double x = i / 50.0;
    s.x.push_back(x);
    s.y.push_back(std::sqrt(x));
  }
  return s;
}

TEST_F(LinesTest, RocPlotDecodesWithRequestedSizeAndShowsCurveAndDiagonal) {
  LinePlotOptions o;
  o.title = "ROC, fashion-mnist vs mnist";
  o.x_label = "false-positive rate";
  o.y_label = "true-positive rate";
  o.x_range = {0.0, 1.0};
  o.y_range = {0.0, 1.0};
  o.diagonal = true;
  write_line_plot_png(file("roc.png"), {roc_like("loglik (AUROC 0.67)")}, o);
  const cv::Mat img = read("roc.png");
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, 900);
  EXPECT_EQ(img.rows, 600);
  EXPECT_EQ(img.at<cv::Vec3b>(2, 2), cv::Vec3b(255, 255, 255));  // white background
  EXPECT_GT(colour_stats(img, kBlue).count, 1000);                // a 2-px curve ~1000 px long

  o.diagonal = false;
  write_line_plot_png(file("no_diag.png"), {roc_like("loglik")}, o);
  const int grey_with = colour_stats(img, kGrey, 0, img.rows).count;
  const int grey_without = colour_stats(read("no_diag.png"), kGrey).count;
  EXPECT_GT(grey_with - grey_without, 200) << grey_with << " vs " << grey_without;  // the dashed chance line

  o.width = 1800;
  o.height = 1200;
  write_line_plot_png(file("big.png"), {roc_like("loglik")}, o);
  const cv::Mat big = read("big.png");
  EXPECT_EQ(big.cols, 1800);
  EXPECT_EQ(big.rows, 1200);
}

TEST_F(LinesTest, SeriesKeepTheirOrderOfColoursAndOrientation) {
  // Blue at y = 0.8 is drawn above orange at y = 0.2 (rows grow downwards).
  LinePlotOptions o;
  o.y_range = {0.0, 1.0};
  write_line_plot_png(file("two.png"), {{"high", {0, 1}, {0.8, 0.8}}, {"low", {0, 1}, {0.2, 0.2}, true}}, o);
  const cv::Mat img = read("two.png");
  const ColourStats blue = colour_stats(img, kBlue), orange = colour_stats(img, kOrange);
  EXPECT_GT(blue.count, 500);
  EXPECT_GT(orange.count, 200);  // dashed: fewer pixels
  EXPECT_LT(orange.count, blue.count);
  EXPECT_LT(blue.mean_row + 150, orange.mean_row);
}

TEST_F(LinesTest, NanPointsBreakTheLine) {
  LinePlotOptions o;
  o.x_range = {0.0, 4.0};
  o.y_range = {0.0, 1.0};
  const std::vector<double> x{0, 1, 2, 3, 4};
  write_line_plot_png(file("full.png"), {{"test bpd", x, {0.1, 0.1, 0.1, 0.1, 0.1}}}, o);
  write_line_plot_png(file("gap.png"), {{"test bpd", x, {0.1, 0.1, kNan, 0.1, 0.1}}}, o);
  const cv::Mat full = read("full.png"), gap = read("gap.png");
  const int lower_half = full.rows / 2;  // the line at y = 0.1; the legend sits at the top
  EXPECT_EQ(widest_gap(full, kBlue, lower_half, full.rows), 0.0);
  const double g = widest_gap(gap, kBlue, lower_half, gap.rows);
  EXPECT_GT(g, 0.4) << "x from 1 to 3 of 0..4 should stay empty";
  EXPECT_LT(g, 0.6);
  const int n_full = colour_stats(full, kBlue, lower_half).count, n_gap = colour_stats(gap, kBlue, lower_half).count;
  EXPECT_LT(n_gap, 0.7 * n_full);

  // Infinite values are missing too; an isolated point becomes a dot.
  const double inf = std::numeric_limits<double>::infinity();
  write_line_plot_png(file("dot.png"), {{"dots", x, {kNan, 0.1, inf, 0.1, kNan}}}, o);
  const cv::Mat dot = read("dot.png");
  EXPECT_GT(colour_stats(dot, kBlue, lower_half).count, 20);
  EXPECT_GT(widest_gap(dot, kBlue, lower_half, dot.rows), 0.9);
}

TEST_F(LinesTest, LogAxisDashedAndDefaultRanges) {
  LinePlotOptions o;
  o.title = "training";
  o.x_label = "step";
  o.y_label = "bits/dim";
  o.log_x = true;
  LineSeries train{"train", {}, {}}, test{"test", {}, {}, true};
  for (int step = 1; step <= 10000; step *= 2) {
    train.x.push_back(step);
    train.y.push_back(3.0 + 5.0 / std::sqrt(step));
    test.x.push_back(step);
    test.y.push_back(step % 8 == 0 ? 3.2 + 5.0 / std::sqrt(step) : kNan);
  }
  train.x.insert(train.x.begin(), 0.0);  // no place on a log axis: skipped like NaN
  train.y.insert(train.y.begin(), 9.0);
  write_line_plot_png(file("log.png"), {train, test}, o);
  const cv::Mat img = read("log.png");
  ASSERT_FALSE(img.empty());
  EXPECT_GT(colour_stats(img, kBlue).count, 500);
  EXPECT_GT(colour_stats(img, kOrange).count, 50);

  // One point, no labels, no title: still a plot.
  write_line_plot_png(file("one.png"), {{"", {2.0}, {5.0}}});
  EXPECT_GT(colour_stats(read("one.png"), kBlue).count, 10);
  // Less than one decade on a log axis.
  o.x_range = {2.0, 9.0};
  EXPECT_NO_THROW(write_line_plot_png(file("narrow.png"), {{"a", {2, 5, 9}, {1, 2, 3}}}, o));
}

TEST_F(LinesTest, BadInputIsATypedErrorAndWritesNothing) {
  const std::string path = file("bad.png");
  try {
    write_line_plot_png(path, {{"ok", {0, 1}, {0, 1}}, {"mnist:test", {0, 1, 2}, {0, 1}}});
    FAIL() << "expected DataError";
  } catch (const flowood::DataError& e) {
    EXPECT_EQ(e.path(), "mnist:test");
  }
  try {
    write_line_plot_png(path, {{"empty", {kNan, 1}, {0, kNan}}});
    FAIL() << "expected DataError";
  } catch (const flowood::DataError& e) {
    EXPECT_EQ(e.path(), "empty");
  }
  try {
    write_line_plot_png(path, {{"", {}, {}}});
    FAIL() << "expected DataError";
  } catch (const flowood::DataError& e) {
    EXPECT_EQ(e.path(), "series 1");
  }
  EXPECT_THROW(write_line_plot_png(path, {}), flowood::DataError);

  auto config_key = [&](const LinePlotOptions& o) -> std::string {
    try {
      write_line_plot_png(path, {{"a", {1, 2}, {1, 2}}}, o);
    } catch (const flowood::ConfigError& e) {
      return e.key();
    }
    return "(no error)";
  };
  LinePlotOptions o;
  o.width = 100;
  EXPECT_EQ(config_key(o), "size");
  o = {};
  o.height = 20000;
  EXPECT_EQ(config_key(o), "size");
  o = {};
  o.x_range = {1.0, 1.0};
  EXPECT_EQ(config_key(o), "x_range");
  o = {};
  o.y_range = {0.0, kNan};
  EXPECT_EQ(config_key(o), "y_range");
  o = {};
  o.log_x = true;
  o.x_range = {0.0, 1.0};
  EXPECT_EQ(config_key(o), "x_range");
  o = {};
  o.log_x = true;
  try {
    write_line_plot_png(path, {{"negative", {-1, 0}, {1, 2}}}, o);
    FAIL() << "expected DataError";
  } catch (const flowood::DataError& e) {
    EXPECT_EQ(e.path(), "negative");
  }
  EXPECT_TRUE(fs::is_empty(dir_.path()));
}

TEST_F(LinesTest, FailedWriteIsIoErrorNamingThePathAndLeavesNoFile) {
  // The IoError's path (and that its message names it), or "(no error)".
  auto failed_path = [](const std::string& path) -> std::string {
    try {
      write_line_plot_png(path, {roc_like("a")});
    } catch (const flowood::IoError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      return e.path();
    }
    return "(no error)";
  };
  const std::string missing = file("missing_dir/roc.png");
  EXPECT_EQ(failed_path(missing), missing);
  EXPECT_FALSE(fs::exists(file("missing_dir")));
  EXPECT_TRUE(fs::is_empty(dir_.path()));

  // A directory where the file should go: it stays as it was, and no temporary is left beside it.
  fs::create_directory(file("taken.png"));
  EXPECT_EQ(failed_path(file("taken.png")), file("taken.png"));
  EXPECT_TRUE(fs::is_directory(file("taken.png")));
  EXPECT_TRUE(fs::is_empty(file("taken.png")));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_.path()), fs::directory_iterator()), 1);
}

}  // namespace

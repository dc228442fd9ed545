// The panel grid behind visualize-latents, visualize-coupling and sample.
#include <filesystem>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/viz/grid.hpp"
#include "temp_dir.hpp"

namespace viz = flowood::viz;

namespace {

TEST(Grid, PanelScalesMapValuesAsDocumented) {
  auto v = torch::tensor({-3.0, -2.0, 0.0, 2.0}).view({1, 2, 2});
  auto clip = viz::panel_to_bytes({v, viz::PanelScale::kClip, -2.0, 2.0});
  EXPECT_EQ(clip.sizes(), torch::IntArrayRef({2, 2, 1}));
  EXPECT_EQ(clip[0][0][0].item<int>(), 0);
  EXPECT_EQ(clip[0][1][0].item<int>(), 0);
  EXPECT_EQ(clip[1][0][0].item<int>(), 128);  // round(0.5 · 255)
  EXPECT_EQ(clip[1][1][0].item<int>(), 255);
  auto unit = viz::panel_to_bytes({torch::tensor({0.0, 1.0, 2.0}).view({1, 3}), viz::PanelScale::kUnit});
  EXPECT_EQ(unit[0][2][0].item<int>(), 255);
  auto flat = viz::panel_to_bytes({torch::full({2, 2}, 7.0), viz::PanelScale::kStandardise});
  EXPECT_EQ(flat[0][0][0].item<int>(), 128);
  auto rgb = viz::panel_to_bytes({torch::rand({3, 4, 5})});
  EXPECT_EQ(rgb.sizes(), torch::IntArrayRef({4, 5, 3}));
}

TEST(Grid, WritesAPngWithEveryPanel) {
  flowood::testing::TempDir dir("grid");
  const auto path = dir.file("g.png");
  std::vector<std::vector<viz::Panel>> rows(3);
  for (auto& row : rows)
    for (int c = 0; c < 4; ++c) row.push_back({torch::rand({1, 7, 9})});
  rows[1][2] = viz::Panel{};  // an empty cell
  viz::GridOptions o;
  o.pixel = 2;
  o.gap = 3;
  viz::write_grid_png(path, rows, {}, {}, o);
  const auto img = cv::imread(path, cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, 4 * (9 * 2 + 3) + 3);
  EXPECT_EQ(img.rows, 3 * (7 * 2 + 3) + 3);
  // Labels widen the figure.
  viz::write_grid_png(path, rows, {"first row", "second", "third"}, {"a", "b", "c", "d"}, o);
  const auto labelled = cv::imread(path, cv::IMREAD_COLOR);
  EXPECT_GT(labelled.cols, img.cols);
  EXPECT_GT(labelled.rows, img.rows);
}

TEST(Grid, RaggedRowsAndBadPanelsAreErrors) {
  flowood::testing::TempDir dir("grid_bad");
  std::vector<std::vector<viz::Panel>> ragged{{viz::Panel{torch::rand({4, 4})}}, {}};
  EXPECT_THROW(viz::write_grid_png(dir.file("r.png"), ragged, {}, {}), flowood::ConfigError);
  std::vector<std::vector<viz::Panel>> bad{{viz::Panel{torch::rand({2, 4, 4})}}};
  EXPECT_THROW(viz::write_grid_png(dir.file("b.png"), bad, {}, {}), flowood::ConfigError);
  EXPECT_FALSE(std::filesystem::exists(dir.file("b.png")));
}

}  // namespace

// Every mask of spec §3 and the mask schedule of model.masks: patterns, parsing, errors naming
// the entry, coverage warnings, and couplings with each mask invertible with log-dets equal to a
// brute-force Jacobian in float64.
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/flows/coupling.hpp"
#include "flowood/flows/mask.hpp"
#include "flowood/flows/mask_schedule.hpp"
#include "flowood/io/npy.hpp"
#include "jacobian.hpp"
#include "temp_dir.hpp"

namespace fl = flowood::flows;
using flowood::testing::brute_force_logdet;
using flowood::testing::relative_error;

namespace {

torch::Tensor grid(std::initializer_list<float> values, int64_t h, int64_t w) {
  return torch::tensor(std::vector<float>(values)).view({h, w});
}

std::vector<std::string> describe_all(const std::vector<fl::MaskPtr>& masks) {
  std::vector<std::string> out;
  for (const auto& m : masks) out.push_back(m->describe());
  return out;
}

std::string config_error_of(const std::vector<std::string>& entries, const fl::Shape& shape, std::string* key) {
  try {
    fl::parse_masks(entries, shape);
  } catch (const flowood::ConfigError& e) {
    *key = e.key();
    return e.what();
  }
  return "";
}

TEST(Masks, HorizontalAndVerticalHalvesMatchSpec) {
  fl::HalfMask h(fl::HalfMask::Axis::kHorizontal, false);
  EXPECT_TRUE(torch::equal(h.condition_pattern(4, 2), grid({1, 1, 1, 1, 0, 0, 0, 0}, 4, 2)));  // top conditions
  fl::HalfMask hr(fl::HalfMask::Axis::kHorizontal, true);
  EXPECT_TRUE(torch::equal(hr.condition_pattern(4, 2), grid({0, 0, 0, 0, 1, 1, 1, 1}, 4, 2)));
  fl::HalfMask v(fl::HalfMask::Axis::kVertical, false);
  EXPECT_TRUE(torch::equal(v.condition_pattern(2, 4), grid({1, 1, 0, 0, 1, 1, 0, 0}, 2, 4)));  // left conditions
  // Odd sizes split at H/2 (floor), as the reference.
  EXPECT_EQ(h.condition_pattern(5, 1).sum().item<float>(), 2.0f);
}

TEST(Masks, QuadrantsAreClockwiseFromTopLeftWithSeparateUpdateRegion) {
  fl::QuadrantMask q(0, 1);
  EXPECT_TRUE(torch::equal(q.condition_pattern(2, 2), grid({1, 0, 0, 0}, 2, 2)));
  EXPECT_TRUE(torch::equal(q.update_pattern(2, 2), grid({0, 1, 0, 0}, 2, 2)));
  EXPECT_TRUE(torch::equal(fl::QuadrantMask(2, 3).condition_pattern(2, 2), grid({0, 0, 0, 1}, 2, 2)));
  EXPECT_TRUE(torch::equal(fl::QuadrantMask(2, 3).update_pattern(2, 2), grid({0, 0, 1, 0}, 2, 2)));
  // The two other quadrants pass through unchanged: only the output quadrant is transformed.
  auto x = torch::randn({1, 1, 4, 4});
  auto [id, change] = q.split(x);
  auto [s, t] = q.restrict(torch::ones_like(x), torch::ones_like(x));
  auto y = q.merge(id, (change + t) * torch::exp(s));
  EXPECT_TRUE(torch::equal(y.slice(2, 2, 4), x.slice(2, 2, 4)));                 // bottom half untouched
  EXPECT_TRUE(torch::equal(y.slice(2, 0, 2).slice(3, 0, 2), x.slice(2, 0, 2).slice(3, 0, 2)));  // input quadrant
  EXPECT_FALSE(torch::allclose(y.slice(2, 0, 2).slice(3, 2, 4), x.slice(2, 0, 2).slice(3, 2, 4)));
  EXPECT_THROW(fl::QuadrantMask(1, 1), flowood::ConfigError);
  EXPECT_THROW(fl::QuadrantMask(0, 4), flowood::ConfigError);
}

TEST(Masks, CenterHonoursReverse) {
  fl::CenterMask c(1, false);
  EXPECT_TRUE(torch::equal(c.condition_pattern(4, 4),
                           grid({0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0}, 4, 4)));  // centre conditions
  fl::CenterMask r(1, true);
  EXPECT_TRUE(torch::equal(r.condition_pattern(4, 4), 1 - c.condition_pattern(4, 4)));  // unlike the reference
  EXPECT_THROW(fl::CenterMask(4, false).check_shape({1, 8, 8}), flowood::ConfigError);   // no centre left
  EXPECT_NO_THROW(fl::CenterMask(4, false).check_shape({1, 28, 28}));
}

TEST(Masks, SubQuadrantTilesBecomeBatchElementsInSpecOrder) {
  fl::SubQuadrantMask m(0, 1, 2);
  auto x = torch::arange(2 * 3 * 4 * 6, torch::kFloat32).view({2, 3, 4, 6});
  auto f = m.fold(x);
  ASSERT_EQ(f.sizes(), torch::IntArrayRef({8, 3, 2, 3}));
  // Batch element n·f² + i·f + j is tile (i, j) of example n.
  EXPECT_TRUE(torch::equal(f[1 * 4 + 1 * 2 + 0], x[1].slice(1, 2, 4).slice(2, 0, 3)));
  EXPECT_TRUE(torch::equal(f[0 * 4 + 0 * 2 + 1], x[0].slice(1, 0, 2).slice(2, 3, 6)));
  EXPECT_TRUE(torch::equal(m.unfold(f), x));
  EXPECT_EQ(m.st_input_shape({3, 4, 6}), fl::Shape({3, 2, 3}));
  // Transformed positions: the top-right quadrant of every tile.
  auto tr = m.transformed({1, 4, 4});
  EXPECT_TRUE(torch::equal(tr[0], grid({0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0}, 4, 4)));
  EXPECT_THROW(m.check_shape({1, 5, 4}), flowood::ConfigError);
}

TEST(Masks, TabularSplitsTheVectorInHalves) {
  fl::TabularMask t(false);
  auto x = torch::arange(1.0, 6.0).view({1, 5});
  auto [id, change] = t.split(x);
  EXPECT_TRUE(torch::equal(id, torch::tensor({1.0, 2.0, 0.0, 0.0, 0.0}).view({1, 5}).to(x.scalar_type())));
  EXPECT_TRUE(torch::equal(change, torch::tensor({0.0, 0.0, 3.0, 4.0, 5.0}).view({1, 5}).to(x.scalar_type())));
  auto [id_r, change_r] = fl::TabularMask(true).split(x);
  EXPECT_TRUE(torch::equal(id_r, change)) << "reversed: the second half conditions";
  EXPECT_TRUE(torch::equal(change_r, id));
  EXPECT_THROW(t.check_shape({1, 4, 4}), flowood::ConfigError);
}

TEST(Masks, FileMasksFromPngAndNpy) {
  flowood::testing::TempDir dir("masks");
  const auto npy = dir.file("m.npy");
  flowood::io::write_npy(npy, std::vector<double>{1, 0, 0, 0, 1, 0}, flowood::io::NpyDtype::kFloat64, {2, 3});
  fl::FileMask from_npy(npy, false);
  EXPECT_TRUE(torch::equal(from_npy.condition_pattern(2, 3), grid({1, 0, 0, 0, 1, 0}, 2, 3)));
  EXPECT_TRUE(torch::equal(fl::FileMask(npy, true).condition_pattern(2, 3), grid({0, 1, 1, 1, 0, 1}, 2, 3)));
  const auto png = dir.file("m.png");
  cv::Mat image(2, 3, CV_8UC1, cv::Scalar(0));
  image.at<uint8_t>(0, 2) = 255;
  image.at<uint8_t>(1, 0) = 200;
  image.at<uint8_t>(1, 1) = 100;  // <= 127: transformed
  ASSERT_TRUE(cv::imwrite(png, image));
  EXPECT_TRUE(torch::equal(fl::FileMask(png, false).condition_pattern(2, 3), grid({0, 0, 1, 1, 0, 0}, 2, 3)));
  EXPECT_THROW(fl::FileMask(png, false).check_shape({1, 3, 3}), flowood::ConfigError);
  EXPECT_THROW(fl::FileMask(dir.file("missing.png"), false), flowood::IoError);
  flowood::io::write_npy(dir.file("flat.npy"), std::vector<double>{1, 0, 1});
  EXPECT_THROW(fl::FileMask(dir.file("flat.npy"), false), flowood::IoError);
}

TEST(MaskSchedule, RepetitionAlternatesOrAdvances) {
  EXPECT_EQ(describe_all(fl::parse_masks({"checkerboard x3"}, {1, 4, 4})),
            (std::vector<std::string>{"checkerboard", "checkerboard (reversed)", "checkerboard"}));
  EXPECT_EQ(describe_all(fl::parse_masks({"horizontal:reverse x2", "vertical"}, {1, 4, 4})),
            (std::vector<std::string>{"horizontal (reversed)", "horizontal", "vertical"}));
  const std::vector<std::string> cycle{"quadrant 0→1", "quadrant 1→2", "quadrant 2→3", "quadrant 3→0"};
  EXPECT_EQ(describe_all(fl::parse_masks({"cycle"}, {1, 4, 4})), cycle);
  auto two = describe_all(fl::parse_masks({"cycle x2"}, {1, 4, 4}));
  ASSERT_EQ(two.size(), 8u);
  EXPECT_EQ(two, describe_all(fl::parse_masks({"quadrant:0>1 x8"}, {1, 4, 4})));
  EXPECT_EQ(describe_all(fl::parse_masks({"sub-quadrant:2>0:factor=2", "center:margin=1:reverse"}, {1, 8, 8})),
            (std::vector<std::string>{"sub-quadrant 2→0 (2×2 tiles)", "center (margin 1) (reversed)"}));
  EXPECT_EQ(fl::parse_masks({"tabular x4"}, {6}).size(), 4u);
}

TEST(MaskSchedule, ErrorsNameTheOffendingEntry) {
  std::string key;
  EXPECT_NE(config_error_of({"checkerboard", "chekerboard"}, {1, 4, 4}, &key).find("unknown mask 'chekerboard'"),
            std::string::npos);
  EXPECT_EQ(key, "model.masks[1]");
  EXPECT_NE(config_error_of({"quadrant:0>0"}, {1, 4, 4}, &key).find("must differ"), std::string::npos);
  EXPECT_EQ(key, "model.masks[0]");
  EXPECT_NE(config_error_of({"cycle", "quadrant"}, {1, 4, 4}, &key).find("needs input and output quadrants"),
            std::string::npos);
  EXPECT_EQ(key, "model.masks[1]");
  EXPECT_NE(config_error_of({"checkerboard x0"}, {1, 4, 4}, &key).find(">= 1"), std::string::npos);
  EXPECT_NE(config_error_of({"checkerboard times 3"}, {1, 4, 4}, &key).find("MASK xK"), std::string::npos);
  EXPECT_NE(config_error_of({"checkerboard:sideways"}, {1, 4, 4}, &key).find("unknown option 'sideways'"),
            std::string::npos);
  // Shape problems name the entry and the layer.
  const auto msg = config_error_of({"checkerboard x2", "channel"}, {1, 4, 4}, &key);
  EXPECT_EQ(key, "model.masks[1]");
  EXPECT_NE(msg.find("layer 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("even number"), std::string::npos) << msg;
  EXPECT_NE(config_error_of({"file:/no/such/mask.png"}, {1, 4, 4}, &key).find("/no/such/mask.png"),
            std::string::npos);
}

TEST(MaskSchedule, CoverageWarningFindsPositionsNeverTransformed) {
  EXPECT_EQ(fl::coverage_warning(fl::parse_masks({"checkerboard x2"}, {1, 4, 4}), {1, 4, 4}), "");
  EXPECT_EQ(fl::coverage_warning(fl::parse_masks({"cycle"}, {1, 4, 4}), {1, 4, 4}), "");
  const auto w = fl::coverage_warning(fl::parse_masks({"horizontal", "quadrant:0>1"}, {1, 4, 4}), {1, 4, 4});
  // horizontal transforms the bottom half, quadrant 0→1 the top-right: the top-left 2×2 never.
  EXPECT_NE(w.find("4 of 16 positions"), std::string::npos) << w;
  EXPECT_NE(w.find("[0, 0, 0]"), std::string::npos) << w;
}

// ---- couplings with every mask --------------------------------------------------------------

struct MaskCase {
  std::string entry;
  std::vector<int64_t> shape;
  std::string st = "resnet";
};

class MaskCoupling : public ::testing::TestWithParam<MaskCase> {};

std::shared_ptr<fl::AffineCouplingImpl> coupling_for(const MaskCase& c) {
  fl::StNetOptions st;
  st.type = c.st;
  st.mid_channels = 6;
  st.num_blocks = 2;
  st.bottleneck_dim = 5;
  return std::make_shared<fl::AffineCouplingImpl>(fl::parse_masks({c.entry}, c.shape).at(0), st, c.shape);
}

void perturb(torch::nn::Module& m) {
  torch::NoGradGuard g;
  for (auto& p : m.parameters()) p.add_(torch::randn_like(p) * 0.1);
}

TEST_P(MaskCoupling, InvertsInFloat32AndTransformsOnlyItsRegion) {
  const auto& c = GetParam();
  torch::manual_seed(11);
  auto layer = coupling_for(c);
  perturb(*layer);
  std::vector<int64_t> full{6};
  full.insert(full.end(), c.shape.begin(), c.shape.end());
  auto x = torch::randn(full);
  layer->train();
  (void)layer->forward(x);
  layer->eval();
  torch::NoGradGuard g;
  auto r = layer->forward(x);
  EXPECT_LE((layer->inverse(r.y) - x).abs().max().item<double>(), 1e-4);
  EXPECT_GT(r.logdet.abs().max().item<double>(), 1e-4);
  const auto region = layer->mask().transformed(c.shape).unsqueeze(0).to(torch::kBool);
  EXPECT_TRUE(torch::equal(r.y.masked_select(region.logical_not().expand_as(x)),
                           x.masked_select(region.logical_not().expand_as(x))))
      << "positions outside the transformed region must pass unchanged";
}

TEST_P(MaskCoupling, LogDetMatchesBruteForceJacobianInFloat64) {
  const auto& c = GetParam();
  torch::manual_seed(12);
  auto layer = coupling_for(c);
  layer->to(torch::kFloat64);
  perturb(*layer);
  std::vector<int64_t> full{5};
  full.insert(full.end(), c.shape.begin(), c.shape.end());
  layer->train();
  (void)layer->forward(torch::randn(full, torch::kFloat64));
  layer->eval();
  // Two examples, so a sub-quadrant layer sums the right tiles per example.
  auto x = torch::randn(full, torch::kFloat64).narrow(0, 0, 2);
  const auto logdets = layer->forward(x).logdet;
  for (int64_t i = 0; i < 2; ++i) {
    const double expected =
        brute_force_logdet([&](const torch::Tensor& in) { return layer->forward(in).y; }, x.narrow(0, i, 1));
    EXPECT_LE(relative_error(logdets[i].item<double>(), expected), 1e-6)
        << "example " << i << ": got " << logdets[i].item<double>() << " expected " << expected;
  }
}

INSTANTIATE_TEST_SUITE_P(
    EveryMaskAndStNet, MaskCoupling,
    ::testing::Values(MaskCase{"horizontal", {1, 4, 4}}, MaskCase{"horizontal:reverse", {2, 4, 4}},
                      MaskCase{"vertical", {1, 4, 4}}, MaskCase{"vertical:reverse", {1, 4, 4}},
                      MaskCase{"quadrant:0>1", {1, 4, 4}}, MaskCase{"quadrant:3>1", {2, 4, 4}},
                      MaskCase{"sub-quadrant:0>1", {1, 8, 8}}, MaskCase{"sub-quadrant:2>3:factor=4", {1, 8, 8}},
                      MaskCase{"center:margin=1", {1, 4, 4}}, MaskCase{"center:margin=1:reverse", {1, 4, 4}},
                      MaskCase{"tabular", {6}, "mlp"}, MaskCase{"tabular:reverse", {5}, "mlp"},
                      MaskCase{"checkerboard", {1, 4, 4}, "resnet-bottleneck"},
                      MaskCase{"channel", {4, 4, 4}, "resnet-bottleneck"}, MaskCase{"checkerboard", {1, 4, 4}, "highway"},
                      MaskCase{"channel:reverse", {4, 4, 4}, "highway"}, MaskCase{"horizontal", {1, 4, 4}, "convnet"},
                      MaskCase{"checkerboard:reverse", {2, 4, 4}, "glow-convnet"}),
    [](const auto& info) {
      std::string name = info.param.entry + "_" + info.param.st;
      for (auto& ch : name)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return name;
    });

TEST(MaskCoupling, FileMaskCouplingLogDetMatchesBruteForce) {
  flowood::testing::TempDir dir("masks");
  const auto npy = dir.file("diag.npy");
  flowood::io::write_npy(npy, std::vector<double>{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 1, 0, 1},
                         flowood::io::NpyDtype::kFloat64, {4, 4});
  torch::manual_seed(13);
  MaskCase c{"file:" + npy, {1, 4, 4}};
  auto layer = coupling_for(c);
  layer->to(torch::kFloat64);
  perturb(*layer);
  layer->eval();
  auto x = torch::randn({1, 1, 4, 4}, torch::kFloat64);
  const double expected = brute_force_logdet([&](const torch::Tensor& in) { return layer->forward(in).y; }, x);
  EXPECT_LE(relative_error(layer->forward(x).logdet.item<double>(), expected), 1e-6);
  torch::NoGradGuard g;
  EXPECT_LE((layer->inverse(layer->forward(x).y) - x).abs().max().item<double>(), 1e-10);
}

TEST(MaskCoupling, StNetMustFitTheInput) {
  fl::StNetOptions st;
  st.type = "mlp";
  EXPECT_THROW(fl::AffineCouplingImpl(fl::make_mask("checkerboard", false), st, {1, 4, 4}), flowood::ConfigError);
  st.type = "resnet";
  EXPECT_THROW(fl::AffineCouplingImpl(fl::make_mask("tabular", false), st, {6}), flowood::ConfigError);
}

}  // namespace

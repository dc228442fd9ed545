// SVHN: .mat files written with libmatio (MATLAB's column-major X [32,32,3,N], y with 10 = digit 0).
#include <gtest/gtest.h>
#include <matio.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "data_fixtures.hpp"
#include "flowood/data/registry.hpp"
#include "flowood/data/svhn.hpp"
#include "temp_dir.hpp"
#include "data_writers.hpp"

namespace fs = std::filesystem;
using namespace flowood::data;
using flowood::testing::data_error_of;
using flowood::testing::random_images;
using flowood::testing::TempDir;

namespace {

/// Writes X and y directly through libmatio, element by element in MATLAB order, so the test does
/// not depend on the library's own writer.
void write_svhn_with_matio(const std::string& path, const torch::Tensor& images, const std::vector<double>& y,
                           const char* x_name = "X") {
  const auto n = static_cast<std::size_t>(images.size(0));
  std::vector<std::uint8_t> x(32 * 32 * 3 * n);
  const auto a = images.accessor<std::uint8_t, 4>();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t col = 0; col < 32; ++col)
        for (std::size_t row = 0; row < 32; ++row)
          x[row + 32 * col + 32 * 32 * c + 32 * 32 * 3 * i] =
              a[static_cast<int64_t>(i)][static_cast<int64_t>(c)][static_cast<int64_t>(row)][static_cast<int64_t>(col)];
  mat_t* mat = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
  ASSERT_NE(mat, nullptr);
  std::size_t xdims[4] = {32, 32, 3, n};
  matvar_t* xv = Mat_VarCreate(x_name, MAT_C_UINT8, MAT_T_UINT8, 4, xdims, x.data(), 0);
  std::size_t ydims[2] = {y.size(), 1};
  matvar_t* yv = Mat_VarCreate("y", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, ydims, const_cast<double*>(y.data()), 0);
  EXPECT_EQ(Mat_VarWrite(mat, xv, MAT_COMPRESSION_ZLIB), 0);
  EXPECT_EQ(Mat_VarWrite(mat, yv, MAT_COMPRESSION_NONE), 0);
  Mat_VarFree(xv);
  Mat_VarFree(yv);
  Mat_Close(mat);
}


}  // namespace

// Outside the anonymous namespace: the TEST_F classes derived from it have external linkage.
class SvhnTest : public ::testing::Test {
 protected:
  fs::path root() const { return dir_.path(); }
  TempDir dir_{"svhn"};
};

TEST_F(SvhnTest, ReadsMatioFileInImageOrderWithDigitLabels) {
  fs::create_directories(root() / "svhn");
  const auto images = random_images(5, 3, 32, 32, 11);
  write_svhn_with_matio((root() / "svhn" / "test_32x32.mat").string(), images, {10, 1, 2, 9, 10});
  const ImageDataset ds = load_dataset("svhn:test", DataRoots{{root().string()}});
  EXPECT_EQ(ds.spec, "svhn:test");
  ASSERT_EQ(ds.size(), 5);
  EXPECT_TRUE(torch::equal(ds.images, images));
  EXPECT_TRUE(torch::equal(ds.labels, torch::tensor({0, 1, 2, 9, 0})));
  EXPECT_EQ(load_dataset("svhn", DataRoots{{root().string()}}, 2).size(), 2);
}

TEST_F(SvhnTest, LibraryWriterRoundTrips) {
  const auto images = random_images(3, 3, 32, 32, 12);
  const std::string path = (root() / "SVHN" / "train_32x32.mat").string();
  fs::create_directories(root() / "SVHN");
  write_svhn_mat(path, images, torch::tensor({0, 5, 7}));
  const ImageDataset ds = load_dataset("svhn:train", DataRoots{{root().string()}});
  EXPECT_TRUE(torch::equal(ds.images, images));
  EXPECT_TRUE(torch::equal(ds.labels, torch::tensor({0, 5, 7})));
  EXPECT_EQ(ds.files, std::vector<std::string>{path});
}

TEST_F(SvhnTest, MissingVariableWrongShapeAndNotAMatFileNameTheFile) {
  const std::string path = (root() / "a.mat").string();
  write_svhn_with_matio(path, random_images(2, 3, 32, 32), {1, 2}, "images");
  std::string what = data_error_of([&] { read_svhn_mat(path); });
  EXPECT_NE(what.find(path), std::string::npos) << what;
  EXPECT_NE(what.find("no variable 'X'"), std::string::npos) << what;
  EXPECT_NE(what.find("images, y"), std::string::npos) << what;

  write_mat_file(path, {{"X", torch::zeros({32, 32, 3}, torch::kUInt8)}, {"y", torch::ones({1, 1}, torch::kFloat64)}});
  what = data_error_of([&] { read_svhn_mat(path); });
  EXPECT_NE(what.find("uint8 [H,W,3,N]"), std::string::npos) << what;

  write_svhn_with_matio(path, random_images(2, 3, 32, 32), {1, 11});
  what = data_error_of([&] { read_svhn_mat(path); });
  EXPECT_NE(what.find("label y(2) = 11"), std::string::npos) << what;

  write_svhn_with_matio(path, random_images(2, 3, 32, 32), {1, 2, 3});
  what = data_error_of([&] { read_svhn_mat(path); });
  EXPECT_NE(what.find("expected 2 numeric labels"), std::string::npos) << what;

  flowood::testing::write_text(path, "this is not a MATLAB file at all, just text that is long enough............"
                                     "..................................................................................");
  what = data_error_of([&] { read_svhn_mat(path); });
  EXPECT_NE(what.find(path), std::string::npos) << what;
}

TEST_F(SvhnTest, NotFoundSaysWhereAndHow) {
  const std::string what = data_error_of([&] { load_dataset("svhn:test", DataRoots{{root().string()}}); });
  EXPECT_NE(what.find((root() / "svhn" / "test_32x32.mat").string()), std::string::npos) << what;
  EXPECT_NE(what.find("ufldl.stanford.edu"), std::string::npos) << what;
}

// BLAS detection: resolved library paths are classified, this process's BLAS is found in
// /proc/self/maps, and only the reference BLAS gets the warning.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowood/core/blas.hpp"

namespace {

TEST(Blas, ClassifiesDebianAlternatives) {
  EXPECT_EQ(flowood::classify_blas_path("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0"), "reference");
  EXPECT_EQ(flowood::classify_blas_path("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"), "openblas");
  EXPECT_EQ(flowood::classify_blas_path("/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3"), "openblas");
  EXPECT_EQ(flowood::classify_blas_path("/usr/lib/x86_64-linux-gnu/libopenblas.so.0"), "openblas");
  EXPECT_EQ(flowood::classify_blas_path("/usr/lib/x86_64-linux-gnu/blis-openmp/libblas.so.3"), "blis");
  EXPECT_EQ(flowood::classify_blas_path("/opt/intel/lib/libmkl_rt.so.2"), "mkl");
  EXPECT_EQ(flowood::classify_blas_path("/usr/lib/x86_64-linux-gnu/atlas/libblas.so.3"), "atlas");
  EXPECT_EQ(flowood::classify_blas_path("/somewhere/libblas.so.3"), "unknown");
}

TEST(Blas, FindsTheLibraryOfThisProcess) {
  (void)torch::mm(torch::ones({4, 4}), torch::ones({4, 4}));  // LibTorch (and its BLAS) is loaded
  const auto info = flowood::detect_blas();
  if (info.path.empty()) GTEST_SKIP() << "no libblas mapped (LibTorch built without a shared BLAS?)";
  EXPECT_NE(info.name, "") << info.path;
  EXPECT_NE(info.path.find("blas"), std::string::npos) << info.path;
  std::cout << "BLAS: " << info.name << " (" << info.path << ")\n";
}

TEST(Blas, WarnsOnlyAboutTheReferenceBlas) {
  flowood::BlasInfo reference{"reference", "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3"};
  const auto warning = flowood::blas_warning(reference);
  EXPECT_NE(warning.find("reference BLAS"), std::string::npos);
  EXPECT_NE(warning.find("libopenblas0-openmp"), std::string::npos);
  EXPECT_NE(warning.find(reference.path), std::string::npos);
  EXPECT_EQ(flowood::blas_warning({"openblas", "/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3"}), "");
  EXPECT_EQ(flowood::blas_warning({}), "");
}

}  // namespace

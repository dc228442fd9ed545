#include "flowood/io/npy.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "temp_dir.hpp"
#include "flowood/io/atomic_file.hpp"

namespace fs = std::filesystem;

namespace {

class NpyTest : public ::testing::Test {
 protected:
  std::string file(const std::string& name) const { return dir_.file(name); }
  flowood::testing::TempDir dir_{"npy"};
};

TEST_F(NpyTest, HeaderBytesMatchNumpyExactly) {
  const std::string path = file("a.npy");
  flowood::io::write_npy(path, {1.0, 2.0, 3.0}, flowood::io::NpyDtype::kFloat32);
  const std::string bytes = flowood::io::read_file(path);
  ASSERT_EQ(bytes.size(), 128u + 12u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ(static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8), 118);
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
  EXPECT_EQ(bytes.substr(10, dict.size()), dict);
  EXPECT_EQ(bytes.substr(10 + dict.size(), 127 - 10 - dict.size()), std::string(127 - 10 - dict.size(), ' '));
  EXPECT_EQ(bytes[127], '\n');
  float first;
  std::memcpy(&first, bytes.data() + 128, 4);
  EXPECT_EQ(first, 1.0f);
}

TEST_F(NpyTest, HeaderShapesAndAlignment) {
  for (const auto& shape : std::vector<std::vector<std::int64_t>>{{}, {0}, {3}, {2, 3}, {10000, 3072}, {1, 2, 3, 4}}) {
    const std::string h = flowood::io::npy_header(flowood::io::NpyDtype::kFloat64, shape);
    EXPECT_EQ(h.size() % 64, 0u);
    EXPECT_EQ(h.back(), '\n');
  }
  EXPECT_NE(flowood::io::npy_header(flowood::io::NpyDtype::kInt64, {2, 3}).find("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }"),
            std::string::npos);
  EXPECT_NE(flowood::io::npy_header(flowood::io::NpyDtype::kFloat64, {}).find("'shape': (), }"), std::string::npos);
}

TEST_F(NpyTest, VectorRoundTripAllDtypes) {
  const std::vector<double> v = {-2301.123456789, 0.0, 1e-7, 42.0, -3.0, 7.0};
  for (const auto dtype : {flowood::io::NpyDtype::kFloat32, flowood::io::NpyDtype::kFloat64, flowood::io::NpyDtype::kInt64}) {
    const std::string path = file(std::string("v") + flowood::io::npy_descr(dtype) + ".npy");
    flowood::io::write_npy(path, v, dtype, {2, 3});
    const auto a = flowood::io::read_npy(path);
    EXPECT_EQ(a.descr, flowood::io::npy_descr(dtype));
    EXPECT_EQ(a.shape, (std::vector<std::int64_t>{2, 3}));
    const auto back = a.to_doubles();
    ASSERT_EQ(back.size(), v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
      const double expected = dtype == flowood::io::NpyDtype::kFloat32 ? static_cast<double>(static_cast<float>(v[i]))
                              : dtype == flowood::io::NpyDtype::kInt64 ? std::trunc(v[i])
                                                                   : v[i];
      EXPECT_EQ(back[i], expected) << flowood::io::npy_descr(dtype) << " " << i;
    }
  }
}

TEST_F(NpyTest, TensorRoundTrip) {
  const auto f = torch::randn({4, 5});
  flowood::io::write_npy(file("f.npy"), f);
  EXPECT_TRUE(torch::equal(flowood::io::read_npy(file("f.npy")).to_tensor(), f));

  const auto d = torch::randn({7}, torch::kFloat64);
  flowood::io::write_npy(file("d.npy"), d);
  const auto dt = flowood::io::read_npy(file("d.npy")).to_tensor();
  EXPECT_EQ(dt.scalar_type(), torch::kFloat64);
  EXPECT_TRUE(torch::equal(dt, d));

  const auto l = torch::arange(6, torch::kInt64).reshape({3, 2}).t();  // non-contiguous
  flowood::io::write_npy(file("l.npy"), l);
  const auto lt = flowood::io::read_npy(file("l.npy")).to_tensor();
  EXPECT_EQ(lt.sizes(), l.sizes());
  EXPECT_TRUE(torch::equal(lt, l));

  const auto u8 = torch::tensor({1, 2, 255}, torch::kUInt8);
  flowood::io::write_npy(file("u.npy"), u8);
  EXPECT_EQ(flowood::io::read_npy(file("u.npy")).to_doubles(), (std::vector<double>{1, 2, 255}));
}

TEST_F(NpyTest, BadInputsThrow) {
  EXPECT_THROW(flowood::io::write_npy(file("x.npy"), {1, 2, 3}, flowood::io::NpyDtype::kFloat64, {2, 2}), flowood::ConfigError);
  EXPECT_THROW(flowood::io::write_npy(file("x.npy"), {std::nan("")}, flowood::io::NpyDtype::kInt64), flowood::ConfigError);
  EXPECT_THROW(flowood::io::write_npy(file("x.npy"), torch::zeros({2}, torch::kComplexFloat)), flowood::ConfigError);
  EXPECT_FALSE(fs::exists(file("x.npy")));
  EXPECT_THROW(flowood::io::write_npy(file("nodir/x.npy"), {1.0}), flowood::IoError);

  std::ofstream(file("junk.npy")) << "not numpy at all";
  EXPECT_THROW(flowood::io::read_npy(file("junk.npy")), flowood::IoError);

  flowood::io::write_npy(file("t.npy"), {1.0, 2.0, 3.0});
  std::string bytes = flowood::io::read_file(file("t.npy"));
  flowood::io::write_file_atomic(file("trunc.npy"), bytes.substr(0, bytes.size() - 4));
  try {
    flowood::io::read_npy(file("trunc.npy"));
    FAIL();
  } catch (const flowood::IoError& e) {
    EXPECT_EQ(e.path(), file("trunc.npy"));
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
  // `bytes` (shape (3,), 24 bytes of data) with its header's shape replaced, the header length kept
  // (fewer padding spaces) and `drop` data bytes removed: read_npy must refuse it saying `why`.
  const auto expect_refused = [&](const std::string& name, const std::string& shape, size_t drop, const std::string& why) {
    std::string edited = bytes;
    edited.replace(edited.find("(3,)"), 4, shape);
    edited.erase(edited.find("}") + 1, shape.size() - 4);
    edited.resize(edited.size() - drop);
    flowood::io::write_file_atomic(file(name), edited);
    try {
      flowood::io::read_npy(file(name));
      ADD_FAILURE() << name << " was read";
    } catch (const flowood::IoError& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  // A header claiming ~10^17 elements over 24 bytes of data: refused before any allocation.
  expect_refused("huge.npy", "(99999999999, 999999)", 0, "data is 24 bytes");
  // A dimension beyond int64 (found by libFuzzer: it escaped as std::out_of_range).
  expect_refused("beyond.npy", "(4, 2, 22222222222222222222222222222222222)", 0, "too large");
  // A zero dimension beside ones whose product overflows, no data (libFuzzer: LibTorch's storage
  // size calculation overflowed on the "empty" array).
  expect_refused("zero.npy", "(4, 2, 22222222224444444, 444444, 0, 977)", 24, "overflows 64 bits");
  std::string big_endian = bytes;
  big_endian.replace(big_endian.find("<f8"), 3, ">f8");
  flowood::io::write_file_atomic(file("be.npy"), big_endian);
  EXPECT_THROW(flowood::io::read_npy(file("be.npy")), flowood::IoError);
}

}  // namespace

// The IDX reader on tiny hand-built files, raw and gzipped, valid and broken.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <zlib.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "flowood/core/error.hpp"
#include "flowood/data/idx.hpp"
#include "data_writers.hpp"

namespace fs = std::filesystem;
using namespace flowood::data;

namespace {

using Bytes = std::vector<std::uint8_t>;

void put_u32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

Bytes idx_bytes(std::uint32_t magic, const std::vector<std::uint32_t>& dims, const Bytes& payload) {
  Bytes out;
  put_u32(out, magic);
  for (auto d : dims) put_u32(out, d);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Bytes gzip(const Bytes& raw) {
  uLongf size = compressBound(raw.size()) + 32;
  Bytes out(size);
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);  // +16: gzip wrapper
  zs.next_in = const_cast<Bytes::value_type*>(raw.data());
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

Bytes ramp(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>((i * 7 + 3) & 0xff);
  return b;
}

}  // namespace

// Outside the anonymous namespace: the TEST_F classes derived from it have external linkage.
class IdxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("flowood_idx_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const Bytes& bytes) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                 static_cast<std::streamsize>(bytes.size()));
    return path.string();
  }

  // Three 2x4 images, pixel values ramp(24); labels 7, 0, 5.
  Bytes images_ = idx_bytes(kIdxImagesMagic, {3, 2, 4}, ramp(24));
  Bytes labels_ = idx_bytes(kIdxLabelsMagic, {3}, {7, 0, 5});
  fs::path dir_;
};

namespace {

void expect_ramp_images(const torch::Tensor& images, int64_t n) {
  ASSERT_EQ(images.scalar_type(), torch::kUInt8);
  ASSERT_EQ(images.sizes(), (std::vector<int64_t>{n, 1, 2, 4}));
  const Bytes expected = ramp(24);
  const auto flat = images.contiguous();
  for (int64_t i = 0; i < n * 8; ++i) EXPECT_EQ(flat.data_ptr<std::uint8_t>()[i], expected[i]) << "byte " << i;
  // Row-major: image 1, row 1, col 2 is byte 8 + 4 + 2.
  if (n > 1) {
    EXPECT_EQ(images.index({1, 0, 1, 2}).item<int>(), expected[14]);
  }
}

// Runs `fn`, expects a DataError whose message contains every string in `needles`.
template <typename Fn>
void expect_data_error(Fn fn, const std::vector<std::string>& needles) {
  try {
    fn();
    ADD_FAILURE() << "expected DataError";
  } catch (const flowood::DataError& e) {
    const std::string what = e.what();
    for (const auto& needle : needles) EXPECT_NE(what.find(needle), std::string::npos) << "\"" << needle << "\" not in: " << what;
  }
}

}  // namespace

TEST_F(IdxTest, ReadsRawImages) {
  expect_ramp_images(read_idx_images(write("raw-images-idx3-ubyte", images_)), 3);
}

TEST_F(IdxTest, GzipIsDetectedByMagicBytesNotExtension) {
  // Gzipped content without ".gz", and raw content with ".gz": both must load.
  expect_ramp_images(read_idx_images(write("gz-images-idx3-ubyte", gzip(images_))), 3);
  expect_ramp_images(read_idx_images(write("raw-images-idx3-ubyte.gz", images_)), 3);
}

TEST_F(IdxTest, ReadsLabelsAsInt64) {
  for (const auto& bytes : {labels_, gzip(labels_)}) {
    const auto labels = read_idx_labels(write("x-labels-idx1-ubyte", bytes));
    ASSERT_EQ(labels.scalar_type(), torch::kInt64);
    ASSERT_EQ(labels.sizes(), (std::vector<int64_t>{3}));
    EXPECT_TRUE(torch::equal(labels, torch::tensor({7, 0, 5}, torch::kInt64)));
  }
}

TEST_F(IdxTest, DatasetWithAndWithoutLabels) {
  const auto images = write("a-images-idx3-ubyte.gz", gzip(images_));
  const auto labels = write("a-labels-idx1-ubyte", labels_);
  const ImageDataset ds = read_idx_dataset(images, labels);
  EXPECT_EQ(ds.size(), 3);
  EXPECT_EQ(ds.image_shape(), (std::vector<int64_t>{1, 2, 4}));
  ASSERT_TRUE(ds.has_labels());
  EXPECT_EQ(ds.labels[2].item<int64_t>(), 5);
  EXPECT_EQ(ds.files, (std::vector<std::string>{images, labels}));

  const ImageDataset unlabeled = read_idx_dataset(images);
  EXPECT_FALSE(unlabeled.has_labels());
  EXPECT_EQ(unlabeled.files, (std::vector<std::string>{images}));
}

TEST_F(IdxTest, LimitKeepsFirstImagesAndLabels) {
  const auto images = write("l-images-idx3-ubyte", images_);
  const auto labels = write("l-labels-idx1-ubyte.gz", gzip(labels_));
  const ImageDataset two = read_idx_dataset(images, labels, 2);
  expect_ramp_images(two.images, 2);
  EXPECT_TRUE(torch::equal(two.labels, torch::tensor({7, 0}, torch::kInt64)));
  EXPECT_EQ(read_idx_dataset(images, labels, 100).size(), 3);  // a limit above N keeps all
  EXPECT_EQ(read_idx_dataset(images, labels, 0).size(), 3);    // 0 = all
  expect_data_error([&] { read_idx_images(images, -1); }, {"l-images-idx3-ubyte", "limit"});
}

TEST_F(IdxTest, TruncatedPixelsNameFileAndByteCounts) {
  Bytes cut = images_;
  cut.resize(16 + 10);
  const auto path = write("cut-images-idx3-ubyte", cut);
  expect_data_error([&] { read_idx_images(path); },
                    {"cut-images-idx3-ubyte", "expected 24 bytes of pixels", "file has 10", "truncated"});
  // A limit the file could satisfy still does not hide the truncation.
  expect_data_error([&] { read_idx_images(path, 1); }, {"cut-images-idx3-ubyte", "file has 10"});
}

TEST_F(IdxTest, TruncatedGzipNamesFile) {
  Bytes gz = gzip(idx_bytes(kIdxImagesMagic, {50, 8, 8}, ramp(50 * 64)));
  gz.resize(gz.size() / 2);
  const auto path = write("halfgz-images-idx3-ubyte.gz", gz);
  expect_data_error([&] { read_idx_images(path); }, {"halfgz-images-idx3-ubyte.gz"});
}

TEST_F(IdxTest, CorruptGzipNamesFile) {
  Bytes gz = gzip(images_);
  for (std::size_t i = 12; i < gz.size() - 8; ++i) gz[i] ^= 0x5a;
  const auto path = write("bad.gz", gz);
  expect_data_error([&] { read_idx_images(path); }, {"bad.gz"});
}

TEST_F(IdxTest, TruncatedHeaderAndEmptyFile) {
  Bytes header_only(images_.begin(), images_.begin() + 10);
  expect_data_error([&] { read_idx_images(write("short", header_only)); },
                    {"short", "truncated IDX header", "expected 16 bytes, file has 10"});
  expect_data_error([&] { read_idx_images(write("tiny", Bytes{0, 0})); }, {"tiny", "truncated"});
  expect_data_error([&] { read_idx_images(write("empty", Bytes{})); }, {"empty", "file is empty"});
}

TEST_F(IdxTest, TrailingBytesAreALengthMismatch) {
  Bytes longer = images_;
  longer.push_back(1);
  longer.push_back(2);
  const auto path = write("long-images-idx3-ubyte", gzip(longer));
  expect_data_error([&] { read_idx_images(path); },
                    {"long-images-idx3-ubyte", "expected 24 bytes of pixels", "file has 26", "trailing"});
  Bytes labels = labels_;
  labels.push_back(9);
  expect_data_error([&] { read_idx_labels(write("long-labels", labels)); },
                    {"long-labels", "expected 3 bytes of labels", "file has 4"});
}

TEST_F(IdxTest, WrongMagicSaysWhatTheFileIs) {
  const auto labels_path = write("swapped-labels-idx1-ubyte", labels_);
  expect_data_error([&] { read_idx_images(labels_path); },
                    {"swapped-labels-idx1-ubyte", "wrong magic number 0x00000801", "0x00000803", "labels file"});
  const auto images_path = write("swapped-images-idx3-ubyte", images_);
  expect_data_error([&] { read_idx_labels(images_path); }, {"swapped-images-idx3-ubyte", "0x00000803", "images file"});
  expect_data_error([&] { read_idx_images(write("float-images", idx_bytes(0x00000D03, {1, 1, 1}, {0, 0, 0, 0}))); },
                    {"float-images", "float32"});
  expect_data_error([&] { read_idx_images(write("picture.png", Bytes{0x89, 'P', 'N', 'G', 0, 0, 0, 0})); },
                    {"picture.png", "not an IDX file"});
}

TEST_F(IdxTest, BadDimensions) {
  expect_data_error([&] { read_idx_images(write("zero-rows", idx_bytes(kIdxImagesMagic, {3, 0, 4}, {}))); },
                    {"zero-rows", "invalid image size 0x4"});
  expect_data_error([&] { read_idx_images(write("no-images", idx_bytes(kIdxImagesMagic, {0, 2, 4}, {}))); },
                    {"no-images", "0 items"});
  // A header claiming billions of pixels must fail on the length check, not allocate them.
  expect_data_error([&] { read_idx_images(write("huge", idx_bytes(kIdxImagesMagic, {4000000, 1000, 1000}, ramp(5)))); },
                    {"huge", "expected 4000000000000 bytes of pixels", "file has 5"});
}

TEST_F(IdxTest, LabelCountMismatchNamesBothFiles) {
  const auto images = write("m-images-idx3-ubyte", images_);
  const auto labels = write("m-labels-idx1-ubyte", idx_bytes(kIdxLabelsMagic, {2}, {1, 2}));
  expect_data_error([&] { read_idx_dataset(images, labels); },
                    {"m-labels-idx1-ubyte", "has 2 labels", "m-images-idx3-ubyte has 3 images"});
  expect_data_error([&] { read_idx_dataset(images, labels, 1); }, {"has 2 labels"});  // checked before the limit
}

TEST_F(IdxTest, MissingFileNamesIt) {
  expect_data_error([&] { read_idx_images((dir_ / "nope-images-idx3-ubyte.gz").string()); },
                    {"nope-images-idx3-ubyte.gz", "cannot open"});
}

TEST_F(IdxTest, SiblingLabelsByConventionalRenaming) {
  const auto images_gz = write("train-images-idx3-ubyte.gz", gzip(images_));
  EXPECT_FALSE(find_idx_labels_for(images_gz).has_value());
  const auto labels_raw = write("train-labels-idx1-ubyte", labels_);
  EXPECT_EQ(find_idx_labels_for(images_gz), labels_raw);  // other compression as a fallback
  const auto labels_gz = write("train-labels-idx1-ubyte.gz", gzip(labels_));
  EXPECT_EQ(find_idx_labels_for(images_gz), labels_gz);   // same compression preferred
  EXPECT_FALSE(find_idx_labels_for(write("pictures.idx", images_)).has_value());
}

TEST_F(IdxTest, WriterRoundTripsRawAndGzip) {
  const auto images = torch::randint(0, 256, {5, 1, 3, 7}, torch::kUInt8);
  const auto labels = torch::tensor({0, 9, 255, 3, 1}, torch::kInt64);
  for (const std::string suffix : {"", ".gz"}) {
    const auto images_path = (dir_ / ("w-images-idx3-ubyte" + suffix)).string();
    const auto labels_path = (dir_ / ("w-labels-idx1-ubyte" + suffix)).string();
    write_idx_images(images_path, images);
    write_idx_labels(labels_path, labels);
    std::ifstream file(images_path, std::ios::binary);
    const int first = file.get(), second = file.get();
    EXPECT_EQ(first == 0x1f && second == 0x8b, suffix == ".gz");
    const ImageDataset ds = read_idx_dataset(images_path, labels_path);
    EXPECT_TRUE(torch::equal(ds.images, images));
    EXPECT_TRUE(torch::equal(ds.labels, labels));
  }
  EXPECT_THROW(write_idx_images((dir_ / "f").string(), torch::zeros({2, 3, 4, 4}, torch::kUInt8)), flowood::IoError);
  EXPECT_THROW(write_idx_labels((dir_ / "g").string(), torch::tensor({256})), flowood::IoError);
}

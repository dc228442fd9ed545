#include "flowood/core/strings.hpp"
#include "flowood/data/image_decode.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "flowood/core/error.hpp"

namespace flowood::data {
namespace {

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw DataError(path, std::string("cannot open: ") + std::strerror(errno));
  const auto size = static_cast<std::size_t>(in.tellg());
  std::vector<std::uint8_t> bytes(size);
  in.seekg(0);
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size))) {
    throw DataError(path, "read error");
  }
  return bytes;
}

bool contains_near_end(const std::vector<std::uint8_t>& b, const std::vector<std::uint8_t>& marker, std::size_t window) {
  if (b.size() < marker.size()) return false;
  const std::size_t from = b.size() > window ? b.size() - window : 0;
  return std::search(b.begin() + static_cast<std::ptrdiff_t>(from), b.end(), marker.begin(), marker.end()) != b.end();
}

/// libjpeg and libpng happily return half an image for a truncated file (libjpeg fills the rest with
/// grey and prints a warning), so a cut-off file is caught here, by its missing end marker.
void check_complete(const std::vector<std::uint8_t>& b, const std::string& name) {
  if (b.empty()) throw DataError(name, "empty file, expected an image");
  if (b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) {
    if (!contains_near_end(b, {0xFF, 0xD9}, 64)) {
      throw DataError(name, fmt::format("truncated JPEG: no end-of-image marker (FF D9) at the end of its {} bytes",
                                        b.size()));
    }
  } else if (b.size() >= 8 && std::memcmp(b.data(), "\x89PNG\r\n\x1a\n", 8) == 0) {
    if (!contains_near_end(b, {'I', 'E', 'N', 'D'}, 64)) {
      throw DataError(name, fmt::format("truncated PNG: no IEND chunk at the end of its {} bytes", b.size()));
    }
  } else if (b.size() >= 6 && b[0] == 'B' && b[1] == 'M') {
    const std::uint32_t declared = std::uint32_t{b[2]} | (std::uint32_t{b[3]} << 8) | (std::uint32_t{b[4]} << 16) |
                                   (std::uint32_t{b[5]} << 24);
    if (declared > b.size()) {
      throw DataError(name, fmt::format("truncated BMP: header says {} bytes, file has {}", declared, b.size()));
    }
  }
}

/// Width and height a PNG, JPEG or BMP header claims (0, 0 when the format is another or the
/// header is not found).
std::pair<std::uint64_t, std::uint64_t> claimed_size(const std::vector<std::uint8_t>& b) {
  const auto be16 = [&](size_t i) { return (std::uint64_t{b[i]} << 8) | b[i + 1]; };
  const auto be32 = [&](size_t i) { return (be16(i) << 16) | be16(i + 2); };
  if (b.size() >= 24 && std::memcmp(b.data(), "\x89PNG\r\n\x1a\n", 8) == 0) return {be32(16), be32(20)};
  if (b.size() >= 26 && b[0] == 'B' && b[1] == 'M') {
    const auto le32 = [&](size_t i) {
      return static_cast<std::int32_t>(std::uint32_t{b[i]} | (std::uint32_t{b[i + 1]} << 8) | (std::uint32_t{b[i + 2]} << 16) |
                                       (std::uint32_t{b[i + 3]} << 24));
    };
    return {static_cast<std::uint64_t>(std::abs(static_cast<std::int64_t>(le32(18)))),
            static_cast<std::uint64_t>(std::abs(static_cast<std::int64_t>(le32(22))))};
  }
  if (b.size() >= 4 && b[0] == 0xFF && b[1] == 0xD8) {  // JPEG: walk the marker segments to a SOFn
    for (size_t i = 2; i + 9 < b.size();) {
      if (b[i] != 0xFF) return {0, 0};
      const auto marker = b[i + 1];
      if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC)
        return {be16(i + 7), be16(i + 5)};
      i += 2 + be16(i + 2);
    }
  }
  return {0, 0};
}

/// Refuses an image whose header claims more pixels than its file could hold: decoders allocate
/// what the header says before reading the data, so memory would follow the claim, not the file.
/// Deflate and JPEG cannot expand data by more than about 1:1100 (a blank image), so 2048 pixel
/// values per file byte (with a 64 Mi floor for small files) is generous for any real image.
void check_claimed_size(const std::vector<std::uint8_t>& b, const std::string& name) {
  const auto [w, h] = claimed_size(b);
  const std::uint64_t limit = std::max<std::uint64_t>(std::uint64_t{64} << 20, 2048 * static_cast<std::uint64_t>(b.size()));
  if (w > 65535 || h > 65535 || w * h * 3 > limit)
    throw DataError(name, fmt::format("header claims {}×{} pixels, more than a {}-byte file can hold; refusing to "
                                      "allocate for it (damaged or crafted image)", w, h, b.size()));
}

/// Decodes and transforms one image into an 8-bit Mat with 1 or 3 channels (RGB order).
cv::Mat decode_one(const std::vector<std::uint8_t>& bytes, const std::string& name, const ImageTransform& t) {
  check_complete(bytes, name);
  check_claimed_size(bytes, name);
  const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<std::uint8_t*>(bytes.data()));
  const int flags = t.channels == 1 ? cv::IMREAD_GRAYSCALE : t.channels == 3 ? cv::IMREAD_COLOR : cv::IMREAD_UNCHANGED;
  cv::Mat img;
  try {
    img = cv::imdecode(raw, flags);
  } catch (const cv::Exception& e) {
    throw DataError(name, fmt::format("cannot decode as an image: {}", e.err));
  }
  if (img.empty()) {
    throw DataError(name, fmt::format("cannot decode as an image ({} bytes; expected PNG, JPEG, BMP, PGM/PPM or TIFF)",
                                      bytes.size()));
  }
  if (img.depth() != CV_8U) {
    cv::Mat eight;
    const double scale = img.depth() == CV_16U ? 1.0 / 257.0 : img.depth() == CV_32F || img.depth() == CV_64F ? 255.0 : 1.0;
    img.convertTo(eight, CV_8U, scale);
    img = eight;
  }
  switch (img.channels()) {
    case 1: break;
    case 2: cv::extractChannel(img, img, 0); break;  // grey + alpha
    case 3: cv::cvtColor(img, img, cv::COLOR_BGR2RGB); break;
    case 4: cv::cvtColor(img, img, cv::COLOR_BGRA2RGB); break;
    default: throw DataError(name, fmt::format("unsupported image with {} channels", img.channels()));
  }
  if (t.resize_shorter > 0 || t.resize_h > 0) {
    int64_t new_h = t.resize_h, new_w = t.resize_w;
    if (t.resize_shorter > 0) {
      // torchvision Resize(int): the shorter side becomes `size`, the longer int(size * long / short).
      const int64_t h = img.rows, w = img.cols;
      if (w <= h) {
        new_w = t.resize_shorter;
        new_h = static_cast<int64_t>(static_cast<double>(t.resize_shorter) * static_cast<double>(h) / static_cast<double>(w));
      } else {
        new_h = t.resize_shorter;
        new_w = static_cast<int64_t>(static_cast<double>(t.resize_shorter) * static_cast<double>(w) / static_cast<double>(h));
      }
    }
    if (new_h != img.rows || new_w != img.cols) {
      // Area averaging when shrinking (close to PIL's antialiased bilinear), bilinear when enlarging.
      const bool shrink = new_h <= img.rows && new_w <= img.cols;
      cv::Mat resized;
      cv::resize(img, resized, cv::Size(static_cast<int>(new_w), static_cast<int>(new_h)), 0, 0,
                 shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
      img = resized;
    }
  }
  if (t.crop_h > 0) {
    if (t.crop_h > img.rows || t.crop_w > img.cols) {
      throw DataError(name, fmt::format("cannot centre-crop {}x{} from an image of {}x{} (resize it first: ?size=)",
                                        t.crop_h, t.crop_w, img.rows, img.cols));
    }
    // torchvision CenterCrop: offsets round((size - crop) / 2), halves to even.
    const int top = static_cast<int>(std::nearbyint(static_cast<double>(img.rows - t.crop_h) / 2.0));
    const int left = static_cast<int>(std::nearbyint(static_cast<double>(img.cols - t.crop_w) / 2.0));
    img = img(cv::Rect(left, top, static_cast<int>(t.crop_w), static_cast<int>(t.crop_h))).clone();
  }
  if (t.invert) cv::bitwise_not(img, img);
  if (!img.isContinuous()) img = img.clone();
  return img;
}

/// Copies an HWC Mat into the CHW slot `dst` with `channels` channels.
void copy_chw(const cv::Mat& img, std::uint8_t* dst, int channels) {
  const int64_t hw = static_cast<int64_t>(img.rows) * img.cols;
  const std::uint8_t* src = img.ptr<std::uint8_t>();
  if (img.channels() == 1) {
    for (int c = 0; c < channels; ++c) std::memcpy(dst + c * hw, src, static_cast<std::size_t>(hw));
    return;
  }
  for (int64_t i = 0; i < hw; ++i) {
    for (int c = 0; c < 3; ++c) dst[c * hw + i] = src[i * 3 + c];
  }
}

/// Runs body(i) for i in [0, n) on `threads` threads; rethrows the error of the lowest failing i.
template <typename Body>
void parallel_indices(int64_t n, int threads, Body body) {
  std::atomic<int64_t> next{0};
  std::mutex mutex;
  int64_t first_bad = n;
  std::exception_ptr error;
  auto worker = [&] {
    constexpr int64_t kChunk = 32;
    for (;;) {
      const int64_t begin = next.fetch_add(kChunk);
      if (begin >= n) return;
      for (int64_t i = begin; i < std::min(n, begin + kChunk); ++i) {
        {
          std::lock_guard<std::mutex> lock(mutex);
          if (i > first_bad) return;  // an earlier image already failed
        }
        try {
          body(i);
        } catch (...) {
          std::lock_guard<std::mutex> lock(mutex);
          if (i < first_bad) {
            first_bad = i;
            error = std::current_exception();
          }
          return;
        }
      }
    }
  };
  const int count = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, (n + 31) / 32)));
  std::vector<std::thread> pool;
  for (int k = 1; k < count; ++k) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace

std::string ImageTransform::key() const {
  std::string k = channels == 1 ? "gray" : channels == 3 ? "rgb" : "asis";
  if (resize_shorter > 0) k += fmt::format(",resize{}", resize_shorter);
  if (resize_h > 0) k += fmt::format(",resize{}x{}", resize_h, resize_w);
  if (crop_h > 0) k += fmt::format(",crop{}x{}", crop_h, crop_w);
  if (invert) k += ",invert";
  return k;
}

int decode_thread_count() {
  if (const char* env = std::getenv("FLOWOOD_DECODE_THREADS")) {
    const int v = std::atoi(env);
    if (v >= 1) return std::min(v, 256);
  }
  return static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 16u));
}

bool is_image_file_name(const std::string& name) {
  const auto dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  const std::string ext = lower(name.substr(dot + 1));
  for (const char* e : {"png", "jpg", "jpeg", "bmp", "pgm", "ppm", "tif", "tiff"}) {
    if (ext == e) return true;
  }
  return false;
}

torch::Tensor decode_images(const std::vector<EncodedImage>& images, const ImageTransform& t, int threads) {
  const auto n = static_cast<int64_t>(images.size());
  if (threads <= 0) threads = decode_thread_count();
  auto bytes_of = [&](int64_t i, std::vector<std::uint8_t>& storage) -> const std::vector<std::uint8_t>& {
    const EncodedImage& e = images[static_cast<std::size_t>(i)];
    if (!e.bytes.empty() || e.path.empty()) return e.bytes;
    storage = read_bytes(e.path);
    return storage;
  };
  if (n == 0) return torch::empty({0, t.channels == 1 ? 1 : 3, 0, 0}, torch::kUInt8);

  int64_t out_h = t.crop_h > 0 ? t.crop_h : t.resize_h > 0 ? t.resize_h : t.expect_h;
  int64_t out_w = t.crop_h > 0 ? t.crop_w : t.resize_h > 0 ? t.resize_w : t.expect_w;
  auto check_size = [&](const cv::Mat& img, int64_t i) {
    if (img.rows != out_h || img.cols != out_w) {
      throw DataError(images[static_cast<std::size_t>(i)].name,
                      fmt::format("image is {}x{} but {} {}x{}; give a size (e.g. ?size={}) to resize and crop "
                                  "every image to one size",
                                  img.rows, img.cols, t.expect_h > 0 ? "expected" : "the first image is", out_h, out_w,
                                  std::min(out_h, out_w)));
    }
  };

  if (t.channels != 0 && out_h > 0) {
    // The shape is known: decode straight into the tensor.
    auto out = torch::empty({n, t.channels, out_h, out_w}, torch::kUInt8);
    std::uint8_t* base = out.data_ptr<std::uint8_t>();
    const int64_t per = t.channels * out_h * out_w;
    parallel_indices(n, threads, [&](int64_t i) {
      std::vector<std::uint8_t> storage;
      const cv::Mat img = decode_one(bytes_of(i, storage), images[static_cast<std::size_t>(i)].name, t);
      check_size(img, i);
      copy_chw(img, base + i * per, t.channels);
    });
    return out;
  }

  // Unknown shape or channel count: decode everything, then assemble.
  std::vector<cv::Mat> mats(static_cast<std::size_t>(n));
  parallel_indices(n, threads, [&](int64_t i) {
    std::vector<std::uint8_t> storage;
    mats[static_cast<std::size_t>(i)] = decode_one(bytes_of(i, storage), images[static_cast<std::size_t>(i)].name, t);
  });
  if (out_h <= 0) {
    out_h = mats[0].rows;
    out_w = mats[0].cols;
  }
  int channels = t.channels;
  if (channels == 0) {
    channels = std::any_of(mats.begin(), mats.end(), [](const cv::Mat& m) { return m.channels() == 3; }) ? 3 : 1;
  }
  auto out = torch::empty({n, channels, out_h, out_w}, torch::kUInt8);
  std::uint8_t* base = out.data_ptr<std::uint8_t>();
  const int64_t per = channels * out_h * out_w;
  for (int64_t i = 0; i < n; ++i) {
    const cv::Mat& img = mats[static_cast<std::size_t>(i)];
    check_size(img, i);
    copy_chw(img, base + i * per, channels);
  }
  return out;
}

}  // namespace flowood::data

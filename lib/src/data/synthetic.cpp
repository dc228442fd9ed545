#include "flowood/data/synthetic.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "flowood/core/error.hpp"
#include "flowood/data/registry.hpp"

namespace flowood::data {
namespace {

constexpr int64_t kDefaultCount = 10000;
const std::vector<int64_t> kDefaultShape = {3, 32, 32};

/// splitmix64: a tiny, fully specified generator, so the sets are the same with every compiler
/// and standard library (std:: distributions are implementation-defined).
class SplitMix {
 public:
  SplitMix(uint64_t seed, uint64_t kind, uint64_t index) : state_(seed) {
    state_ = next() ^ (kind * 0x9E3779B97F4A7C15ull);
    state_ = next() ^ (index * 0xC2B2AE3D27D4EB4Full);
    next();
  }
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint8_t byte() { return static_cast<uint8_t>(next() >> 56); }
  /// Uniform in [0, n).
  int64_t below(int64_t n) { return static_cast<int64_t>((next() >> 11) % static_cast<uint64_t>(n)); }
  /// Uniform in (0, 1).
  double unit() { return (static_cast<double>(next() >> 11) + 0.5) / 9007199254740992.0; }

 private:
  uint64_t state_;
};

enum Kind : uint64_t { kUniform = 1, kGaussian = 2, kConstant = 3, kDigits = 4 };

int64_t per_image(const std::vector<int64_t>& shape) { return shape[0] * shape[1] * shape[2]; }

template <typename Fill>
torch::Tensor generate(int64_t n, const std::vector<int64_t>& shape, Fill fill) {
  auto out = torch::empty({n, shape[0], shape[1], shape[2]}, torch::kUInt8);
  uint8_t* base = out.data_ptr<uint8_t>();
  const int64_t per = per_image(shape);
  for (int64_t i = 0; i < n; ++i) fill(i, base + i * per);
  return out;
}

double luma(const uint8_t* rgb) { return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]; }

struct SyntheticParams {
  std::vector<int64_t> shape;
  int64_t n = kDefaultCount;
  uint64_t seed = 0;
};

SyntheticParams params_of(const DatasetSpec& spec, int64_t limit, bool has_shape) {
  SyntheticParams p;
  p.shape = has_shape ? spec_shape_option(spec, "shape", kDefaultShape) : kDefaultShape;
  p.n = spec_int_option(spec, "n", kDefaultCount, 1, 10000000);
  p.seed = static_cast<uint64_t>(spec_int_option(spec, "seed", 0, 0, INT64_MAX));
  if (limit > 0) p.n = std::min(p.n, limit);
  return p;
}

std::vector<SpecOptionInfo> synthetic_options(bool has_shape, int64_t max_n) {
  std::vector<SpecOptionInfo> o;
  if (has_shape) o.push_back({"shape", "CxHxW", "image shape, C = 1 or 3 (default 3x32x32; 1x28x28 for MNIST-sized models)"});
  o.push_back({"n", "N", fmt::format("number of images (default {}{})", std::min(kDefaultCount, max_n),
                                     max_n < 10000000 ? fmt::format(", at most {}", max_n) : std::string())});
  o.push_back({"seed", "S", "random seed (default 0); image i depends only on (seed, i)"});
  return o;
}

ImageDataset load_noise(const DatasetSpec& spec, const DataRoots&, int64_t limit) {
  const auto p = params_of(spec, limit, true);
  ImageDataset ds;
  ds.images = spec.split == "gaussian" ? gaussian_noise_images(p.n, p.shape, p.seed)
                                       : uniform_noise_images(p.n, p.shape, p.seed);
  return ds;
}

ImageDataset load_constant(const DatasetSpec& spec, const DataRoots&, int64_t limit) {
  const auto p = params_of(spec, limit, true);
  ImageDataset ds;
  ds.images = constant_images(p.n, p.shape, p.seed);
  return ds;
}

ImageDataset load_coloured_digits(const DatasetSpec& spec, const DataRoots& roots, int64_t limit) {
  const auto p = params_of(spec, limit, false);
  DatasetSpec mnist{"mnist", "test", "", {}};
  ImageDataset digits;
  try {
    digits = load_dataset(mnist, roots, p.n);
  } catch (const DataError& e) {
    throw DataError(spec.to_string(), std::string("needs the MNIST test digits: ") + e.what());
  }
  if (digits.size() < p.n) {
    throw DataError(spec.to_string(), fmt::format("n={} but MNIST test has only {} digits", p.n, digits.size()));
  }
  if (digits.images.size(1) != 1 || digits.images.size(2) != 28 || digits.images.size(3) != 28) {
    throw DataError(spec.to_string(), "expected 1x28x28 MNIST digits");
  }
  ImageDataset ds;
  ds.images = coloured_digit_images(digits.images, p.seed);
  ds.labels = digits.labels;
  ds.files = digits.files;
  return ds;
}

}  // namespace

torch::Tensor uniform_noise_images(int64_t n, const std::vector<int64_t>& shape, uint64_t seed) {
  const int64_t per = per_image(shape);
  return generate(n, shape, [&](int64_t i, uint8_t* dst) {
    SplitMix rng(seed, kUniform, static_cast<uint64_t>(i));
    for (int64_t k = 0; k < per; ++k) dst[k] = rng.byte();
  });
}

torch::Tensor gaussian_noise_images(int64_t n, const std::vector<int64_t>& shape, uint64_t seed) {
  const int64_t per = per_image(shape);
  return generate(n, shape, [&](int64_t i, uint8_t* dst) {
    SplitMix rng(seed, kGaussian, static_cast<uint64_t>(i));
    for (int64_t k = 0; k < per; k += 2) {
      // Box-Muller: two normals from two uniforms.
      const double r = std::sqrt(-2.0 * std::log(rng.unit()));
      const double angle = 2.0 * M_PI * rng.unit();
      const double z[2] = {r * std::cos(angle), r * std::sin(angle)};
      for (int j = 0; j < 2 && k + j < per; ++j) {
        dst[k + j] = static_cast<uint8_t>(std::clamp(std::nearbyint(255.0 * (0.5 + 0.25 * z[j])), 0.0, 255.0));
      }
    }
  });
}

torch::Tensor constant_images(int64_t n, const std::vector<int64_t>& shape, uint64_t seed) {
  const int64_t hw = shape[1] * shape[2];
  return generate(n, shape, [&](int64_t i, uint8_t* dst) {
    SplitMix rng(seed, kConstant, static_cast<uint64_t>(i));
    for (int64_t c = 0; c < shape[0]; ++c) std::fill(dst + c * hw, dst + (c + 1) * hw, rng.byte());
  });
}

torch::Tensor coloured_digit_images(const torch::Tensor& digits, uint64_t seed) {
  const auto src = digits.contiguous();
  const int64_t n = src.size(0);
  const uint8_t* in = src.data_ptr<uint8_t>();
  constexpr int64_t kSide = 32, kDigit = 28, kHw = kSide * kSide;
  return generate(n, {3, kSide, kSide}, [&](int64_t i, uint8_t* dst) {
    SplitMix rng(seed, kDigits, static_cast<uint64_t>(i));
    uint8_t bg[3], fg[3];
    for (auto& v : bg) v = rng.byte();
    do {
      for (auto& v : fg) v = rng.byte();
    } while (std::abs(luma(fg) - luma(bg)) < 96.0);
    const int64_t dy = rng.below(kSide - kDigit + 1), dx = rng.below(kSide - kDigit + 1);
    const uint8_t* digit = in + i * kDigit * kDigit;
    for (int64_t y = 0; y < kSide; ++y) {
      for (int64_t x = 0; x < kSide; ++x) {
        const int64_t sy = y - dy, sx = x - dx;
        const double a = (sy >= 0 && sy < kDigit && sx >= 0 && sx < kDigit) ? digit[sy * kDigit + sx] / 255.0 : 0.0;
        for (int c = 0; c < 3; ++c) {
          dst[c * kHw + y * kSide + x] = static_cast<uint8_t>(std::nearbyint(bg[c] * (1.0 - a) + fg[c] * a));
        }
      }
    }
  });
}

DatasetKind noise_kind() {
  DatasetKind kind;
  kind.name = "noise";
  kind.summary = "synthetic noise images: uniform (each value 0..255) or gaussian (mean 127.5, sd 63.75, clamped)";
  kind.splits = {"uniform", "gaussian"};
  kind.default_split = "uniform";
  kind.options = synthetic_options(true, 10000000);
  kind.generated = true;
  kind.load = load_noise;
  return kind;
}

DatasetKind constant_kind() {
  DatasetKind kind;
  kind.name = "constant";
  kind.summary = "synthetic constant images, one random colour each";
  kind.options = synthetic_options(true, 10000000);
  kind.generated = true;
  kind.load = load_constant;
  return kind;
}

DatasetKind coloured_digits_kind() {
  DatasetKind kind;
  kind.name = "coloured-digits";
  kind.summary = "MNIST test digits recoloured on random colour backgrounds, 3x32x32, labels = digits (SVHN-like; "
                 "needs mnist:test)";
  kind.options = synthetic_options(false, 10000);
  kind.generated = true;
  kind.load = load_coloured_digits;
  return kind;
}

}  // namespace flowood::data

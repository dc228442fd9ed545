#include "flowood/flows/mask.hpp"

#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <opencv2/imgcodecs.hpp>

#include "flowood/core/error.hpp"
#include "flowood/io/npy.hpp"

namespace flowood::flows {
namespace {
// Per-example shape as a tensor of ones with the pattern broadcast over the channels.
torch::Tensor over_channels(const torch::Tensor& pattern, int64_t channels) {
  return pattern.unsqueeze(0).expand({channels, pattern.size(0), pattern.size(1)}).contiguous();
}

torch::Tensor zeros_hw(int64_t height, int64_t width) { return torch::zeros({height, width}, torch::kFloat32); }

// Quadrant q of an [H, W] grid as a {0, 1} pattern (0 TL, 1 TR, 2 BR, 3 BL; split at H/2, W/2).
torch::Tensor quadrant_pattern(int q, int64_t height, int64_t width) {
  auto p = zeros_hw(height, width);
  const auto h2 = height / 2, w2 = width / 2;
  const bool top = q == 0 || q == 1, left = q == 0 || q == 3;
  p.slice(0, top ? 0 : h2, top ? h2 : height).slice(1, left ? 0 : w2, left ? w2 : width).fill_(1.0);
  return p;
}

std::string reversed(const std::string& name, bool reverse) { return reverse ? name + " (reversed)" : name; }
}  // namespace

// ---- SpatialMask ---------------------------------------------------------------------------

torch::Tensor SpatialMask::update_pattern(int64_t height, int64_t width) const {
  return 1.0 - condition_pattern(height, width);
}

std::pair<torch::Tensor, torch::Tensor> SpatialMask::patterns_like(const torch::Tensor& x) const {
  const auto h = x.size(-2), w = x.size(-1);
  const auto key = std::make_tuple(h, w, static_cast<int>(x.scalar_type()), static_cast<int>(x.device().type()),
                                   static_cast<int>(x.device().index()));
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    const auto opts = x.options().requires_grad(false);
    auto cond = condition_pattern(h, w).to(opts).view({1, 1, h, w});
    auto upd = update_pattern(h, w).to(opts).view({1, 1, h, w});
    it = cache_.emplace(key, std::make_pair(cond, upd)).first;
  }
  return it->second;
}

void SpatialMask::check_shape(const Shape& input) const {
  if (input.size() != 3)
    throw ConfigError("model.masks", fmt::format("{} mask needs images [C, H, W], got {}", describe(), shape_string(input)));
  check_size(input[1], input[2]);
  const auto cond = condition_pattern(input[1], input[2]);
  const auto upd = update_pattern(input[1], input[2]);
  if (cond.sum().item<double>() == 0.0)
    throw ConfigError("model.masks",
                      fmt::format("{} mask on {} has no conditioning pixels", describe(), shape_string(input)));
  if (upd.sum().item<double>() == 0.0)
    throw ConfigError("model.masks", fmt::format("{} mask on {} transforms no pixel", describe(), shape_string(input)));
}

torch::Tensor SpatialMask::transformed(const Shape& input) const {
  return over_channels(update_pattern(input[1], input[2]), input[0]);
}

std::pair<torch::Tensor, torch::Tensor> SpatialMask::split(const torch::Tensor& x) const {
  const auto cond = patterns_like(x).first;
  return {x * cond, x * (1.0 - cond)};
}

std::pair<torch::Tensor, torch::Tensor> SpatialMask::restrict(const torch::Tensor& s, const torch::Tensor& t) const {
  const auto upd = patterns_like(s).second;
  return {s * upd, t * upd};
}

torch::Tensor SpatialMask::merge(const torch::Tensor& x_id, const torch::Tensor& y_change) const {
  const auto cond = patterns_like(x_id).first;
  return x_id * cond + y_change * (1.0 - cond);
}

std::pair<torch::Tensor, torch::Tensor> SpatialMask::to_full(const torch::Tensor& s, const torch::Tensor& t) const {
  return restrict(s, t);
}

// ---- checkerboard --------------------------------------------------------------------------

std::string CheckerboardMask::describe() const { return reversed("checkerboard", reverse_); }

torch::Tensor CheckerboardMask::condition_pattern(int64_t height, int64_t width) const {
  const auto i = torch::arange(height, torch::kLong).view({height, 1});
  const auto j = torch::arange(width, torch::kLong).view({1, width});
  auto odd = ((i + j) % 2).to(torch::kFloat32);  // 1 where i + j is odd: conditions when not reversed
  return reverse_ ? 1.0 - odd : odd;
}

// ---- horizontal / vertical -----------------------------------------------------------------

std::string HalfMask::describe() const {
  return reversed(axis_ == Axis::kHorizontal ? "horizontal" : "vertical", reverse_);
}

torch::Tensor HalfMask::condition_pattern(int64_t height, int64_t width) const {
  auto p = zeros_hw(height, width);
  if (axis_ == Axis::kHorizontal)
    p.slice(0, 0, height / 2).fill_(1.0);  // top half conditions
  else
    p.slice(1, 0, width / 2).fill_(1.0);  // left half conditions
  return reverse_ ? 1.0 - p : p;
}

// ---- quadrant ------------------------------------------------------------------------------

QuadrantMask::QuadrantMask(int input, int output) : input_(input), output_(output) {
  if (input < 0 || input > 3 || output < 0 || output > 3)
    throw ConfigError("model.masks", fmt::format("quadrants are 0..3 (got {}>{})", input, output));
  if (input == output)
    throw ConfigError("model.masks",
                      fmt::format("quadrant {}>{}: the input and output quadrants must differ", input, output));
}

std::string QuadrantMask::describe() const { return fmt::format("quadrant {}→{}", input_, output_); }

void QuadrantMask::check_size(int64_t height, int64_t width) const {
  if (height < 2 || width < 2)
    throw ConfigError("model.masks", fmt::format("{} mask needs H, W >= 2 (got {}×{})", describe(), height, width));
}

torch::Tensor QuadrantMask::condition_pattern(int64_t height, int64_t width) const {
  return quadrant_pattern(input_, height, width);
}

torch::Tensor QuadrantMask::update_pattern(int64_t height, int64_t width) const {
  return quadrant_pattern(output_, height, width);
}

// ---- sub-quadrant --------------------------------------------------------------------------

SubQuadrantMask::SubQuadrantMask(int input, int output, int64_t factor) : inner_(input, output), factor_(factor) {
  if (factor < 1) throw ConfigError("model.masks", fmt::format("sub-quadrant factor must be >= 1 (got {})", factor));
}

std::string SubQuadrantMask::describe() const {
  return fmt::format("sub-quadrant {}→{} ({}×{} tiles)", inner_.input(), inner_.output(), factor_, factor_);
}

Shape SubQuadrantMask::st_input_shape(const Shape& input) const {
  return {input[0], input[1] / factor_, input[2] / factor_};
}

void SubQuadrantMask::check_shape(const Shape& input) const {
  if (input.size() != 3)
    throw ConfigError("model.masks", fmt::format("{} mask needs images [C, H, W], got {}", describe(), shape_string(input)));
  if (input[1] % factor_ != 0 || input[2] % factor_ != 0)
    throw ConfigError("model.masks", fmt::format("{} mask needs H and W divisible by {} (got {})", describe(), factor_,
                                                 shape_string(input)));
  inner_.check_shape(st_input_shape(input));
}

torch::Tensor SubQuadrantMask::transformed(const Shape& input) const {
  const auto tile = inner_.update_pattern(input[1] / factor_, input[2] / factor_);
  return over_channels(tile.repeat({factor_, factor_}), input[0]);
}

torch::Tensor SubQuadrantMask::fold(const torch::Tensor& x) const {
  const auto n = x.size(0), c = x.size(1), h = x.size(2) / factor_, w = x.size(3) / factor_;
  return x.reshape({n, c, factor_, h, factor_, w}).permute({0, 2, 4, 1, 3, 5}).reshape({n * factor_ * factor_, c, h, w});
}

torch::Tensor SubQuadrantMask::unfold(const torch::Tensor& x) const {
  const auto n = x.size(0) / (factor_ * factor_), c = x.size(1), h = x.size(2), w = x.size(3);
  return x.reshape({n, factor_, factor_, c, h, w}).permute({0, 3, 1, 4, 2, 5}).reshape({n, c, factor_ * h, factor_ * w});
}

// ---- center --------------------------------------------------------------------------------

std::string CenterMask::describe() const { return reversed(fmt::format("center (margin {})", margin_), reverse_); }

void CenterMask::check_size(int64_t height, int64_t width) const {
  if (margin_ < 1 || 2 * margin_ >= height || 2 * margin_ >= width)
    throw ConfigError("model.masks", fmt::format("center mask margin {} does not fit a {}×{} image (need 1 <= margin "
                                                 "< H/2 and W/2)",
                                                 margin_, height, width));
}

torch::Tensor CenterMask::condition_pattern(int64_t height, int64_t width) const {
  auto p = zeros_hw(height, width);
  if (2 * margin_ < height && 2 * margin_ < width)
    p.slice(0, margin_, height - margin_).slice(1, margin_, width - margin_).fill_(1.0);
  return reverse_ ? 1.0 - p : p;
}

// ---- file ----------------------------------------------------------------------------------

FileMask::FileMask(std::string path, bool reverse) : path_(std::move(path)), reverse_(reverse) {
  if (!std::filesystem::is_regular_file(path_)) throw IoError(path_, "mask file not found");
  const auto ext = std::filesystem::path(path_).extension().string();
  if (ext == ".npy") {
    const auto array = io::read_npy(path_);
    if (array.shape.size() != 2)
      throw IoError(path_, fmt::format("a mask array must be 2-D [H, W] (got {} dimensions)", array.shape.size()));
    pattern_ = (array.to_tensor().to(torch::kFloat64) != 0).to(torch::kFloat32);
  } else {
    cv::Mat image;
    try {
      image = cv::imread(path_, cv::IMREAD_GRAYSCALE);
    } catch (const cv::Exception& e) {
      throw IoError(path_, "cannot read the mask image: " + e.err);
    }
    if (image.empty()) throw IoError(path_, "cannot read the mask image (PNG, BMP or JPEG; or an .npy array)");
    pattern_ = torch::from_blob(image.data, {image.rows, image.cols}, torch::kUInt8).gt(127).to(torch::kFloat32).clone();
  }
}

std::string FileMask::describe() const {
  return reversed("file " + std::filesystem::path(path_).filename().string(), reverse_);
}

void FileMask::check_size(int64_t height, int64_t width) const {
  if (pattern_.size(0) != height || pattern_.size(1) != width)
    throw ConfigError("model.masks", fmt::format("mask {} is {}×{} but the layer's images are {}×{}", path_,
                                                 pattern_.size(0), pattern_.size(1), height, width));
}

torch::Tensor FileMask::condition_pattern(int64_t height, int64_t width) const {
  check_size(height, width);
  return reverse_ ? 1.0 - pattern_ : pattern_.clone();
}

// ---- channel-wise --------------------------------------------------------------------------

std::string ChannelMask::describe() const { return reversed("channel-wise", reverse_); }

Shape ChannelMask::st_input_shape(const Shape& input) const {
  Shape s = input;
  s[0] /= 2;
  return s;
}

void ChannelMask::check_shape(const Shape& input) const {
  if (input.size() != 3 || input[0] < 2 || input[0] % 2 != 0)
    throw ConfigError("model.masks",
                      "channel-wise mask needs images with an even number (>= 2) of channels, got " + shape_string(input));
}

torch::Tensor ChannelMask::transformed(const Shape& input) const {
  auto p = torch::zeros({input[0], input[1], input[2]}, torch::kFloat32);
  const auto half = input[0] / 2;
  p.slice(0, reverse_ ? half : 0, reverse_ ? input[0] : half).fill_(1.0);
  return p;
}

std::pair<torch::Tensor, torch::Tensor> ChannelMask::split(const torch::Tensor& x) const {
  auto halves = x.chunk(2, 1);
  // not reversed: first half changes, second half conditions.
  return reverse_ ? std::make_pair(halves[0], halves[1]) : std::make_pair(halves[1], halves[0]);
}

torch::Tensor ChannelMask::merge(const torch::Tensor& x_id, const torch::Tensor& y_change) const {
  return reverse_ ? torch::cat({x_id, y_change}, 1) : torch::cat({y_change, x_id}, 1);
}

std::pair<torch::Tensor, torch::Tensor> ChannelMask::to_full(const torch::Tensor& s, const torch::Tensor& t) const {
  const auto zs = torch::zeros_like(s), zt = torch::zeros_like(t);
  return {merge(zs, s), merge(zt, t)};
}

// ---- tabular -------------------------------------------------------------------------------

std::string TabularMask::describe() const { return reversed("tabular", reverse_); }

void TabularMask::check_shape(const Shape& input) const {
  if (input.size() != 1 || input[0] < 2)
    throw ConfigError("model.masks", "tabular mask needs vectors [D] with D >= 2, got " + shape_string(input));
}

torch::Tensor TabularMask::transformed(const Shape& input) const {
  auto p = torch::zeros({input[0]}, torch::kFloat32);
  const auto half = input[0] / 2;
  p.slice(0, reverse_ ? 0 : half, reverse_ ? half : input[0]).fill_(1.0);
  return p;
}

torch::Tensor TabularMask::condition_like(const torch::Tensor& x) const {
  const auto d = x.size(1);
  return (1.0 - transformed({d})).to(x.options().requires_grad(false)).view({1, d});
}

std::pair<torch::Tensor, torch::Tensor> TabularMask::split(const torch::Tensor& x) const {
  const auto b = condition_like(x);
  return {x * b, x * (1.0 - b)};
}

std::pair<torch::Tensor, torch::Tensor> TabularMask::restrict(const torch::Tensor& s, const torch::Tensor& t) const {
  const auto keep = 1.0 - condition_like(s);
  return {s * keep, t * keep};
}

torch::Tensor TabularMask::merge(const torch::Tensor& x_id, const torch::Tensor& y_change) const {
  const auto b = condition_like(x_id);
  return x_id * b + y_change * (1.0 - b);
}

// ---- factory -------------------------------------------------------------------------------

MaskPtr make_mask(const std::string& name, bool reverse) {
  if (name == "checkerboard") return std::make_shared<CheckerboardMask>(reverse);
  if (name == "channel") return std::make_shared<ChannelMask>(reverse);
  if (name == "horizontal") return std::make_shared<HalfMask>(HalfMask::Axis::kHorizontal, reverse);
  if (name == "vertical") return std::make_shared<HalfMask>(HalfMask::Axis::kVertical, reverse);
  if (name == "center") return std::make_shared<CenterMask>(4, reverse);
  if (name == "tabular") return std::make_shared<TabularMask>(reverse);
  throw ConfigError("model.masks", fmt::format("unknown mask '{}' (valid here: checkerboard, channel, horizontal, "
                                               "vertical, center, tabular)",
                                               name));
}

}  // namespace flowood::flows

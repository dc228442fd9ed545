#pragma once
/// NumPy .npy files (format v1.0, little-endian, C order), so scores and latents load with
/// `numpy.load`. Supported element types: float32 ('<f4'), float64 ('<f8'), int64 ('<i8').
/// The header dict is padded with spaces and a final newline so the data starts at a multiple of
/// 64 bytes, exactly as numpy writes it.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace flowood::io {

/// Element type of an .npy array.
enum class NpyDtype { kFloat32, kFloat64, kInt64 };

/// The numpy descr string of a dtype ("<f4", "<f8", "<i8").
const char* npy_descr(NpyDtype dtype);

/// Size in bytes of one element.
std::size_t npy_itemsize(NpyDtype dtype);

/// An array read from an .npy file: raw little-endian bytes in C order plus shape and dtype.
struct NpyArray {
  NpyDtype dtype = NpyDtype::kFloat64;
  /// Dimensions; empty for a 0-d (scalar) array.
  std::vector<std::int64_t> shape;
  /// numel * itemsize bytes.
  std::vector<char> bytes;

  /// Product of the shape (1 for a scalar).
  std::int64_t numel() const;
  /// The elements converted to double, in C order (int64 beyond 2^53 loses precision).
  std::vector<double> to_doubles() const;
  /// A CPU tensor of the file's dtype and shape (a copy).
  torch::Tensor to_tensor() const;
};

/// The complete v1.0 header (magic, version, length, padded dict ending in '\n') for an array of
/// that dtype and shape; its size is a multiple of 64.
std::string npy_header(NpyDtype dtype, const std::vector<std::int64_t>& shape);

/// Writes `values` as an array of `dtype` (converted; int64 rounds toward zero and throws
/// ConfigError on NaN/inf) with `shape` (empty = 1-D of values.size()). ConfigError("shape") when
/// the shape's product differs from values.size(). Atomic; IoError(path) on write failure.
void write_npy(const std::string& path, const std::vector<double>& values,
               NpyDtype dtype = NpyDtype::kFloat64, std::vector<std::int64_t> shape = {});

/// Writes a tensor of any shape (moved to CPU, made contiguous). float32/float64/int64 are written
/// as they are; float16/bfloat16 as float32; bool and integer types as int64; anything else is a
/// ConfigError naming the dtype. Atomic; IoError(path) on write failure.
void write_npy(const std::string& path, const torch::Tensor& tensor);

/// Reads an .npy file (format v1.0–3.0, C order, one of the supported dtypes). IoError(path)
/// naming the problem when the file is not such an array or is truncated.
NpyArray read_npy(const std::string& path);

}  // namespace flowood::io

#pragma once
/// NumPy .npy files, so scores and latents load with `numpy.load`. Written as format v1.0,
/// little-endian, C order, of float32 ('<f4'), float64 ('<f8') or int64 ('<i8'); read in any of
/// the common numeric dtypes (parse_npy).
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

/// An array read from an .npy file.
struct NpyArray {
  /// The numpy dtype as stored: "<f4", "<f8", "<i8", "|u1", "|b1", …
  std::string descr;
  /// Dimensions; empty for a 0-d (scalar) array.
  std::vector<std::int64_t> shape;
  /// The elements, a CPU tensor in C order of the stored type, or a wider one where torch has no
  /// such type (uint16 → int32, uint32 and uint64 → int64).
  torch::Tensor tensor;

  /// Product of the shape (1 for a scalar).
  std::int64_t numel() const { return tensor.numel(); }
  /// The elements converted to double, in C order (integers beyond 2^53 lose precision).
  std::vector<double> to_doubles() const;
  /// The tensor (shared, not a copy).
  torch::Tensor to_tensor() const { return tensor; }
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

/// The whole .npy file of a tensor (header and data), dtypes as write_npy.
std::string npy_bytes(const torch::Tensor& tensor);

/// The one .npy parser: format v1.0–3.0, little-endian, C order; dtypes float16/32/64,
/// (u)int8/16/32/64 and bool. `source` names the bytes in errors (a path, or "ARCHIVE:MEMBER").
/// Throws IoError(source) naming the problem: no magic, truncated header or data, an unsupported
/// dtype or order, a shape whose size differs from the bytes present (checked before allocating).
NpyArray parse_npy(const std::string& bytes, const std::string& source);

/// Reads and parses the .npy file at `path` (IoError naming it).
NpyArray read_npy(const std::string& path);

}  // namespace flowood::io

#include "flowood/io/npy.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "flowood/core/error.hpp"
#include "flowood/io/atomic_file.hpp"

namespace flowood::io {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;

bool host_is_little_endian() {
  const std::uint16_t probe = 1;
  unsigned char first = 0;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

void require_little_endian(const std::string& path) {
  // Every platform flowood targets is little-endian; refuse rather than write wrong bytes.
  if (!host_is_little_endian()) throw IoError(path, ".npy I/O is only implemented on little-endian hosts");
}

std::string shape_tuple(const std::vector<std::int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

std::int64_t product(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (const auto d : shape) n *= d;
  return n;
}

void check_shape(const std::vector<std::int64_t>& shape, const std::string& key) {
  for (const auto d : shape)
    if (d < 0) throw ConfigError(key, "negative dimension in shape " + shape_tuple(shape));
}

void write_payload(const std::string& path, NpyDtype dtype, const std::vector<std::int64_t>& shape,
                   const void* data, std::size_t nbytes) {
  require_little_endian(path);
  const std::string header = npy_header(dtype, shape);
  write_file_atomic(path, [&](std::ostream& out) {
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    if (nbytes) out.write(static_cast<const char*>(data), static_cast<std::streamsize>(nbytes));
  });
}

// Value of `key` in a numpy header dict literal, e.g. 'descr': '<f4' -> "'<f4'".
std::string dict_value(const std::string& dict, const std::string& key, const std::string& path) {
  const std::string quoted = "'" + key + "'";
  auto pos = dict.find(quoted);
  if (pos == std::string::npos) throw IoError(path, "npy header has no " + quoted + " entry: " + dict);
  pos = dict.find(':', pos + quoted.size());
  if (pos == std::string::npos) throw IoError(path, "malformed npy header: " + dict);
  ++pos;
  while (pos < dict.size() && dict[pos] == ' ') ++pos;
  std::size_t end = pos;
  if (pos < dict.size() && dict[pos] == '(') {
    end = dict.find(')', pos);
    if (end == std::string::npos) throw IoError(path, "malformed shape in npy header: " + dict);
    ++end;
  } else if (pos < dict.size() && (dict[pos] == '\'' || dict[pos] == '"')) {
    end = dict.find(dict[pos], pos + 1);
    if (end == std::string::npos) throw IoError(path, "malformed npy header: " + dict);
    ++end;
  } else {
    while (end < dict.size() && dict[end] != ',' && dict[end] != '}') ++end;
  }
  return dict.substr(pos, end - pos);
}

std::vector<std::int64_t> parse_shape(const std::string& tuple, const std::string& path) {
  std::vector<std::int64_t> shape;
  std::string inner = tuple.substr(1, tuple.size() - 2);
  std::size_t start = 0;
  while (start <= inner.size()) {
    const auto comma = inner.find(',', start);
    std::string item = inner.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const auto b = item.find_first_not_of(' ');
    if (b != std::string::npos) {
      item = item.substr(b, item.find_last_not_of(' ') - b + 1);
      if (!item.empty() && item.back() == 'L') item.pop_back();  // Python 2 longs
      std::int64_t dim = 0;
      const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), dim);
      if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos || ec != std::errc{} ||
          end != item.data() + item.size())
        throw IoError(path, "bad dimension '" + item + "' in npy shape " + tuple +
                                (ec == std::errc::result_out_of_range ? " (too large)" : ""));
      shape.push_back(dim);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return shape;
}

template <typename T>
std::vector<char> to_bytes(const std::vector<double>& values) {
  std::vector<char> bytes(values.size() * sizeof(T));
  for (std::size_t i = 0; i < values.size(); ++i) {
    const T v = static_cast<T>(values[i]);
    std::memcpy(bytes.data() + i * sizeof(T), &v, sizeof(T));
  }
  return bytes;
}

/// A stored dtype and how it becomes a tensor (types torch lacks are widened: uint16 → int32,
/// uint32/uint64 → int64, the latter wrapping above 2^63 as numpy's astype would).
struct DtypeInfo {
  const char* descr;
  std::size_t itemsize;
  torch::Tensor (*to_tensor)(const char* data, const std::vector<std::int64_t>& shape);
};

template <typename Stored, typename Wide>
torch::Tensor widen(const char* data, const std::vector<std::int64_t>& shape, torch::ScalarType type) {
  auto t = torch::empty(shape, torch::TensorOptions().dtype(type));
  auto* out = t.data_ptr<Wide>();
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    Stored x;
    std::memcpy(&x, data + i * sizeof(Stored), sizeof(Stored));
    out[i] = static_cast<Wide>(x);
  }
  return t;
}

template <torch::ScalarType Type, std::size_t Size>
torch::Tensor copy_as(const char* data, const std::vector<std::int64_t>& shape) {
  auto t = torch::empty(shape, torch::TensorOptions().dtype(Type));
  if (t.numel() > 0) std::memcpy(t.data_ptr(), data, static_cast<std::size_t>(t.numel()) * Size);
  return t;
}

const DtypeInfo* find_dtype(const std::string& descr) {
  static const DtypeInfo kTypes[] = {
      {"<f2", 2, copy_as<torch::kFloat16, 2>},
      {"<f4", 4, copy_as<torch::kFloat32, 4>},
      {"<f8", 8, copy_as<torch::kFloat64, 8>},
      {"|i1", 1, copy_as<torch::kInt8, 1>},
      {"|u1", 1, copy_as<torch::kUInt8, 1>},
      {"|b1", 1, copy_as<torch::kBool, 1>},
      {"<i2", 2, copy_as<torch::kInt16, 2>},
      {"<i4", 4, copy_as<torch::kInt32, 4>},
      {"<i8", 8, copy_as<torch::kInt64, 8>},
      {"<u2", 2, [](const char* d, const std::vector<std::int64_t>& s) { return widen<std::uint16_t, std::int32_t>(d, s, torch::kInt32); }},
      {"<u4", 4, [](const char* d, const std::vector<std::int64_t>& s) { return widen<std::uint32_t, std::int64_t>(d, s, torch::kInt64); }},
      {"<u8", 8, [](const char* d, const std::vector<std::int64_t>& s) { return widen<std::uint64_t, std::int64_t>(d, s, torch::kInt64); }},
  };
  for (const auto& t : kTypes)
    if (descr == t.descr) return &t;
  return nullptr;
}

}  // namespace

const char* npy_descr(NpyDtype dtype) {
  switch (dtype) {
    case NpyDtype::kFloat32: return "<f4";
    case NpyDtype::kFloat64: return "<f8";
    case NpyDtype::kInt64: return "<i8";
  }
  return "?";
}

std::size_t npy_itemsize(NpyDtype dtype) { return dtype == NpyDtype::kFloat32 ? 4 : 8; }


std::string npy_header(NpyDtype dtype, const std::vector<std::int64_t>& shape) {
  std::string dict = std::string("{'descr': '") + npy_descr(dtype) + "', 'fortran_order': False, 'shape': " +
                     shape_tuple(shape) + ", }";
  // magic(6) + version(2) + header length(2) + dict + padding + '\n' = multiple of 64.
  const std::size_t unpadded = kMagicLen + 2 + 2 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  const auto len = static_cast<std::uint16_t>(dict.size());
  std::string header(kMagic, kMagicLen);
  header += '\x01';
  header += '\x00';
  header += static_cast<char>(len & 0xFF);
  header += static_cast<char>(len >> 8);
  return header + dict;
}

void write_npy(const std::string& path, const std::vector<double>& values, NpyDtype dtype,
               std::vector<std::int64_t> shape) {
  if (shape.empty()) shape = {static_cast<std::int64_t>(values.size())};
  check_shape(shape, "shape");
  if (product(shape) != static_cast<std::int64_t>(values.size()))
    throw ConfigError("shape", "shape " + shape_tuple(shape) + " holds " + std::to_string(product(shape)) +
                                   " elements but " + std::to_string(values.size()) + " values were given for " + path);
  std::vector<char> bytes;
  switch (dtype) {
    case NpyDtype::kFloat32: bytes = to_bytes<float>(values); break;
    case NpyDtype::kFloat64: bytes = to_bytes<double>(values); break;
    case NpyDtype::kInt64:
      for (std::size_t i = 0; i < values.size(); ++i)
        if (!std::isfinite(values[i]) || std::fabs(values[i]) >= 9.2e18)
          throw ConfigError("dtype", "value " + std::to_string(values[i]) + " at index " + std::to_string(i) +
                                         " cannot be stored as int64 in " + path);
      bytes = to_bytes<std::int64_t>(values);
      break;
  }
  write_payload(path, dtype, shape, bytes.data(), bytes.size());
}

namespace {
/// The tensor as the dtype it is written with (CPU, contiguous); `what` names it in errors.
std::pair<torch::Tensor, NpyDtype> npy_ready(const torch::Tensor& tensor, const std::string& what) {
  if (!tensor.defined()) throw ConfigError("tensor", "undefined tensor passed for " + what);
  torch::Tensor t = tensor.detach().to(torch::kCPU);
  NpyDtype dtype;
  switch (t.scalar_type()) {
    case torch::kFloat32: dtype = NpyDtype::kFloat32; break;
    case torch::kFloat64: dtype = NpyDtype::kFloat64; break;
    case torch::kInt64: dtype = NpyDtype::kInt64; break;
    case torch::kFloat16:
    case torch::kBFloat16:
      t = t.to(torch::kFloat32);
      dtype = NpyDtype::kFloat32;
      break;
    case torch::kBool:
    case torch::kUInt8:
    case torch::kInt8:
    case torch::kInt16:
    case torch::kInt32:
      t = t.to(torch::kInt64);
      dtype = NpyDtype::kInt64;
      break;
    default:
      throw ConfigError("tensor", std::string("cannot write dtype ") + c10::toString(t.scalar_type()) +
                                      " to .npy " + what + " (supported: float32, float64, int64)");
  }
  return {t.contiguous(), dtype};
}
}  // namespace

void write_npy(const std::string& path, const torch::Tensor& tensor) {
  const auto [t, dtype] = npy_ready(tensor, path);
  const std::vector<std::int64_t> shape(t.sizes().begin(), t.sizes().end());
  write_payload(path, dtype, shape, t.data_ptr(), static_cast<std::size_t>(t.numel()) * npy_itemsize(dtype));
}

std::string npy_bytes(const torch::Tensor& tensor) {
  const auto [t, dtype] = npy_ready(tensor, "an .npy array");
  const std::vector<std::int64_t> shape(t.sizes().begin(), t.sizes().end());
  auto bytes = npy_header(dtype, shape);
  bytes.append(static_cast<const char*>(t.data_ptr()), static_cast<std::size_t>(t.numel()) * npy_itemsize(dtype));
  return bytes;
}

std::vector<double> NpyArray::to_doubles() const {
  const auto flat = tensor.reshape({-1}).to(torch::kFloat64).contiguous();
  const double* p = flat.data_ptr<double>();
  return std::vector<double>(p, p + flat.numel());
}

NpyArray parse_npy(const std::string& bytes, const std::string& source) {
  require_little_endian(source);
  if (bytes.size() < 10 || bytes.compare(0, kMagicLen, kMagic, kMagicLen) != 0)
    throw IoError(source, "not an .npy array (missing the \\x93NUMPY magic)");
  const auto major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, prefix = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    prefix = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw IoError(source, "truncated .npy header");
    for (int i = 0; i < 4; ++i)
      header_len |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    prefix = 12;
  } else {
    throw IoError(source, "unsupported .npy format version " + std::to_string(major));
  }
  if (bytes.size() < prefix + header_len) throw IoError(source, "truncated .npy header");
  const std::string dict = bytes.substr(prefix, header_len);

  NpyArray array;
  std::string descr = dict_value(dict, "descr", source);
  if (descr.size() >= 2 && (descr.front() == '\'' || descr.front() == '"')) descr = descr.substr(1, descr.size() - 2);
  const auto type = find_dtype(descr);
  if (!type)
    throw IoError(source, "unsupported .npy dtype '" + descr +
                              "' (supported: little-endian float16/32/64, (u)int8/16/32/64, bool)");
  array.descr = descr;
  if (dict_value(dict, "fortran_order", source) != "False")
    throw IoError(source, "Fortran-ordered .npy arrays are not supported (save with C order)");
  const std::string shape = dict_value(dict, "shape", source);
  if (shape.size() < 2 || shape.front() != '(') throw IoError(source, "malformed shape " + shape + " in .npy header");
  array.shape = parse_shape(shape, source);

  // The header's shape must match the bytes really there; checked before anything is allocated
  // (and without overflow, whatever the header claims).
  const std::size_t available = bytes.size() - prefix - header_len;
  // The product of the non-zero dimensions must fit in int64 even when a zero makes the array
  // empty: LibTorch computes it (and fails) when it builds the tensor.
  std::int64_t nonzero = static_cast<std::int64_t>(type->itemsize);
  bool empty = false, overflow = false;
  for (const auto d : array.shape) {
    if (d == 0) empty = true;
    else if (nonzero > std::numeric_limits<std::int64_t>::max() / d) overflow = true;
    else nonzero *= d;
  }
  const auto expected = static_cast<std::size_t>(empty ? 0 : nonzero);
  if (overflow || available != expected)
    throw IoError(source, "data is " + std::to_string(available) + " bytes, shape " + shape + " of '" + descr +
                              "' needs " + (overflow ? std::string("more") : std::to_string(expected)) +
                              (overflow ? " (its size overflows 64 bits)" : available < expected ? " (truncated)" : ""));
  array.tensor = type->to_tensor(bytes.data() + prefix + header_len, array.shape);
  return array;
}

NpyArray read_npy(const std::string& path) { return parse_npy(read_file(path), path); }

}  // namespace flowood::io

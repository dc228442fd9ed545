#include "flowood/io/npy.hpp"

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
      if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos)
        throw IoError(path, "bad dimension '" + item + "' in npy shape " + tuple);
      shape.push_back(std::stoll(item));
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

std::int64_t NpyArray::numel() const { return product(shape); }

std::vector<double> NpyArray::to_doubles() const {
  const auto n = static_cast<std::size_t>(numel());
  std::vector<double> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    switch (dtype) {
      case NpyDtype::kFloat32: {
        float v;
        std::memcpy(&v, bytes.data() + i * 4, 4);
        out[i] = v;
        break;
      }
      case NpyDtype::kFloat64: std::memcpy(&out[i], bytes.data() + i * 8, 8); break;
      case NpyDtype::kInt64: {
        std::int64_t v;
        std::memcpy(&v, bytes.data() + i * 8, 8);
        out[i] = static_cast<double>(v);
        break;
      }
    }
  }
  return out;
}

torch::Tensor NpyArray::to_tensor() const {
  const auto type = dtype == NpyDtype::kFloat32   ? torch::kFloat32
                    : dtype == NpyDtype::kFloat64 ? torch::kFloat64
                                                  : torch::kInt64;
  auto t = torch::empty(shape, torch::TensorOptions().dtype(type));
  if (!bytes.empty()) std::memcpy(t.data_ptr(), bytes.data(), bytes.size());
  return t;
}

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

void write_npy(const std::string& path, const torch::Tensor& tensor) {
  if (!tensor.defined()) throw ConfigError("tensor", "undefined tensor passed for " + path);
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
                                      " to .npy " + path + " (supported: float32, float64, int64)");
  }
  t = t.contiguous();
  const std::vector<std::int64_t> shape(t.sizes().begin(), t.sizes().end());
  write_payload(path, dtype, shape, t.data_ptr(), static_cast<std::size_t>(t.numel()) * npy_itemsize(dtype));
}

NpyArray read_npy(const std::string& path) {
  require_little_endian(path);
  const std::string file = read_file(path);
  if (file.size() < 10 || file.compare(0, kMagicLen, kMagic, kMagicLen) != 0)
    throw IoError(path, "not an .npy file (missing \\x93NUMPY magic)");
  const auto major = static_cast<unsigned char>(file[6]);
  std::size_t header_len = 0, prefix = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(file[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(file[9])) << 8);
    prefix = 10;
  } else if (major == 2 || major == 3) {
    if (file.size() < 12) throw IoError(path, "truncated .npy header");
    for (int i = 0; i < 4; ++i)
      header_len |= static_cast<std::size_t>(static_cast<unsigned char>(file[8 + i])) << (8 * i);
    prefix = 12;
  } else {
    throw IoError(path, "unsupported .npy format version " + std::to_string(major));
  }
  if (file.size() < prefix + header_len) throw IoError(path, "truncated .npy header");
  const std::string dict = file.substr(prefix, header_len);

  NpyArray array;
  const std::string descr = dict_value(dict, "descr", path);
  if (descr == "'<f4'") array.dtype = NpyDtype::kFloat32;
  else if (descr == "'<f8'") array.dtype = NpyDtype::kFloat64;
  else if (descr == "'<i8'") array.dtype = NpyDtype::kInt64;
  else throw IoError(path, "unsupported .npy dtype " + descr + " (supported: '<f4', '<f8', '<i8')");
  if (dict_value(dict, "fortran_order", path) != "False")
    throw IoError(path, "Fortran-ordered .npy arrays are not supported (save with C order)");
  const std::string shape = dict_value(dict, "shape", path);
  if (shape.size() < 2 || shape.front() != '(') throw IoError(path, "malformed shape " + shape + " in .npy header");
  array.shape = parse_shape(shape, path);

  const std::size_t expected = static_cast<std::size_t>(array.numel()) * npy_itemsize(array.dtype);
  const std::size_t available = file.size() - prefix - header_len;
  if (available != expected)
    throw IoError(path, "data is " + std::to_string(available) + " bytes, shape " + shape + " of " + descr +
                            " needs " + std::to_string(expected) + (available < expected ? " (truncated file)" : ""));
  array.bytes.assign(file.begin() + static_cast<std::ptrdiff_t>(prefix + header_len), file.end());
  return array;
}

}  // namespace flowood::io

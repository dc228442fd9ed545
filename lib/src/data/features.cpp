#include "flowood/data/features.hpp"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/io/npy.hpp"

namespace flowood::data {
namespace {

// ---------------------------------------------------------------------------------------------
// Shared

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw DataError(path, std::string("cannot open: ") + std::strerror(errno));
  std::string bytes(static_cast<std::size_t>(in.tellg()), '\0');
  in.seekg(0);
  if (!bytes.empty() && !in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()))) {
    throw DataError(path, "read error");
  }
  return bytes;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

std::string shape_text(const std::vector<int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

/// A whole-string, finite number.
bool parse_number(const std::string& text, double* out) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

bool is_integer_value(double v) { return std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.0e15; }

int64_t kept_rows(int64_t n, int64_t limit) { return limit > 0 ? std::min(n, limit) : n; }

/// Labels from text values: integers stay; anything else becomes its index in sorted order.
torch::Tensor labels_from_text(const std::vector<std::string>& values, std::vector<std::string>* class_names) {
  std::vector<int64_t> out(values.size());
  bool all_int = true;
  for (std::size_t i = 0; i < values.size() && all_int; ++i) {
    double v = 0;
    all_int = parse_number(values[i], &v) && is_integer_value(v);
    if (all_int) out[i] = static_cast<int64_t>(v);
  }
  if (!all_int) {
    const std::set<std::string> unique(values.begin(), values.end());
    class_names->assign(unique.begin(), unique.end());
    for (std::size_t i = 0; i < values.size(); ++i) {
      out[i] = std::lower_bound(class_names->begin(), class_names->end(), values[i]) - class_names->begin();
    }
  }
  return torch::tensor(out, torch::kInt64);
}

// ---------------------------------------------------------------------------------------------
// NPY arrays in memory (members of .npz archives)

struct NpyView {
  std::string descr;
  std::vector<int64_t> shape;
  const char* data = nullptr;
  std::size_t itemsize = 0;
};

std::string header_value(const std::string& dict, const std::string& key) {
  const auto pos = dict.find("'" + key + "'");
  if (pos == std::string::npos) return {};
  auto p = dict.find(':', pos);
  if (p == std::string::npos) return {};
  ++p;
  while (p < dict.size() && dict[p] == ' ') ++p;
  if (p < dict.size() && dict[p] == '(') return dict.substr(p, dict.find(')', p) - p + 1);
  if (p < dict.size() && (dict[p] == '\'' || dict[p] == '"')) {
    const auto end = dict.find(dict[p], p + 1);
    return end == std::string::npos ? std::string() : dict.substr(p + 1, end - p - 1);
  }
  auto end = p;
  while (end < dict.size() && dict[end] != ',' && dict[end] != '}') ++end;
  return trim(dict.substr(p, end - p));
}

NpyView parse_npy(const std::string& bytes, const std::string& name) {
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) {
    throw DataError(name, "not an .npy array (missing the \\x93NUMPY magic)");
  }
  const auto major = static_cast<unsigned char>(bytes[6]);
  std::size_t len = 0, prefix = 10;
  if (major == 1) {
    len = static_cast<unsigned char>(bytes[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw DataError(name, "truncated .npy header");
    for (int i = 0; i < 4; ++i) len |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    prefix = 12;
  } else {
    throw DataError(name, fmt::format("unsupported .npy format version {}", major));
  }
  if (bytes.size() < prefix + len) throw DataError(name, "truncated .npy header");
  const std::string dict = bytes.substr(prefix, len);
  NpyView v;
  v.descr = header_value(dict, "descr");
  if (header_value(dict, "fortran_order") != "False") {
    throw DataError(name, "Fortran-ordered .npy arrays are not supported (save with C order)");
  }
  const std::string shape = header_value(dict, "shape");
  if (v.descr.empty() || shape.size() < 2 || shape.front() != '(') {
    throw DataError(name, "malformed .npy header: " + trim(dict));
  }
  std::string inner = shape.substr(1, shape.size() - 2);
  std::size_t start = 0;
  while (start < inner.size()) {
    auto comma = inner.find(',', start);
    if (comma == std::string::npos) comma = inner.size();
    const std::string item = trim(inner.substr(start, comma - start));
    if (!item.empty()) {
      if (item.find_first_not_of("0123456789") != std::string::npos) {
        throw DataError(name, "bad dimension '" + item + "' in .npy shape " + shape);
      }
      v.shape.push_back(std::stoll(item));
    }
    start = comma + 1;
  }
  static const std::map<std::string, std::size_t> kSizes = {
      {"<f4", 4}, {"<f8", 8}, {"<i8", 8}, {"<i4", 4}, {"<i2", 2}, {"|i1", 1}, {"|u1", 1},
      {"<u2", 2}, {"<u4", 4}, {"<u8", 8}, {"|b1", 1}, {"<f2", 2}};
  const auto it = kSizes.find(v.descr);
  if (it == kSizes.end()) {
    throw DataError(name, fmt::format("unsupported .npy dtype '{}' (supported: little-endian float16/32/64, "
                                      "(u)int8/16/32/64, bool)",
                                      v.descr));
  }
  v.itemsize = it->second;
  std::size_t numel = 1;
  for (auto d : v.shape) numel *= static_cast<std::size_t>(d);
  const std::size_t available = bytes.size() - prefix - len;
  if (available != numel * v.itemsize) {
    throw DataError(name, fmt::format("data is {} bytes, shape {} of '{}' needs {}{}", available, shape, v.descr,
                                      numel * v.itemsize, available < numel * v.itemsize ? " (truncated)" : ""));
  }
  v.data = bytes.data() + prefix + len;
  return v;
}

torch::ScalarType torch_type(const std::string& descr) {
  if (descr == "<f4") return torch::kFloat32;
  if (descr == "<f8") return torch::kFloat64;
  if (descr == "<f2") return torch::kFloat16;
  if (descr == "<i8" || descr == "<u8" || descr == "<u4") return torch::kInt64;  // widened below
  if (descr == "<i4") return torch::kInt32;
  if (descr == "<i2" || descr == "<u2") return torch::kInt32;
  if (descr == "|i1") return torch::kInt8;
  if (descr == "|u1") return torch::kUInt8;
  return torch::kBool;
}

/// A copy of the array as a tensor of its (or a wider) type.
torch::Tensor npy_tensor(const NpyView& v) {
  std::size_t numel = 1;
  for (auto d : v.shape) numel *= static_cast<std::size_t>(d);
  auto copy_as = [&](auto tag, torch::ScalarType type) {
    using T = decltype(tag);
    auto t = torch::empty({static_cast<int64_t>(numel)}, type);
    for (std::size_t i = 0; i < numel; ++i) {
      T x;
      std::memcpy(&x, v.data + i * sizeof(T), sizeof(T));
      if (type == torch::kInt64) t.data_ptr<int64_t>()[i] = static_cast<int64_t>(x);
      else t.data_ptr<int32_t>()[i] = static_cast<int32_t>(x);
    }
    return t.view(v.shape);
  };
  if (v.descr == "<u8") return copy_as(uint64_t{}, torch::kInt64);
  if (v.descr == "<u4") return copy_as(uint32_t{}, torch::kInt64);
  if (v.descr == "<u2") return copy_as(uint16_t{}, torch::kInt32);
  if (v.descr == "<i2") return copy_as(int16_t{}, torch::kInt32);
  auto t = torch::empty(v.shape, torch_type(v.descr));
  if (numel > 0) std::memcpy(t.data_ptr(), v.data, numel * v.itemsize);
  return t;
}

torch::Tensor features_2d(torch::Tensor t, const std::string& name, int64_t limit) {
  if (t.dim() != 2) {
    throw DataError(name, fmt::format("expected a 2-D array [N, D] of features, found shape {}",
                                      shape_text(std::vector<int64_t>(t.sizes().begin(), t.sizes().end()))));
  }
  if (t.scalar_type() == torch::kBool) t = t.to(torch::kUInt8);
  t = t.narrow(0, 0, kept_rows(t.size(0), limit)).to(torch::kFloat32).contiguous();
  if (t.numel() > 0 && !torch::isfinite(t).all().item<bool>()) {
    const auto bad = (~torch::isfinite(t)).nonzero()[0];
    throw DataError(name, fmt::format("non-finite value (NaN or inf) at row {}, column {}", bad[0].item<int64_t>(),
                                      bad[1].item<int64_t>()));
  }
  return t;
}

torch::Tensor labels_1d(torch::Tensor t, const std::string& name, int64_t expected_rows, int64_t limit) {
  if (t.dim() == 2 && t.size(1) == 1) t = t.view({-1});
  if (t.dim() != 1 || t.size(0) != expected_rows) {
    throw DataError(name, fmt::format("expected labels [{}] (one per row), found shape {}", expected_rows,
                                      shape_text(std::vector<int64_t>(t.sizes().begin(), t.sizes().end()))));
  }
  if (t.is_floating_point()) {
    const auto whole = (t == t.floor()).all().item<bool>();
    if (!whole) throw DataError(name, "labels must be whole numbers");
  }
  return t.narrow(0, 0, kept_rows(t.size(0), limit)).to(torch::kInt64).contiguous();
}

// ---------------------------------------------------------------------------------------------
// ZIP (for .npz)

uint32_t u16(const std::string& b, std::size_t at) {
  return static_cast<uint32_t>(static_cast<unsigned char>(b[at])) |
         (static_cast<uint32_t>(static_cast<unsigned char>(b[at + 1])) << 8);
}
uint32_t u32(const std::string& b, std::size_t at) { return u16(b, at) | (u16(b, at + 2) << 16); }
uint64_t u64(const std::string& b, std::size_t at) { return u32(b, at) | (static_cast<uint64_t>(u32(b, at + 4)) << 32); }

struct ZipEntry {
  std::string name;
  uint32_t method = 0;
  uint32_t crc = 0;
  uint64_t compressed = 0;
  uint64_t size = 0;
  uint64_t local_offset = 0;
};

std::vector<ZipEntry> zip_directory(const std::string& b, const std::string& path) {
  if (b.size() < 22) throw DataError(path, "not a zip archive (.npz): file is too short");
  std::size_t eocd = std::string::npos;
  const std::size_t lowest = b.size() > 22 + 65535 ? b.size() - 22 - 65535 : 0;
  for (std::size_t at = b.size() - 22 + 1; at-- > lowest;) {
    if (u32(b, at) == 0x06054b50) {
      eocd = at;
      break;
    }
  }
  if (eocd == std::string::npos) {
    throw DataError(path, "not a zip archive (.npz): no end-of-central-directory record (truncated or another format)");
  }
  uint64_t count = u16(b, eocd + 10);
  uint64_t cd_size = u32(b, eocd + 12);
  uint64_t cd_offset = u32(b, eocd + 16);
  if ((count == 0xFFFF || cd_offset == 0xFFFFFFFF) && eocd >= 20 && u32(b, eocd - 20) == 0x07064b50) {
    const uint64_t z64 = u64(b, eocd - 20 + 8);
    if (z64 + 56 > b.size() || u32(b, static_cast<std::size_t>(z64)) != 0x06064b50) {
      throw DataError(path, "corrupt zip64 end-of-central-directory record");
    }
    count = u64(b, static_cast<std::size_t>(z64) + 32);
    cd_size = u64(b, static_cast<std::size_t>(z64) + 40);
    cd_offset = u64(b, static_cast<std::size_t>(z64) + 48);
  }
  if (cd_offset + cd_size > b.size()) throw DataError(path, "corrupt zip archive: central directory out of range (truncated?)");
  std::vector<ZipEntry> entries;
  std::size_t at = static_cast<std::size_t>(cd_offset);
  for (uint64_t i = 0; i < count; ++i) {
    if (at + 46 > b.size() || u32(b, at) != 0x02014b50) throw DataError(path, "corrupt zip central directory");
    ZipEntry e;
    e.method = u16(b, at + 10);
    e.crc = u32(b, at + 16);
    e.compressed = u32(b, at + 20);
    e.size = u32(b, at + 24);
    const std::size_t name_len = u16(b, at + 28), extra_len = u16(b, at + 30), comment_len = u16(b, at + 32);
    e.local_offset = u32(b, at + 42);
    if (at + 46 + name_len + extra_len > b.size()) throw DataError(path, "corrupt zip central directory");
    e.name = b.substr(at + 46, name_len);
    // Zip64 extra field: the 8-byte values replace those stored as 0xFFFFFFFF, in this order.
    std::size_t x = at + 46 + name_len;
    const std::size_t x_end = x + extra_len;
    while (x + 4 <= x_end) {
      const uint32_t id = u16(b, x), len = u16(b, x + 2);
      if (id == 0x0001) {
        std::size_t p = x + 4;
        if (e.size == 0xFFFFFFFF && p + 8 <= x_end) e.size = u64(b, p), p += 8;
        if (e.compressed == 0xFFFFFFFF && p + 8 <= x_end) e.compressed = u64(b, p), p += 8;
        if (e.local_offset == 0xFFFFFFFF && p + 8 <= x_end) e.local_offset = u64(b, p), p += 8;
      }
      x += 4 + len;
    }
    entries.push_back(std::move(e));
    at += 46 + name_len + extra_len + comment_len;
  }
  return entries;
}

std::string zip_member(const std::string& b, const ZipEntry& e, const std::string& path) {
  const std::string where = path + ":" + e.name;
  const auto lo = static_cast<std::size_t>(e.local_offset);
  if (lo + 30 > b.size() || u32(b, lo) != 0x04034b50) throw DataError(where, "corrupt zip local header");
  const std::size_t data = lo + 30 + u16(b, lo + 26) + u16(b, lo + 28);
  if (data + e.compressed > b.size()) throw DataError(where, "zip member extends past the end of the file (truncated)");
  std::string out;
  if (e.method == 0) {
    out = b.substr(data, static_cast<std::size_t>(e.compressed));
  } else if (e.method == 8) {
    out.resize(static_cast<std::size_t>(e.size));
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) throw DataError(where, "zlib inflateInit failed");
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(b.data() + data));
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    uint64_t in_left = e.compressed, out_left = e.size;
    int rc = Z_OK;
    while (rc == Z_OK) {
      const auto in_step = static_cast<uInt>(std::min<uint64_t>(in_left, 1u << 30));
      const auto out_step = static_cast<uInt>(std::min<uint64_t>(out_left, 1u << 30));
      zs.avail_in = in_step;
      zs.avail_out = out_step;
      rc = inflate(&zs, Z_NO_FLUSH);
      in_left -= in_step - zs.avail_in;
      out_left -= out_step - zs.avail_out;
      if (rc == Z_BUF_ERROR && (in_left == 0 || out_left == 0)) break;
    }
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || out_left != 0) {
      throw DataError(where, fmt::format("corrupt deflate data ({})", zs.msg ? zs.msg : "stream did not end where "
                                                                                       "the directory says"));
    }
  } else {
    throw DataError(where, fmt::format("unsupported zip compression method {} (only stored and deflate)", e.method));
  }
  uLong c = crc32(0L, Z_NULL, 0);
  for (std::size_t off = 0; off < out.size(); off += 1u << 30) {
    const auto n = static_cast<uInt>(std::min<std::size_t>(out.size() - off, 1u << 30));
    c = crc32(c, reinterpret_cast<const Bytef*>(out.data() + off), n);
  }
  if (static_cast<uint32_t>(c) != e.crc) throw DataError(where, "CRC mismatch (corrupt archive)");
  return out;
}

std::string array_name(const std::string& member) {
  return member.size() > 4 && member.compare(member.size() - 4, 4, ".npy") == 0 ? member.substr(0, member.size() - 4)
                                                                                : member;
}

// ---------------------------------------------------------------------------------------------
// Delimited text

std::vector<std::string> split_fields(const std::string& line, char delim) {
  std::vector<std::string> out;
  if (delim == ' ') {
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i >= line.size()) break;
      std::size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
      out.push_back(line.substr(i, j - i));
      i = j;
    }
    return out;
  }
  std::string field;
  bool quoted = false, was_quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"' && trim(field).empty()) {
      quoted = was_quoted = true;
      field.clear();
    } else if (c == delim) {
      out.push_back(was_quoted ? field : trim(field));
      field.clear();
      was_quoted = false;
    } else {
      field += c;
    }
  }
  out.push_back(was_quoted ? field : trim(field));
  return out;
}

struct TextRow {
  int64_t line = 0;
  std::vector<std::string> fields;
};

/// Converts rows of fields to features (all columns but `label`) and labels.
FeatureDataset table_to_features(const std::string& path, const std::vector<TextRow>& rows,
                                 const std::vector<std::string>& names, int label, int64_t limit) {
  const int64_t n = kept_rows(static_cast<int64_t>(rows.size()), limit);
  const auto width = static_cast<int64_t>(rows.empty() ? names.size() : rows.front().fields.size());
  const int64_t d = width - (label >= 0 ? 1 : 0);
  if (d < 1) throw DataError(path, "no feature columns (only the label column)");
  FeatureDataset ds;
  ds.features = torch::empty({n, d}, torch::kFloat32);
  float* out = ds.features.data_ptr<float>();
  std::vector<std::string> label_values;
  for (int64_t i = 0; i < n; ++i) {
    const TextRow& row = rows[static_cast<std::size_t>(i)];
    int64_t k = 0;
    for (int64_t j = 0; j < width; ++j) {
      const std::string& f = row.fields[static_cast<std::size_t>(j)];
      if (j == label) {
        label_values.push_back(f);
        continue;
      }
      double v = 0;
      if (!parse_number(f, &v)) {
        const std::string col = names.empty() ? fmt::format("column {}", j + 1)
                                              : fmt::format("column {} ({})", j + 1, names[static_cast<std::size_t>(j)]);
        throw DataError(path, fmt::format("line {}, {}: expected a number, found \"{}\"{}", row.line, col, f,
                                          f.empty() ? " (missing value)" : ""));
      }
      out[i * d + k++] = static_cast<float>(v);
    }
  }
  if (label >= 0) ds.labels = labels_from_text(label_values, &ds.class_names);
  for (int64_t j = 0; j < static_cast<int64_t>(names.size()); ++j) {
    if (j != label) ds.feature_names.push_back(names[static_cast<std::size_t>(j)]);
  }
  ds.files = {path};
  return ds;
}

// ---------------------------------------------------------------------------------------------
// ARFF

struct ArffAttribute {
  std::string name;
  bool nominal = false;
  std::vector<std::string> values;
};

/// Splits "'a b' {x,y}" style text: the first token (quoted or not) and the rest.
std::pair<std::string, std::string> first_token(const std::string& s) {
  const std::string t = trim(s);
  if (t.empty()) return {};
  if (t[0] == '\'' || t[0] == '"') {
    const auto end = t.find(t[0], 1);
    if (end == std::string::npos) return {t.substr(1), {}};
    return {t.substr(1, end - 1), trim(t.substr(end + 1))};
  }
  const auto end = t.find_first_of(" \t{");
  if (end == std::string::npos) return {t, {}};
  return {t.substr(0, end), trim(t.substr(end))};
}

std::string unquote(const std::string& s) {
  const std::string t = trim(s);
  if (t.size() >= 2 && (t.front() == '\'' || t.front() == '"') && t.back() == t.front()) return t.substr(1, t.size() - 2);
  return t;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

torch::Tensor read_npy_features(const std::string& path, int64_t limit) {
  io::NpyArray array;
  try {
    array = io::read_npy(path);
  } catch (const IoError& e) {
    throw DataError(path, e.what() + (e.path().empty() ? 0 : e.path().size() + 2));
  }
  return features_2d(array.to_tensor(), path, limit);
}

torch::Tensor read_npy_labels(const std::string& path, int64_t limit) {
  io::NpyArray array;
  try {
    array = io::read_npy(path);
  } catch (const IoError& e) {
    throw DataError(path, e.what() + (e.path().empty() ? 0 : e.path().size() + 2));
  }
  const auto t = array.to_tensor();
  return labels_1d(t, path, t.dim() >= 1 ? t.size(0) : -1, limit);
}

std::vector<std::string> npz_array_names(const std::string& path) {
  const std::string bytes = read_whole_file(path);
  std::vector<std::string> names;
  for (const auto& e : zip_directory(bytes, path)) names.push_back(array_name(e.name));
  return names;
}

FeatureDataset read_npz_features(const std::string& path, const std::string& array, const std::string& labels_array,
                                 int64_t limit) {
  const std::string bytes = read_whole_file(path);
  const auto entries = zip_directory(bytes, path);
  std::vector<std::string> names;
  for (const auto& e : entries) names.push_back(array_name(e.name));
  auto find = [&](const std::string& name) -> const ZipEntry* {
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (names[i] == name) return &entries[i];
    }
    return nullptr;
  };
  const std::string have = names.empty() ? "no arrays" : fmt::format("arrays {}", fmt::join(names, ", "));
  std::string feature_name = array;
  if (feature_name.empty()) {
    std::vector<std::string> candidates;
    for (const auto& n : names) {
      if (n != "labels" && n != "y") candidates.push_back(n);
    }
    if (candidates.size() != 1) {
      throw DataError(path, fmt::format("{}; say which holds the features: npz:{}#NAME", have, path));
    }
    feature_name = candidates.front();
  }
  const ZipEntry* fe = find(feature_name);
  if (fe == nullptr) throw DataError(path, fmt::format("no array \"{}\"; the archive has {}", feature_name, have));
  const std::string fbytes = zip_member(bytes, *fe, path);
  FeatureDataset ds;
  const std::string fname = path + ":" + fe->name;
  const auto full = npy_tensor(parse_npy(fbytes, fname));
  ds.features = features_2d(full, fname, limit);
  std::string label_name = labels_array;
  if (label_name.empty()) label_name = find("labels") ? "labels" : find("y") ? "y" : "";
  if (!label_name.empty()) {
    const ZipEntry* le = find(label_name);
    if (le == nullptr) throw DataError(path, fmt::format("no labels array \"{}\"; the archive has {}", label_name, have));
    const std::string lname = path + ":" + le->name;
    ds.labels = labels_1d(npy_tensor(parse_npy(zip_member(bytes, *le, path), lname)), lname, full.size(0), limit);
  }
  ds.files = {path};
  return ds;
}

FeatureDataset read_csv_features(const std::string& path, const CsvOptions& options, int64_t limit) {
  std::ifstream in(path);
  if (!in) throw DataError(path, std::string("cannot open: ") + std::strerror(errno));
  std::vector<TextRow> rows;
  std::string line;
  int64_t number = 0;
  char delim = options.delimiter;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (delim == 0) {
      delim = t.find(',') != std::string::npos   ? ','
              : t.find(';') != std::string::npos ? ';'
              : t.find('\t') != std::string::npos ? '\t'
                                                  : ' ';
    }
    rows.push_back({number, split_fields(line, delim)});
  }
  if (rows.empty()) throw DataError(path, "no rows (empty file)");
  bool header = options.header == 1;
  if (options.header < 0) {
    // A header row has text where the next row has numbers.
    const auto& r0 = rows[0].fields;
    double v = 0;
    if (rows.size() == 1) {
      header = std::none_of(r0.begin(), r0.end(), [&](const std::string& f) { return parse_number(f, &v); });
    } else {
      const auto& r1 = rows[1].fields;
      for (std::size_t j = 0; j < std::min(r0.size(), r1.size()) && !header; ++j) {
        header = !parse_number(r0[j], &v) && parse_number(r1[j], &v);
      }
    }
  }
  std::vector<std::string> names;
  if (header) {
    names = rows.front().fields;
    rows.erase(rows.begin());
    if (rows.empty()) throw DataError(path, "only a header line, no data rows");
  }
  const std::size_t width = header ? names.size() : rows.front().fields.size();
  for (const auto& r : rows) {
    if (r.fields.size() != width) {
      throw DataError(path, fmt::format("line {}: {} fields, expected {} (as on line {}); ragged table", r.line,
                                        r.fields.size(), width, header ? rows.front().line - 1 : rows.front().line));
    }
  }
  int label = -1;
  if (!options.label_column.empty()) {
    const std::string& c = options.label_column;
    double v = 0;
    if (c == "first") {
      label = 0;
    } else if (c == "last") {
      label = static_cast<int>(width) - 1;
    } else if (const auto it = std::find(names.begin(), names.end(), c); it != names.end()) {
      label = static_cast<int>(it - names.begin());
    } else if (parse_number(c, &v) && is_integer_value(v) && v >= 0 && v < static_cast<double>(width)) {
      label = static_cast<int>(v);
    } else {
      throw DataError(path, fmt::format("no label column \"{}\" (give a header name{}, a 0-based index below {}, "
                                        "first or last)",
                                        c, names.empty() ? "" : fmt::format(" among {}", fmt::join(names, ", ")),
                                        width));
    }
  }
  return table_to_features(path, rows, names, label, limit);
}

FeatureDataset read_arff_features(const std::string& path, const std::string& label_attribute, int64_t limit) {
  std::ifstream in(path);
  if (!in) throw DataError(path, std::string("cannot open: ") + std::strerror(errno));
  std::vector<ArffAttribute> attributes;
  std::vector<TextRow> rows;
  bool in_data = false;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string t = trim(line);
    if (t.empty() || t[0] == '%') continue;
    if (!in_data) {
      if (t[0] != '@') throw DataError(path, fmt::format("line {}: expected @relation, @attribute or @data, got \"{}\"", number, t));
      const auto [keyword, rest] = first_token(t);
      const std::string k = lower(keyword);
      if (k == "@relation") continue;
      if (k == "@data") {
        in_data = true;
        continue;
      }
      if (k != "@attribute") throw DataError(path, fmt::format("line {}: unknown declaration {}", number, keyword));
      const auto [name, type] = first_token(rest);
      ArffAttribute a;
      a.name = name;
      if (!type.empty() && type[0] == '{') {
        const auto close = type.rfind('}');
        if (close == std::string::npos) throw DataError(path, fmt::format("line {}: unterminated nominal list", number));
        a.nominal = true;
        for (const auto& v : split_fields(type.substr(1, close - 1), ',')) a.values.push_back(unquote(v));
      } else {
        const std::string ty = lower(trim(type));
        if (ty != "numeric" && ty != "real" && ty != "integer") {
          throw DataError(path, fmt::format("line {}: attribute {} has type {}; only numeric, real, integer and "
                                            "nominal {{…}} attributes are supported",
                                            number, name, type.empty() ? "(none)" : type));
        }
      }
      attributes.push_back(std::move(a));
      continue;
    }
    if (t[0] == '{') throw DataError(path, fmt::format("line {}: sparse ARFF rows are not supported", number));
    TextRow row{number, split_fields(t, ',')};
    for (auto& f : row.fields) f = unquote(f);
    rows.push_back(std::move(row));
  }
  if (!in_data) throw DataError(path, "no @data section (not an ARFF file?)");
  if (attributes.empty()) throw DataError(path, "no @attribute declarations");
  if (rows.empty()) throw DataError(path, "no data rows after @data");

  int label = -1;
  if (label_attribute.empty()) {
    if (attributes.back().nominal) label = static_cast<int>(attributes.size()) - 1;
  } else if (label_attribute != "none") {
    for (std::size_t j = 0; j < attributes.size(); ++j) {
      if (attributes[j].name == label_attribute) label = static_cast<int>(j);
    }
    if (label < 0) {
      std::vector<std::string> names;
      for (const auto& a : attributes) names.push_back(a.name);
      throw DataError(path, fmt::format("no attribute \"{}\" for the labels; attributes: {}", label_attribute,
                                        fmt::join(names, ", ")));
    }
  }
  const std::size_t width = attributes.size();
  const int64_t n = kept_rows(static_cast<int64_t>(rows.size()), limit);
  const int64_t d = static_cast<int64_t>(width) - (label >= 0 ? 1 : 0);
  if (d < 1) throw DataError(path, "no feature attributes (only the label)");
  FeatureDataset ds;
  ds.features = torch::empty({n, d}, torch::kFloat32);
  std::vector<int64_t> labels;
  float* out = ds.features.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    const TextRow& row = rows[static_cast<std::size_t>(i)];
    if (row.fields.size() != width) {
      throw DataError(path, fmt::format("line {}: {} values, expected {} (one per @attribute)", row.line,
                                        row.fields.size(), width));
    }
    int64_t k = 0;
    for (std::size_t j = 0; j < width; ++j) {
      const std::string& f = row.fields[j];
      const ArffAttribute& a = attributes[j];
      if (f == "?") throw DataError(path, fmt::format("line {}: missing value ('?') for attribute {}", row.line, a.name));
      double v = 0;
      if (a.nominal) {
        const auto it = std::find(a.values.begin(), a.values.end(), f);
        if (it == a.values.end()) {
          throw DataError(path, fmt::format("line {}: \"{}\" is not a value of nominal attribute {} ({{{}}})", row.line,
                                            f, a.name, fmt::join(a.values, ",")));
        }
        v = static_cast<double>(it - a.values.begin());
      } else if (!parse_number(f, &v)) {
        throw DataError(path, fmt::format("line {}: attribute {}: expected a number, found \"{}\"", row.line, a.name, f));
      }
      if (static_cast<int>(j) == label) {
        if (!a.nominal && !is_integer_value(v)) {
          throw DataError(path, fmt::format("line {}: label attribute {} has non-integer value {}", row.line, a.name, f));
        }
        labels.push_back(static_cast<int64_t>(v));
      } else {
        out[i * d + k++] = static_cast<float>(v);
      }
    }
  }
  for (std::size_t j = 0; j < width; ++j) {
    if (static_cast<int>(j) != label) ds.feature_names.push_back(attributes[j].name);
  }
  if (label >= 0) {
    ds.labels = torch::tensor(labels, torch::kInt64);
    if (attributes[static_cast<std::size_t>(label)].nominal) ds.class_names = attributes[static_cast<std::size_t>(label)].values;
  }
  ds.files = {path};
  return ds;
}

}  // namespace flowood::data

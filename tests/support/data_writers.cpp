#include "data_writers.hpp"

#include <matio.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "flowood/core/error.hpp"
#include "flowood/data/idx.hpp"

namespace flowood::data {
namespace {

constexpr std::size_t kBlock = 512;                    // ustar block
constexpr std::size_t kChunk = std::size_t{1} << 20;   // gzwrite chunk

std::uint64_t padded(std::uint64_t size) { return (size + kBlock - 1) / kBlock * kBlock; }

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void append_u32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

void write_bytes(const std::string& path, const std::string& header, const torch::Tensor& data) {
  const auto contiguous = data.contiguous();
  const auto* payload = contiguous.data_ptr<std::uint8_t>();
  const auto payload_size = static_cast<std::size_t>(contiguous.numel());
  if (ends_with(path, ".gz")) {
    gzFile gz = gzopen(path.c_str(), "wb");
    if (gz == nullptr) throw IoError(path, std::string("cannot open for writing: ") + std::strerror(errno));
    bool ok = gzwrite(gz, header.data(), static_cast<unsigned>(header.size())) == static_cast<int>(header.size());
    for (std::size_t off = 0; ok && off < payload_size; off += kChunk) {
      const auto n = static_cast<unsigned>(std::min(kChunk, payload_size - off));
      ok = gzwrite(gz, payload + off, n) == static_cast<int>(n);
    }
    if (gzclose(gz) != Z_OK || !ok) throw IoError(path, "gzip write failed");
    return;
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!file) throw IoError(path, std::string("cannot open for writing: ") + std::strerror(errno));
  bool ok = std::fwrite(header.data(), 1, header.size(), file.get()) == header.size();
  ok = ok && std::fwrite(payload, 1, payload_size, file.get()) == payload_size;
  if (!ok || std::fflush(file.get()) != 0) throw IoError(path, std::string("write failed: ") + std::strerror(errno));
}

struct MatCloser {
  void operator()(mat_t* m) const { Mat_Close(m); }
};
struct VarFreer {
  void operator()(matvar_t* v) const { Mat_VarFree(v); }
};
using MatPtr = std::unique_ptr<mat_t, MatCloser>;
using VarPtr = std::unique_ptr<matvar_t, VarFreer>;

}  // namespace

void write_cifar10_bin(const std::string& out, const torch::Tensor& images, const torch::Tensor& labels) {
  if (!images.defined() || images.scalar_type() != torch::kUInt8 || images.dim() != 4 || images.size(1) != 3 ||
      images.size(2) != 32 || images.size(3) != 32 || !labels.defined() || labels.dim() != 1 ||
      labels.size(0) != images.size(0)) {
    throw IoError(out, "write_cifar10_bin needs images [N, 3, 32, 32] uint8 and labels [N]");
  }
  const auto rec = torch::cat({labels.to(torch::kUInt8).view({-1, 1}), images.reshape({images.size(0), -1})}, 1).contiguous();
  std::ofstream f(out, std::ios::binary);
  f.write(reinterpret_cast<const char*>(rec.data_ptr<std::uint8_t>()), rec.numel());
  if (!f) throw IoError(out, "write failed");
}

void write_tar(const std::string& path, const std::vector<ArchiveMember>& members) {
  std::string out;
  for (const auto& m : members) {
    std::uint8_t h[kBlock] = {};
    std::string name = m.name, prefix;
    if (name.size() > 100) {
      const auto slash = name.rfind('/', name.size() - 1);
      if (slash == std::string::npos || slash > 155 || name.size() - slash - 1 > 100) {
        throw IoError(path, "tar member name too long for ustar: " + m.name);
      }
      prefix = name.substr(0, slash);
      name = name.substr(slash + 1);
    }
    std::memcpy(h, name.data(), name.size());
    std::snprintf(reinterpret_cast<char*>(h + 100), 8, "%07o", 0644);
    std::snprintf(reinterpret_cast<char*>(h + 108), 8, "%07o", 0);
    std::snprintf(reinterpret_cast<char*>(h + 116), 8, "%07o", 0);
    std::snprintf(reinterpret_cast<char*>(h + 124), 12, "%011llo", static_cast<unsigned long long>(m.bytes.size()));
    std::snprintf(reinterpret_cast<char*>(h + 136), 12, "%011o", 0);
    h[156] = '0';
    std::memcpy(h + 257, "ustar", 6);
    std::memcpy(h + 263, "00", 2);
    std::memcpy(h + 345, prefix.data(), prefix.size());
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (std::size_t i = 0; i < kBlock; ++i) sum += h[i];
    std::snprintf(reinterpret_cast<char*>(h + 148), 8, "%06o", sum);
    h[155] = ' ';
    out.append(reinterpret_cast<const char*>(h), kBlock);
    out.append(reinterpret_cast<const char*>(m.bytes.data()), m.bytes.size());
    out.append(padded(m.bytes.size()) - m.bytes.size(), '\0');
  }
  out.append(2 * kBlock, '\0');
  const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  if (gz) {
    gzFile f = gzopen(path.c_str(), "wb");
    if (f == nullptr) throw IoError(path, std::string("cannot open for writing: ") + std::strerror(errno));
    const bool ok = out.empty() || gzwrite(f, out.data(), static_cast<unsigned>(out.size())) == static_cast<int>(out.size());
    if (gzclose(f) != Z_OK || !ok) throw IoError(path, "gzip write failed");
    return;
  }
  std::ofstream file(path, std::ios::binary);
  file.write(out.data(), static_cast<std::streamsize>(out.size()));
  if (!file) throw IoError(path, "write failed");
}

void write_image(const std::string& path, const torch::Tensor& image, int jpeg_quality) {
  if (!image.defined() || image.dim() != 3 || image.scalar_type() != torch::kUInt8 ||
      (image.size(0) != 1 && image.size(0) != 3)) {
    throw IoError(path, "write_image needs uint8 [C, H, W] with C = 1 or 3");
  }
  const auto hwc = image.permute({1, 2, 0}).contiguous();
  cv::Mat img(static_cast<int>(image.size(1)), static_cast<int>(image.size(2)),
              image.size(0) == 1 ? CV_8UC1 : CV_8UC3, hwc.data_ptr<std::uint8_t>());
  cv::Mat bgr;
  if (image.size(0) == 3) {
    cv::cvtColor(img, bgr, cv::COLOR_RGB2BGR);
  } else {
    bgr = img;
  }
  std::vector<int> params;
  const std::string l = lower(path);
  if (l.size() > 4 && (l.substr(l.size() - 4) == ".jpg" || l.substr(l.size() - 5) == ".jpeg")) {
    params = {cv::IMWRITE_JPEG_QUALITY, jpeg_quality};
  }
  bool ok = false;
  try {
    ok = cv::imwrite(path, bgr, params);
  } catch (const cv::Exception& e) {
    throw IoError(path, std::string("cannot write image: ") + e.what());
  }
  if (!ok) throw IoError(path, "cannot write image (unknown extension or unwritable directory)");
}

void write_mat_file(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& variables) {
  MatPtr mat(Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5));
  if (!mat) throw IoError(path, "cannot create MAT file");
  for (const auto& [name, tensor] : variables) {
    const bool u8 = tensor.scalar_type() == torch::kUInt8;
    if (!u8 && tensor.scalar_type() != torch::kFloat64) throw IoError(path, "write_mat_file: uint8 or float64 tensors only");
    std::vector<std::size_t> dims(tensor.sizes().begin(), tensor.sizes().end());
    if (dims.size() == 1) dims.push_back(1);
    // Column-major: reverse the dimension order, then make contiguous.
    std::vector<int64_t> perm;
    for (int64_t d = tensor.dim() - 1; d >= 0; --d) perm.push_back(d);
    const auto col = tensor.permute(perm).contiguous();
    VarPtr v(Mat_VarCreate(name.c_str(), u8 ? MAT_C_UINT8 : MAT_C_DOUBLE, u8 ? MAT_T_UINT8 : MAT_T_DOUBLE,
                           static_cast<int>(dims.size()), dims.data(), col.data_ptr(), MAT_F_DONT_COPY_DATA));
    if (!v || Mat_VarWrite(mat.get(), v.get(), MAT_COMPRESSION_ZLIB) != 0) {
      throw IoError(path, "cannot write variable " + name);
    }
  }
}

void write_svhn_mat(const std::string& path, const torch::Tensor& images, const torch::Tensor& labels) {
  // [N, 3, H, W] -> [H, W, 3, N]
  const auto x = images.permute({2, 3, 1, 0}).contiguous();
  auto y = labels.to(torch::kFloat64).clone();
  y.masked_fill_(y == 0, 10.0);
  write_mat_file(path, {{"X", x}, {"y", y.view({-1, 1})}});
}

void write_idx_images(const std::string& path, const torch::Tensor& images) {
  if (!images.defined() || images.scalar_type() != torch::kUInt8 ||
      !(images.dim() == 3 || (images.dim() == 4 && images.size(1) == 1))) {
    throw IoError(path, "write_idx_images needs uint8 images [N, 1, H, W] or [N, H, W]");
  }
  const auto flat = images.dim() == 4 ? images.squeeze(1) : images;
  std::string header;
  append_u32(header, kIdxImagesMagic);
  for (int d = 0; d < 3; ++d) append_u32(header, static_cast<std::uint32_t>(flat.size(d)));
  write_bytes(path, header, flat.cpu());
}

void write_idx_labels(const std::string& path, const torch::Tensor& labels) {
  if (!labels.defined() || labels.dim() != 1) throw IoError(path, "write_idx_labels needs labels [N]");
  if (labels.numel() > 0 && (labels.min().item<int64_t>() < 0 || labels.max().item<int64_t>() > 255)) {
    throw IoError(path, "IDX labels must be in 0..255");
  }
  std::string header;
  append_u32(header, kIdxLabelsMagic);
  append_u32(header, static_cast<std::uint32_t>(labels.size(0)));
  write_bytes(path, header, labels.cpu().to(torch::kUInt8));
}

}  // namespace flowood::data

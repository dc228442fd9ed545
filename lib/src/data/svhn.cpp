#include "flowood/data/svhn.hpp"

#include <matio.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "loader_util.hpp"

namespace flowood::data {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSvhnHowToGet =
    "flowood data fetch svhn (downloads http://ufldl.stanford.edu/housenumbers/{train,test}_32x32.mat), or put "
    "train_32x32.mat / test_32x32.mat in ROOT/svhn/";

// matio reports problems through a log callback (by default on stderr); route them to our debug log
// and keep the last message, so errors can say what matio saw.
thread_local std::string g_last_matio_message;
void matio_log(int level, char* message) {
  g_last_matio_message = message ? message : "";
  log().debug("libmatio ({}): {}", level, g_last_matio_message);
}
void init_matio_logging() {
  static std::once_flag once;
  std::call_once(once, [] { Mat_LogInitFunc("flowood", matio_log); });
}

struct MatCloser {
  void operator()(mat_t* m) const { Mat_Close(m); }
};
struct VarFreer {
  void operator()(matvar_t* v) const { Mat_VarFree(v); }
};
using MatPtr = std::unique_ptr<mat_t, MatCloser>;
using VarPtr = std::unique_ptr<matvar_t, VarFreer>;

std::vector<std::string> variable_names(mat_t* mat) {
  std::vector<std::string> names;
  Mat_Rewind(mat);
  while (matvar_t* v = Mat_VarReadNextInfo(mat)) {
    names.push_back(v->name ? v->name : "?");
    Mat_VarFree(v);
  }
  Mat_Rewind(mat);
  return names;
}

std::string dims_string(const matvar_t* v) {
  std::vector<std::string> d;
  for (int i = 0; i < v->rank; ++i) d.push_back(std::to_string(v->dims[i]));
  return fmt::format("[{}]", fmt::join(d, ","));
}

const char* class_name(matio_classes c) {
  switch (c) {
    case MAT_C_UINT8: return "uint8";
    case MAT_C_INT8: return "int8";
    case MAT_C_UINT16: return "uint16";
    case MAT_C_INT16: return "int16";
    case MAT_C_UINT32: return "uint32";
    case MAT_C_INT32: return "int32";
    case MAT_C_UINT64: return "uint64";
    case MAT_C_INT64: return "int64";
    case MAT_C_SINGLE: return "single";
    case MAT_C_DOUBLE: return "double";
    case MAT_C_STRUCT: return "struct";
    case MAT_C_CELL: return "cell";
    case MAT_C_CHAR: return "char";
    default: return "other";
  }
}

VarPtr read_var(mat_t* mat, const std::string& path, const char* name, const char* expected) {
  VarPtr v(Mat_VarRead(mat, name));
  if (!v) {
    const auto names = variable_names(mat);
    throw DataError(path, fmt::format("no variable '{}' (expected {}); the file has: {}", name, expected,
                                      names.empty() ? std::string("no readable variables") : fmt::format("{}", fmt::join(names, ", "))));
  }
  if (v->data == nullptr && Mat_VarGetSize(v.get()) > 0) {
    throw DataError(path, fmt::format("cannot read the data of variable '{}' (truncated or corrupt file?{})", name,
                                      g_last_matio_message.empty() ? "" : " libmatio: " + g_last_matio_message));
  }
  return v;
}

template <typename T>
double element(const void* data, std::size_t i) {
  T v;
  std::memcpy(&v, static_cast<const char*>(data) + i * sizeof(T), sizeof(T));
  return static_cast<double>(v);
}

double numeric_at(const matvar_t* v, std::size_t i) {
  switch (v->class_type) {
    case MAT_C_UINT8: return element<std::uint8_t>(v->data, i);
    case MAT_C_INT8: return element<std::int8_t>(v->data, i);
    case MAT_C_UINT16: return element<std::uint16_t>(v->data, i);
    case MAT_C_INT16: return element<std::int16_t>(v->data, i);
    case MAT_C_UINT32: return element<std::uint32_t>(v->data, i);
    case MAT_C_INT32: return element<std::int32_t>(v->data, i);
    case MAT_C_UINT64: return element<std::uint64_t>(v->data, i);
    case MAT_C_INT64: return element<std::int64_t>(v->data, i);
    case MAT_C_SINGLE: return element<float>(v->data, i);
    case MAT_C_DOUBLE: return element<double>(v->data, i);
    default: return -1;
  }
}

std::optional<std::string> find_file(const DatasetSpec& spec, const DataRoots& roots, std::vector<std::string>* searched) {
  const std::string file = spec.split + "_32x32.mat";
  for (const auto& root : roots.dirs) {
    for (const char* sub : {"svhn", "SVHN"}) {
      const fs::path p = fs::path(root) / sub / file;
      searched->push_back(p.string());
      if (detail::is_file(p)) return p.string();
    }
  }
  return std::nullopt;
}

ImageDataset load_svhn(const DatasetSpec& spec, const DataRoots& roots, int64_t limit) {
  std::vector<std::string> searched;
  const auto file = find_file(spec, roots, &searched);
  if (!file) {
    throw DataError(spec.to_string(), fmt::format("dataset not found: tried {} ({}). To get it: {}",
                                                  fmt::join(searched, ", "), detail::roots_note(), kSvhnHowToGet));
  }
  return read_svhn_mat(*file, limit);
}

DatasetLocation locate_svhn(const DatasetSpec& spec, const DataRoots& roots) {
  DatasetLocation loc;
  if (const auto file = find_file(spec, roots, &loc.searched)) {
    loc.found = true;
    loc.where = *file;
    loc.layout = "MATLAB .mat";
  }
  return loc;
}

}  // namespace

ImageDataset read_svhn_mat(const std::string& path, int64_t limit) {
  init_matio_logging();
  if (!detail::is_file(path)) throw DataError(path, "no such file");
  g_last_matio_message.clear();
  MatPtr mat(Mat_Open(path.c_str(), MAT_ACC_RDONLY));
  if (!mat) {
    throw DataError(path, fmt::format("not a MATLAB .mat file libmatio can read{}",
                                      g_last_matio_message.empty() ? "" : " (" + g_last_matio_message + ")"));
  }
  const VarPtr x = read_var(mat.get(), path, "X", "X [32,32,3,N] uint8 and y [N,1]");
  if (x->class_type != MAT_C_UINT8 || x->rank != 4 || x->dims[2] != 3) {
    throw DataError(path, fmt::format("variable 'X' is {} {}, expected uint8 [H,W,3,N] (SVHN: [32,32,3,N])",
                                      class_name(x->class_type), dims_string(x.get())));
  }
  const auto h = static_cast<int64_t>(x->dims[0]), w = static_cast<int64_t>(x->dims[1]);
  const auto n = static_cast<int64_t>(x->dims[3]);
  const VarPtr y = read_var(mat.get(), path, "y", "y [N,1] labels 1..10");
  std::size_t ny = y->rank >= 1 ? 1 : 0;
  for (int i = 0; i < y->rank; ++i) ny *= y->dims[i];
  if (y->class_type == MAT_C_STRUCT || y->class_type == MAT_C_CELL || y->class_type == MAT_C_CHAR ||
      y->class_type == MAT_C_SPARSE || static_cast<int64_t>(ny) != n) {
    throw DataError(path, fmt::format("variable 'y' is {} {}, expected {} numeric labels (one per image of X)",
                                      class_name(y->class_type), dims_string(y.get()), n));
  }
  const int64_t keep = limit > 0 ? std::min(limit, n) : n;
  auto labels = torch::empty({keep}, torch::kInt64);
  auto* lab = labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < keep; ++i) {
    const double v = numeric_at(y.get(), static_cast<std::size_t>(i));
    if (!(v >= 1 && v <= 10) || v != static_cast<double>(static_cast<int64_t>(v))) {
      throw DataError(path, fmt::format("label y({}) = {}, expected 1..10 (10 is the digit 0)", i + 1, v));
    }
    lab[i] = static_cast<int64_t>(v) % 10;
  }
  // MATLAB is column-major: X(r, c, ch, i) is at r + H*c + H*W*ch + H*W*3*i, i.e. a C array [N][3][W][H].
  const auto raw = torch::from_blob(x->data, {n, 3, w, h}, torch::kUInt8);
  ImageDataset ds;
  ds.images = raw.narrow(0, 0, keep).transpose(2, 3).clone(torch::MemoryFormat::Contiguous);  // owns its memory
  ds.labels = labels;
  ds.files = {path};
  return ds;
}

DatasetKind svhn_kind() {
  DatasetKind kind;
  kind.name = "svhn";
  kind.summary = "SVHN cropped digits, 3x32x32 colour, train 73257 / test 26032 (the official .mat files)";
  kind.splits = {"train", "test"};
  kind.default_split = "test";
  kind.how_to_get = kSvhnHowToGet;
  kind.load = load_svhn;
  kind.locate = locate_svhn;
  return kind;
}

}  // namespace flowood::data

#include "flowood/core/blas.hpp"

#include <fstream>
#include <vector>

namespace flowood {
namespace {
bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

std::string file_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}
}  // namespace

std::string classify_blas_path(const std::string& path) {
  const auto name = file_name(path);
  if (contains(path, "openblas")) return "openblas";
  if (contains(path, "blis")) return "blis";
  if (contains(name, "mkl")) return "mkl";
  if (contains(path, "atlas")) return "atlas";
  // Debian/Ubuntu install the netlib reference implementation as <libdir>/blas/libblas.so.3.
  if (contains(path, "/blas/libblas.so")) return "reference";
  return "unknown";
}

BlasInfo detect_blas() {
  BlasInfo info;
  std::ifstream maps("/proc/self/maps");
  if (!maps) return info;
  std::string line, blas_path, vendor_path;
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    const std::string name = file_name(path);
    if (name.rfind("libblas.so", 0) == 0 && blas_path.empty()) blas_path = path;
    if (vendor_path.empty() && (name.rfind("libopenblas", 0) == 0 || name.rfind("libblis", 0) == 0 ||
                                name.rfind("libmkl_rt", 0) == 0 || name.rfind("libmkl_core", 0) == 0))
      vendor_path = path;
  }
  // The resolved libblas.so.3 names its implementation (alternatives put each in its own
  // directory); an optimised library mapped beside it (OpenBLAS's libblas.so.3 pulls in
  // libopenblas.so.0) settles an unrecognised path.
  if (!blas_path.empty()) {
    info.path = blas_path;
    info.name = classify_blas_path(blas_path);
    if (info.name == "unknown" && !vendor_path.empty()) info.name = classify_blas_path(vendor_path);
  } else if (!vendor_path.empty()) {
    info.path = vendor_path;
    info.name = classify_blas_path(vendor_path);
  }
  return info;
}

std::string blas_warning(const BlasInfo& info) {
  if (!info.is_reference()) return "";
  return "the slow reference BLAS is in use (" + info.path +
         "): Linear layers and matmuls run ~35× slower than with OpenBLAS; install it with "
         "`apt-get install libopenblas0-openmp` (scripts/setup.sh does) or select it with "
         "`update-alternatives --config libblas.so.3-x86_64-linux-gnu`";
}

}  // namespace flowood

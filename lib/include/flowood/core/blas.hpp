#pragma once
/// Which BLAS library the process uses. Debian's LibTorch links the generic libblas.so.3, which
/// the alternatives system points at the slow reference BLAS unless OpenBLAS (or BLIS, MKL, …)
/// is installed and selected; Linear layers and matmuls are then ~35× slower.
#include <string>

namespace flowood {

struct BlasInfo {
  /// "openblas", "blis", "mkl", "atlas", "reference", or "unknown" (no libblas mapped).
  std::string name = "unknown";
  /// The file libblas.so.3 resolves to in this process (empty when none is mapped).
  std::string path;
  /// True for the netlib reference implementation (.../blas/libblas.so.3).
  bool is_reference() const { return name == "reference"; }
};

/// The BLAS mapped into this process, read from /proc/self/maps (the resolved path of
/// libblas.so.3, and whether libopenblas / libblis / libmkl is mapped). "unknown" where /proc is
/// not readable.
BlasInfo detect_blas();

/// Classifies the resolved path of a mapped BLAS library file (the part of detect_blas that does
/// not depend on the process): ".../blas/libblas.so.3" → reference, ".../openblas-pthread/libblas.so.3"
/// or ".../libopenblas.so.0" → openblas, and so on.
std::string classify_blas_path(const std::string& path);

/// One line telling the user that the reference BLAS is slow and how to switch (empty when `info`
/// is not the reference BLAS).
std::string blas_warning(const BlasInfo& info);

}  // namespace flowood

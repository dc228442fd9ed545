#pragma once
// zlib compression for test fixtures that must hold compressed bytes (gzip IDX files, deflated
// zip members): header-only, so the fuzz targets and tools can use it without the test library.
#include <zlib.h>

#include <string>

namespace flowood::testing {

/// `raw` compressed by zlib's deflate. window_bits 16 + 15: a gzip file; -15: a raw deflate
/// stream (zip members).
inline std::string deflate_bytes(const std::string& raw, int window_bits) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, static_cast<uLong>(raw.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = reinterpret_cast<Bytef*>(&out[0]);
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

inline std::string gzip_bytes(const std::string& raw) { return deflate_bytes(raw, 16 + 15); }

}  // namespace flowood::testing

#pragma once
/// A small reader for tar archives (POSIX ustar, with pax and GNU long-name records), plain or
/// gzip-compressed, streamed through zlib: enough to read image datasets straight from their
/// tarballs (the CIFAR-10 JPEG mirror, cifar-10-binary.tar.gz) without extracting them.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace flowood::data {

/// A regular file inside an archive.
struct TarMember {
  std::string name;                 ///< path inside the archive, e.g. "test/cat/0001.jpg"
  std::uint64_t size = 0;
  std::vector<std::uint8_t> bytes;  ///< filled only for members the caller wanted
};

/// Streams through the archive at `path` (gzip detected from its magic bytes). For each regular
/// file, `want(name)` decides whether its bytes are read; `take` then receives the member. Other
/// entry types (directories, links, pax global headers) are skipped. Throws DataError(path) for a
/// corrupt header (bad checksum), a truncated archive or corrupt gzip data, naming the member.
void read_tar(const std::string& path, const std::function<bool(const std::string& name)>& want,
              const std::function<void(TarMember&& member)>& take);

/// Every regular file whose name `want` accepts, in archive order.
std::vector<TarMember> read_tar_members(const std::string& path,
                                        const std::function<bool(const std::string& name)>& want);

/// Extracts the regular files of the archive under `dest` (directories created as needed).
/// Member names that are absolute or contain ".." are refused (DataError). Returns the files written.
std::vector<std::string> extract_tar(const std::string& path, const std::string& dest);

}  // namespace flowood::data

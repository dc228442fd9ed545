#pragma once
/// Archives through libarchive: tar (ustar, pax, GNU), compressed by gzip, bzip2 or xz or not, and
/// zip. Enough to read image datasets straight from their tarballs (the CIFAR-10 JPEG mirror,
/// cifar-10-binary.tar.gz) and arrays from .npz files without extracting anything.
///
/// Memory is bounded by what the archive really holds: a member's bytes are read in chunks as
/// they arrive, never allocated up front from the size its header claims.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace flowood::data {

/// A regular file inside an archive.
struct ArchiveMember {
  std::string name;                 ///< path inside the archive, e.g. "test/cat/0001.jpg"
  std::uint64_t size = 0;           ///< bytes read (for members read), else the size the header gives
  std::vector<std::uint8_t> bytes;  ///< filled only for members the caller wanted
};

/// Which container formats a reader accepts (compression filters are always detected).
enum class ArchiveFormat {
  kTar,  ///< tar archives, plain or compressed
  kZip,  ///< zip archives with their central directory (.npz); a truncated zip is refused
  kAny,  ///< either
};

/// Streams through the archive at `path`. For each regular file, `want(name)` decides whether its
/// bytes are read; `take` then receives the member. Other entry types (directories, links) are
/// skipped. Throws DataError naming the file (and the member, as "PATH:MEMBER", when its data is
/// bad): not an archive of `format`, a corrupt header, a truncated archive, corrupt compressed
/// data, a CRC mismatch.
void read_archive(const std::string& path, const std::function<bool(const std::string& name)>& want,
                  const std::function<void(ArchiveMember&& member)>& take, ArchiveFormat format = ArchiveFormat::kAny);

/// Every regular file whose name `want` accepts, in archive order.
std::vector<ArchiveMember> read_archive_members(const std::string& path,
                                                const std::function<bool(const std::string& name)>& want,
                                                ArchiveFormat format = ArchiveFormat::kAny);

/// Names of the regular files in the archive, in order, without reading their data.
std::vector<std::string> archive_member_names(const std::string& path, ArchiveFormat format = ArchiveFormat::kAny);

/// Extracts the regular files of the archive under `dest` (directories created as needed; each
/// file written atomically). Member names that are absolute or contain ".." are refused
/// (DataError) before anything is written. Returns the files written.
std::vector<std::string> extract_archive(const std::string& path, const std::string& dest);

/// Writes a zip archive of `members` (name, bytes), stored uncompressed, atomically (temporary file
/// + rename: a failed write leaves any earlier file in place). Throws IoError(path).
void write_zip(const std::string& path, const std::vector<std::pair<std::string, std::string>>& members);

}  // namespace flowood::data

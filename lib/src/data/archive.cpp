#include "flowood/data/archive.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "flowood/core/error.hpp"
#include "flowood/io/atomic_file.hpp"

namespace flowood::data {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kReadChunk = std::size_t{1} << 16;

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

const char* format_words(ArchiveFormat f) {
  switch (f) {
    case ArchiveFormat::kTar: return "tar";
    case ArchiveFormat::kZip: return "zip";
    case ArchiveFormat::kAny: return "tar or zip";
  }
  return "?";
}

/// libarchive's message, without the line breaks some of its messages end in.
std::string message_of(archive* a) {
  const char* m = archive_error_string(a);
  std::string text = m ? m : "unknown libarchive error";
  for (auto& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

/// The container format libarchive settled on, for messages.
std::string container_name(archive* a) {
  return (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP ? "zip" : "tar";
}

std::string not_an_archive(ArchiveFormat format, archive* a) {
  return fmt::format("not a {} archive, or truncated, or its first header is corrupt (checksum mismatch or unknown "
                     "format): {}",
                     format_words(format), message_of(a));
}

ArchivePtr open_archive(const std::string& path, ArchiveFormat format) {
  ArchivePtr a(archive_read_new());
  if (!a) throw DataError(path, "libarchive could not allocate a reader");
  archive_read_support_filter_all(a.get());
  if (format != ArchiveFormat::kZip) archive_read_support_format_tar(a.get());
  // The seekable zip reader starts from the central directory at the end, so a truncated zip is
  // recognised as such instead of being half-read.
  if (format != ArchiveFormat::kTar) archive_read_support_format_zip_seekable(a.get());
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw DataError(path, "cannot open: no such file");
  // libarchive reads the first header here to recognise the format.
  if (archive_read_open_filename(a.get(), path.c_str(), kReadChunk) != ARCHIVE_OK)
    throw DataError(path, not_an_archive(format, a.get()));
  return a;
}

}  // namespace

void read_archive(const std::string& path, const std::function<bool(const std::string&)>& want,
                  const std::function<void(ArchiveMember&&)>& take, ArchiveFormat format) {
  auto a = open_archive(path, format);
  std::string current;  // the last member whose header was read
  for (;;) {
    archive_entry* entry = nullptr;
    const int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) return;
    if (r != ARCHIVE_OK) {
      if (current.empty()) throw DataError(path, not_an_archive(format, a.get()));
      throw DataError(path, fmt::format("corrupt or truncated {} archive after {}: {}", container_name(a.get()), current,
                                        message_of(a.get())));
    }
    const char* raw_name = archive_entry_pathname(entry);
    current = raw_name ? raw_name : "";
    if (archive_entry_filetype(entry) != AE_IFREG || !want(current)) {
      if (archive_read_data_skip(a.get()) != ARCHIVE_OK)
        throw DataError(path, fmt::format("truncated {} archive: it ends inside {} ({})", container_name(a.get()),
                                          current, message_of(a.get())));
      continue;
    }
    ArchiveMember m;
    m.name = current;
    std::uint8_t buffer[kReadChunk];
    for (;;) {
      const la_ssize_t n = archive_read_data(a.get(), buffer, sizeof buffer);
      if (n == 0) break;
      if (n < 0) {
        const bool zip = container_name(a.get()) == "zip";
        throw DataError(path + ":" + current,
                        zip ? fmt::format("corrupt zip member ({})", message_of(a.get()))
                            : fmt::format("truncated tar archive: it ends inside {}, or its data is corrupt ({})",
                                          current, message_of(a.get())));
      }
      m.bytes.insert(m.bytes.end(), buffer, buffer + n);
    }
    m.size = m.bytes.size();
    take(std::move(m));
  }
}

std::vector<ArchiveMember> read_archive_members(const std::string& path,
                                                const std::function<bool(const std::string&)>& want,
                                                ArchiveFormat format) {
  std::vector<ArchiveMember> out;
  read_archive(path, want, [&](ArchiveMember&& m) { out.push_back(std::move(m)); }, format);
  return out;
}

std::vector<std::string> archive_member_names(const std::string& path, ArchiveFormat format) {
  std::vector<std::string> names;
  read_archive(
      path,
      [&](const std::string& name) {
        names.push_back(name);
        return false;
      },
      [](ArchiveMember&&) {}, format);
  return names;
}

std::vector<std::string> extract_archive(const std::string& path, const std::string& dest) {
  // Check every name first, so a refused archive writes nothing.
  for (const auto& name : archive_member_names(path)) {
    const fs::path p(name);
    if (p.is_absolute() || std::any_of(p.begin(), p.end(), [](const fs::path& c) { return c == ".."; }))
      throw DataError(path, fmt::format("refusing to extract member \"{}\" (absolute or contains ..)", name));
  }
  std::vector<std::string> written;
  read_archive(
      path, [](const std::string&) { return true; },
      [&](ArchiveMember&& m) {
        const fs::path out = fs::path(dest) / m.name;
        std::error_code ec;
        fs::create_directories(out.parent_path(), ec);
        io::write_file_atomic(out.string(), m.bytes.data(), m.bytes.size());
        written.push_back(out.string());
      });
  return written;
}

}  // namespace flowood::data

namespace flowood::data {

void write_zip(const std::string& path, const std::vector<std::pair<std::string, std::string>>& members) {
  struct WriteFree {
    void operator()(archive* a) const { archive_write_free(a); }
  };
  std::unique_ptr<archive, WriteFree> a(archive_write_new());
  std::string bytes;
  const auto fail = [&](const std::string& what) {
    const char* m = archive_error_string(a.get());
    throw IoError(path, fmt::format("cannot write the zip archive ({}): {}", what, m ? m : "unknown libarchive error"));
  };
  if (!a) throw IoError(path, "libarchive could not allocate a writer");
  if (archive_write_set_format_zip(a.get()) != ARCHIVE_OK) fail("zip format");
  if (archive_write_set_options(a.get(), "zip:compression=store") != ARCHIVE_OK) fail("stored entries");
  archive_write_set_bytes_in_last_block(a.get(), 1);  // no padding after the central directory
  const auto append = [](archive*, void* out, const void* buffer, size_t length) -> la_ssize_t {
    static_cast<std::string*>(out)->append(static_cast<const char*>(buffer), length);
    return static_cast<la_ssize_t>(length);
  };
  if (archive_write_open(a.get(), &bytes, nullptr, append, nullptr) != ARCHIVE_OK) fail("open");
  for (const auto& [name, data] : members) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(data.size()));
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) fail(name);
    if (archive_write_data(a.get(), data.data(), data.size()) != static_cast<la_ssize_t>(data.size())) fail(name);
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) fail("close");
  io::write_file_atomic(path, bytes);
}

}  // namespace flowood::data

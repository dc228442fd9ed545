#include "flowood/io/atomic_file.hpp"

#include <filesystem>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include "flowood/core/error.hpp"

namespace flowood::io {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

std::string parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// fsync through a fresh descriptor: std::ofstream does not expose its own.
void sync_file(const std::string& file, const std::string& target) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(target, "cannot reopen temporary file for fsync: " + errno_text(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw IoError(target, "fsync failed: " + errno_text(err));
}

// Makes the rename itself durable. Best effort: some file systems refuse fsync on directories.
void sync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& writer) {
  if (path.empty()) throw IoError(path, "empty output path");
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) {
        const int err = errno;
        throw IoError(path, "cannot create '" + tmp + "' (does directory '" + parent_dir(path) +
                                "' exist and is it writable?): " + errno_text(err));
      }
      writer(out);
      out.flush();
      if (!out) throw IoError(path, "write failed (disk full?)");
      out.close();
      if (out.fail()) throw IoError(path, "closing the temporary file failed");
    }
    sync_file(tmp, path);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      const int err = errno;
      throw IoError(path, "cannot rename '" + tmp + "' over it: " + errno_text(err));
    }
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  sync_dir(parent_dir(path));
}

void write_file_atomic(const std::string& path, const void* data, std::size_t size) {
  write_file_atomic(path, [&](std::ostream& out) {
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  });
}

void write_file_atomic(const std::string& path, const std::string& content) {
  write_file_atomic(path, content.data(), content.size());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path, "cannot open for reading: " + errno_text(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw IoError(path, "read failed");
  return buffer.str();
}

void check_output_path(const std::string& path, const std::string& what) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw IoError(path, what + " names a directory, not a file");
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec)) throw IoError(dir.string(), "directory for " + what + " " + path + " does not exist");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw IoError(dir.string(), "directory for " + what + " " + path + " is not writable");
}

void prepare_output_dir(const std::string& dir, const std::string& what) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) throw IoError(dir, what + " names a file, not a directory");
  fs::create_directories(dir, ec);
  if (ec) throw IoError(dir, "cannot create the directory for " + what + ": " + ec.message());
  if (::access(dir.c_str(), W_OK | X_OK) != 0) throw IoError(dir, "directory for " + what + " is not writable");
}

namespace {
bool process_alive(long long pid) {
  if (pid == ::getpid()) return true;
  if (pid <= 0 || pid > INT32_MAX) return false;
  if (::kill(static_cast<pid_t>(pid), 0) == 0) return true;
  return errno == EPERM;  // it exists, owned by another user
}
}  // namespace

std::vector<std::string> remove_stale_temporaries(const std::string& dir, double min_age_s) {
  namespace fs = std::filesystem;
  static const std::regex temporary(R"(.+\.tmp\.([0-9]{1,10}))");
  std::vector<std::string> removed;
  std::error_code ec;
  const auto now = fs::file_time_type::clock::now();
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::smatch m;
    const std::string name = it->path().filename().string();
    if (!it->is_regular_file(ec) || !std::regex_match(name, m, temporary)) continue;
    if (process_alive(std::stoll(m[1].str()))) continue;
    const auto written = fs::last_write_time(it->path(), ec);
    if (ec || std::chrono::duration<double>(now - written).count() < min_age_s) continue;
    if (fs::remove(it->path(), ec)) removed.push_back(it->path().string());
  }
  return removed;
}

}  // namespace flowood::io

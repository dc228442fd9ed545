#pragma once
/// Atomic file writes: readers see either the old file or the complete new one, never a torn
/// write. The content goes to `<path>.tmp.<pid>` in the same directory, is flushed to disk
/// (fsync) and renamed over `path`. On any failure the temporary is removed, the old file (if any)
/// is left untouched and an IoError naming `path` is thrown.
#include <cstddef>
#include <functional>
#include <ostream>
#include <string>

namespace flowood::io {

/// Writes `path` atomically with the bytes `writer` puts into the stream (opened in binary mode).
/// An exception thrown by `writer` removes the temporary and propagates unchanged.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& writer);

/// Writes `size` bytes at `data` to `path` atomically (same guarantees as above).
void write_file_atomic(const std::string& path, const void* data, std::size_t size);

/// Writes the bytes of `content` to `path` atomically (same guarantees as above).
void write_file_atomic(const std::string& path, const std::string& content);

/// Reads the whole file into a string (binary). Throws IoError naming `path` when it cannot.
std::string read_file(const std::string& path);

/// Fails before any work when `path` cannot become a file: its directory must exist and be
/// writable, and the path itself must not be a directory. `what` names the path's role in the
/// message (e.g. "--out"). Throws IoError.
void check_output_path(const std::string& path, const std::string& what);

}  // namespace flowood::io

#pragma once
/// Atomic file writes: readers see either the old file or the complete new one, never a torn
/// write. The content goes to `<path>.tmp.<pid>` in the same directory, is flushed to disk
/// (fsync) and renamed over `path`. On any failure the temporary is removed, the old file (if any)
/// is left untouched and an IoError naming `path` is thrown.
#include <cstddef>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace flowood::io {

/// Writes `path` atomically with the bytes `writer` puts into the stream (opened in binary mode).
/// An exception thrown by `writer` removes the temporary and propagates unchanged.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& writer);

/// Writes `size` bytes at `data` to `path` atomically (same guarantees as above).
void write_file_atomic(const std::string& path, const void* data, std::size_t size);

/// Writes the bytes of `content` to `path` atomically (same guarantees as above).
void write_file_atomic(const std::string& path, const std::string& content);

/// Removes the temporaries `<name>.tmp.<pid>` in `dir` (not below it) that a killed process left:
/// the process is gone on this machine and the file is at least `min_age_s` seconds old (so a
/// write in progress on another node of a shared file system is left alone). Returns the files
/// removed. Never throws: a file that cannot be removed stays.
std::vector<std::string> remove_stale_temporaries(const std::string& dir, double min_age_s = 60);

/// Reads the whole file into a string (binary). Throws IoError naming `path` when it cannot.
std::string read_file(const std::string& path);

/// Creates `dir` (and its parents) for outputs and checks it is a writable directory, before any
/// work. Throws IoError(dir) naming `what` (a flag) when it is a file, cannot be created or is not
/// writable.
void prepare_output_dir(const std::string& dir, const std::string& what);

/// Fails before any work when `path` cannot become a file: its directory must exist and be
/// writable, and the path itself must not be a directory. `what` names the path's role in the
/// message (e.g. "--out"). Throws IoError.
void check_output_path(const std::string& path, const std::string& what);

}  // namespace flowood::io

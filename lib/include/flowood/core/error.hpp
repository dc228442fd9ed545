#pragma once
/// Typed errors thrown by the library and caught only in the binary's main().
/// Each carries the thing the user must fix (a config key, a file path) so the one-line message
/// printed by main names it.
#include <stdexcept>
#include <string>

namespace flowood {

/// Base of every error the library throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A configuration value is missing, unknown, of the wrong type or out of range.
/// `key()` is the dotted key path (e.g. "model.num_blocks").
class ConfigError : public Error {
 public:
  ConfigError(std::string key, const std::string& message)
      : Error(key.empty() ? message : key + ": " + message), key_(std::move(key)) {}
  const std::string& key() const noexcept { return key_; }

 private:
  std::string key_;
};

/// A dataset could not be found, or a data file is malformed. `path()` names the file or spec.
class DataError : public Error {
 public:
  DataError(std::string path, const std::string& message)
      : Error(path.empty() ? message : path + ": " + message), path_(std::move(path)) {}
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

/// Reading or writing a file failed. `path()` names the file.
class IoError : public Error {
 public:
  IoError(std::string path, const std::string& message)
      : Error(path.empty() ? message : path + ": " + message), path_(std::move(path)) {}
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

}  // namespace flowood

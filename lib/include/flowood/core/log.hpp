#pragma once
/// The one logger. Console sink on stderr (stdout is reserved for machine output); a run
/// directory can add a file sink.
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace flowood {

/// The process-wide logger ("flowood"), created on first use.
spdlog::logger& log();

/// Sets the level from a name (trace, debug, info, warn, error, off). Returns false when unknown.
bool set_log_level(const std::string& level);

/// Also writes every message to `path` (appending). Replaces a previously added file sink.
void add_log_file(const std::string& path);

}  // namespace flowood

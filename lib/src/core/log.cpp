#include "flowood/core/log.hpp"

#include <mutex>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace flowood {
namespace {
std::shared_ptr<spdlog::logger>& instance() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    auto l = std::make_shared<spdlog::logger>("flowood", console);
    l->set_pattern("[%H:%M:%S] %^%l%$ %v");
    l->set_level(spdlog::level::info);
    return l;
  }();
  return logger;
}
std::shared_ptr<spdlog::sinks::sink>& file_sink() {
  static std::shared_ptr<spdlog::sinks::sink> sink;
  return sink;
}
}  // namespace

spdlog::logger& log() { return *instance(); }

bool set_log_level(const std::string& level) {
  const auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") return false;
  instance()->set_level(parsed);
  return true;
}

void add_log_file(const std::string& path) {
  auto& sinks = instance()->sinks();
  if (file_sink()) sinks.erase(std::remove(sinks.begin(), sinks.end(), file_sink()), sinks.end());
  file_sink() = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, /*truncate=*/false);
  file_sink()->set_pattern("[%Y-%m-%d %H:%M:%S.%e] %l %v");
  sinks.push_back(file_sink());
}

}  // namespace flowood

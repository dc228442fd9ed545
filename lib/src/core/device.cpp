#include "flowood/core/device.hpp"

#include <malloc.h>
#include <sched.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <torch/cuda.h>

#include "flowood/core/error.hpp"

namespace flowood {

bool cuda_available() { return torch::cuda::is_available(); }

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

int default_threads() {
  int cpus = 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cpus = CPU_COUNT(&set);
  if (cpus < 1) cpus = static_cast<int>(std::thread::hardware_concurrency());
  int local = 1;
  if (const char* env = std::getenv("LOCAL_WORLD_SIZE")) {
    char* end = nullptr;
    const long v = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && v > 1 && v < 100000) local = static_cast<int>(v);
  }
  return std::max(1, cpus / local);
}

namespace {
struct CpuTimes {
  unsigned long long busy = 0, total = 0;
};

/// Busy and total jiffies of each CPU in this process's affinity mask.
std::vector<CpuTimes> affinity_cpu_times() {
  cpu_set_t set;
  CPU_ZERO(&set);
  const bool have_mask = sched_getaffinity(0, sizeof(set), &set) == 0;
  std::vector<CpuTimes> out;
  std::ifstream in("/proc/stat");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, 3, "cpu") != 0 || line.size() < 4 || !std::isdigit(static_cast<unsigned char>(line[3]))) continue;
    std::istringstream fields(line.substr(3));
    int cpu = -1;
    fields >> cpu;
    if (cpu < 0 || (have_mask && (cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &set)))) continue;
    unsigned long long v[8] = {};
    for (auto& x : v) fields >> x;
    CpuTimes t;
    for (const auto x : v) t.total += x;
    t.busy = t.total - v[3] - v[4];  // less idle and iowait
    out.push_back(t);
  }
  return out;
}
}  // namespace

int busy_cpus(double seconds) {
  const auto before = affinity_cpu_times();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const auto after = affinity_cpu_times();
  if (before.size() != after.size()) return 0;
  int busy = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    const auto total = after[i].total - before[i].total;
    if (total > 0 && 2 * (after[i].busy - before[i].busy) > total) ++busy;
  }
  return busy;
}

int auto_threads(int* busy_out) {
  static const std::pair<int, int> chosen = [] {
    const int threads = default_threads();
    const char* env = std::getenv("LOCAL_WORLD_SIZE");
    if (env && std::string(env) != "1" && std::string(env) != "0") return std::make_pair(threads, 0);
    const int busy = busy_cpus(0.1);
    return std::make_pair(std::max(1, threads - busy), busy);
  }();
  if (busy_out) *busy_out = chosen.second;
  return chosen.first;
}

std::string cpu_description() {
  std::ifstream in("/proc/cpuinfo");
  std::string model, flags;
  for (std::string line; std::getline(in, line) && (model.empty() || flags.empty());) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const auto value = colon + 2 <= line.size() ? line.substr(colon + 2) : std::string();
    if (model.empty() && line.rfind("model name", 0) == 0) model = value;
    if (flags.empty() && line.rfind("flags", 0) == 0) flags = " " + value + " ";
  }
  std::string extensions;
  for (const char* f : {"avx2", "avx512f", "avx512_bf16", "amx_bf16"})
    if (flags.find(std::string(" ") + f + " ") != std::string::npos) extensions += (extensions.empty() ? "" : " ") + std::string(f);
  return fmt::format("{} [{}]", model.empty() ? "unknown CPU" : model, extensions.empty() ? "no AVX2" : extensions);
}

double memory_bytes() {
  double total = 0;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string key; meminfo >> key;) {
    if (key == "MemTotal:") {
      meminfo >> total;
      total *= 1024;  // kB
      break;
    }
    meminfo.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  std::ifstream cgroup("/sys/fs/cgroup/memory.max");  // "max" or a byte count
  std::string limit;
  if (cgroup >> limit && !limit.empty() && std::isdigit(static_cast<unsigned char>(limit[0]))) {
    const double bytes = std::strtod(limit.c_str(), nullptr);
    if (bytes > 0 && (total == 0 || bytes < total)) total = bytes;
  }
  return total;
}

ParameterLimit parameter_limit() {
  if (const char* env = std::getenv("FLOWOOD_MAX_PARAMETERS")) {
    char* end = nullptr;
    const double v = std::strtod(env, &end);
    if (end != env && *end == '\0' && v > 0 && std::isfinite(v)) return {v, "FLOWOOD_MAX_PARAMETERS"};
  }
  const double memory = memory_bytes();
  if (memory > 0 && memory / 16 < 2e9)
    return {memory / 16, fmt::format("what this machine's {:.1f} GB of memory hold", memory / 1e9)};
  return {2e9, "the ceiling for any machine"};
}

bool keep_freed_memory() {
  const char* env = std::getenv("FLOWOOD_ALLOCATOR");
  if (!env || std::string(env) != "keep-freed") return false;
  return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, INT_MAX) == 1;
}

torch::Device resolve_device(const std::string& name, const std::string& key) {
  if (name == "auto") return cuda_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (name == "cpu") return torch::Device(torch::kCPU);
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    int index = 0;
    if (name != "cuda") {
      const std::string digits = name.substr(5);
      if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string::npos)
        throw ConfigError(key, "malformed CUDA device '" + name + "' (expected cuda or cuda:N)");
      index = std::stoi(digits);
    }
    if (!cuda_available())
      throw ConfigError(key, "'" + name + "' requested but no CUDA device is available (no GPU, or a LibTorch "
                                 "built without CUDA such as Debian's); use cpu or auto");
    const auto count = static_cast<int>(torch::cuda::device_count());
    if (index >= count)
      throw ConfigError(key, "'" + name + "' requested but only " + std::to_string(count) + " CUDA device(s) exist");
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw ConfigError(key, "unknown device '" + name + "' (valid: auto, cpu, cuda, cuda:N)");
}

}  // namespace flowood

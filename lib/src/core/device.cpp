#include "flowood/core/device.hpp"

#include <malloc.h>
#include <sched.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <string>
#include <thread>

#include <torch/cuda.h>

#include "flowood/core/error.hpp"

namespace flowood {

bool cuda_available() { return torch::cuda::is_available(); }

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

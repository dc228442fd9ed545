#include "flowood/core/device.hpp"

#include <torch/cuda.h>

#include "flowood/core/error.hpp"

namespace flowood {

bool cuda_available() { return torch::cuda::is_available(); }

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

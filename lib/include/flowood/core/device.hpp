#pragma once
#include <string>

#include <torch/types.h>

namespace flowood {

/// Resolves a device name: "cpu", "cuda", "cuda:N", or "auto" (CUDA when available, else CPU).
/// Throws ConfigError(key) when the name is malformed or names a CUDA device that is absent.
torch::Device resolve_device(const std::string& name, const std::string& key = "device");

/// True when LibTorch was built with CUDA and at least one device is visible.
bool cuda_available();

}  // namespace flowood

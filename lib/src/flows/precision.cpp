#include "flowood/flows/precision.hpp"

#include <atomic>
#include <fstream>
#include <sstream>

#include <ATen/autocast_mode.h>

#include "flowood/core/error.hpp"

namespace flowood::flows {
namespace {
std::atomic<StPrecision> g_precision{StPrecision::kFloat32};
}

StPrecision parse_precision(const std::string& name, const std::string& key) {
  if (name == "fp32" || name == "float32") return StPrecision::kFloat32;
  if (name == "bf16" || name == "bfloat16") return StPrecision::kBFloat16;
  throw ConfigError(key, "must be fp32 or bf16 (got '" + name + "')");
}

std::string precision_name(StPrecision precision) { return precision == StPrecision::kBFloat16 ? "bf16" : "fp32"; }

void set_st_precision(StPrecision precision) { g_precision.store(precision); }
StPrecision st_precision() { return g_precision.load(); }

bool cpu_has_fast_bf16() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line);
    bool bw = false, vl = false, dq = false;
    for (std::string w; words >> w;) {
      bw = bw || w == "avx512bw";
      vl = vl || w == "avx512vl";
      dq = dq || w == "avx512dq";
    }
    return bw && vl && dq;
  }
  return false;
}

StAutocast::StAutocast(bool cuda) : cuda_(cuda) {
  if (st_precision() != StPrecision::kBFloat16) return;
  active_ = true;
  if (cuda_) {
    was_enabled_ = at::autocast::is_enabled();
    saved_dtype_ = static_cast<int>(at::autocast::get_autocast_gpu_dtype());
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(true);
  } else {
    was_enabled_ = at::autocast::is_cpu_enabled();
    saved_dtype_ = static_cast<int>(at::autocast::get_autocast_cpu_dtype());
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(true);
  }
  at::autocast::increment_nesting();
}

StAutocast::~StAutocast() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  if (cuda_) {
    at::autocast::set_enabled(was_enabled_);
    at::autocast::set_autocast_gpu_dtype(static_cast<at::ScalarType>(saved_dtype_));
  } else {
    at::autocast::set_cpu_enabled(was_enabled_);
    at::autocast::set_autocast_cpu_dtype(static_cast<at::ScalarType>(saved_dtype_));
  }
}

Float32Region::Float32Region() : cpu_(at::autocast::is_cpu_enabled()), cuda_(at::autocast::is_enabled()) {
  if (cpu_) at::autocast::set_cpu_enabled(false);
  if (cuda_) at::autocast::set_enabled(false);
}

Float32Region::~Float32Region() {
  if (cpu_) at::autocast::set_cpu_enabled(true);
  if (cuda_) at::autocast::set_enabled(true);
}

void check_bf16_supported(StPrecision precision, bool cuda, const std::string& key) {
  if (precision == StPrecision::kBFloat16 && !cuda && !cpu_has_fast_bf16())
    throw ConfigError(key, "bf16 needs a CPU with AVX-512 (avx512bw, avx512vl, avx512dq), which this one lacks: "
                           "oneDNN would fall back to reference kernels tens of times slower than fp32; use fp32");
}

}  // namespace flowood::flows

#pragma once
/// Precision of the st-networks: float32 (the default; numbers as the reference computes them) or
/// bfloat16 autocast (convolutions and Linear layers of the st-networks in bf16 on CPUs with
/// AVX-512 and on CUDA), with everything else — the st-network's output s and t, log-dets, the
/// logit preprocessing and the Gaussian prior — in float32. A process-wide setting: the verbs set
/// it once from --precision before building work.
#include <string>

namespace flowood::flows {

enum class StPrecision { kFloat32, kBFloat16 };

/// "fp32" / "bf16" → the precision; throws flowood::ConfigError naming `key` otherwise.
StPrecision parse_precision(const std::string& name, const std::string& key = "--precision");
std::string precision_name(StPrecision precision);

void set_st_precision(StPrecision precision);
StPrecision st_precision();

/// True when this CPU has the AVX-512 instructions oneDNN's bf16 kernels need (avx512bw, vl, dq);
/// without them bf16 convolutions fall back to slow reference code.
bool cpu_has_fast_bf16();

/// Refuses bf16 on a CPU without those instructions (ConfigError naming `key`): there it would run
/// tens of times slower than float32, never what a user asking for bf16 wants. CUDA: no check.
void check_bf16_supported(StPrecision precision, bool cuda, const std::string& key = "--precision");

/// Inside its scope, autocast to bf16 is on for `device_type` (CPU or CUDA) when the process-wide
/// precision is bf16; a no-op for float32. Nested scopes are fine.
class StAutocast {
 public:
  explicit StAutocast(bool cuda);
  ~StAutocast();
  StAutocast(const StAutocast&) = delete;
  StAutocast& operator=(const StAutocast&) = delete;
  bool active() const { return active_; }

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool was_enabled_ = false;
  int saved_dtype_ = 0;
};

/// Inside its scope autocast is off (float32 again) for the layers whose precision matters most
/// (an st-network's output convolution); a no-op when autocast is not on.
class Float32Region {
 public:
  Float32Region();
  ~Float32Region();
  Float32Region(const Float32Region&) = delete;
  Float32Region& operator=(const Float32Region&) = delete;

 private:
  bool cpu_ = false, cuda_ = false;
};

}  // namespace flowood::flows

#pragma once
#include <string>

#include <torch/types.h>

namespace flowood {

/// Resolves a device name: "cpu", "cuda", "cuda:N", or "auto" (CUDA when available, else CPU).
/// Throws ConfigError(key) when the name is malformed or names a CUDA device that is absent.
torch::Device resolve_device(const std::string& name, const std::string& key = "device");

/// True when LibTorch was built with CUDA and at least one device is visible.
bool cuda_available();

/// Waits until every kernel queued on `device` has finished (a no-op on the CPU), so that a wall
/// clock read afterwards times the work and not only its launch.
void synchronize(const torch::Device& device);

/// Intra-op CPU threads for `threads: 0`: the CPUs this process may run on (its affinity mask,
/// which taskset, cpusets and Slurm's --cpus-per-task bind set), shared among the processes that
/// torchrun started on this node (LOCAL_WORLD_SIZE), at least 1.
int default_threads();

/// How many of the CPUs this process may run on were busy with other work over the last
/// `seconds` (more than half their time not idle, from /proc/stat); 0 where /proc/stat is
/// unreadable. The caller sleeps meanwhile, so its own threads do not count.
int busy_cpus(double seconds);

/// Intra-op threads for `threads: 0` on a machine others share: default_threads() less the CPUs
/// busy with other work when this is first called (sampled for 0.1 s, at least 1 thread left);
/// under torchrun (LOCAL_WORLD_SIZE > 1) default_threads() as it is. Computed once per process;
/// `busy` receives the busy CPUs seen.
int auto_threads(int* busy = nullptr);

/// The CPU as /proc/cpuinfo names it, with the vector extensions that decide which kernels are
/// fast, e.g. "Intel(R) Xeon(R) … [avx2 avx512f avx512_bf16 amx_bf16]"; "unknown CPU" where
/// /proc/cpuinfo is unreadable. Keys the cached layout choice and heads bench's report.
std::string cpu_description();

/// This machine's memory in bytes: MemTotal of /proc/meminfo, or the cgroup's memory.max when that
/// is lower (containers, Slurm jobs); 0 when neither can be read.
double memory_bytes();

/// The largest model the config checks accept, and where the number comes from.
struct ParameterLimit {
  double parameters = 0;
  std::string why;  ///< "FLOWOOD_MAX_PARAMETERS", "what this machine's 24.0 GB of memory hold", …
};

/// FLOWOOD_MAX_PARAMETERS when set to a positive number (the override: a login node checking a
/// config for a bigger machine), else what training in float32 with Adam could hold in this
/// machine's memory (16 bytes a parameter: weights, gradients, two moments), at most 2·10⁹.
ParameterLimit parameter_limit();

/// When the environment sets FLOWOOD_ALLOCATOR=keep-freed, makes glibc keep freed memory for
/// reuse instead of returning large blocks to the kernel (no mmap for big allocations, no heap
/// trimming), so a layer's output is not page-faulted in afresh. Measured (docs/performance.md):
/// up to 8× faster isolated small-channel convolutions, but no gain on whole models and a
/// higher peak, hence opt-in. Returns whether it was applied. Call once, first thing in main.
bool keep_freed_memory();

}  // namespace flowood

#pragma once
#include <string>

#include <torch/types.h>

namespace flowood {

/// Resolves a device name: "cpu", "cuda", "cuda:N", or "auto" (CUDA when available, else CPU).
/// Throws ConfigError(key) when the name is malformed or names a CUDA device that is absent.
torch::Device resolve_device(const std::string& name, const std::string& key = "device");

/// True when LibTorch was built with CUDA and at least one device is visible.
bool cuda_available();

/// Intra-op CPU threads for `threads: 0`: the CPUs this process may run on (its affinity mask,
/// which taskset, cpusets and Slurm's --cpus-per-task bind set), shared among the processes that
/// torchrun started on this node (LOCAL_WORLD_SIZE), at least 1.
int default_threads();

/// Makes glibc keep freed memory for reuse instead of returning every large block to the kernel
/// (no mmap for big allocations, no heap trimming). Without it each batch's activations, tens of
/// MB, are unmapped when freed and page-faulted in again by the next layer: measured 1.1–1.8×
/// slower convolutions and ~25 % slower scoring (docs/performance.md). Peak memory is unchanged;
/// memory is not handed back until exit. Does nothing and returns false when the environment
/// sets FLOWOOD_ALLOCATOR=system. Call once, first thing in main.
bool keep_freed_memory();

}  // namespace flowood

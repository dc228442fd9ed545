#pragma once
/// Data-parallel training across processes with LibTorch's c10d collectives (ProcessGroupGloo;
/// ProcessGroupNCCL for CUDA tensors when built with FLOWOOD_NCCL). Rank, world size and the
/// rendezvous address come from torchrun-style variables (RANK, WORLD_SIZE, MASTER_ADDR,
/// MASTER_PORT) or from Slurm (SLURM_PROCID, SLURM_STEP_NUM_TASKS, the first node of
/// SLURM_STEP_NODELIST / SLURM_JOB_NODELIST, a port derived from SLURM_JOB_ID).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

namespace flowood::train {

/// Where this process sits in a multi-process run.
struct DistributedSetup {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;  ///< index on this node (LOCAL_RANK, SLURM_LOCALID; else rank): picks the GPU
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string source;  ///< "torchrun", "slurm" or "" (single process)
};

/// Reads a variable; std::getenv in production, a map in tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_environment();

/// The setup the environment describes, or nullopt for a single process. torchrun-style
/// variables win over Slurm's; Slurm counts only inside an `srun` step with more than one task
/// (SLURM_STEP_NUM_TASKS > 1), so a batch script that calls flowood directly stays single-process.
/// Throws flowood::Error on inconsistent values (rank outside [0, world), bad port), naming the
/// variable.
std::optional<DistributedSetup> distributed_from_environment(const EnvLookup& env);

/// The first host of a Slurm hostlist: "node[03-05,07],gpu1" → "node03", "a,b" → "a".
std::string first_slurm_host(const std::string& nodelist);

/// A connected process group. All calls are collective: every rank must make them in the same
/// order. Tensors may live on any device; Gloo works on CPU copies of CUDA tensors.
class Communicator {
 public:
  /// Rendezvous through a TCP store at master_addr:master_port (rank 0 hosts it) and connect.
  /// Throws flowood::Error naming the address when the peers do not arrive within `timeout`.
  static std::shared_ptr<Communicator> connect(const DistributedSetup& setup,
                                               std::chrono::seconds timeout = std::chrono::seconds(300));
  ~Communicator();

  int rank() const { return setup_.rank; }
  int world_size() const { return setup_.world_size; }
  int local_rank() const { return setup_.local_rank; }
  bool is_main() const { return setup_.rank == 0; }

  /// In-place sum over ranks.
  void all_reduce_sum(torch::Tensor& tensor);
  /// In-place maximum over ranks.
  void all_reduce_max(torch::Tensor& tensor);
  /// In-place copy of `root`'s tensor to every rank.
  void broadcast(torch::Tensor& tensor, int root = 0);
  /// Sums the tensors over ranks through one flat buffer (one collective for all of them).
  void all_reduce_sum(const std::vector<torch::Tensor>& tensors);
  /// Copies every tensor from `root` through one flat buffer.
  void broadcast(const std::vector<torch::Tensor>& tensors, int root = 0);
  void barrier();

 private:
  struct Impl;
  Communicator(std::unique_ptr<Impl> impl, DistributedSetup setup);
  std::unique_ptr<Impl> impl_;
  DistributedSetup setup_;
};

}  // namespace flowood::train

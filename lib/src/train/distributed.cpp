#include "flowood/train/distributed.hpp"

#include <cstdlib>
#include <map>

#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <fmt/format.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"

namespace flowood::train {
namespace {

int parse_int(const EnvLookup& env, const std::string& name, int min, int max) {
  const auto text = env(name);
  if (!text) throw Error(fmt::format("{} is not set", name));
  try {
    size_t used = 0;
    const long value = std::stol(*text, &used);
    if (used != text->size() || value < min || value > max) throw std::out_of_range(name);
    return static_cast<int>(value);
  } catch (const std::exception&) {
    throw Error(fmt::format("{}={} is not an integer in [{}, {}]", name, *text, min, max));
  }
}

std::optional<int> parse_optional(const EnvLookup& env, const std::string& name, int min, int max) {
  if (!env(name)) return std::nullopt;
  return parse_int(env, name, min, max);
}

// Copies the tensors into one flat buffer per dtype (on the CPU for Gloo), applies `collective`,
// and copies the results back.
void flat_collective(const std::vector<torch::Tensor>& tensors, const std::function<void(torch::Tensor&)>& collective) {
  std::map<c10::ScalarType, std::vector<torch::Tensor>> by_type;
  for (const auto& t : tensors)
    if (t.defined() && t.numel() > 0) by_type[t.scalar_type()].push_back(t);
  for (auto& [type, group] : by_type) {
    std::vector<torch::Tensor> flat;
    flat.reserve(group.size());
    for (const auto& t : group) flat.push_back(t.detach().reshape({-1}).to(torch::kCPU));
    auto buffer = torch::cat(flat);
    collective(buffer);
    int64_t offset = 0;
    torch::NoGradGuard no_grad;
    for (auto& t : group) {
      t.copy_(buffer.narrow(0, offset, t.numel()).view(t.sizes()));
      offset += t.numel();
    }
  }
}

}  // namespace

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (!value || !*value) return std::nullopt;
    return std::string(value);
  };
}

std::string first_slurm_host(const std::string& nodelist) {
  // Hostlist grammar: comma-separated names, each optionally "prefix[ranges]suffix".
  std::string first;
  int depth = 0;
  for (char c : nodelist) {
    if (c == ',' && depth == 0) break;
    if (c == '[') ++depth;
    if (c == ']') --depth;
    first += c;
  }
  const auto open = first.find('[');
  if (open == std::string::npos) return first;
  const auto close = first.find(']', open);
  if (close == std::string::npos) throw Error(fmt::format("malformed Slurm node list '{}'", nodelist));
  auto range = first.substr(open + 1, close - open - 1);
  range = range.substr(0, range.find_first_of(",-"));
  return first.substr(0, open) + range + first.substr(close + 1);
}

std::optional<DistributedSetup> distributed_from_environment(const EnvLookup& env) {
  DistributedSetup setup;
  if (env("WORLD_SIZE")) {
    setup.world_size = parse_int(env, "WORLD_SIZE", 1, 1 << 20);
    if (setup.world_size == 1) return std::nullopt;
    setup.rank = parse_int(env, "RANK", 0, setup.world_size - 1);
    setup.master_addr = env("MASTER_ADDR").value_or("127.0.0.1");
    setup.master_port = parse_optional(env, "MASTER_PORT", 1, 65535).value_or(29500);
    setup.local_rank = parse_optional(env, "LOCAL_RANK", 0, 1 << 20).value_or(setup.rank);
    setup.source = "torchrun";
    return setup;
  }
  const auto step_tasks = parse_optional(env, "SLURM_STEP_NUM_TASKS", 1, 1 << 20);
  if (!step_tasks || *step_tasks <= 1 || !env("SLURM_PROCID")) return std::nullopt;
  setup.world_size = *step_tasks;
  setup.rank = parse_int(env, "SLURM_PROCID", 0, setup.world_size - 1);
  const auto nodes = env("SLURM_STEP_NODELIST") ? env("SLURM_STEP_NODELIST") : env("SLURM_JOB_NODELIST");
  setup.master_addr = env("MASTER_ADDR").value_or(nodes ? first_slurm_host(*nodes) : "127.0.0.1");
  // A port per job (array tasks sharing a node get different ones) unless MASTER_PORT says.
  const auto job = parse_optional(env, "SLURM_JOB_ID", 0, 2147483647).value_or(0);
  setup.master_port = parse_optional(env, "MASTER_PORT", 1, 65535).value_or(20000 + job % 20000);
  setup.local_rank = parse_optional(env, "SLURM_LOCALID", 0, 1 << 20).value_or(setup.rank);
  setup.source = "slurm";
  return setup;
}

struct Communicator::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;

  void wait(c10::intrusive_ptr<c10d::Work> work) {
    try {
      work->wait();
    } catch (const std::exception& e) {
      throw Error(fmt::format("a collective operation with the other ranks failed: {}", e.what()));
    }
  }
};

Communicator::Communicator(std::unique_ptr<Impl> impl, DistributedSetup setup)
    : impl_(std::move(impl)), setup_(std::move(setup)) {}
Communicator::~Communicator() = default;

std::shared_ptr<Communicator> Communicator::connect(const DistributedSetup& setup, std::chrono::seconds timeout) {
  auto impl = std::make_unique<Impl>();
  const auto where = fmt::format("{}:{}", setup.master_addr, setup.master_port);
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(setup.master_port);
    store_options.isServer = setup.rank == 0;
    store_options.numWorkers = static_cast<size_t>(setup.world_size);
    store_options.waitWorkers = true;
    store_options.timeout = timeout;
    impl->store = c10::make_intrusive<c10d::TCPStore>(setup.master_addr, store_options);
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
    options->devices.push_back(interface && *interface ? c10d::ProcessGroupGloo::createDeviceForInterface(interface)
                                                       : c10d::ProcessGroupGloo::createDefaultDevice());
    options->threads = 2;
    impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, setup.rank, setup.world_size, options);
  } catch (const flowood::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(fmt::format("rank {} of {} could not join the process group at {} ({}): {}", setup.rank,
                            setup.world_size, where, setup.source.empty() ? "environment" : setup.source, e.what()));
  }
  log().info("rank {} of {} joined the process group at {} ({})", setup.rank, setup.world_size, where, setup.source);
  return std::shared_ptr<Communicator>(new Communicator(std::move(impl), setup));
}

void Communicator::all_reduce_sum(torch::Tensor& tensor) {
  std::vector<torch::Tensor> one{tensor};
  impl_->wait(impl_->group->allreduce(one, c10d::AllreduceOptions{}));
}

void Communicator::all_reduce_max(torch::Tensor& tensor) {
  std::vector<torch::Tensor> one{tensor};
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::MAX;
  impl_->wait(impl_->group->allreduce(one, options));
}

void Communicator::broadcast(torch::Tensor& tensor, int root) {
  std::vector<torch::Tensor> one{tensor};
  c10d::BroadcastOptions options;
  options.rootRank = root;
  impl_->wait(impl_->group->broadcast(one, options));
}

void Communicator::all_reduce_sum(const std::vector<torch::Tensor>& tensors) {
  flat_collective(tensors, [this](torch::Tensor& flat) { all_reduce_sum(flat); });
}

void Communicator::broadcast(const std::vector<torch::Tensor>& tensors, int root) {
  flat_collective(tensors, [this, root](torch::Tensor& flat) { broadcast(flat, root); });
}

void Communicator::barrier() { impl_->wait(impl_->group->barrier(c10d::BarrierOptions{})); }

}  // namespace flowood::train

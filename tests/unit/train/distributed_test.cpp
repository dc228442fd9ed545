// Data-parallel training over c10d/Gloo: where rank, world size and rendezvous come from, and two
// ranks on loopback reaching the parameters one process reaches with the combined batch.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <thread>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/flows/factory.hpp"
#include "flowood/train/distributed.hpp"
#include "flowood/train/trainer.hpp"
#include "synthetic_images.hpp"
#include "temp_dir.hpp"

namespace fl = flowood::flows;
namespace tr = flowood::train;
using flowood::testing::fresh_model;
using flowood::testing::synthetic_images;
using flowood::testing::TempDir;

namespace {

tr::EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// A TCP port nobody listens on right now (the kernel's choice for port 0).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}


flowood::config::ExperimentConfig glow_for_ranks() {
  flowood::config::ExperimentConfig c;
  c.seed = 5;
  c.model.flow = "glow";
  c.model.st_net = "highway";
  c.model.in_shape = {1, 8, 8};
  c.model.num_steps = 1;
  c.model.num_blocks = 1;
  c.model.mid_channels = 4;
  c.train.optimizer = "rmsprop";
  c.train.lr = 1e-3;
  c.train.epochs = 10;
  c.train.checkpoint_every = 1000;
  c.train.eval_limit = 16;
  c.train.eval_every = 3;
  c.score.batch_size = 16;
  return c;
}


struct RankRun {
  fl::FlowModel model{nullptr};
  tr::TrainResult result;
  std::string error;
};

// Trains `c` (train.batch_size per rank) on `world` ranks, one thread each, over loopback.
// Rank 0's per-step bits/dim go to `losses` when given.
std::vector<RankRun> train_on_ranks(const flowood::config::ExperimentConfig& c, int world, const std::string& dir,
                                    const flowood::data::ImageDataset& train, const flowood::data::ImageDataset& test,
                                    torch::Dtype dtype = torch::kFloat32, std::vector<double>* losses = nullptr) {
  std::vector<RankRun> runs(world);
  for (auto& r : runs) {
    r.model = fresh_model(c);
    r.model->to(dtype);
  }
  const int port = free_port();
  std::vector<std::thread> threads;
  for (int rank = 0; rank < world; ++rank)
    threads.emplace_back([&, rank] {
      try {
        tr::DistributedSetup setup;
        setup.rank = rank;
        setup.world_size = world;
        setup.master_port = port;
        tr::TrainerOptions o;
        o.train = c.train;
        o.seed = static_cast<uint64_t>(c.seed);
        o.eval_batch_size = c.score.batch_size;
        o.run_dir = dir;
        o.config_text = "test";
        o.communicator = tr::Communicator::connect(setup, std::chrono::seconds(60));
        if (rank == 0 && losses) o.progress = [losses](const tr::TrainProgress& p) { losses->push_back(p.bpd); };
        runs[rank].result = tr::train(*runs[rank].model, train, test, o);
      } catch (const std::exception& e) {
        runs[rank].error = e.what();
      }
    });
  for (auto& t : threads) t.join();
  return runs;
}

}  // namespace

TEST(Distributed, FirstSlurmHost) {
  EXPECT_EQ(tr::first_slurm_host("node07"), "node07");
  EXPECT_EQ(tr::first_slurm_host("a,b"), "a");
  EXPECT_EQ(tr::first_slurm_host("gpu[03-05,07],cpu1"), "gpu03");
  EXPECT_EQ(tr::first_slurm_host("rack[2-3]-n[1-4]"), "rack2-n[1-4]");  // first bracket only
  EXPECT_EQ(tr::first_slurm_host("x[10,12]y"), "x10y");
  EXPECT_THROW(tr::first_slurm_host("bad[1-2"), flowood::Error);
}

TEST(Distributed, SetupFromTorchrunVariables) {
  const auto s = tr::distributed_from_environment(
      env_of({{"WORLD_SIZE", "4"}, {"RANK", "2"}, {"LOCAL_RANK", "0"}, {"MASTER_ADDR", "10.0.0.1"}, {"MASTER_PORT", "1234"}}));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->rank, 2);
  EXPECT_EQ(s->world_size, 4);
  EXPECT_EQ(s->local_rank, 0);
  EXPECT_EQ(s->master_addr, "10.0.0.1");
  EXPECT_EQ(s->master_port, 1234);
  EXPECT_EQ(s->source, "torchrun");
  EXPECT_FALSE(tr::distributed_from_environment(env_of({{"WORLD_SIZE", "1"}, {"RANK", "0"}})));
  EXPECT_FALSE(tr::distributed_from_environment(env_of({})));
}

TEST(Distributed, SetupFromAnSrunStepButNotFromTheBatchScript) {
  // The batch script itself (sbatch --ntasks=2): no step variables → one process.
  EXPECT_FALSE(tr::distributed_from_environment(
      env_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_JOB_NODELIST", "vm"}, {"SLURM_JOB_ID", "17"}})));
  // Task 1 of `srun -n 2`.
  const auto s = tr::distributed_from_environment(env_of({{"SLURM_PROCID", "1"},
                                                          {"SLURM_NTASKS", "2"},
                                                          {"SLURM_STEP_NUM_TASKS", "2"},
                                                          {"SLURM_LOCALID", "1"},
                                                          {"SLURM_JOB_NODELIST", "gpu[03-04]"},
                                                          {"SLURM_STEP_NODELIST", "gpu[03-04]"},
                                                          {"SLURM_JOB_ID", "123456"}}));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->rank, 1);
  EXPECT_EQ(s->world_size, 2);
  EXPECT_EQ(s->local_rank, 1);
  EXPECT_EQ(s->master_addr, "gpu03");
  EXPECT_EQ(s->master_port, 20000 + 123456 % 20000);
  EXPECT_EQ(s->source, "slurm");
}

TEST(Distributed, BadVariablesNameTheVariable) {
  try {
    tr::distributed_from_environment(env_of({{"WORLD_SIZE", "2"}, {"RANK", "2"}}));
    FAIL() << "rank 2 of 2 accepted";
  } catch (const flowood::Error& e) {
    EXPECT_NE(std::string(e.what()).find("RANK=2"), std::string::npos) << e.what();
  }
  try {
    tr::distributed_from_environment(env_of({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_PORT", "http"}}));
    FAIL() << "a non-numeric port accepted";
  } catch (const flowood::Error& e) {
    EXPECT_NE(std::string(e.what()).find("MASTER_PORT"), std::string::npos) << e.what();
  }
}

TEST(Distributed, CollectivesOnTwoRanks) {
  const int port = free_port();
  std::vector<torch::Tensor> sums(2), maxima(2), broadcasts(2);
  std::vector<std::thread> threads;
  for (int rank = 0; rank < 2; ++rank)
    threads.emplace_back([&, rank] {
      tr::DistributedSetup setup;
      setup.rank = rank;
      setup.world_size = 2;
      setup.master_port = port;
      auto comm = tr::Communicator::connect(setup, std::chrono::seconds(60));
      auto a = torch::full({3}, rank + 1.0), b = torch::full({2, 2}, 10.0 * (rank + 1));
      comm->all_reduce_sum({a, b});
      sums[rank] = torch::cat({a, b.reshape({-1})});
      auto m = torch::tensor({rank == 0 ? 5.0 : 1.0, rank == 0 ? 0.0 : 7.0});
      comm->all_reduce_max(m);
      maxima[rank] = m;
      auto c = torch::full({2}, static_cast<double>(rank));
      comm->broadcast(c, 1);
      broadcasts[rank] = c;
      comm->barrier();
    });
  for (auto& t : threads) t.join();
  for (int rank = 0; rank < 2; ++rank) {
    EXPECT_TRUE(torch::equal(sums[rank], torch::tensor({3.0f, 3.0f, 3.0f, 30.0f, 30.0f, 30.0f, 30.0f})));
    EXPECT_TRUE(torch::equal(maxima[rank], torch::tensor({5.0, 7.0})));
    EXPECT_TRUE(torch::equal(broadcasts[rank], torch::tensor({1.0, 1.0})));
  }
}

// The data-parallel contract: 2 ranks × batch 4 take the same steps as 1 process × batch 8 — the
// same global batches, noise, ActNorm initialisation (from the whole first global batch) and
// summed gradients — up to floating-point summation order. 36 images make every epoch end on a
// global batch of 4, which rank 1 sees as an empty shard. In float64 the parameters agree to
// 1e-7 relative / 1e-9 absolute after 7 RMSprop steps (a wrong gradient scale would show: RMSprop's ε makes it not quite
// scale-invariant); in float32 the per-step losses and the evaluation agree to 5e-4 bits/dim (the
// parameters less closely: RMSprop divides near-zero gradients by their own size, which turns
// float32 summation-order noise into steps of up to ~lr).
void expect_two_ranks_match_one(torch::Dtype dtype, double rtol, double atol) {
  const auto train = synthetic_images(36, 1), test = synthetic_images(dtype == torch::kFloat32 ? 16 : 0, 2);
  auto c = glow_for_ranks();
  c.train.max_steps = 7;  // 5 steps per epoch: crosses an epoch and its short last batch
  TempDir single_dir("ddp_single"), ranks_dir("ddp_ranks");

  auto single_config = c;
  single_config.train.batch_size = 8;
  auto single = fresh_model(single_config);
  single->to(dtype);
  std::vector<double> single_losses, rank_losses;
  tr::TrainerOptions o;
  o.train = single_config.train;
  o.seed = static_cast<uint64_t>(single_config.seed);
  o.eval_batch_size = single_config.score.batch_size;
  o.run_dir = single_dir.path().string();
  o.config_text = "test";
  o.progress = [&](const tr::TrainProgress& p) { single_losses.push_back(p.bpd); };
  const auto single_result = tr::train(*single, train, test, o);

  c.train.batch_size = 4;
  const auto runs = train_on_ranks(c, 2, ranks_dir.path().string(), train, test, dtype, &rank_losses);
  for (const auto& r : runs) ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(runs[0].result.steps, 7);
  EXPECT_EQ(runs[1].result.steps, 7);
  ASSERT_EQ(rank_losses.size(), single_losses.size());
  for (size_t i = 0; i < rank_losses.size(); ++i)
    EXPECT_NEAR(rank_losses[i], single_losses[i], dtype == torch::kFloat32 ? 5e-4 : 1e-10) << "step " << i + 1;
  if (single_result.test_bpd) {
    ASSERT_TRUE(runs[0].result.test_bpd);
    EXPECT_NEAR(*runs[0].result.test_bpd, *single_result.test_bpd, 5e-4);
  }

  const auto p0 = runs[0].model->named_parameters(), p1 = runs[1].model->named_parameters();
  const auto ps = single->named_parameters();
  for (const auto& item : p0) {
    EXPECT_TRUE(torch::equal(item.value(), p1[item.key()])) << "ranks disagree on " << item.key();
    EXPECT_TRUE(torch::allclose(item.value(), ps[item.key()], rtol, atol))
        << item.key() << ": max difference " << (item.value() - ps[item.key()]).abs().max().item<double>();
  }
  // Only rank 0 wrote the run directory.
  EXPECT_TRUE(std::filesystem::exists(ranks_dir.path() / "checkpoint.pt"));
  EXPECT_TRUE(std::filesystem::exists(ranks_dir.path() / "metrics.csv"));
}

TEST(Distributed, TwoRanksOnLoopbackMatchOneRankWithTheCombinedBatchFloat64) {
  expect_two_ranks_match_one(torch::kFloat64, 1e-7, 1e-9);
}

TEST(Distributed, TwoRanksOnLoopbackMatchOneRankWithTheCombinedBatchFloat32) {
  expect_two_ranks_match_one(torch::kFloat32, 0, 5e-3);  // 7 steps × lr 1e-3 bound the drift
}

// Batch norm sees each rank's shard (as PyTorch DDP without SyncBatchNorm), so a RealNVP's steps
// differ a little from one process's; the ranks still agree exactly, running statistics included
// (averaged over ranks before evaluations and checkpoints), and a second invocation resumes.
TEST(Distributed, BatchNormModelsStayInStepAndResume) {
  const auto train = synthetic_images(32, 3), test = synthetic_images(16, 4);
  flowood::config::ExperimentConfig c;
  c.seed = 9;
  c.model.in_shape = {1, 8, 8};
  c.model.num_blocks = 1;
  c.model.mid_channels = 4;
  c.train.batch_size = 4;
  c.train.lr = 1e-3;
  c.train.max_steps = 3;
  c.train.checkpoint_every = 1000;
  c.train.eval_limit = 16;
  c.score.batch_size = 16;
  TempDir dir("ddp_bn");
  auto first = train_on_ranks(c, 2, dir.path().string(), train, test);
  for (const auto& r : first) ASSERT_TRUE(r.error.empty()) << r.error;
  c.train.max_steps = 5;
  auto runs = train_on_ranks(c, 2, dir.path().string(), train, test);
  for (const auto& r : runs) ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(runs[0].result.resumed_from, 3);
  EXPECT_EQ(runs[1].result.resumed_from, 3);
  EXPECT_EQ(runs[0].result.steps, 5);
  EXPECT_TRUE(std::isfinite(runs[0].result.train_bpd));
  const auto p0 = runs[0].model->named_parameters(), p1 = runs[1].model->named_parameters();
  for (const auto& item : p0) EXPECT_TRUE(torch::equal(item.value(), p1[item.key()])) << item.key();
  const auto b0 = runs[0].model->named_buffers(), b1 = runs[1].model->named_buffers();
  for (const auto& item : b0) EXPECT_TRUE(torch::equal(item.value(), b1[item.key()])) << item.key();
}

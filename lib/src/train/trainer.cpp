#include "flowood/train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adam.h>
#include <torch/optim/rmsprop.h>

#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/core/rng.hpp"
#include "flowood/data/mutate.hpp"
#include "flowood/flows/glow.hpp"
#include "flowood/flows/preprocess.hpp"
#include "flowood/flows/standardize.hpp"
#include "flowood/io/atomic_file.hpp"
#include "flowood/io/json_file.hpp"
#include "flowood/ood/score.hpp"
#include "flowood/train/checkpoint.hpp"
#include "flowood/train/distributed.hpp"

namespace flowood::train {
namespace {

constexpr const char* kMetricsHeader = "step,epoch,train_loss_nats,train_bpd,test_bpd,images_per_s,elapsed_s";

bool is_decayed(const std::string& name) {
  const std::string suffix = "weight_g";
  return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The step a metrics line records: the first CSV field, or the value after "step": in JSON lines.
std::optional<int64_t> line_step(const std::string& line, bool json) {
  const auto key = json ? line.find("\"step\":") : 0;
  if (key == std::string::npos) return std::nullopt;
  const auto from = json ? key + 7 : 0;
  try {
    return std::stoll(line.substr(from, line.find_first_of(",}", from) - from));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Keeps the metrics lines of steps <= `step` (a resumed run repeats the later ones); a CSV keeps
// its header.
void truncate_metrics(const std::string& path, int64_t step, bool json) {
  if (!std::filesystem::exists(path)) return;
  std::ifstream in(path);
  std::ostringstream kept;
  std::string line;
  bool header = !json;
  while (std::getline(in, line)) {
    if (header) {
      kept << line << "\n";
      header = false;
      continue;
    }
    const auto at = line_step(line, json);
    if (at && *at <= step) kept << line << "\n";
  }
  io::write_file_atomic(path, kept.str());
}

bool is_batch_norm_statistic(const std::string& name) {
  for (const std::string suffix : {"running_mean", "running_var"})
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      return true;
  return false;
}

bool has_uninitialized_actnorm(flows::FlowModelImpl& model) {
  for (const auto& module : model.modules(/*include_self=*/false))
    if (const auto* actnorm = dynamic_cast<const flows::ActNormImpl*>(module.get()); actnorm && !actnorm->initialized())
      return true;
  return false;
}

std::vector<torch::Tensor> parameters_and_buffers(flows::FlowModelImpl& model) {
  auto all = model.parameters();
  for (const auto& b : model.buffers()) all.push_back(b);
  return all;
}

// Runs the whole global batch through the model once without gradients so every ActNorm
// initialises from the same data a single process would use; batch-norm buffers are restored.
void initialize_actnorm(flows::FlowModelImpl& model, const torch::Tensor& x, const torch::Tensor& u) {
  torch::NoGradGuard no_grad;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> saved;
  for (const auto& b : model.named_buffers())
    if (!b.key().empty() && (is_batch_norm_statistic(b.key()) || b.key().find("num_batches_tracked") != std::string::npos))
      saved.emplace_back(b.value(), b.value().clone());
  model.forward_with_noise(x, u);
  for (auto& [buffer, copy] : saved) buffer.copy_(copy);
}

// Averages the batch-norm running statistics over ranks (each rank saw its own shards).
void average_batch_norm_statistics(flows::FlowModelImpl& model, Communicator& comm) {
  std::vector<torch::Tensor> stats;
  for (const auto& b : model.named_buffers())
    if (is_batch_norm_statistic(b.key())) stats.push_back(b.value());
  if (stats.empty()) return;
  comm.all_reduce_sum(stats);
  torch::NoGradGuard no_grad;
  for (auto& t : stats) t.div_(comm.world_size());
}

}  // namespace

int64_t steps_per_epoch(int64_t n, int64_t batch) { return (n + batch - 1) / batch; }

bool decays_all_parameters(const std::string& weight_decay_on, const std::string& family) {
  if (weight_decay_on == "all") return true;
  if (weight_decay_on == "gains") return false;
  if (weight_decay_on == "auto") return family == "glow" || family == "tabular";  // spec §5.2
  throw ConfigError("train.weight_decay_on", "must be auto, gains or all (got '" + weight_decay_on + "')");
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(flows::FlowModelImpl& model, const config::TrainConfig& c) {
  // One group with weight decay on everything (glow, tabular), or two: the weight-norm gains with
  // decay and the rest without (realnvp). Gradients are clipped per group (spec §5.2).
  const bool all = decays_all_parameters(c.weight_decay_on, model.family());
  std::vector<torch::Tensor> decayed, plain;
  for (const auto& item : model.named_parameters())
    (all || is_decayed(item.key()) ? decayed : plain).push_back(item.value());
  const auto add_groups = [&](auto options) {
    using Options = decltype(options);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    if (!decayed.empty())
      groups.emplace_back(decayed, std::make_unique<Options>(Options(c.lr).weight_decay(c.weight_decay)));
    if (!plain.empty()) groups.emplace_back(plain, std::make_unique<Options>(Options(c.lr)));
    return groups;
  };
  if (c.optimizer == "adam")
    return std::make_unique<torch::optim::Adam>(add_groups(torch::optim::AdamOptions(c.lr)), torch::optim::AdamOptions(c.lr));
  if (c.optimizer == "rmsprop")
    return std::make_unique<torch::optim::RMSprop>(add_groups(torch::optim::RMSpropOptions(c.lr)),
                                                   torch::optim::RMSpropOptions(c.lr));
  throw ConfigError("train.optimizer", "must be adam or rmsprop (got '" + c.optimizer + "')");
}

double evaluate_bpd(flows::FlowModelImpl& model, const data::ImageDataset& data, int64_t limit, int64_t batch_size,
                    uint64_t seed) {
  ood::LoglikOptions o;
  o.batch_size = batch_size;
  o.seed = derive_seed(seed, Stream::kEvalNoise);
  o.limit = limit;
  const auto scores = ood::score_loglik(model, data, o);
  double sum = 0;
  for (double b : scores.bpd) sum += b;
  return scores.bpd.empty() ? std::nan("") : sum / static_cast<double>(scores.bpd.size());
}

void clip_and_step(torch::optim::Optimizer& optimizer, double max_grad_norm) {
  if (max_grad_norm > 0)
    for (auto& group : optimizer.param_groups()) torch::nn::utils::clip_grad_norm_(group.params(), max_grad_norm);
  optimizer.step();
}

double train_step(flows::FlowModelImpl& model, torch::optim::Optimizer& optimizer, const torch::Tensor& x,
                  const torch::Tensor& u, double max_grad_norm) {
  optimizer.zero_grad();
  const auto loss = -model.log_prob_from(model.forward_with_noise(x, u)).mean();
  loss.backward();
  clip_and_step(optimizer, max_grad_norm);
  return loss.item<double>();
}

double negative_train_step(flows::FlowModelImpl& model, torch::optim::Optimizer& optimizer, const torch::Tensor& x,
                           const torch::Tensor& u, const torch::Tensor& xn, const torch::Tensor& un,
                           const config::NegativeConfig& negative, double max_grad_norm, int64_t& kept) {
  optimizer.zero_grad();
  // One batch through the flow, as the reference does: batch norm sees both sets together.
  const auto lp = model.log_prob_from(model.forward_with_noise(torch::cat({x, xn}), torch::cat({u, un})));
  const auto in_loss = -lp.narrow(0, 0, x.size(0)).mean();
  const auto ood = lp.narrow(0, x.size(0), xn.size(0));
  const auto above = ood > negative.threshold;
  kept = above.sum().item<int64_t>();
  auto loss = in_loss;
  if (kept > 0) loss = (in_loss + negative.weight * ood.masked_select(above).mean()) / (1.0 + negative.weight);
  loss.backward();
  clip_and_step(optimizer, max_grad_norm);
  return in_loss.item<double>();
}

TrainResult train(flows::FlowModelImpl& model, const data::ImageDataset& train_set, const data::ImageDataset& test_set,
                  const TrainerOptions& options) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto& tc = options.train;
  if (flows::Shape(train_set.image_shape()) != model.input_shape())
    throw ConfigError("model.in_shape", fmt::format("is {} but {} has images of {}", flows::shape_string(model.input_shape()),
                                                    train_set.spec, flows::shape_string(train_set.image_shape())));
  const auto params = model.parameters();
  const auto device = params.front().device();
  const auto seed = options.seed;
  const int64_t n = train_set.size();
  if (n == 0) throw DataError(train_set.spec, "training set is empty");
  Communicator* comm = options.communicator.get();
  const auto* negative = options.negative;
  if (negative) {
    if (comm) throw ConfigError("train.negative.data", "negative training runs on one process (no torchrun / srun -n K)");
    if (negative->size() == 0) throw DataError(negative->spec, "negative-training set is empty");
    if (negative->image_shape() != train_set.image_shape())
      throw DataError(negative->spec, fmt::format("negative-training examples are {} but the training set's are {}",
                                                  flows::shape_string(negative->image_shape()),
                                                  flows::shape_string(train_set.image_shape())));
  }
  int64_t negative_kept = 0, negative_seen = 0;
  const int64_t world = comm ? comm->world_size() : 1;
  const int64_t rank = comm ? comm->rank() : 0;
  const bool writer = rank == 0;
  const int64_t global_batch = tc.batch_size * world;
  const int64_t per_epoch = steps_per_epoch(n, global_batch);
  int64_t total = per_epoch * tc.epochs;
  if (tc.max_steps > 0) total = std::min(total, tc.max_steps);

  if (writer) std::filesystem::create_directories(options.run_dir);
  const auto ckpt_path = (std::filesystem::path(options.run_dir) / "checkpoint.pt").string();
  const auto metrics_path = (std::filesystem::path(options.run_dir) / "metrics.csv").string();
  const auto jsonl_path = (std::filesystem::path(options.run_dir) / "metrics.jsonl").string();

  auto optimizer = make_optimizer(model, tc);
  TrainResult result;
  int64_t step = 0;
  if (std::filesystem::exists(ckpt_path)) {
    step = load_checkpoint(ckpt_path, model, optimizer.get(), device).step;
    result.resumed_from = step;
    log().info("resuming from {} at step {}", ckpt_path, step);
    if (writer) {
      truncate_metrics(metrics_path, step, /*json=*/false);
      truncate_metrics(jsonl_path, step, /*json=*/true);
    }
  }
  if (comm) {
    // Every rank must start from rank 0's step and parameters (optimizer state comes from the
    // same checkpoint file, or is empty).
    auto root_step = torch::tensor({step}, torch::kLong);
    comm->broadcast(root_step);
    if (root_step.item<int64_t>() != step)
      throw Error(fmt::format("rank {} found {} at step {} but rank 0 at step {}; every rank must see the same run "
                              "directory (a shared file system)",
                              rank, ckpt_path, step, root_step.item<int64_t>()));
    comm->broadcast(parameters_and_buffers(model));
  }
  if (step == 0 && train_set.is_features() && flows::fit_standardization(model, train_set.images))
    log().info("standardisation fitted on the {} rows of {}", n, train_set.spec);
  std::ofstream metrics, jsonl;
  if (writer) {
    if (!std::filesystem::exists(metrics_path)) io::write_file_atomic(metrics_path, std::string(kMetricsHeader) + "\n");
    metrics.open(metrics_path, std::ios::app);
    if (!metrics) throw IoError(metrics_path, "cannot append to the metrics log");
    jsonl.open(jsonl_path, std::ios::app);
    if (!jsonl) throw IoError(jsonl_path, "cannot append to the metrics log");
  }

  const int64_t dim = model.dim();
  const int64_t eval_batch = options.eval_batch_size;
  auto save = [&](int64_t at) {
    if (comm) average_batch_norm_statistics(model, *comm);
    if (writer) save_checkpoint(ckpt_path, model, optimizer.get(), {at, options.config_text, {}});
    if (writer && tc.keep_checkpoints) {  // the model alone, for `flowood curve`
      const auto dir = std::filesystem::path(options.run_dir) / "checkpoints";
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec) throw IoError(dir.string(), "cannot create the directory of kept checkpoints: " + ec.message());
      save_checkpoint((dir / fmt::format("step-{}.pt", at)).string(), model, nullptr, {at, options.config_text, {}});
    }
  };
  auto shape = model.input_shape();

  TrainProgress progress;
  progress.total_steps = total;
  progress.start_step = step;
  progress.epochs = (total + per_epoch - 1) / per_epoch;
  torch::Tensor perm;
  int64_t perm_epoch = -1;
  int64_t images_done = 0;
  int64_t last_saved = step;
  // Divergence (a non-finite loss, test bits/dim, parameter or buffer) stops training before the
  // checkpoint is written, so the file on disk stays the last finite one.
  auto diverged = [&](const std::string& what) {
    return Error(last_saved > 0 ? fmt::format("training diverged at step {} ({}); the last finite checkpoint is step {} "
                                              "in {}",
                                              step, what, last_saved, ckpt_path)
                                : fmt::format("training diverged at step {} ({}) before any checkpoint was saved; "
                                              "try a lower train.lr",
                                              step, what));
  };
  bool stop_seen = false;  // a stop request on any rank (distributed runs agree on it each step)
  model.train();
  while (step < total) {
    const int64_t epoch = step / per_epoch;
    const int64_t in_epoch = step % per_epoch;
    if (epoch != perm_epoch) {
      auto gen = make_generator(seed, Stream::kShuffle, static_cast<uint64_t>(epoch));
      perm = torch::randperm(n, gen, torch::TensorOptions().dtype(torch::kLong));
      perm_epoch = epoch;
    }
    // The global batch, its noise and mutations are the same on every rank (and the same as one
    // process with batch_size × world); each rank then takes its contiguous shard.
    const int64_t first = in_epoch * global_batch;
    const int64_t count = std::min(global_batch, n - first);
    const int64_t shard_first = std::min(rank * tc.batch_size, count);
    const int64_t shard_count = std::min(tc.batch_size, count - shard_first);
    auto batch = train_set.images.index_select(0, perm.narrow(0, first, count));
    if (tc.mutation_rate > 0)
      batch = data::mutate(batch, tc.mutation_rate, make_generator(seed, Stream::kMutation, static_cast<uint64_t>(step)));
    const auto x_global = data::to_model_input(batch, device).to(params.front().scalar_type());  // float64 models too
    auto noise_gen = make_generator(seed, Stream::kTrainNoise, static_cast<uint64_t>(step));
    const auto u_global = flows::uniform_noise_like(x_global, noise_gen);
    if (comm && step == 0 && has_uninitialized_actnorm(model)) initialize_actnorm(model, x_global, u_global);
    const auto x = x_global.narrow(0, shard_first, shard_count);
    const auto u = u_global.narrow(0, shard_first, shard_count);

    double loss_value = 0;
    if (negative) {
      // OOD batch of the same size: a seeded permutation per pass over the negative set.
      const int64_t m = negative->size();
      std::vector<torch::Tensor> parts;
      for (int64_t want = count, at = step * count; want > 0;) {
        const int64_t pass = at / m, offset = at % m, take = std::min(want, m - offset);
        const auto order = torch::randperm(m, make_generator(seed, Stream::kNegative, static_cast<uint64_t>(pass)),
                                           torch::TensorOptions().dtype(torch::kLong));
        parts.push_back(order.narrow(0, offset, take));
        want -= take, at += take;
      }
      const auto xn = data::to_model_input(negative->images.index_select(0, torch::cat(parts)), device)
                          .to(params.front().scalar_type());
      auto neg_gen = make_generator(seed, Stream::kNegative, static_cast<uint64_t>(step), 1);
      const auto un = flows::uniform_noise_like(xn, neg_gen);
      int64_t kept = 0;
      loss_value = negative_train_step(model, *optimizer, x, u, xn, un, tc.negative, tc.max_grad_norm, kept);
      negative_kept += kept;
      negative_seen += xn.size(0);
    } else if (!comm) {
      loss_value = train_step(model, *optimizer, x, u, tc.max_grad_norm);
    } else {
      optimizer->zero_grad();
      // Sum of log-likelihoods over the global batch / its size: gradients summed over ranks are
      // exactly the gradient of the global batch's mean loss.
      auto sums = torch::zeros({2}, torch::kDouble);
      if (shard_count > 0) {
        const auto lp_sum = model.log_prob_from(model.forward_with_noise(x, u)).sum();
        (-lp_sum / static_cast<double>(count)).backward();
        sums[0] = lp_sum.item<double>();
      }
      sums[1] = options.stop && options.stop->load() ? 1.0 : 0.0;
      std::vector<torch::Tensor> grads;
      for (auto& p : params) {
        if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
        grads.push_back(p.grad());
      }
      comm->all_reduce_sum(grads);
      comm->all_reduce_sum(sums);
      loss_value = -sums[0].item<double>() / static_cast<double>(count);
      stop_seen = sums[1].item<double>() > 0;
      clip_and_step(*optimizer, tc.max_grad_norm);
    }
    ++step;
    images_done += count;

    if (!std::isfinite(loss_value)) throw diverged(fmt::format("loss {}", loss_value));
    const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
    progress.step = step;
    progress.epoch = epoch;
    progress.loss = loss_value;
    progress.bpd = loss_value / (static_cast<double>(dim) * std::log(2.0));
    progress.elapsed_s = elapsed;
    progress.images_per_s = images_done / std::max(elapsed, 1e-9);
    progress.test_bpd.reset();
    const bool epoch_end = step % per_epoch == 0;
    const bool eval_now = step == total || (tc.eval_every > 0 ? step % tc.eval_every == 0 : epoch_end);
    if (eval_now && test_set.size() > 0) {
      // Every rank evaluates (no rank waits on another's evaluation; the result is the same).
      if (comm) average_batch_norm_statistics(model, *comm);
      progress.test_bpd = evaluate_bpd(model, test_set, tc.eval_limit, eval_batch, seed);
      model.train();
      result.test_bpd = progress.test_bpd;
    }
    progress.log_line = eval_now || step % tc.log_every == 0;
    if (progress.log_line && writer) {
      metrics << fmt::format("{},{},{:.6f},{:.6f},{},{:.3f},{:.3f}\n", step, epoch, progress.loss, progress.bpd,
                             progress.test_bpd ? fmt::format("{:.6f}", *progress.test_bpd) : "", progress.images_per_s,
                             elapsed)
              << std::flush;
      jsonl << io::Json{
                   {"step", step},
                   {"epoch", epoch},
                   {"train_loss_nats", progress.loss},
                   {"train_bpd", progress.bpd},
                   {"test_bpd", progress.test_bpd ? io::Json(*progress.test_bpd) : io::Json()},
                   {"images_per_s", progress.images_per_s},
                   {"elapsed_s", elapsed}}
                   .dump()
            << "\n"
            << std::flush;
    }
    if (negative && progress.log_line && negative_seen > 0) {
      log().info("negative training: {} of the last {} OOD examples still above the threshold ({} nats)", negative_kept,
                 negative_seen, tc.negative.threshold);
      negative_kept = negative_seen = 0;
    }
    if (options.progress) options.progress(progress);
    result.train_bpd = progress.bpd;

    if (progress.test_bpd && !std::isfinite(*progress.test_bpd))
      throw diverged(fmt::format("test {} bits/dim", *progress.test_bpd));
    const bool stopping = comm ? stop_seen : options.stop && options.stop->load();
    if (step % tc.checkpoint_every == 0 || step == total || stopping) {
      if (const auto bad = first_non_finite(model)) throw diverged("non-finite values in " + *bad);
      save(step);
      last_saved = step;
    }
    if (stopping && step < total) {
      result.stopped = true;
      break;
    }
  }
  if (last_saved != step) {
    if (const auto bad = first_non_finite(model)) throw diverged("non-finite values in " + *bad);
    save(step);
  }
  result.steps = step;
  result.seconds = std::chrono::duration<double>(clock::now() - start).count();
  return result;
}

}  // namespace flowood::train

// The training loop: exact resume (bit-identical parameters on CPU), checkpoints, optimiser
// groups, and that training lowers the loss.
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/flows/factory.hpp"
#include "flowood/flows/standardize.hpp"
#include "flowood/io/csv.hpp"
#include "flowood/io/json_file.hpp"
#include "flowood/train/checkpoint.hpp"
#include "flowood/train/trainer.hpp"
#include "synthetic_images.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
namespace fl = flowood::flows;
namespace tr = flowood::train;
using flowood::testing::fresh_model;
using flowood::testing::synthetic_images;
using flowood::testing::TempDir;

namespace {


flowood::config::ExperimentConfig tiny_config() {
  flowood::config::ExperimentConfig c;
  c.seed = 3;
  c.model.in_shape = {1, 8, 8};
  c.model.num_blocks = 1;
  c.model.mid_channels = 4;
  c.train.batch_size = 8;
  c.train.lr = 1e-3;
  c.train.epochs = 3;
  c.train.checkpoint_every = 1000;
  c.train.eval_limit = 16;
  c.score.batch_size = 16;
  return c;
}



tr::TrainResult run(fl::FlowModel& model, const flowood::config::ExperimentConfig& c, const std::string& dir,
                    const flowood::data::ImageDataset& train, const flowood::data::ImageDataset& test,
                    tr::ProgressFn progress = {}) {
  tr::TrainerOptions o;
  o.progress = std::move(progress);
  o.train = c.train;
  o.seed = static_cast<uint64_t>(c.seed);
  o.eval_batch_size = c.score.batch_size;
  o.run_dir = dir;
  o.config_text = "test";
  return tr::train(*model, train, test, o);
}

/// Feature rows [n, 6] on very different scales (a tabular dataset), labels none.
flowood::data::ImageDataset synthetic_features(int64_t n, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  flowood::data::ImageDataset d;
  d.spec = "features";
  const auto scale = torch::tensor({1.0f, 100.0f, 0.01f, 5.0f, 1.0f, 2.0f});
  auto base = at::randn({n, 3}, gen);
  d.images = torch::cat({base, base * 0.5 + at::randn({n, 3}, gen) * 0.1}, 1) * scale + 10.0;
  return d;
}

flowood::config::ExperimentConfig tiny_tabular() {
  auto c = tiny_config();
  c.model.flow = "tabular";
  c.model.in_shape = {6};
  c.model.masks = {"tabular x4"};
  c.model.st_net = "mlp";
  c.model.mid_channels = 16;
  c.model.standardize = true;
  return c;
}

using DataMaker = flowood::data::ImageDataset (*)(int64_t, uint64_t);

// Trains c for 8 steps straight, and for 3 steps then resumed to 8 with a freshly built model:
// every parameter and buffer must be bit-identical.
void expect_resume_bit_identical(flowood::config::ExperimentConfig c, DataMaker make = synthetic_images) {
  const auto train = make(40, 1), test = make(16, 2);
  c.train.max_steps = 8;  // 40 images / batch 8 = 5 steps per epoch: resume crosses an epoch
  TempDir straight("train_a"), resumed("train_b");

  auto a = fresh_model(c);
  const auto ra = run(a, c, straight.path().string(), train, test);
  EXPECT_EQ(ra.steps, 8);

  auto c3 = c;
  c3.train.max_steps = 3;
  auto b = fresh_model(c3);
  EXPECT_EQ(run(b, c3, resumed.path().string(), train, test).steps, 3);
  auto c_other = c;
  c_other.seed = c.seed + 1;  // a different initialisation, replaced by the checkpoint
  auto b2 = fresh_model(c_other);
  std::vector<std::pair<int64_t, int64_t>> reports;  // (start_step, step): a resumed run's rate counts from 3
  const auto rb = run(b2, c, resumed.path().string(), train, test,
                      [&reports](const tr::TrainProgress& p) { reports.emplace_back(p.start_step, p.step); });
  EXPECT_EQ(rb.resumed_from, 3);
  ASSERT_EQ(reports.size(), 5u);
  for (size_t i = 0; i < reports.size(); ++i) {
    EXPECT_EQ(reports[i].first, 3);
    EXPECT_EQ(reports[i].second, static_cast<int64_t>(4 + i));
  }
  EXPECT_EQ(rb.steps, 8);

  const auto pa = a->named_parameters(), pb = b2->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
  const auto ba = a->named_buffers(), bb = b2->named_buffers();
  for (const auto& item : ba) EXPECT_TRUE(torch::equal(item.value(), bb[item.key()])) << item.key();
}

flowood::config::ExperimentConfig tiny_glow() {
  auto c = tiny_config();
  c.model.flow = "glow";
  c.model.st_net = "highway";
  c.model.num_steps = 1;
  c.model.mid_channels = 4;
  c.model.num_blocks = 1;
  c.train.optimizer = "rmsprop";
  return c;
}

TEST(Trainer, ResumeGivesBitIdenticalParameters) { expect_resume_bit_identical(tiny_config()); }

// ActNorm's data-dependent initialisation travels with the checkpoint: a resumed Glow is not
// re-initialised from its first resumed batch.
TEST(Trainer, GlowResumeGivesBitIdenticalParameters) { expect_resume_bit_identical(tiny_glow()); }

// A tabular flow trains on feature rows; its standardisation is fitted on the training set at the
// start and travels with the checkpoint (a resumed run does not refit it on anything).
TEST(Trainer, TabularResumeGivesBitIdenticalParametersAndStatistics) {
  expect_resume_bit_identical(tiny_tabular(), synthetic_features);
}

TEST(Trainer, TabularTrainingFitsStandardizationAndLowersTheLoss) {
  const auto train = synthetic_features(256, 1), test = synthetic_features(128, 2);
  auto c = tiny_tabular();
  c.train.epochs = 6;
  c.train.lr = 3e-3;
  TempDir dir("train");
  auto m = fresh_model(c);
  const auto r = run(m, c, dir.path().string(), train, test);
  auto st = std::dynamic_pointer_cast<fl::StandardizeImpl>(m->body().layers().front());
  ASSERT_TRUE(st && st->fitted());
  EXPECT_TRUE(torch::allclose(st->mean(), train.images.mean(0), 1e-4, 1e-4));
  // Test log-likelihood of the trained flow beats the fitted Gaussian (the flow at initialisation)
  // by learning the correlations.
  auto gaussian = fresh_model(c);
  fl::fit_standardization(*gaussian, train.images);
  const double before = tr::evaluate_bpd(*gaussian, test, 0, 64, 0);
  ASSERT_TRUE(r.test_bpd.has_value());
  EXPECT_LT(*r.test_bpd, before - 0.1) << "before " << before << " after " << *r.test_bpd;
}

TEST(Trainer, FinishedRunIsNotTrainedAgain) {
  const auto train = synthetic_images(16, 1), test = synthetic_images(8, 2);
  auto c = tiny_config();
  c.train.max_steps = 2;
  TempDir dir("train");
  auto m = fresh_model(c);
  run(m, c, dir.path().string(), train, test);
  auto m2 = fresh_model(c);
  const auto r = run(m2, c, dir.path().string(), train, test);
  EXPECT_EQ(r.resumed_from, 2);
  EXPECT_EQ(r.steps, 2);
  EXPECT_TRUE(fs::exists(dir.path() / "metrics.csv"));
}

TEST(Trainer, TrainingLowersTheLoss) {
  const auto train = synthetic_images(64, 1), test = synthetic_images(32, 2);
  auto c = tiny_config();
  c.train.epochs = 4;
  TempDir dir("train");
  auto m = fresh_model(c);
  const double before = tr::evaluate_bpd(*m, test, 0, 32, 0);
  const auto r = run(m, c, dir.path().string(), train, test);
  ASSERT_TRUE(r.test_bpd.has_value());
  EXPECT_LT(*r.test_bpd, before - 0.1) << "before " << before << " after " << *r.test_bpd;
}

TEST(Trainer, WeightDecayOnlyOnWeightNormGains) {
  auto c = tiny_config();
  auto m = fresh_model(c);
  auto opt = tr::make_optimizer(*m, c.train);
  ASSERT_EQ(opt->param_groups().size(), 2u);
  int64_t gains = 0;
  for (const auto& item : m->named_parameters())
    if (item.key().size() >= 8 && item.key().substr(item.key().size() - 8) == "weight_g") ++gains;
  EXPECT_EQ(static_cast<int64_t>(opt->param_groups()[0].params().size()), gains);
  EXPECT_DOUBLE_EQ(static_cast<torch::optim::AdamOptions&>(opt->param_groups()[0].options()).weight_decay(), 5e-5);
  EXPECT_DOUBLE_EQ(static_cast<torch::optim::AdamOptions&>(opt->param_groups()[1].options()).weight_decay(), 0.0);
}

TEST(Trainer, GlowAndTabularDecayEveryParameterUnlessTold) {
  auto c = tiny_glow();
  auto glow = fresh_model(c);
  auto opt = tr::make_optimizer(*glow, c.train);
  ASSERT_EQ(opt->param_groups().size(), 1u);  // spec §5.2: weight decay on all parameters
  EXPECT_EQ(opt->param_groups()[0].params().size(), glow->parameters().size());
  EXPECT_DOUBLE_EQ(static_cast<torch::optim::RMSpropOptions&>(opt->param_groups()[0].options()).weight_decay(), 5e-5);
  c.train.weight_decay_on = "gains";
  EXPECT_EQ(tr::make_optimizer(*glow, c.train)->param_groups().size(), 2u);
  auto r = tiny_config();
  r.train.weight_decay_on = "all";
  auto realnvp = fresh_model(r);
  EXPECT_EQ(tr::make_optimizer(*realnvp, r.train)->param_groups().size(), 1u);
  EXPECT_TRUE(tr::decays_all_parameters("auto", "tabular"));
  EXPECT_FALSE(tr::decays_all_parameters("auto", "coupling"));
  EXPECT_THROW(tr::decays_all_parameters("some", "glow"), flowood::ConfigError);
}

TEST(Checkpoint, RoundTripsModelAndRejectsMismatch) {
  auto c = tiny_config();
  auto m = fresh_model(c);
  TempDir dir("train");
  const auto path = (dir.path() / "c.pt").string();
  tr::save_checkpoint(path, *m, nullptr, {7, "cfg", ""});
  EXPECT_FALSE(fs::exists(path + ".tmp." + std::to_string(::getpid())));
  auto c2 = c;
  c2.seed = 99;
  auto other = fresh_model(c2);
  const auto info = tr::load_checkpoint(path, *other, nullptr, torch::kCPU);
  EXPECT_EQ(info.step, 7);
  EXPECT_EQ(info.config_text, "cfg");
  for (const auto& item : m->named_parameters())
    EXPECT_TRUE(torch::equal(item.value(), other->named_parameters()[item.key()]));
  auto c3 = c;
  c3.model.mid_channels = 8;
  auto wrong = fresh_model(c3);
  EXPECT_THROW(tr::load_checkpoint(path, *wrong, nullptr, torch::kCPU), flowood::IoError);
  EXPECT_THROW(tr::load_checkpoint((dir.path() / "missing.pt").string(), *wrong, nullptr, torch::kCPU), flowood::IoError);
}

}  // namespace

// CUDA: the same model scores the same images alike on the GPU and the CPU (same noise, drawn on
// the CPU), and a training run on the GPU lowers the loss. Skipped without a GPU.
TEST(Trainer, CudaScoresLikeCpuAndTrains_CUDA) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device (a CPU LibTorch or no GPU): nothing to compare";
  const auto train = synthetic_images(64, 1), test = synthetic_images(32, 2);
  auto c = tiny_config();
  auto cpu = fresh_model(c);
  auto gpu = fresh_model(c);
  gpu->to(torch::kCUDA);
  const double on_cpu = tr::evaluate_bpd(*cpu, test, 0, 16, 0);
  const double on_gpu = tr::evaluate_bpd(*gpu, test, 0, 16, 0);
  EXPECT_NEAR(on_gpu, on_cpu, 1e-3 * std::abs(on_cpu));
  c.train.epochs = 4;
  TempDir dir("train_cuda");
  const auto r = run(gpu, c, dir.path().string(), train, test);
  ASSERT_TRUE(r.test_bpd.has_value());
  EXPECT_LT(*r.test_bpd, on_gpu - 0.1);
  for (const auto& p : gpu->parameters()) EXPECT_TRUE(p.is_cuda());
}

// metrics.jsonl mirrors metrics.csv, one JSON object per logged step, and a resumed run keeps
// each step once in both.
TEST(Trainer, MetricsJsonLinesMatchTheCsvAcrossAResume) {
  const auto train = synthetic_images(40, 1), test = synthetic_images(16, 2);
  auto c = tiny_config();
  c.train.log_every = 1;
  c.train.max_steps = 3;
  c.train.checkpoint_every = 2;
  TempDir dir("train_jsonl");
  auto m = fresh_model(c);
  run(m, c, dir.path().string(), train, test);
  // As if the run had logged step 4 and died before its checkpoint: the resume from step 3
  // drops that line from both logs before writing its own.
  std::ofstream(dir.path() / "metrics.jsonl", std::ios::app) << "{\"step\": 4, \"stale\": true}\n";
  std::ofstream(dir.path() / "metrics.csv", std::ios::app) << "4,0,1,1,,1,1\n";
  c.train.max_steps = 6;
  auto m2 = fresh_model(c);
  run(m2, c, dir.path().string(), train, test);
  std::ifstream jsonl(dir.path() / "metrics.jsonl");
  std::vector<flowood::io::Json> lines;
  for (std::string line; std::getline(jsonl, line);) lines.push_back(flowood::io::parse_json(line, "metrics.jsonl"));
  ASSERT_EQ(lines.size(), 6u);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].at("step").get<int64_t>(), static_cast<int64_t>(i + 1));
    EXPECT_TRUE(lines[i].at("train_bpd").is_number());
    EXPECT_TRUE(lines[i].at("test_bpd").is_null() || lines[i].at("test_bpd").is_number());
    EXPECT_FALSE(lines[i].contains("stale"));
  }
  EXPECT_TRUE(lines.back().at("test_bpd").is_number()) << "the last step is evaluated";
  const auto csv = flowood::io::read_csv((dir.path() / "metrics.csv").string());
  ASSERT_EQ(csv.num_rows(), 6u);
  EXPECT_DOUBLE_EQ(csv.column("train_bpd")[2], std::stod(fmt::format("{:.6f}", lines[2].at("train_bpd").get<double>())));
}

namespace {

// Issue 18: a diverged model must never reach a checkpoint, and a checkpoint holding NaN must not load.
TEST(Trainer, DivergenceStopsBeforeANonFiniteCheckpointIsWritten) {
  TempDir dir("trainer_diverge");
  auto c = tiny_config();
  c.train.lr = 1e6;  // diverges within a few steps
  c.train.checkpoint_every = 1;
  c.train.epochs = 20;
  auto model = fresh_model(c);
  std::string what;
  try {
    run(model, c, dir.path().string(), synthetic_images(32, 1), synthetic_images(16, 2));
  } catch (const flowood::Error& e) {
    what = e.what();
  }
  ASSERT_NE(what.find("training diverged at step"), std::string::npos) << what;
  const auto ckpt = (dir.path() / "checkpoint.pt").string();
  if (fs::exists(ckpt)) {  // whatever is on disk is finite and loads
    auto again = fresh_model(c);
    EXPECT_NO_THROW(tr::load_checkpoint(ckpt, *again, nullptr, torch::kCPU));
    EXPECT_NE(what.find("the last finite checkpoint is step"), std::string::npos) << what;
  }
}

TEST(Trainer, ACheckpointHoldingNanDoesNotLoad) {
  TempDir dir("trainer_nan_ckpt");
  const auto c = tiny_config();
  auto model = fresh_model(c);
  {
    torch::NoGradGuard no_grad;
    model->parameters().front().view({-1})[0] = std::nan("");
  }
  const auto ckpt = (dir.path() / "checkpoint.pt").string();
  tr::save_checkpoint(ckpt, *model, nullptr, {7, "test", ""});
  auto fresh = fresh_model(c);
  try {
    tr::load_checkpoint(ckpt, *fresh, nullptr, torch::kCPU);
    FAIL() << "expected IoError";
  } catch (const flowood::IoError& e) {
    EXPECT_EQ(e.path(), ckpt);
    EXPECT_NE(std::string(e.what()).find("non-finite values (NaN or inf) in " + model->named_parameters().begin()->key()),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(tr::first_non_finite(*fresh_model(c)), std::nullopt);
}

}  // namespace

// Negative training (spec §5.4): the OOD term lowers the OOD log-likelihood (sign test on a tiny
// flow), and with every OOD example below the threshold the step is plain maximum likelihood.
TEST(NegativeTrainingTest, StepLowersTheOodLikelihood) {
  // From the same initialisation, k negative-training steps leave the OOD examples with a lower
  // log-likelihood than k plain maximum-likelihood steps on the same in-distribution batches.
  auto c = tiny_tabular();
  c.model.standardize = false;
  c.model.in_shape = {2};
  c.model.masks = {"tabular x2"};
  c.train.lr = 1e-2;
  auto gen = at::detail::createCPUGenerator(11);
  const auto x = at::randn({64, 2}, gen);
  const auto xn = at::randn({64, 2}, gen) * 0.3 + 1.5;  // a shifted cluster
  const auto u = torch::zeros_like(x);
  const auto ood_loglik_after = [&](bool negative_term, int64_t& kept) {
    torch::manual_seed(5);
    auto model = fl::make_flow(c.model);
    auto optimizer = tr::make_optimizer(*model, c.train);
    flowood::config::NegativeConfig negative;
    negative.threshold = -1e9;  // every OOD example contributes
    for (int i = 0; i < 10; ++i) {
      if (negative_term)
        tr::negative_train_step(*model, *optimizer, x, u, xn, u, negative, 100.0, kept);
      else
        tr::train_step(*model, *optimizer, x, u, 100.0);
    }
    torch::NoGradGuard no_grad;
    model->eval();
    return model->log_prob_from(model->forward_with_noise(xn, u)).mean().item<double>();
  };
  int64_t kept = 0;
  const double plain = ood_loglik_after(false, kept);
  const double negative = ood_loglik_after(true, kept);
  EXPECT_EQ(kept, 64);
  EXPECT_LT(negative, plain - 0.5) << "the OOD term did not lower the OOD log-likelihood";
}

TEST(NegativeTrainingTest, NoOodExampleAboveTheThresholdIsPlainMaximumLikelihood) {
  auto c = tiny_tabular();
  c.model.standardize = false;
  c.model.in_shape = {2};
  c.model.masks = {"tabular x2"};
  auto gen = at::detail::createCPUGenerator(12);
  const auto x = at::randn({16, 2}, gen), xn = at::randn({16, 2}, gen);
  const auto u = torch::zeros_like(x);
  torch::manual_seed(6);
  auto a = fl::make_flow(c.model);
  torch::manual_seed(6);
  auto b = fl::make_flow(c.model);
  auto oa = tr::make_optimizer(*a, c.train), ob = tr::make_optimizer(*b, c.train);
  flowood::config::NegativeConfig negative;
  negative.threshold = 1e9;  // nothing is above: the OOD term is off
  int64_t kept = -1;
  const double la = tr::negative_train_step(*a, *oa, x, u, xn, u, negative, 100.0, kept);
  const double lb = tr::train_step(*b, *ob, x, u, 100.0);
  EXPECT_EQ(kept, 0);
  EXPECT_NEAR(la, lb, 1e-5);
  const auto pa = a->parameters(), pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::allclose(pa[i], pb[i], 1e-5, 1e-6)) << i;
}

TEST(NegativeTrainingTest, TrainRefusesOodExamplesOfAnotherShape) {
  TempDir dir("negative_shape");
  auto c = tiny_tabular();
  torch::manual_seed(1);
  auto model = fl::make_flow(c.model);
  const auto train = synthetic_features(24, 1);
  auto negative = synthetic_features(24, 2);
  negative.spec = "other";
  negative.images = negative.images.narrow(1, 0, 4);
  tr::TrainerOptions o;
  o.train = c.train;
  o.run_dir = dir.path().string();
  o.negative = &negative;
  try {
    tr::train(*model, train, train, o);
    FAIL() << "trained with OOD examples of another shape";
  } catch (const flowood::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("other"), std::string::npos) << e.what();
  }
}

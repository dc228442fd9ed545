#include "flowood/embedding/classifier_training.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>

#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/core/rng.hpp"
#include "flowood/io/json_file.hpp"
#include "flowood/train/checkpoint.hpp"

namespace fs = std::filesystem;

namespace flowood::embedding {

double classifier_accuracy(ClassifierNetImpl& net, const data::ImageDataset& d, int64_t batch_size) {
  if (!d.has_labels()) throw DataError(d.spec, "has no labels to measure the classifier's accuracy on");
  const bool was_training = net.is_training();
  net.eval();
  torch::NoGradGuard no_grad;
  const auto device = net.parameters().front().device();
  int64_t correct = 0;
  const int64_t n = d.size();
  for (int64_t first = 0; first < n; first += batch_size) {
    const int64_t count = std::min(batch_size, n - first);
    const auto x = data::to_model_input(d.images.narrow(0, first, count), device);
    const auto predicted = net.forward(x).argmax(1).to(torch::kCPU);
    correct += predicted.eq(d.labels.narrow(0, first, count)).sum().item<int64_t>();
  }
  net.train(was_training);
  return n > 0 ? static_cast<double>(correct) / static_cast<double>(n) : std::nan("");
}

ClassifierTrainResult train_classifier(const data::ImageDataset& train_set, const data::ImageDataset& test_set,
                                       const ClassifierTrainOptions& o) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto& c = o.config;
  if (train_set.is_features() || train_set.images.dim() != 4)
    throw DataError(train_set.spec, "the classifier extractor trains on images [N, C, H, W]; this set holds feature rows");
  if (!train_set.has_labels())
    throw DataError(train_set.spec, "has no labels: embedding.extractor classifier trains on the in-distribution labels "
                                    "(use a labelled set, or embedding.extractor torchscript:PATH)");
  const int64_t n = train_set.size();
  if (n == 0) throw DataError(train_set.spec, "training set is empty");
  const int64_t num_classes = train_set.labels.max().item<int64_t>() + 1;
  if (train_set.labels.min().item<int64_t>() < 0) throw DataError(train_set.spec, "has negative labels");
  if (num_classes > 100000) throw DataError(train_set.spec, fmt::format("has label {}: too many classes", num_classes - 1));

  torch::manual_seed(derive_seed(o.seed, Stream::kClassifier, 0));
  ClassifierNetOptions net_options(train_set.images.size(1), num_classes);
  net_options.width(c.width).depth(c.depth);
  ClassifierNet net(net_options);
  net->to(o.device);
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(c.lr).weight_decay(c.weight_decay));

  fs::create_directories(o.dir);
  const auto ckpt = (fs::path(o.dir) / "checkpoint.pt").string();
  const auto metrics_json = (fs::path(o.dir) / "metrics.json").string();
  const int64_t per_epoch = (n + c.batch_size - 1) / c.batch_size;
  int64_t total = per_epoch * c.epochs;
  if (c.max_steps > 0) total = std::min(total, c.max_steps);
  const auto meta = io::Json{{"in_channels", net_options.in_channels()},
                             {"num_classes", num_classes},
                             {"width", c.width},
                             {"depth", c.depth},
                             {"image_shape", train_set.image_shape()}}
                        .dump();

  ClassifierTrainResult result;
  int64_t step = 0;
  if (fs::exists(ckpt)) {
    const auto info = train::read_checkpoint_info(ckpt);
    if (info.meta != meta)
      throw IoError(ckpt, fmt::format("holds a classifier of another layout ({}; this run needs {}): use a new run "
                                      "directory", info.meta, meta));
    step = train::load_checkpoint(ckpt, *net, &optimizer, o.device).step;
    result.resumed_from = step;
    if (step >= total && fs::exists(metrics_json)) {  // finished earlier: its accuracy is on record
      const auto m = io::read_json_file(metrics_json);
      if (m.contains("step") && m["step"] == step) {
        result.steps = step;
        if (m.contains("test_accuracy") && m["test_accuracy"].is_number()) {
          result.test_accuracy = m["test_accuracy"].get<double>();
          result.test_examples = m.value("test_examples", int64_t{0});
        }
        return result;
      }
    }
    if (step < total) log().info("classifier: resuming from {} at step {}", ckpt, step);
  }
  if (step < total)
    log().info("classifier: ResNet width {}, depth {}, {} classes, {} features on {}, {} parameters; {} steps ({} epochs "
               "of {} examples, batch {})", c.width, c.depth, num_classes, net->feature_dim(), o.device.str(), [&] {
                 int64_t k = 0;
                 for (const auto& p : net->parameters()) k += p.numel();
                 return k;
               }(), total, (total + per_epoch - 1) / per_epoch, n, c.batch_size);
  auto save = [&](int64_t at) {
    for (const auto& p : net->named_parameters())
      if (!torch::isfinite(p.value()).all().item<bool>())
        throw Error(fmt::format("classifier training diverged at step {} (non-finite {}); try a lower embedding.lr", at, p.key()));
    train::save_checkpoint(ckpt, *net, &optimizer, {at, o.config_text, meta});
  };
  net->train();
  torch::Tensor perm;
  int64_t perm_epoch = -1, seen = 0, correct = 0, images = 0;
  double loss_sum = 0;
  while (step < total) {
    const int64_t epoch = step / per_epoch, in_epoch = step % per_epoch;
    if (epoch != perm_epoch) {
      perm = torch::randperm(n, make_generator(o.seed, Stream::kClassifier, 1, static_cast<uint64_t>(epoch)),
                             torch::TensorOptions().dtype(torch::kLong));
      perm_epoch = epoch;
    }
    const int64_t first = in_epoch * c.batch_size, count = std::min(c.batch_size, n - first);
    const auto index = perm.narrow(0, first, count);
    const auto x = data::to_model_input(train_set.images.index_select(0, index), o.device);
    const auto y = train_set.labels.index_select(0, index).to(o.device);
    // Cosine decay from lr to 0 over the run (a function of the step: resume-exact).
    const double lr = c.lr * 0.5 * (1.0 + std::cos(M_PI * static_cast<double>(step) / static_cast<double>(total)));
    for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    optimizer.zero_grad();
    const auto logits = net->forward(x);
    const auto loss = torch::nn::functional::cross_entropy(logits, y);
    loss.backward();
    optimizer.step();
    ++step;
    const double loss_value = loss.item<double>();
    if (!std::isfinite(loss_value))
      throw Error(fmt::format("classifier training diverged at step {} (loss {}); try a lower embedding.lr", step, loss_value));
    loss_sum += loss_value * static_cast<double>(count);
    correct += logits.argmax(1).eq(y).sum().item<int64_t>();
    seen += count;
    images += count;
    const bool stopping = o.stop && o.stop->load();
    if (step % o.log_every == 0 || step == total || stopping) {
      const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
      log().info("classifier step {}/{} (epoch {}): loss {:.4f}, train accuracy {:.2f} % ({:.0f} images/s)", step, total,
                 epoch + 1, loss_sum / static_cast<double>(seen), 100.0 * static_cast<double>(correct) / static_cast<double>(seen),
                 static_cast<double>(images) / std::max(elapsed, 1e-9));
      loss_sum = 0, seen = 0, correct = 0;
    }
    if (step % 1000 == 0 || step == total || stopping) save(step);
    if (stopping && step < total) {
      result.stopped = true;
      break;
    }
  }
  result.steps = step;
  if (!result.stopped) {
    if (test_set.has_labels() && test_set.size() > 0 && test_set.labels.max().item<int64_t>() >= num_classes)
      throw DataError(test_set.spec, fmt::format("has label {} but the classifier knows classes 0–{} of {}",
                                                 test_set.labels.max().item<int64_t>(), num_classes - 1, train_set.spec));
    if (test_set.has_labels() && test_set.size() > 0) {
      result.test_accuracy = classifier_accuracy(*net, test_set, o.eval_batch_size);
      result.test_examples = test_set.size();
      log().info("classifier: test accuracy {:.2f} % on {} ({} examples)", 100.0 * result.test_accuracy, test_set.spec,
                 test_set.size());
    }
    io::write_json_file(metrics_json, io::Json{{"step", step},
                                               {"classes", num_classes},
                                               {"features", net->feature_dim()},
                                               {"test_set", test_set.spec},
                                               {"test_examples", result.test_examples},
                                               {"test_accuracy", result.test_examples ? io::Json(result.test_accuracy) : io::Json()}});
  }
  result.seconds = std::chrono::duration<double>(clock::now() - start).count();
  return result;
}

}  // namespace flowood::embedding

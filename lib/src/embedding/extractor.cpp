#include "flowood/embedding/extractor.hpp"

#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/nn/functional/upsampling.h>
#include <torch/script.h>

#include "flowood/core/error.hpp"
#include "flowood/embedding/classifier.hpp"
#include "flowood/io/json_file.hpp"
#include "flowood/io/sha256.hpp"
#include "flowood/train/checkpoint.hpp"

namespace fs = std::filesystem;

namespace flowood::embedding {
namespace {

class ClassifierExtractor : public Extractor {
 public:
  ClassifierExtractor(const std::string& checkpoint, const torch::Device& device) : device_(device) {
    const auto info = train::read_checkpoint_info(checkpoint);
    io::Json meta;
    try {
      meta = io::parse_json(info.meta, checkpoint);
    } catch (const Error& e) {
      throw IoError(checkpoint, std::string("not a classifier checkpoint (no readable layout): ") + e.what());
    }
    const auto field = [&](const char* key) {
      try {
        return io::json_int(io::json_at(meta, key));
      } catch (const Error& e) {
        throw IoError(checkpoint, std::string("not a classifier checkpoint: ") + e.what());
      }
    };
    ClassifierNetOptions options(field("in_channels"), field("num_classes"));
    options.width(field("width")).depth(field("depth"));
    net_ = ClassifierNet(options);
    step_ = train::load_checkpoint(checkpoint, *net_, nullptr, device).step;
    net_->eval();
    identity_ = fmt::format("classifier:step{}:sha256:{}", step_, io::sha256_file(checkpoint));
  }
  std::string describe() const override {
    const auto& o = net_->options();
    return fmt::format("classifier (width {}, depth {}, {} classes, {} features, step {})", o.width(), o.depth(),
                       o.num_classes(), net_->feature_dim(), step_);
  }
  std::string identity() const override { return identity_; }
  bool has_logits() const override { return true; }

 protected:
  std::pair<torch::Tensor, torch::Tensor> forward_batch(const torch::Tensor& x) override {
    if (x.size(1) != net_->options().in_channels())
      throw DataError("", fmt::format("has {} channels but the classifier was trained on {}", x.size(1),
                                      net_->options().in_channels()));
    const auto f = net_->features(x.to(device_));
    return {f, net_->logits(f)};
  }

 private:
  torch::Device device_;
  ClassifierNet net_{nullptr};
  int64_t step_ = 0;
  std::string identity_;
};

class TorchScriptExtractor : public Extractor {
 public:
  TorchScriptExtractor(std::string path, const config::EmbeddingConfig& config, const torch::Device& device)
      : path_(std::move(path)), config_(config), device_(device) {
    if (!fs::is_regular_file(path_)) throw IoError(path_, "no TorchScript module here (embedding.extractor torchscript:PATH)");
    try {
      module_ = torch::jit::load(path_, device_);
    } catch (const c10::Error& e) {
      throw IoError(path_, std::string("not a loadable TorchScript module (export it with torch.jit.trace or "
                                       "torch.jit.script, then .save(PATH)): ") + e.what_without_backtrace());
    }
    module_.eval();
    identity_ = fmt::format("torchscript:{}:{}:resize[{}]:channels{}:mean[{}]:std[{}]", path_, io::sha256_file(path_),
                            fmt::join(config.resize, ","), config.channels, fmt::join(config.mean, ","),
                            fmt::join(config.std, ","));
  }
  std::string describe() const override { return fmt::format("TorchScript module {}", path_); }
  std::string identity() const override { return identity_; }
  bool has_logits() const override { return false; }

 protected:
  std::pair<torch::Tensor, torch::Tensor> forward_batch(const torch::Tensor& x) override {
    const auto input = preprocess_images(x, config_, path_).to(device_);
    torch::jit::IValue out;
    try {
      out = module_.forward({input});
    } catch (const std::exception& e) {
      throw DataError(path_, fmt::format("the module rejects input of shape {}: {}", c10::str(input.sizes()),
                                         first_line(e.what())));
    }
    if (!out.isTensor())
      throw DataError(path_, fmt::format("the module returns a {}, not a tensor of features", out.tagKind()));
    auto f = out.toTensor();
    if (f.dim() != 2 && f.dim() != 4)
      throw DataError(path_, fmt::format("the module's output has shape {}: expected [B, D] features or a [B, C, H, W] "
                                         "map (flattened)", c10::str(f.sizes())));
    if (f.size(0) != x.size(0))
      throw DataError(path_, fmt::format("the module returns {} rows for a batch of {}", f.size(0), x.size(0)));
    return {f.flatten(1), torch::Tensor()};
  }

 private:
  static std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }
  std::string path_;
  config::EmbeddingConfig config_;
  torch::Device device_;
  torch::jit::script::Module module_;
  std::string identity_;
};

}  // namespace

Embeddings Extractor::embed(const data::ImageDataset& d, int64_t batch_size) {
  if (d.is_features() || d.images.dim() != 4)
    throw DataError(d.spec, "an extractor embeds images [N, C, H, W]; this dataset holds feature rows");
  Embeddings out;
  std::vector<torch::Tensor> features, logits;
  torch::NoGradGuard no_grad;
  const int64_t n = d.size();
  for (int64_t first = 0; first < n; first += batch_size) {
    const auto x = d.images.narrow(0, first, std::min(batch_size, n - first)).to(torch::kFloat32).div(255.0);
    std::pair<torch::Tensor, torch::Tensor> batch;
    try {
      batch = forward_batch(x);
    } catch (const DataError& e) {
      throw DataError(d.spec, e.what());
    }
    features.push_back(batch.first.to(torch::kCPU, torch::kFloat32));
    if (batch.second.defined()) logits.push_back(batch.second.to(torch::kCPU, torch::kFloat32));
  }
  out.features = n > 0 ? torch::cat(features) : torch::zeros({0, 0});
  if (!logits.empty()) out.logits = torch::cat(logits);
  if (!torch::isfinite(out.features).all().item<bool>())
    throw Error(fmt::format("the extractor ({}) gives non-finite features for {}", describe(), d.spec));
  if (d.has_labels()) out.labels = d.labels.to(torch::kInt64);
  return out;
}

std::string classifier_checkpoint(const std::string& run_dir) {
  return (fs::path(run_dir) / "extractor" / "checkpoint.pt").string();
}

std::unique_ptr<Extractor> make_extractor(const config::EmbeddingConfig& config, const std::string& checkpoint,
                                          const torch::Device& device) {
  const auto& name = config.extractor;
  if (name == "classifier") {
    if (!fs::is_regular_file(checkpoint))
      throw IoError(checkpoint, "no classifier checkpoint: train the run first (flowood train / flowood run)");
    return std::make_unique<ClassifierExtractor>(checkpoint, device);
  }
  const std::string prefix = "torchscript:";
  if (name.rfind(prefix, 0) == 0 && name.size() > prefix.size())
    return std::make_unique<TorchScriptExtractor>(name.substr(prefix.size()), config, device);
  throw ConfigError("embedding.extractor",
                    fmt::format("must be classifier or torchscript:PATH (got '{}')", name.empty() ? "" : name));
}

torch::Tensor preprocess_images(const torch::Tensor& x, const config::EmbeddingConfig& c, const std::string& spec) {
  auto y = x;
  if (!c.resize.empty())
    y = torch::nn::functional::interpolate(
        y, torch::nn::functional::InterpolateFuncOptions()
               .size(std::vector<int64_t>{c.resize[0], c.resize[1]})
               .mode(torch::kBilinear)
               .align_corners(false));
  if (c.channels > 1 && y.size(1) == 1) y = y.expand({y.size(0), c.channels, y.size(2), y.size(3)});
  if (c.channels > 0 && y.size(1) != c.channels)
    throw DataError(spec, fmt::format("images have {} channels; embedding.channels {} replicates single-channel images only",
                                      y.size(1), c.channels));
  if (!c.mean.empty()) {
    const auto k = static_cast<int64_t>(c.mean.size());
    if (k != 1 && k != y.size(1))
      throw DataError(spec, fmt::format("embedding.mean has {} entries for images of {} channels", k, y.size(1)));
    const auto mean = torch::tensor(c.mean, torch::kFloat32).view({1, k, 1, 1});
    const auto sd = torch::tensor(c.std, torch::kFloat32).view({1, k, 1, 1});
    y = (y - mean) / sd;
  }
  return y.contiguous();
}

}  // namespace flowood::embedding

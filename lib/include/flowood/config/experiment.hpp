#pragma once
/// Experiment configuration: plain aggregates with in-class defaults. Field names are the YAML
/// keys. `visit_fields` is the single list of keys: the YAML reader, `--set`, the resolved-config
/// writer, docs/config.md and the reference-config test all go through it.
#include <cstdint>
#include <string>
#include <vector>

namespace flowood::config {

struct ModelConfig {
  std::string flow = "realnvp";                  ///< one of flows::flow_names()
  std::vector<int64_t> in_shape = {1, 28, 28};   ///< [C, H, W] of the data ([D] for tabular)
  std::vector<std::string> masks = {};           ///< coupling / tabular: mask entries (mask_schedule.hpp)
  int64_t num_scales = 2;                        ///< RealNVP / Glow scales S
  int64_t num_steps = 16;                        ///< Glow steps of flow per scale K
  bool multi_scale = true;                       ///< Glow: factor out half the channels per scale
  bool conv_lu = false;                          ///< Glow: LU-decomposed 1×1 convolutions
  int64_t num_blocks = 6;                        ///< residual blocks B per st-network
  int64_t mid_channels = 64;                     ///< st-network width M at the first scale
  std::string st_net = "resnet";                 ///< one of flows::st_net_names()
  int64_t bottleneck_dim = 100;                  ///< l of the resnet-bottleneck st-network
  bool batch_norm = true;                        ///< batch norm inside st-networks
  bool skip = true;                              ///< 1×1 skip convolutions in the ResNet st-network
  double dropout = 0.0;                          ///< mlp st-network dropout probability
  bool standardize = false;                      ///< tabular: standardise features with the training set's mean/sd
};

struct DataConfig {
  std::string train = "fashion-mnist:train";     ///< training set spec
  std::string test = "fashion-mnist:test";       ///< in-distribution test set spec
  std::vector<std::string> ood = {"mnist:test"}; ///< out-of-distribution set specs
  std::vector<std::string> roots = {};           ///< extra data roots, searched first
  int64_t train_limit = 0;                       ///< first N training images (0 = all)
  int64_t test_limit = 0;                        ///< first N images of the test and OOD sets (0 = all)
};

/// Negative training (spec §5.4): each step adds a batch of OOD examples whose log-likelihood is
/// pushed down while it is above `threshold`.
struct NegativeConfig {
  std::string data;                              ///< OOD training set spec ("" = no negative training)
  double weight = 1.0;                           ///< weight w of the OOD term (1 = the reference's ½ · (in + out))
  double threshold = -100000.0;                  ///< nats: OOD examples below it stop contributing
};

struct TrainConfig {
  std::string optimizer = "adam";                ///< adam | rmsprop
  double lr = 5e-5;                              ///< learning rate
  double weight_decay = 5e-5;                    ///< L2 weight decay (spec §5.2)
  std::string weight_decay_on = "auto";          ///< auto | gains | all
  double max_grad_norm = 100.0;                  ///< clip per parameter group (0 = off)
  int64_t batch_size = 32;
  int64_t epochs = 82;                           ///< epochs actually run (the reference's num_epochs + 1)
  int64_t max_steps = 0;                         ///< stop after this many steps (0 = epochs decide)
  int64_t checkpoint_every = 1000;               ///< steps between checkpoints (and one at the end)
  bool keep_checkpoints = false;                 ///< also keep each as checkpoints/step-N.pt (model only; `flowood curve`)
  int64_t eval_every = 0;                        ///< steps between test evaluations (0 = each epoch)
  int64_t eval_limit = 1000;                     ///< test images per periodic evaluation (0 = all)
  int64_t log_every = 50;                        ///< steps between log lines
  double mutation_rate = 0.0;                    ///< replace each training pixel by a random value with this probability
  NegativeConfig negative;                       ///< negative training (off while negative.data is empty)
};

struct ScoreConfig {
  int64_t batch_size = 256;                      ///< images per scoring batch
  int64_t samples = 1;                           ///< dequantisation samples averaged per image (K)
  std::string codec = "png";                     ///< input-complexity compressor: png | jpeg2000
  int64_t typicality_batch = 10;                 ///< typicality: examples per tested batch (M)
  int64_t typicality_bootstrap = 1000;           ///< typicality: reference batches for the threshold
  double typicality_alpha = 0.01;                ///< typicality: false-alarm rate of the threshold
  std::string typicality_reference;              ///< typicality: in-distribution spec of the entropy estimate ("" = data.train)
  std::string typicality_heldout;                ///< typicality: held-out in-distribution spec of the threshold ("" = data.test after data.test_limit)
  std::string fit_data;                          ///< dose, gradient: in-distribution spec their fits are made on ("" = data.train)
  int64_t fit_limit = 2000;                      ///< dose, gradient, lid: first N examples of fit_data (0 = all)
  double lid_delta = -3.0;                       ///< lid: log of the noise scale σ, in pixels / 256 (e^−3 ≈ 0.05)
  int64_t lid_probes = 2;                        ///< lid: Hutchinson probes of the trace (0 = exact Jacobian)
  int64_t lid_steps = 32;                        ///< lid: Lanczos steps per quadratic form
  int64_t ensemble = 3;                          ///< waic: models in the ensemble (this run + ensemble − 1 seeds)
  int64_t bootstrap = 1000;                      ///< resamples of the metrics' confidence intervals (0 = none)
};

struct BackgroundConfig {
  double mutation_rate = 0.2;                    ///< likelihood-ratio background model: input mutation rate μ
  double weight_decay = 1e-4;                    ///< its L2 weight decay (on every parameter)
  int64_t max_steps = 0;                         ///< its training steps (0 = as train)
};

struct HistogramConfig {
  double clip_percent = 5.0;                     ///< drop the lowest p % of each set (paper: 5)
  int64_t bins = 60;
};

/// A flow on features (paper §8): the data go through a feature extractor first, and the flow
/// (model.flow: tabular) models the features.
struct EmbeddingConfig {
  std::string extractor;                         ///< "" (none: the flow models the data), classifier, torchscript:PATH
  int64_t width = 32;                            ///< classifier: channels of the first stage (stages w, 2w, 4w)
  int64_t depth = 1;                             ///< classifier: residual blocks per stage
  int64_t epochs = 3;                            ///< classifier: training epochs
  int64_t max_steps = 0;                         ///< classifier: stop after this many steps (0 = epochs decide)
  int64_t batch_size = 128;                      ///< classifier: training batch size
  double lr = 1e-3;                              ///< classifier: Adam learning rate
  double weight_decay = 5e-4;                    ///< classifier: L2 weight decay
  std::vector<int64_t> resize = {};              ///< torchscript: input [H, W] (empty = as the data)
  int64_t channels = 0;                          ///< torchscript: replicate grayscale to this many channels (0 = as the data)
  std::vector<double> mean = {};                 ///< torchscript: per-channel mean subtracted from pixels in [0, 1]
  std::vector<double> std = {};                  ///< torchscript: per-channel sd the pixels are divided by
};

struct ExperimentConfig {
  std::string name = "experiment";
  int64_t seed = 0;
  std::string device = "auto";                   ///< auto | cpu | cuda | cuda:N
  int64_t threads = 0;                           ///< intra-op threads (0 = the free CPUs this process may use)
  std::string layout = "auto";                   ///< auto | nchw | channels-last
  ModelConfig model;
  DataConfig data;
  EmbeddingConfig embedding;
  TrainConfig train;
  std::vector<std::string> scores = {"loglik"};  ///< OOD score methods run computes
  ScoreConfig score;
  BackgroundConfig background;
  HistogramConfig histogram;
};

/// Calls `v(key, field, doc)` for every key, sections in order. Works on const and non-const.
template <class Config, class Visitor>
void visit_fields(Config& c, Visitor&& v) {
  v("name", c.name, "Experiment name, shown in summaries and manifests.");
  v("seed", c.seed, "Seed of every random draw (initialisation, shuffling, dequantisation noise).");
  v("device", c.device, "auto (CUDA when available), cpu, cuda or cuda:N.");
  v("threads", c.threads,
    "Intra-op CPU threads; 0 = the CPUs this process may run on, less those busy with other work at start.");
  v("layout", c.layout,
    "Memory layout of the activations: nchw, channels-last, or auto (the faster on this machine, measured on the "
    "model's convolutions and cached; docs/performance.md#layout).");
  v("model.flow", c.model.flow,
    "Flow architecture: realnvp (multi-scale), coupling (a stack of couplings on the full image, "
    "model.masks), glow, tabular (couplings on vectors [D], model.masks).");
  v("model.in_shape", c.model.in_shape, "Per-example data shape [C, H, W] ([D] for tabular); must match the datasets.");
  v("model.masks", c.model.masks,
    "coupling and tabular flows: one entry per coupling layer, or an entry repeated with ' xK' "
    "(docs/architecture.md#masks), e.g. [checkerboard x8] or [cycle x2].");
  v("model.num_scales", c.model.num_scales,
    "realnvp and glow scales; realnvp squeezes after each but the last, glow before each.");
  v("model.num_steps", c.model.num_steps, "glow: steps of flow (ActNorm, 1×1 conv, coupling) per scale.");
  v("model.multi_scale", c.model.multi_scale, "glow: factor out half the channels after each scale but the last.");
  v("model.conv_lu", c.model.conv_lu, "glow: LU-decomposed invertible 1×1 convolutions (the reference uses plain).");
  v("model.num_blocks", c.model.num_blocks,
    "Residual blocks (resnet), highway layers (highway), hidden conv layers (convnet) or hidden layers (mlp) "
    "per st-network.");
  v("model.mid_channels", c.model.mid_channels,
    "st-network width (hidden units for mlp); realnvp doubles it at each squeeze.");
  v("model.st_net", c.model.st_net, "st-network type: resnet, resnet-bottleneck, highway, convnet, glow-convnet, mlp.");
  v("model.bottleneck_dim", c.model.bottleneck_dim,
    "resnet-bottleneck: width l of the Linear bottleneck after the middle residual block.");
  v("model.batch_norm", c.model.batch_norm, "Batch norm inside the resnet st-networks.");
  v("model.skip", c.model.skip, "1×1 skip-path convolutions in the resnet st-network.");
  v("model.dropout", c.model.dropout, "mlp: dropout probability after the first hidden layer (0 = none).");
  v("model.standardize", c.model.standardize,
    "tabular: a first layer (x − mean)/sd with the training set's per-feature mean and sd, fitted when "
    "training starts and saved with the model (the UCI protocol, spec §5.5); log-likelihoods stay densities "
    "of the original features.");
  v("data.train", c.data.train,
    "Training set spec: NAME[:SPLIT] or KIND:PATH, with ?options (docs/datasets.md); tabular flows also "
    "take feature arrays (npy:, npz:, csv:, arff:).");
  v("data.test", c.data.test, "In-distribution test set.");
  v("data.ood", c.data.ood, "Out-of-distribution sets (a list of specs).");
  v("data.roots", c.data.roots, "Extra data directories, searched before $FLOWOOD_DATA and the defaults.");
  v("data.train_limit", c.data.train_limit, "Use the first N training images (0 = all).");
  v("data.test_limit", c.data.test_limit, "Use the first N images of the test and OOD sets (0 = all).");
  v("train.optimizer", c.train.optimizer, "adam or rmsprop (PyTorch defaults otherwise).");
  v("train.lr", c.train.lr, "Learning rate.");
  v("train.weight_decay", c.train.weight_decay, "L2 weight decay (coupled, as Adam's weight_decay).");
  v("train.weight_decay_on", c.train.weight_decay_on,
    "Parameters that get weight decay: gains (weight-norm gains weight_g, the realnvp and coupling default), "
    "all (the glow and tabular default) or auto (the authors' choice for the flow).");
  v("train.max_grad_norm", c.train.max_grad_norm, "Gradient clipping norm, per parameter group (0 = off).");
  v("train.batch_size", c.train.batch_size, "Training batch size.");
  v("train.epochs", c.train.epochs, "Epochs to run (the reference runs num_epochs + 1: 82 for its 81).");
  v("train.max_steps", c.train.max_steps, "Stop after this many optimiser steps (0 = run all epochs).");
  v("train.checkpoint_every", c.train.checkpoint_every, "Steps between checkpoints; one is also written at the end.");
  v("train.keep_checkpoints", c.train.keep_checkpoints,
    "Also keep every checkpoint's model as RUN/checkpoints/step-N.pt, for `flowood curve` (bits/dim and AUROC "
    "along training).");
  v("train.eval_every", c.train.eval_every, "Steps between test-set evaluations (0 = at the end of each epoch).");
  v("train.eval_limit", c.train.eval_limit, "Test images used by periodic evaluations (0 = all).");
  v("train.log_every", c.train.log_every, "Steps between log lines.");
  v("train.mutation_rate", c.train.mutation_rate,
    "Replace each training pixel, with this probability, by a uniform random value (Ren et al.'s input "
    "perturbation; the likelihood-ratio background run sets it from background.mutation_rate).");
  v("train.negative.data", c.train.negative.data,
    "Negative training (spec §5.4): an OOD training set; each step adds a batch of it (same size, one batch "
    "through batch norm with the in-distribution one) whose log-likelihood is pushed down. Empty = off.");
  v("train.negative.weight", c.train.negative.weight,
    "Weight w of the OOD term: loss = (mean NLL_in + w · mean log p of the kept OOD examples) / (1 + w); "
    "1 gives the reference's ½ · (in + out).");
  v("train.negative.threshold", c.train.negative.threshold,
    "Nats: OOD examples whose log-likelihood is at or below it stop contributing (reference: −100000 for "
    "32×32×3 data, −30000 for 28×28).");
  v("embedding.extractor", c.embedding.extractor,
    "A flow on features (paper §8): classifier (a ResNet trained on data.train's labels), torchscript:PATH "
    "(an exported network), or empty (the flow models the data itself). Needs model.flow: tabular with "
    "model.in_shape [D], D the feature width.");
  v("embedding.width", c.embedding.width, "classifier: channels of the first stage; stages have w, 2w, 4w; features D = 4w.");
  v("embedding.depth", c.embedding.depth, "classifier: residual blocks per stage (three stages).");
  v("embedding.epochs", c.embedding.epochs, "classifier: training epochs.");
  v("embedding.max_steps", c.embedding.max_steps, "classifier: stop after this many steps (0 = epochs decide).");
  v("embedding.batch_size", c.embedding.batch_size, "classifier: training batch size.");
  v("embedding.lr", c.embedding.lr, "classifier: Adam learning rate (cosine decay to 0 over the run).");
  v("embedding.weight_decay", c.embedding.weight_decay, "classifier: L2 weight decay.");
  v("embedding.resize", c.embedding.resize, "torchscript: resize inputs to [H, W] (bilinear); empty = as the data.");
  v("embedding.channels", c.embedding.channels,
    "torchscript: replicate single-channel images to this many channels (3 for ImageNet networks); 0 = as the data.");
  v("embedding.mean", c.embedding.mean, "torchscript: per-channel mean subtracted from pixels in [0, 1]; empty = none.");
  v("embedding.std", c.embedding.std, "torchscript: per-channel sd the pixels are divided by; empty = none.");
  v("scores", c.scores,
    "OOD scores run computes, each compared on the metrics table: loglik, bpd, input-complexity, "
    "likelihood-ratio, typicality, waic, bn-train, level-ratio, dose, gradient, lid; with embedding.extractor also msp, energy (classifier) and "
    "mahalanobis (docs/scores.md).");
  v("score.batch_size", c.score.batch_size, "Images per scoring batch.");
  v("score.samples", c.score.samples, "Dequantisation samples K averaged per image (log-mean-exp).");
  v("score.codec", c.score.codec, "input-complexity: lossless compressor for L(x), png (level 9) or jpeg2000.");
  v("score.typicality_batch", c.score.typicality_batch, "typicality: examples M per tested batch.");
  v("score.typicality_bootstrap", c.score.typicality_bootstrap,
    "typicality: batches drawn from the reference data to set the threshold.");
  v("score.typicality_alpha", c.score.typicality_alpha,
    "typicality: false-alarm rate; the threshold is the (1 − alpha) quantile of the reference batches' statistic.");
  v("score.typicality_reference", c.score.typicality_reference,
    "typicality: in-distribution data of the entropy estimate (empty = data.train, first data.test_limit examples).");
  v("score.typicality_heldout", c.score.typicality_heldout,
    "typicality: held-out in-distribution data of the bootstrap threshold (empty = the data.test examples after "
    "the first data.test_limit, i.e. data.test?skip=N; data.train when there are none).");
  v("score.fit_data", c.score.fit_data,
    "dose, gradient and lid: in-distribution data their reference statistics are fitted on (empty = data.train).");
  v("score.fit_limit", c.score.fit_limit, "dose, gradient and lid: first N examples of score.fit_data (0 = all).");
  v("score.lid_delta", c.score.lid_delta,
    "lid: log σ of the noise the linearised flow is convolved with, σ in the data's units (pixels / 256 for images).");
  v("score.lid_probes", c.score.lid_probes,
    "lid: Rademacher probes of the Hutchinson trace estimate; 0 = the exact Jacobian (D backward passes per example).");
  v("score.lid_steps", c.score.lid_steps, "lid: Lanczos steps (Gauss quadrature nodes) per quadratic form.");
  v("score.ensemble", c.score.ensemble,
    "waic: models in the ensemble: this run plus ensemble − 1 more trained with seeds seed+1, … (run dir ensemble/).");
  v("score.bootstrap", c.score.bootstrap, "Resamples for the metrics' 95 % bootstrap confidence intervals (0 = none).");
  v("background.mutation_rate", c.background.mutation_rate,
    "likelihood-ratio: mutation rate μ of the background model's training inputs.");
  v("background.weight_decay", c.background.weight_decay,
    "likelihood-ratio: L2 weight decay of the background model (on every parameter).");
  v("background.max_steps", c.background.max_steps, "likelihood-ratio: background training steps (0 = as train).");
  v("histogram.clip_percent", c.histogram.clip_percent, "Drop the lowest p % of each set before binning.");
  v("histogram.bins", c.histogram.bins, "Number of histogram bins.");
}

/// One problem found by validate(): the key and what is wrong with it
/// (phrased to follow the key, e.g. "must be >= 1 (got 0)").
struct ConfigProblem {
  std::string key;
  std::string message;
  bool warning = false;  ///< reported, but the configuration is usable
};

/// Problems of the plain values (seed, threads, data, train, score, background, histogram). The
/// model and the scores list are checked by flows::check_model and ood::check_scores;
/// experiment::validate joins all three.
std::vector<ConfigProblem> validate(const ExperimentConfig& config);

}  // namespace flowood::config

#pragma once
/// Looking inside a flow (reference-spec §7, paper §5–§6): latents in image layout, and the
/// activations, scales and shifts of every coupling layer mapped to full resolution.
#include <string>
#include <vector>

#include <torch/types.h>

#include "flowood/flows/flow_model.hpp"

namespace flowood::flows {

/// One coupling layer seen on a batch, every tensor in the body's input layout [N, C, H, W]
/// (squeezes undone; channels factored out earlier put back: the set-aside values for input and
/// output, neutral values for scale and shift).
struct CouplingView {
  size_t step = 0;          ///< index of the layer in the body
  std::string label;        ///< "step 3: checkerboard (reversed)"
  torch::Tensor input;      ///< the layer's input activation
  torch::Tensor output;     ///< the layer's output activation
  torch::Tensor scale;      ///< exp(s): 1 where nothing is transformed
  torch::Tensor shift;      ///< −t: 0 where nothing is transformed
  torch::Tensor region;     ///< 1 where the layer transforms, 0 elsewhere
};

/// Runs x [N, C, H, W] (pixels in [0, 1]) with dequantisation noise u through the model in its
/// current mode and returns one view per coupling layer, in order.
std::vector<CouplingView> trace_couplings(FlowModelImpl& model, const torch::Tensor& x, const torch::Tensor& u);

/// The latent of x with noise u placed back in image layout [N, C, H, W] (the "reshape model").
torch::Tensor latent_image(FlowModelImpl& model, const torch::Tensor& x, const torch::Tensor& u);

/// Whether the model has batch norm layers (running statistics) anywhere.
bool has_batch_norm(torch::nn::Module& model);

/// latent_image with batch norm in train mode: statistics of the batch x itself (paper §5,
/// spec §7). The model's running statistics and mode are restored afterwards.
torch::Tensor latent_image_train_mode(FlowModelImpl& model, const torch::Tensor& x, const torch::Tensor& u);

/// Normalised error of −t as a prediction of the transformed values, per example [N]:
/// Σ_T (−t − x)² / Σ_T (x − mean_T x)² over the transformed positions T (0 = perfect prediction,
/// 1 = no better than the mean). The paper (§6) observes in- and out-of-distribution inputs
/// are predicted equally well.
torch::Tensor predictability_error(const CouplingView& view);

/// Sobel gradient magnitude per channel, replicate-padded: [N, C, H, W] → [N, C, H, W].
torch::Tensor sobel_magnitude(const torch::Tensor& images);

/// Pearson correlation per example between a and b ([N, ...] each, flattened), [N]; 0 when
/// either is constant.
torch::Tensor pearson_per_example(const torch::Tensor& a, const torch::Tensor& b);

/// Correlation per example between |latent| (image layout) and the Sobel edge magnitude of the
/// input image — the paper's observation (§5) that latents keep the shape of the input.
torch::Tensor edge_correlation(const torch::Tensor& latent_image, const torch::Tensor& images);

}  // namespace flowood::flows

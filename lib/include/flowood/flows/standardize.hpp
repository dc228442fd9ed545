#pragma once
/// Feature standardisation as the first layer of a tabular flow: y = (x − mean) / sd per feature,
/// with mean and sd fitted once on the training set (the UCI protocol of reference-spec §5.5) and
/// saved with the model, so scoring applies the training set's statistics and the log-likelihood
/// stays a density of the original features (log-det −Σ log sd).
#include <string>

#include <torch/types.h>

#include "flowood/flows/flow_layer.hpp"
#include "flowood/flows/flow_model.hpp"

namespace flowood::flows {

class StandardizeImpl : public FlowLayerImpl {
 public:
  explicit StandardizeImpl(int64_t dim);

  /// x [N, D] → ((x − mean)/sd, −Σ log sd). Throws flowood::Error before fit().
  FlowResult forward(const torch::Tensor& x) override;
  torch::Tensor inverse(const torch::Tensor& y) override;
  std::string describe() const override;

  /// Sets mean and sd from rows [N, D] (sd of a constant feature is taken as 1).
  void fit(const torch::Tensor& rows);
  /// True after fit(), or when loaded from a fitted checkpoint (the buffer `fitted`).
  bool fitted() const;
  const torch::Tensor& mean() const { return mean_; }
  const torch::Tensor& sd() const { return sd_; }

 private:
  torch::Tensor mean_, sd_, fitted_;
};

/// Fits every not-yet-fitted Standardize layer of `model` on `rows` [N, D] (the training set).
/// Returns true when one was fitted.
bool fit_standardization(FlowModelImpl& model, const torch::Tensor& rows);

}  // namespace flowood::flows

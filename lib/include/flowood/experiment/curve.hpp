#pragma once
/// The training curve of a run: mean test bits/dim and the log-likelihood's AUROC against each OOD
/// set at every checkpoint the run kept (train.keep_checkpoints: RUN/checkpoints/step-N.pt), so a
/// user sees which conclusions hold as training proceeds and which belong to one training length.
#include <cstdint>
#include <string>
#include <vector>

#include "flowood/experiment/config_codec.hpp"
#include "flowood/experiment/run_dir.hpp"

namespace flowood::experiment {

/// One evaluated checkpoint.
struct CurvePoint {
  int64_t step = 0;
  double test_bpd = 0;        ///< mean bits/dim of the test images
  std::vector<double> auroc;  ///< loglik AUROC, test set (positive) against each OOD set, in TrainingCurve::ood order
};

struct TrainingCurve {
  std::string test;             ///< the in-distribution spec (data.test)
  std::vector<std::string> ood; ///< data.ood
  int64_t limit = 0;            ///< images per set
  std::vector<CurvePoint> points;  ///< in step order
};

/// The kept checkpoints of `run` (and its final checkpoint.pt when its step is not among them),
/// each scored on the first `limit` images (0: data.test_limit) of data.test and of every data.ood
/// set with the run's score settings (score.batch_size, score.samples, the seed's noise: the numbers
/// `flowood score` gives at that step). `device_flag` empty: the run's device. Throws IoError when
/// the run kept no checkpoints, a kept checkpoint belongs to another config or is damaged, and
/// DataError when a model gives NaN log-likelihoods.
TrainingCurve training_curve(const RunPaths& run, const ConfigCodec& codec, int64_t limit,
                             const std::string& device_flag);

/// Writes `dir`/curve.csv (step, test_bpd, auroc[<spec>] per OOD set; metadata: test, limit) and the
/// plots `dir`/curve_bpd.png and `dir`/curve_auroc.png. Returns the three paths.
std::vector<std::string> write_training_curve(const TrainingCurve& curve, const std::string& dir);

}  // namespace flowood::experiment

#pragma once
/// Labelled grids of image panels as PNG: the figures of visualize-latents, visualize-coupling
/// and sample.
#include <string>
#include <vector>

#include <torch/types.h>

namespace flowood::viz {

/// How a panel's values become grey levels (per panel).
enum class PanelScale {
  kUnit,         ///< values in [0, 1] (pixels), clipped
  kClip,         ///< clipped to [lo, hi] then mapped to [0, 1] (latents: [−2, 2] as the paper)
  kStandardise,  ///< (v − mean) / sd, clipped to ±2.5 sd (the paper's coupling panels)
};

/// One cell: an [H, W], [1, H, W] or [3, H, W] tensor (3 channels are shown as RGB), or an
/// undefined tensor for an empty cell.
struct Panel {
  torch::Tensor values;
  PanelScale scale = PanelScale::kUnit;
  double lo = -2.0, hi = 2.0;  ///< for kClip
};

struct GridOptions {
  std::string title;
  int pixel = 4;  ///< screen pixels per data pixel (nearest-neighbour upscaling)
  int gap = 4;    ///< pixels between cells
};

/// rows[r][c] is the panel in row r, column c; `row_labels` (one per row, may be empty) on the
/// left, `column_labels` (one per column, may be empty) on top. Writes the PNG atomically;
/// IoError(path) on failure, ConfigError("panels") when rows are ragged or a panel's shape is
/// not an image.
void write_grid_png(const std::string& path, const std::vector<std::vector<Panel>>& rows,
                    const std::vector<std::string>& row_labels, const std::vector<std::string>& column_labels,
                    const GridOptions& options = {});

/// A panel's values as 8-bit [H, W, 1 or 3] (what the grid draws), for tests.
torch::Tensor panel_to_bytes(const Panel& panel);

}  // namespace flowood::viz

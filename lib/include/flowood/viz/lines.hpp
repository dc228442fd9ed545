#pragma once
/// Line plots as PNG (ROC and precision–recall curves, training curves), drawn with OpenCV in the
/// style of histogram.hpp: colour-blind-safe palette, labelled axes with ticks, legend, title.
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace flowood::viz {

/// One curve: a legend label and its points, drawn in order.
struct LineSeries {
  /// Legend label; empty = "series N" (1-based position).
  std::string label;
  /// x coordinates, one per point.
  std::vector<double> x;
  /// y coordinates, one per point (same length as x).
  std::vector<double> y;
  /// Draw dashed instead of solid.
  bool dashed = false;
};

/// Appearance of a line plot.
struct LinePlotOptions {
  /// Plot title; empty = no title.
  std::string title;
  /// x-axis label (say the unit); empty = none.
  std::string x_label;
  /// y-axis label; empty = none.
  std::string y_label;
  /// Visible x interval [low, high] with low < high (both > 0 with log_x); unset = the data's
  /// min/max widened by 3 % on each side (in log10 space with log_x).
  std::optional<std::pair<double, double>> x_range;
  /// Visible y interval [low, high] with low < high; unset = the data's min/max widened by 3 %.
  std::optional<std::pair<double, double>> y_range;
  /// Draw the dashed grey y = x chance line (ROC plots), with a legend row "chance".
  bool diagonal = false;
  /// Logarithmic x axis (ticks at powers of ten); points with x <= 0 are treated as missing.
  bool log_x = false;
  /// Image width in pixels, in [320, 10000] (fonts grow with images larger than 900×600).
  int width = 900;
  /// Image height in pixels, in [240, 10000].
  int height = 600;
};

/// Renders the series as lines (one colour per series, in input order; legend in the corner that
/// hides the fewest drawn pixels) and writes the PNG to `path` atomically: on any failure no
/// partial file is left. A point whose x or y is NaN or ±inf is missing: it breaks its line, which
/// resumes at the next point; a point with missing neighbours on both sides is drawn as a dot.
/// Lines leaving the ranges are clipped at the axes.
/// ConfigError("size" / "x_range" / "y_range") for bad options; DataError(label) when a series'
/// x and y differ in length or it has no finite point, DataError("") when `series` is empty;
/// IoError(path) when the file cannot be written.
void write_line_plot_png(const std::string& path, const std::vector<LineSeries>& series,
                         const LinePlotOptions& options = {});

}  // namespace flowood::viz

#pragma once
/// Drawing pieces shared by the PNG plots (histogram.cpp, lines.cpp): palette, font sizes, text
/// fitting, tick placement, the axes box with its labels, the legend box, and the PNG write.
/// Private to the library: no header under include/ exposes OpenCV.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace flowood::viz::plot {

/// Colour of series `i` (BGR), cycling through the Okabe–Ito colour-blind-safe palette: blue,
/// orange, bluish green, vermillion, reddish purple, sky blue, yellow, black.
cv::Scalar palette(std::size_t i);

inline const cv::Scalar kBlack(0, 0, 0);
inline const cv::Scalar kWhite(255, 255, 255);
inline const cv::Scalar kLegendEdge(190, 190, 190);
inline constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

/// Font sizes and strokes, tuned at 900x600 and scaled up with larger images (never down: Hershey
/// text below ~0.45 stops being readable).
struct Style {
  Style(int width, int height);
  /// `v` pixels at 900x600, scaled like the fonts.
  int px(double v) const { return cvRound(v * k); }
  double k, tick, label, title;
  int stroke, outline, tick_len, gap;
};

/// ConfigError("size") unless the image is between 320x240 and 10000x10000 pixels.
void check_image_size(int width, int height);

/// Pixel extent of a text: width, height above the baseline, depth below it.
struct TextSize {
  int w, h, base;
};

/// Size of `s` in the plot font.
TextSize text_size(const std::string& s, double scale, int thickness);

/// A text and the font scale to draw it at.
struct FittedText {
  std::string text;
  double scale;
};

/// `s` fitted into `max_w` pixels: the font shrinks down to 75 % of `scale`, then the text is
/// cut with "...". An empty `s` stays empty.
FittedText fit_text(const std::string& s, double scale, int thickness, int max_w);

/// Draws `t` in black with its box centred horizontally on cx and its top at `top`.
void put_centered(cv::Mat& img, const FittedText& t, int cx, int top, int thickness);

/// Tick step from the 1-2-5 series giving about `target` intervals over `range`.
double nice_step(double range, int target);

/// A tick label with as many decimals as `step` needs (never "-0").
std::string format_tick(double v, double step);

/// Tick values, their labels and the widest label in pixels.
struct Ticks {
  std::vector<double> values;
  std::vector<std::string> labels;
  int max_width = 0;
};

/// Multiples of a nice step in [lo, hi], about `target` intervals.
Ticks make_ticks(double lo, double hi, int target, const Style& st);

/// x ticks over [lo, hi]: as many as fit in `plot_w` pixels without neighbouring labels coming
/// closer than 14 px.
Ticks make_x_ticks(double lo, double hi, int plot_w, const Style& st);

/// Title and axis labels fitted to the image, and the margins above and below the axes box that
/// they and the x tick labels need.
struct AxisText {
  FittedText title, x_label, y_label;
  int top = 0;     ///< first row of the axes box
  int bottom = 0;  ///< rows below the axes box
};

/// Fits the title and x label to the image width and the y label (drawn rotated) to the height
/// left for the axes box.
AxisText fit_axis_text(const Style& st, int width, int height, const std::string& title,
                       const std::string& x_label, const std::string& y_label);

/// The axes box: the left margin holds the rotated y label and y tick labels `y_tick_width` wide,
/// the right margin half of `last_x_label` (the rightmost x tick label). ConfigError("size") when
/// the box left is too small to plot in.
cv::Rect axes_box(const AxisText& text, const Style& st, int width, int height, int y_tick_width,
                  const std::string& last_x_label);

/// Draws the axes frame, the ticks and their labels; `x_px` / `y_px` map a value to its pixel
/// column / row. Ticks that fall outside the box are skipped.
void draw_axes(cv::Mat& img, const cv::Rect& plot, const Ticks& x_ticks, const Ticks& y_ticks,
               const std::function<int(double)>& x_px, const std::function<int(double)>& y_px, const Style& st);

/// Draws the x label under the x tick labels, the y label rotated left of the axes, and the title.
void draw_axis_text(cv::Mat& img, const AxisText& text, const cv::Rect& plot, const Style& st);

/// A legend: rows of a key (swatch or line sample) and a label, in one font size.
struct Legend {
  cv::Rect box;  ///< size set by size_legend; the caller places it
  std::vector<FittedText> labels;
  int row_h = 0;
};

/// Sizes a legend for `labels` at most 60 % of `plot_width` wide (labels shrink, then are cut).
Legend size_legend(const std::vector<std::string>& labels, int plot_width, const Style& st);

/// Draws the legend box and its labels; `draw_key(row, rect)` draws the key of each row in `rect`.
void draw_legend(cv::Mat& img, const Legend& legend, const Style& st,
                 const std::function<void(std::size_t, const cv::Rect&)>& draw_key);

/// Encodes `img` as PNG and writes it to `path` atomically. IoError(path) when it cannot.
void write_png(const std::string& path, const cv::Mat& img);

}  // namespace flowood::viz::plot

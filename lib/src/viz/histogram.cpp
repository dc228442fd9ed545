#include "flowood/viz/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "flowood/core/error.hpp"
#include "flowood/io/atomic_file.hpp"

namespace flowood::viz {
namespace {

// Okabe–Ito colour-blind-safe palette (BGR): blue, orange, bluish green, vermillion,
// reddish purple, sky blue, yellow, black.
const cv::Scalar kPalette[] = {
    {178, 114, 0}, {0, 159, 230}, {115, 158, 0}, {0, 94, 213},
    {167, 121, 204}, {233, 180, 86}, {66, 228, 240}, {0, 0, 0},
};
constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

const cv::Scalar kBlack(0, 0, 0);
const cv::Scalar kWhite(255, 255, 255);
const cv::Scalar kLegendEdge(190, 190, 190);
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

// Font sizes and strokes, tuned at 900x600 and scaled up with larger images (never down: Hershey
// text below ~0.45 stops being readable).
struct Style {
  explicit Style(const HistogramOptions& o) {
    k = std::max(1.0, std::min(o.width / 900.0, o.height / 600.0));
    tick = 0.5 * k;
    label = 0.6 * k;
    title = 0.7 * k;
    stroke = std::max(1, cvRound(k));
    outline = std::max(2, cvRound(2 * k));
    tick_len = cvRound(5 * k);
    gap = cvRound(6 * k);
  }
  int px(double v) const { return cvRound(v * k); }
  double k, tick, label, title;
  int stroke, outline, tick_len, gap;
};

// Column-name / metadata-safe form of a label.
std::string clean_label(std::string s) {
  for (char& c : s)
    if (c == ',' || c == '=' || c == '\n' || c == '\r') c = '_';
  return s;
}

struct TextSize {
  int w, h, base;
};

TextSize text_size(const std::string& s, double scale, int thickness) {
  int base = 0;
  const cv::Size sz = cv::getTextSize(s, kFont, scale, thickness, &base);
  return {sz.width, sz.height, base};
}

// A text that fits `max_w` pixels: the font shrinks down to 75 % of `scale`, then the text is
// cut with "...".
struct FittedText {
  std::string text;
  double scale;
};

FittedText fit_text(const std::string& s, double scale, int thickness, int max_w) {
  for (double f = 1.0; f >= 0.75 - 1e-9; f -= 0.05)
    if (text_size(s, scale * f, thickness).w <= max_w) return {s, scale * f};
  const double small = scale * 0.75;
  std::string cut = s;
  while (!cut.empty() && text_size(cut + "...", small, thickness).w > max_w) cut.pop_back();
  return {cut + "...", small};
}

// Draws `t` with its box centred horizontally on cx and its top at y.
void put_centered(cv::Mat& img, const FittedText& t, int cx, int top, int thickness) {
  const TextSize sz = text_size(t.text, t.scale, thickness);
  cv::putText(img, t.text, {cx - sz.w / 2, top + sz.h}, kFont, t.scale, kBlack, thickness, cv::LINE_AA);
}

// Tick step from the 1-2-5 series giving about `target` intervals over `range`.
double nice_step(double range, int target) {
  const double raw = range / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0) * mag;
}

std::string format_tick(double v, double step) {
  if (std::fabs(v) < step * 1e-9) v = 0.0;  // no "-0"
  char buf[64];
  if (step >= 1e-6 && std::fabs(v) < 1e9) {
    const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
    std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.3g", v);
  }
  return buf;
}

struct Ticks {
  std::vector<double> values;
  std::vector<std::string> labels;
  int max_width = 0;
};

Ticks make_ticks(double lo, double hi, int target, const Style& st) {
  Ticks t;
  const double step = nice_step(hi - lo, target);
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k += 1.0) {
    t.values.push_back(k * step);
    t.labels.push_back(format_tick(k * step, step));
    t.max_width = std::max(t.max_width, text_size(t.labels.back(), st.tick, st.stroke).w);
  }
  return t;
}

// x ticks: as many as fit without neighbouring labels coming closer than 14 px.
Ticks make_x_ticks(double lo, double hi, int plot_w, const Style& st) {
  for (int target = 10; target >= 2; --target) {
    Ticks t = make_ticks(lo, hi, target, st);
    if (t.values.size() < 2) return t;
    const double px_step = (t.values[1] - t.values[0]) / (hi - lo) * plot_w;
    if (px_step >= t.max_width + st.px(14)) return t;
  }
  return make_ticks(lo, hi, 1, st);
}

void check_options(const HistogramOptions& o) {
  if (o.bins < 1 || o.bins > 10000) throw ConfigError("bins", "must be in [1, 10000] (got " + std::to_string(o.bins) + ")");
  if (!(o.drop_lowest_fraction >= 0.0 && o.drop_lowest_fraction < 1.0))
    throw ConfigError("drop_lowest_fraction", "must be in [0, 1) (got " + std::to_string(o.drop_lowest_fraction) + ")");
  if (o.width < 320 || o.height < 240 || o.width > 10000 || o.height > 10000)
    throw ConfigError("size", "image must be between 320x240 and 10000x10000 pixels (got " + std::to_string(o.width) +
                                  "x" + std::to_string(o.height) + ")");
  if (!(o.alpha > 0.0 && o.alpha <= 1.0)) throw ConfigError("alpha", "must be in (0, 1] (got " + std::to_string(o.alpha) + ")");
}

struct Layout {
  cv::Rect plot;  // the axes box
  double x_lo = 0, x_hi = 1, y_max = 1;
  Ticks x_ticks, y_ticks;
  FittedText title, x_label, y_label;
  std::vector<FittedText> legend_labels;
  cv::Rect legend;
  int legend_row_h = 0;

  int px(double x) const { return plot.x + cvRound((x - x_lo) / (x_hi - x_lo) * plot.width); }
  int py(double y) const { return plot.y + plot.height - cvRound(y / y_max * plot.height); }
};

// Places the axes box, ticks and legend so that no text overlaps or leaves the image, and puts
// the legend in the upper corner where it forces the least headroom above the bars.
Layout make_layout(const Histogram& h, const HistogramOptions& o, const Style& st) {
  Layout L;
  const double range = h.edges.back() - h.edges.front();
  L.x_lo = h.edges.front() - 0.03 * range;
  L.x_hi = h.edges.back() + 0.03 * range;
  double d_max = 0.0;
  for (const auto& d : h.densities) d_max = std::max(d_max, *std::max_element(d.begin(), d.end()));
  if (!(d_max > 0.0)) d_max = 1.0;

  const int edge = st.px(14);  // empty border around everything
  L.title = fit_text(o.title, st.title, st.stroke, o.width - 2 * edge);
  L.x_label = fit_text(o.x_label, st.label, st.stroke, o.width - 2 * edge);
  const TextSize digits = text_size("0123456789", st.tick, st.stroke);
  const TextSize title = text_size(L.title.text, L.title.scale, st.stroke);
  const TextSize xlab = text_size(L.x_label.text, L.x_label.scale, st.stroke);
  const int top = o.title.empty() ? st.px(20) : edge + title.h + title.base + st.px(14);
  const int bottom =
      st.tick_len + st.gap + digits.h + (o.x_label.empty() ? 0 : st.px(14) + xlab.h + xlab.base) + edge;
  const int plot_h = o.height - top - bottom;
  L.y_label = fit_text(o.y_label, st.label, st.stroke, std::max(10, plot_h));
  const TextSize ylab = text_size(L.y_label.text, L.y_label.scale, st.stroke);

  L.y_max = d_max * 1.05;
  for (int pass = 0; pass < 4; ++pass) {  // y-tick widths and legend headroom depend on each other
    L.y_ticks = make_ticks(0.0, L.y_max, 6, st);
    const int left = edge + (o.y_label.empty() ? 0 : ylab.h + ylab.base + st.px(12)) + L.y_ticks.max_width +
                     st.gap + st.tick_len;
    const std::string last_x = format_tick(L.x_hi, nice_step(L.x_hi - L.x_lo, 10));
    const int right = std::max(st.px(24), text_size(last_x, st.tick, st.stroke).w / 2 + st.px(8));
    L.plot = cv::Rect(left, top, o.width - left - right, plot_h);
    if (L.plot.width < 80 || L.plot.height < 60)
      throw ConfigError("size", "image " + std::to_string(o.width) + "x" + std::to_string(o.height) +
                                    " is too small for the axes and labels");

    // Legend: rows of swatch + label, at most 60 % of the plot wide.
    const int pad = st.px(10), swatch_w = st.px(26), swatch_gap = st.px(8);
    const int max_text_w = static_cast<int>(0.6 * L.plot.width) - 2 * pad - swatch_w - swatch_gap;
    L.legend_labels.clear();
    double legend_scale = st.tick;  // one font size for all rows: the smallest any label needs
    for (const auto& label : h.labels)
      legend_scale = std::min(legend_scale, fit_text(label, st.tick, st.stroke, std::max(20, max_text_w)).scale);
    int text_w = 0, text_h = 0;
    for (const auto& label : h.labels) {
      std::string text = label;  // cut only labels too long even at the smallest size
      if (text_size(text, legend_scale, st.stroke).w > std::max(20, max_text_w)) {
        while (!text.empty() && text_size(text + "...", legend_scale, st.stroke).w > std::max(20, max_text_w))
          text.pop_back();
        text += "...";
      }
      L.legend_labels.push_back({text, legend_scale});
      const TextSize t = text_size(L.legend_labels.back().text, legend_scale, st.stroke);
      text_w = std::max(text_w, t.w);
      text_h = std::max(text_h, t.h + t.base);
    }
    L.legend_row_h = std::max(text_h, st.px(14)) + st.px(10);
    const int legend_w = pad + swatch_w + swatch_gap + text_w + pad;
    const int legend_h = static_cast<int>(h.labels.size()) * L.legend_row_h + st.px(10);

    // Headroom each corner would need so the bars under the legend end below it.
    const int margin = st.px(10);
    double best_ymax = std::numeric_limits<double>::infinity();
    cv::Rect best_rect(L.plot.x + L.plot.width - margin - legend_w, L.plot.y + margin, legend_w, legend_h);
    for (const bool right_corner : {true, false}) {
      const int lx = right_corner ? L.plot.x + L.plot.width - margin - legend_w : L.plot.x + margin;
      const cv::Rect rect(lx, L.plot.y + margin, legend_w, legend_h);
      double under = 0.0;  // highest density drawn under the legend's x span
      for (std::size_t s = 0; s < h.densities.size(); ++s)
        for (std::size_t i = 0; i + 1 < h.edges.size(); ++i) {
          const double x0 = L.plot.x + (h.edges[i] - L.x_lo) / (L.x_hi - L.x_lo) * L.plot.width;
          const double x1 = L.plot.x + (h.edges[i + 1] - L.x_lo) / (L.x_hi - L.x_lo) * L.plot.width;
          if (x1 >= rect.x - 4 && x0 <= rect.x + rect.width + 4) under = std::max(under, h.densities[s][i]);
        }
      const double free_px = L.plot.height - (rect.y + rect.height + st.px(6) - L.plot.y);
      const double need = free_px > 10 ? under * L.plot.height / free_px : std::numeric_limits<double>::infinity();
      const double ymax = std::max(d_max * 1.05, need);
      if (ymax < best_ymax * 0.999) {  // prefer the right corner on (near) ties
        best_ymax = ymax;
        best_rect = rect;
      }
    }
    L.legend = best_rect;
    L.y_max = std::isfinite(best_ymax) ? best_ymax : d_max * 1.05;
  }
  L.y_ticks = make_ticks(0.0, L.y_max, 6, st);
  L.x_ticks = make_x_ticks(L.x_lo, L.x_hi, L.plot.width, st);
  return L;
}

cv::Mat render(const Histogram& h, const HistogramOptions& o) {
  const Style st(o);
  const Layout L = make_layout(h, o, st);
  cv::Mat img(o.height, o.width, CV_8UC3, kWhite);

  // Filled bars, one translucent layer per series.
  const std::size_t n_bins = h.edges.size() - 1;
  for (std::size_t s = 0; s < h.densities.size(); ++s) {
    const cv::Scalar colour = kPalette[s % kPaletteSize];
    cv::Mat roi = img(L.plot);
    cv::Mat overlay = roi.clone();
    for (std::size_t i = 0; i < n_bins; ++i) {
      if (h.counts[s][i] == 0) continue;
      const cv::Point a(L.px(h.edges[i]) - L.plot.x, L.py(h.densities[s][i]) - L.plot.y);
      const cv::Point b(L.px(h.edges[i + 1]) - L.plot.x - 1, L.plot.height - 1);
      cv::rectangle(overlay, a, b, colour, cv::FILLED);
    }
    cv::addWeighted(overlay, o.alpha, roi, 1.0 - o.alpha, 0.0, roi);
  }
  // Opaque step outlines on top, so every series stays visible where they overlap. One outline
  // per run of non-empty bins, none along the x axis, which would hide the axis line.
  for (std::size_t s = 0; s < h.densities.size(); ++s) {
    for (std::size_t i = 0; i < n_bins;) {
      if (h.counts[s][i] == 0) {
        ++i;
        continue;
      }
      std::vector<cv::Point> pts;
      pts.emplace_back(L.px(h.edges[i]), L.py(0.0));
      for (; i < n_bins && h.counts[s][i] > 0; ++i) {
        pts.emplace_back(L.px(h.edges[i]), L.py(h.densities[s][i]));
        pts.emplace_back(L.px(h.edges[i + 1]), L.py(h.densities[s][i]));
      }
      pts.emplace_back(pts.back().x, L.py(0.0));
      cv::polylines(img, pts, false, kPalette[s % kPaletteSize], st.outline, cv::LINE_AA);
    }
  }

  // Axes box, ticks and tick labels.
  cv::rectangle(img, L.plot, kBlack, st.stroke);
  const int y_axis_bottom = L.plot.y + L.plot.height;
  const TextSize digits = text_size("0123456789", st.tick, st.stroke);
  for (std::size_t k = 0; k < L.x_ticks.values.size(); ++k) {
    const int x = L.px(L.x_ticks.values[k]);
    if (x < L.plot.x || x > L.plot.x + L.plot.width) continue;
    cv::line(img, {x, y_axis_bottom}, {x, y_axis_bottom + st.tick_len}, kBlack, st.stroke);
    put_centered(img, {L.x_ticks.labels[k], st.tick}, x, y_axis_bottom + st.tick_len + st.gap, st.stroke);
  }
  for (std::size_t k = 0; k < L.y_ticks.values.size(); ++k) {
    const int y = L.py(L.y_ticks.values[k]);
    if (y < L.plot.y || y > y_axis_bottom) continue;
    cv::line(img, {L.plot.x - st.tick_len, y}, {L.plot.x, y}, kBlack, st.stroke);
    const TextSize t = text_size(L.y_ticks.labels[k], st.tick, st.stroke);
    cv::putText(img, L.y_ticks.labels[k], {L.plot.x - st.tick_len - st.gap - t.w, y + digits.h / 2}, kFont, st.tick,
                kBlack, st.stroke, cv::LINE_AA);
  }

  // Axis labels and title.
  if (!o.x_label.empty())
    put_centered(img, L.x_label, L.plot.x + L.plot.width / 2,
                 y_axis_bottom + st.tick_len + st.gap + digits.h + st.px(14), st.stroke);
  if (!o.y_label.empty()) {
    // Rendered horizontally on its own canvas, rotated, then darkened into the image.
    const TextSize t = text_size(L.y_label.text, L.y_label.scale, st.stroke);
    cv::Mat label(t.h + t.base + 4, t.w + 4, CV_8UC3, kWhite);
    cv::putText(label, L.y_label.text, {2, t.h + 2}, kFont, L.y_label.scale, kBlack, st.stroke, cv::LINE_AA);
    cv::rotate(label, label, cv::ROTATE_90_COUNTERCLOCKWISE);
    const int x = st.px(14);
    const int y = std::max(0, L.plot.y + L.plot.height / 2 - label.rows / 2);
    const cv::Rect dst(x, y, std::min(label.cols, img.cols - x), std::min(label.rows, img.rows - y));
    cv::Mat target = img(dst);
    cv::min(target, label(cv::Rect(0, 0, dst.width, dst.height)), target);
  }
  if (!o.title.empty()) put_centered(img, L.title, o.width / 2, st.px(14), st.stroke);

  // Legend.
  cv::rectangle(img, L.legend, kWhite, cv::FILLED);
  cv::rectangle(img, L.legend, kLegendEdge, st.stroke);
  for (std::size_t s = 0; s < L.legend_labels.size(); ++s) {
    const cv::Scalar colour = kPalette[s % kPaletteSize];
    const int row_top = L.legend.y + st.px(5) + static_cast<int>(s) * L.legend_row_h;
    const int mid = row_top + L.legend_row_h / 2;
    const cv::Rect swatch(L.legend.x + st.px(10), mid - st.px(7), st.px(26), st.px(14));
    cv::Mat sw = img(swatch);
    cv::Mat fill(sw.size(), sw.type(), colour);
    cv::addWeighted(fill, o.alpha, sw, 1.0 - o.alpha, 0.0, sw);
    cv::rectangle(img, swatch, colour, st.outline);
    const FittedText& label = L.legend_labels[s];
    const TextSize t = text_size(label.text, label.scale, st.stroke);
    cv::putText(img, label.text, {swatch.x + swatch.width + st.px(8), mid + t.h / 2}, kFont, label.scale, kBlack,
                st.stroke, cv::LINE_AA);
  }
  return img;
}

}  // namespace

io::CsvTable Histogram::to_table() const {
  io::CsvTable t;
  const std::size_t n_bins = edges.empty() ? 0 : edges.size() - 1;
  t.add_column("bin_left", std::vector<double>(edges.begin(), edges.begin() + static_cast<std::ptrdiff_t>(n_bins)));
  t.add_column("bin_right", std::vector<double>(edges.begin() + 1, edges.end()));
  std::vector<std::string> names;
  for (const auto& label : labels) {
    std::string name = clean_label(label);
    for (int k = 2; std::find(names.begin(), names.end(), name) != names.end(); ++k)
      name = clean_label(label) + "_" + std::to_string(k);
    names.push_back(name);
  }
  for (std::size_t s = 0; s < labels.size(); ++s)
    t.add_column("count[" + names[s] + "]", std::vector<double>(counts[s].begin(), counts[s].end()));
  for (std::size_t s = 0; s < labels.size(); ++s) t.add_column("density[" + names[s] + "]", densities[s]);
  for (std::size_t s = 0; s < labels.size(); ++s) {
    t.meta["n_kept[" + names[s] + "]"] = std::to_string(n_kept[s]);
    t.meta["n_dropped[" + names[s] + "]"] = std::to_string(n_dropped[s]);
  }
  return t;
}

Histogram compute_histogram(const std::vector<HistogramSeries>& series, int bins, double drop_lowest_fraction) {
  if (bins < 1 || bins > 10000) throw ConfigError("bins", "must be in [1, 10000] (got " + std::to_string(bins) + ")");
  if (!(drop_lowest_fraction >= 0.0 && drop_lowest_fraction < 1.0))
    throw ConfigError("drop_lowest_fraction", "must be in [0, 1) (got " + std::to_string(drop_lowest_fraction) + ")");
  if (series.empty()) throw DataError("", "histogram needs at least one series");

  Histogram h;
  std::vector<std::vector<double>> kept;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (std::size_t s = 0; s < series.size(); ++s) {
    const std::string label = series[s].label.empty() ? "series " + std::to_string(s + 1) : series[s].label;
    std::vector<double> v = series[s].values;
    const auto nans = std::count_if(v.begin(), v.end(), [](double x) { return std::isnan(x); });
    if (nans) throw DataError(label, std::to_string(nans) + " of " + std::to_string(v.size()) + " values are NaN");
    std::sort(v.begin(), v.end());
    const auto drop = static_cast<std::size_t>(std::floor(drop_lowest_fraction * static_cast<double>(v.size()) + 1e-9));
    v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(drop));
    if (v.empty()) throw DataError(label, "no values left to plot (" + std::to_string(series[s].values.size()) + " given)");
    const auto infs = std::count_if(v.begin(), v.end(), [](double x) { return std::isinf(x); });
    if (infs)
      throw DataError(label, std::to_string(infs) + " infinite values remain after dropping the lowest " +
                                 std::to_string(drop) + "; they cannot be binned");
    lo = std::min(lo, v.front());
    hi = std::max(hi, v.back());
    h.labels.push_back(label);
    h.n_kept.push_back(static_cast<std::int64_t>(v.size()));
    h.n_dropped.push_back(static_cast<std::int64_t>(drop));
    kept.push_back(std::move(v));
  }
  if (hi == lo) {  // one distinct value: give it a unit-wide range
    lo -= 0.5;
    hi += 0.5;
  }
  h.edges.resize(static_cast<std::size_t>(bins) + 1);
  for (int i = 0; i <= bins; ++i) h.edges[static_cast<std::size_t>(i)] = lo + (hi - lo) * i / bins;
  h.edges.back() = hi;
  const double width = (hi - lo) / bins;
  for (const auto& v : kept) {
    std::vector<std::int64_t> c(static_cast<std::size_t>(bins), 0);
    for (const double x : v) {
      auto i = static_cast<std::int64_t>((x - lo) / (hi - lo) * bins);
      c[static_cast<std::size_t>(std::clamp<std::int64_t>(i, 0, bins - 1))] += 1;
    }
    std::vector<double> d(c.size());
    for (std::size_t i = 0; i < c.size(); ++i) d[i] = static_cast<double>(c[i]) / (static_cast<double>(v.size()) * width);
    h.counts.push_back(std::move(c));
    h.densities.push_back(std::move(d));
  }
  return h;
}

void write_histogram_csv(const std::string& path, const Histogram& histogram) { io::write_csv(path, histogram.to_table()); }

Histogram write_histogram_png(const std::string& path, const std::vector<HistogramSeries>& series,
                              const HistogramOptions& options) {
  check_options(options);
  Histogram h = compute_histogram(series, options.bins, options.drop_lowest_fraction);
  const cv::Mat img = render(h, options);
  std::vector<unsigned char> png;
  if (!cv::imencode(".png", img, png)) throw IoError(path, "PNG encoding failed");
  io::write_file_atomic(path, png.data(), png.size());
  if (!options.csv_path.empty()) write_histogram_csv(options.csv_path, h);
  return h;
}

}  // namespace flowood::viz

#include "flowood/viz/lines.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "flowood/core/error.hpp"
#include "plot_util.hpp"

namespace flowood::viz {
namespace {

using plot::Style;
using plot::Ticks;

const cv::Scalar kChanceGrey(128, 128, 128);

// A point in pixel coordinates relative to the axes box (double, before rounding).
struct Px {
  double x, y;
};

// The checked input: per series, runs of consecutive usable points (a run of one is a dot).
struct Prepared {
  std::vector<std::string> labels;
  std::vector<bool> dashed;
  std::vector<std::vector<std::vector<std::pair<double, double>>>> runs;  // [series][run][point]
};

void check_range(const std::optional<std::pair<double, double>>& range, const char* key, bool positive) {
  if (!range) return;
  const auto [lo, hi] = *range;
  if (!(std::isfinite(lo) && std::isfinite(hi) && lo < hi))
    throw ConfigError(key, "must be two finite numbers low < high (got " + std::to_string(lo) + ", " +
                               std::to_string(hi) + ")");
  if (positive && lo <= 0.0)
    throw ConfigError(key, "must be > 0 with a logarithmic x axis (got low " + std::to_string(lo) + ")");
}

Prepared prepare(const std::vector<LineSeries>& series, bool log_x) {
  if (series.empty()) throw DataError("", "line plot needs at least one series");
  Prepared p;
  for (std::size_t s = 0; s < series.size(); ++s) {
    const LineSeries& in = series[s];
    const std::string label = in.label.empty() ? "series " + std::to_string(s + 1) : in.label;
    if (in.x.size() != in.y.size())
      throw DataError(label, "x has " + std::to_string(in.x.size()) + " values but y has " +
                                 std::to_string(in.y.size()));
    std::vector<std::vector<std::pair<double, double>>> runs;
    bool in_run = false;
    for (std::size_t i = 0; i < in.x.size(); ++i) {
      const bool usable = std::isfinite(in.x[i]) && std::isfinite(in.y[i]) && (!log_x || in.x[i] > 0.0);
      if (!usable) {
        in_run = false;
        continue;
      }
      if (!in_run) runs.emplace_back();
      runs.back().emplace_back(in.x[i], in.y[i]);
      in_run = true;
    }
    if (runs.empty())
      throw DataError(label, "no finite point" + std::string(log_x ? " with x > 0" : "") + " among " +
                                 std::to_string(in.x.size()) + " to plot");
    p.labels.push_back(label);
    p.dashed.push_back(in.dashed);
    p.runs.push_back(std::move(runs));
  }
  return p;
}

// [low, high] of the data (through `t`), widened by 3 % each side; a single value gets ±0.5.
std::pair<double, double> data_range(const Prepared& p, bool use_x, double (*t)(double)) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& runs : p.runs)
    for (const auto& run : runs)
      for (const auto& [x, y] : run) {
        const double v = t(use_x ? x : y);
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
  if (hi == lo) return {lo - 0.5, hi + 0.5};
  const double margin = 0.03 * (hi - lo);
  return {lo - margin, hi + margin};
}

double identity(double v) { return v; }
double log10_of(double v) { return std::log10(v); }

// Ticks for a log axis over the exponents [lo, hi], as many as fit `plot_w` pixels with labels
// 14 px apart: 1-2-5 multiples of powers of ten over at most 2.5 decades, else powers of ten
// (every stride-th); plain nice ticks, placed logarithmically, when fewer than two powers of ten
// are in range. plot_w <= 0 (before the box is known): the densest candidate.
Ticks log_ticks(double lo, double hi, int plot_w, const Style& st) {
  auto build = [&](const std::vector<double>& mantissas, int stride) {
    Ticks t;
    for (double e = std::floor(lo); e <= std::ceil(hi); e += stride)
      for (const double m : mantissas) {
        const double v = m * std::pow(10.0, e);
        if (std::log10(v) < lo - 1e-9 || std::log10(v) > hi + 1e-9) continue;
        t.values.push_back(v);
        t.labels.push_back(plot::format_tick(v, std::pow(10.0, e)));
        t.max_width = std::max(t.max_width, plot::text_size(t.labels.back(), st.tick, st.stroke).w);
      }
    return t;
  };
  auto fits = [&](const Ticks& t) {
    for (std::size_t k = 1; plot_w > 0 && k < t.values.size(); ++k)
      if ((std::log10(t.values[k]) - std::log10(t.values[k - 1])) / (hi - lo) * plot_w < t.max_width + st.px(14))
        return false;
    return true;
  };
  if (build({1.0}, 1).values.size() >= 2) {
    if (hi - lo <= 2.5) {
      Ticks t = build({1.0, 2.0, 5.0}, 1);
      if (fits(t)) return t;
    }
    for (int stride = 1;; ++stride) {
      Ticks t = build({1.0}, stride);
      if (fits(t) || t.values.size() <= 2) return t;
    }
  }
  const Ticks linear = plot::make_ticks(std::pow(10.0, lo), std::pow(10.0, hi), 5, st);
  Ticks t;  // without ticks at or below 0, which have no place on a log axis
  for (std::size_t k = 0; k < linear.values.size(); ++k)
    if (linear.values[k] > 0.0) {
      t.values.push_back(linear.values[k]);
      t.labels.push_back(linear.labels[k]);
    }
  t.max_width = linear.max_width;
  return t;
}

struct LinesLayout {
  cv::Rect plot;  // the axes box
  double x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;  // x limits in log10 space with log_x
  bool log_x = false;
  Ticks x_ticks, y_ticks;
  plot::AxisText text;
  plot::Legend legend;

  // Pixel offsets from the box's top-left corner.
  double rel_x(double x) const { return ((log_x ? std::log10(x) : x) - x_lo) / (x_hi - x_lo) * plot.width; }
  double rel_y(double y) const { return plot.height - (y - y_lo) / (y_hi - y_lo) * plot.height; }
  Px to_px(double x, double y) const { return {rel_x(x), rel_y(y)}; }
  // Absolute pixel column / row.
  int px(double x) const { return plot.x + cvRound(rel_x(x)); }
  int py(double y) const { return plot.y + cvRound(rel_y(y)); }
};

LinesLayout make_layout(const Prepared& p, const LinePlotOptions& o, const Style& st) {
  LinesLayout L;
  L.log_x = o.log_x;
  std::tie(L.x_lo, L.x_hi) = o.x_range ? *o.x_range : data_range(p, true, o.log_x ? log10_of : identity);
  if (o.x_range && o.log_x) std::tie(L.x_lo, L.x_hi) = std::pair(std::log10(L.x_lo), std::log10(L.x_hi));
  std::tie(L.y_lo, L.y_hi) = o.y_range ? *o.y_range : data_range(p, false, identity);

  L.text = plot::fit_axis_text(st, o.width, o.height, o.title, o.x_label, o.y_label);
  L.y_ticks = plot::make_ticks(L.y_lo, L.y_hi, 6, st);
  std::string last_x;
  if (o.log_x) {
    const Ticks all = log_ticks(L.x_lo, L.x_hi, 0, st);
    last_x = all.labels.empty() ? "" : all.labels.back();
  } else {
    last_x = plot::format_tick(L.x_hi, plot::nice_step(L.x_hi - L.x_lo, 10));
  }
  L.plot = plot::axes_box(L.text, st, o.width, o.height, L.y_ticks.max_width, last_x);
  L.x_ticks = o.log_x ? log_ticks(L.x_lo, L.x_hi, L.plot.width, st) : plot::make_x_ticks(L.x_lo, L.x_hi, L.plot.width, st);

  std::vector<std::string> labels = p.labels;
  if (o.diagonal) labels.push_back("chance");
  L.legend = plot::size_legend(labels, L.plot.width, st);
  return L;
}

// Liang–Barsky: clips the segment a–b to [x0, x1] × [y0, y1]; false when nothing is left.
bool clip_segment(Px& a, Px& b, double x0, double y0, double x1, double y1) {
  double t0 = 0.0, t1 = 1.0;
  const double dx = b.x - a.x, dy = b.y - a.y;
  const double p[] = {-dx, dx, -dy, dy};
  const double q[] = {a.x - x0, x1 - a.x, a.y - y0, y1 - a.y};
  for (int i = 0; i < 4; ++i) {
    if (p[i] == 0.0) {
      if (q[i] < 0.0) return false;
      continue;
    }
    const double r = q[i] / p[i];
    if (p[i] < 0.0) t0 = std::max(t0, r);
    else t1 = std::min(t1, r);
    if (t0 > t1) return false;
  }
  const Px start{a.x + t0 * dx, a.y + t0 * dy};
  b = {a.x + t1 * dx, a.y + t1 * dy};
  a = start;
  return true;
}

// Draws polylines into `target` (for the curves the axes box, so OpenCV clips them to it) with a
// dash pattern whose phase carries over from segment to segment, and records sample points of what
// it drew (every ~2 px) so the legend can avoid them.
class Pen {
 public:
  Pen(cv::Mat& roi, cv::Scalar colour, int thickness, double dash_on, double dash_off, std::vector<Px>* samples)
      : roi_(roi), colour_(colour), thickness_(thickness), on_(dash_on), off_(dash_off), samples_(samples) {}

  // Starts a new polyline (the dash pattern restarts).
  void lift() { phase_ = 0.0; }

  void segment(Px a, Px b) {
    const double pad = 4.0 * thickness_;  // far-away points would overflow int pixel coordinates
    if (!clip_segment(a, b, -pad, -pad, roi_.cols + pad, roi_.rows + pad)) return;
    const double len = std::hypot(b.x - a.x, b.y - a.y);
    for (double s = 0.0; s <= len; s += 2.0) samples_->push_back(lerp(a, b, len > 0 ? s / len : 0.0));
    if (off_ <= 0.0) {
      stroke(a, b);
      return;
    }
    // Walk the segment through on/off pieces of the pattern.
    double done = 0.0;
    while (len - done > 1e-9) {
      const double period = on_ + off_;
      const bool on = phase_ < on_;
      const double piece = std::min(len - done, on ? on_ - phase_ : period - phase_);
      if (on && len > 0) stroke(lerp(a, b, done / len), lerp(a, b, (done + piece) / len));
      done += piece;
      phase_ = std::fmod(phase_ + piece, period);
    }
  }

  void dot(Px a) {
    if (a.x < 0 || a.y < 0 || a.x > roi_.cols || a.y > roi_.rows) return;
    samples_->push_back(a);
    cv::circle(roi_, fixed(a), (thickness_ + 2) * kScale, colour_, cv::FILLED, cv::LINE_AA, kShift);
  }

 private:
  static constexpr int kShift = 4, kScale = 1 << kShift;  // sub-pixel precision for smooth lines
  static Px lerp(Px a, Px b, double t) { return {a.x + t * (b.x - a.x), a.y + t * (b.y - a.y)}; }
  static cv::Point fixed(Px p) { return {cvRound(p.x * kScale), cvRound(p.y * kScale)}; }
  void stroke(Px a, Px b) { cv::line(roi_, fixed(a), fixed(b), colour_, thickness_, cv::LINE_AA, kShift); }

  cv::Mat& roi_;
  cv::Scalar colour_;
  int thickness_;
  double on_, off_, phase_ = 0.0;
  std::vector<Px>* samples_;
};

Pen series_pen(cv::Mat& target, const Prepared& p, std::size_t s, const Style& st, std::vector<Px>* samples) {
  return Pen(target, plot::palette(s), st.outline, st.px(10), p.dashed[s] ? st.px(6) : 0.0, samples);
}

Pen chance_pen(cv::Mat& target, const Style& st, std::vector<Px>* samples) {
  return Pen(target, kChanceGrey, st.stroke, st.px(6), st.px(6), samples);
}

void draw_series(Pen& pen, const LinesLayout& L, const std::vector<std::vector<std::pair<double, double>>>& runs) {
  for (const auto& run : runs) {
    pen.lift();
    if (run.size() == 1) pen.dot(L.to_px(run[0].first, run[0].second));
    for (std::size_t i = 1; i < run.size(); ++i)
      pen.segment(L.to_px(run[i - 1].first, run[i - 1].second), L.to_px(run[i].first, run[i].second));
  }
}

// The legend goes to the corner that covers the fewest drawn sample points, and among those the
// one farthest from them (up to a comfortable distance); remaining ties go to the first of upper
// right, upper left, lower right, lower left.
cv::Rect place_legend(const LinesLayout& L, const std::vector<Px>& samples, const Style& st) {
  const int margin = st.px(10), w = L.legend.box.width, h = L.legend.box.height;
  const int left = L.plot.x + margin, right = L.plot.x + L.plot.width - margin - w;
  const int top = L.plot.y + margin, bottom = L.plot.y + L.plot.height - margin - h;
  const double slack = st.px(4), enough = st.px(50);
  cv::Rect best;
  std::size_t best_hidden = std::numeric_limits<std::size_t>::max();
  double best_clearance = -1.0;
  for (const cv::Point corner : {cv::Point(right, top), cv::Point(left, top), cv::Point(right, bottom),
                                 cv::Point(left, bottom)}) {
    const cv::Rect rect(corner.x, corner.y, w, h);
    std::size_t hidden = 0;
    double clearance = enough;
    for (const Px& s : samples) {
      const double x = s.x + L.plot.x, y = s.y + L.plot.y;
      const double dx = std::max({rect.x - x, 0.0, x - (rect.x + rect.width)});
      const double dy = std::max({rect.y - y, 0.0, y - (rect.y + rect.height)});
      const double d = std::hypot(dx, dy);
      hidden += d <= slack;
      clearance = std::min(clearance, d);
    }
    if (hidden < best_hidden || (hidden == best_hidden && clearance > best_clearance)) {
      best_hidden = hidden;
      best_clearance = clearance;
      best = rect;
    }
  }
  return best;
}

cv::Mat render(const Prepared& p, const LinePlotOptions& o) {
  const Style st(o.width, o.height);
  LinesLayout L = make_layout(p, o, st);
  cv::Mat img(o.height, o.width, CV_8UC3, plot::kWhite);
  cv::Mat roi = img(L.plot);
  std::vector<Px> samples;

  if (o.diagonal) {
    // y = x across the x range; a curve on a log x axis, so many short pieces there.
    Pen pen = chance_pen(roi, st, &samples);
    const int pieces = o.log_x ? 256 : 1;
    auto at = [&](int i) {
      const double t = L.x_lo + (L.x_hi - L.x_lo) * i / pieces;
      const double x = o.log_x ? std::pow(10.0, t) : t;
      return L.to_px(x, x);
    };
    for (int i = 0; i < pieces; ++i) pen.segment(at(i), at(i + 1));
  }
  for (std::size_t s = 0; s < p.runs.size(); ++s) {
    Pen pen = series_pen(roi, p, s, st, &samples);
    draw_series(pen, L, p.runs[s]);
  }

  plot::draw_axes(img, L.plot, L.x_ticks, L.y_ticks, [&L](double x) { return L.px(x); },
                  [&L](double y) { return L.py(y); }, st);
  plot::draw_axis_text(img, L.text, L.plot, st);
  L.legend.box = place_legend(L, samples, st);
  plot::draw_legend(img, L.legend, st, [&](std::size_t row, const cv::Rect& key) {
    std::vector<Px> unused;
    Pen pen = row < p.runs.size() ? series_pen(img, p, row, st, &unused) : chance_pen(img, st, &unused);
    const double mid = key.y + key.height / 2.0;
    pen.segment({static_cast<double>(key.x), mid}, {static_cast<double>(key.x + key.width), mid});
  });
  return img;
}

}  // namespace

void write_line_plot_png(const std::string& path, const std::vector<LineSeries>& series,
                         const LinePlotOptions& options) {
  plot::check_image_size(options.width, options.height);
  check_range(options.x_range, "x_range", options.log_x);
  check_range(options.y_range, "y_range", false);
  const Prepared p = prepare(series, options.log_x);
  plot::write_png(path, render(p, options));
}

}  // namespace flowood::viz

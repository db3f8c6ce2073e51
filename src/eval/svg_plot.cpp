// SVG rendering of scatter/line plots (see svg_plot.h).
#include "eval/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace ead::eval {
namespace {

constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                    "#9467bd", "#8c564b", "#e377c2"};

std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                // Control characters are not allowed in XML 1.0.
                if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n') out += c;
        }
    }
    return out;
}

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

std::string tick_label(double v, double step) {
    const int decimals = step >= 1 ? 0 : std::min(6, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, std::abs(v) < step * 1e-9 ? 0.0 : v);
    return buf;
}

std::string marker_svg(Marker m, double x, double y, const std::string& color) {
    const double r = 5;
    const std::string style = " fill=\"" + color + "\" stroke=\"black\" stroke-width=\"0.8\"/>\n";
    switch (m) {
        case Marker::kCircle:
            return "<circle cx=\"" + num(x) + "\" cy=\"" + num(y) + "\" r=\"" + num(r) + "\"" + style;
        case Marker::kSquare:
            return "<rect x=\"" + num(x - r) + "\" y=\"" + num(y - r) + "\" width=\"" + num(2 * r) +
                   "\" height=\"" + num(2 * r) + "\"" + style;
        case Marker::kTriangle:
            return "<polygon points=\"" + num(x) + "," + num(y - r * 1.2) + " " + num(x - r * 1.1) + "," +
                   num(y + r * 0.8) + " " + num(x + r * 1.1) + "," + num(y + r * 0.8) + "\"" + style;
        case Marker::kDiamond:
            return "<polygon points=\"" + num(x) + "," + num(y - r * 1.3) + " " + num(x + r) + "," + num(y) +
                   " " + num(x) + "," + num(y + r * 1.3) + " " + num(x - r) + "," + num(y) + "\"" + style;
        case Marker::kCross:
            return "<path d=\"M" + num(x - r) + "," + num(y - r) + " L" + num(x + r) + "," + num(y + r) +
                   " M" + num(x - r) + "," + num(y + r) + " L" + num(x + r) + "," + num(y - r) +
                   "\" stroke=\"" + color + "\" stroke-width=\"2\" fill=\"none\"/>\n";
    }
    return "";
}

struct Range {
    double lo = 0, hi = 1;
    std::vector<double> ticks;  // drawn as they are: the axis ends on the outer ticks unless a bound is fixed
};

Range axis_range(const Plot& plot, bool is_x) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& s : plot.series) {
        for (const auto& p : s.points) {
            const double v = is_x ? p.x : p.y;
            if (!std::isfinite(v) || !std::isfinite(is_x ? p.y : p.x)) continue;
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    }
    if (!std::isfinite(lo)) lo = 0, hi = 1;
    if (hi - lo < 1e-12) {
        const double pad = std::max(std::abs(lo) * 0.1, 1.0);
        lo -= pad, hi += pad;
    } else {
        const double pad = (hi - lo) * 0.05;
        lo -= pad, hi += pad;
    }
    std::vector<double> ticks = nice_ticks(lo, hi);
    if (ticks.size() >= 2) {
        const double step = ticks[1] - ticks[0];
        lo = std::floor(lo / step + 1e-9) * step;
        hi = std::ceil(hi / step - 1e-9) * step;
    }
    const auto& fixed_lo = is_x ? plot.x_min : plot.y_min;
    const auto& fixed_hi = is_x ? plot.x_max : plot.y_max;
    if (fixed_lo) lo = *fixed_lo;
    if (fixed_hi) hi = *fixed_hi;
    if (!(hi > lo)) hi = lo + 1;
    if (fixed_lo || fixed_hi || ticks.size() < 2) {
        ticks = nice_ticks(lo, hi);
    } else {
        // Same step, extended to the rounded ends.
        const double step = ticks[1] - ticks[0];
        ticks.clear();
        for (int k = 0; k <= 1000; ++k) {
            const double t = lo + k * step;
            if (t > hi + step * 1e-9) break;
            ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
        }
    }
    return {lo, hi, std::move(ticks)};
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
    std::vector<double> ticks;
    if (!std::isfinite(lo) || !std::isfinite(hi) || !(hi > lo) || target < 1) return ticks;
    const double raw = (hi - lo) / target;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    double step = mag;
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
        step = m * mag;
        if (step >= raw) break;
    }
    const double first = std::ceil(lo / step - 1e-9);
    for (int k = 0; k <= 1000; ++k) {
        const double t = (first + k) * step;
        if (t > hi + step * 1e-9) break;
        ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
    }
    return ticks;
}

std::string render_svg(const Plot& plot) {
    const double w = plot.width, h = plot.height;
    const double left = 70, right = 190, top = 40, bottom = 60;  // right margin holds the legend
    const double pw = std::max(10.0, w - left - right), ph = std::max(10.0, h - top - bottom);
    const Range xr = axis_range(plot, true), yr = axis_range(plot, false);
    auto sx = [&](double x) { return left + (x - xr.lo) / (xr.hi - xr.lo) * pw; };
    auto sy = [&](double y) { return top + ph - (y - yr.lo) / (yr.hi - yr.lo) * ph; };

    std::string o;
    o += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    o += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + num(w) + "\" height=\"" +
         num(h) + "\" viewBox=\"0 0 " + num(w) + " " + num(h) +
         "\" font-family=\"sans-serif\" font-size=\"12\">\n";
    o += "<title>" + escape(plot.title) + "</title>\n";
    o += "<rect x=\"0\" y=\"0\" width=\"" + num(w) + "\" height=\"" + num(h) + "\" fill=\"white\"/>\n";
    o += "<text x=\"" + num(left + pw / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" +
         escape(plot.title) + "</text>\n";

    // Axes, grid and ticks.
    o += "<g class=\"axes\" stroke=\"black\" stroke-width=\"1\">\n";
    o += "<line x1=\"" + num(left) + "\" y1=\"" + num(top + ph) + "\" x2=\"" + num(left + pw) + "\" y2=\"" +
         num(top + ph) + "\"/>\n";
    o += "<line x1=\"" + num(left) + "\" y1=\"" + num(top) + "\" x2=\"" + num(left) + "\" y2=\"" +
         num(top + ph) + "\"/>\n";
    o += "</g>\n";
    o += "<g class=\"ticks\" font-size=\"11\">\n";
    const auto& xt = xr.ticks;
    const auto& yt = yr.ticks;
    const double xstep = xt.size() >= 2 ? xt[1] - xt[0] : 1, ystep = yt.size() >= 2 ? yt[1] - yt[0] : 1;
    for (double t : xt) {
        const double x = sx(t);
        o += "<line x1=\"" + num(x) + "\" y1=\"" + num(top) + "\" x2=\"" + num(x) + "\" y2=\"" +
             num(top + ph) + "\" stroke=\"#e0e0e0\"/>\n";
        o += "<line x1=\"" + num(x) + "\" y1=\"" + num(top + ph) + "\" x2=\"" + num(x) + "\" y2=\"" +
             num(top + ph + 5) + "\" stroke=\"black\"/>\n";
        o += "<text x=\"" + num(x) + "\" y=\"" + num(top + ph + 18) + "\" text-anchor=\"middle\">" +
             tick_label(t, xstep) + "</text>\n";
    }
    for (double t : yt) {
        const double y = sy(t);
        o += "<line x1=\"" + num(left) + "\" y1=\"" + num(y) + "\" x2=\"" + num(left + pw) + "\" y2=\"" +
             num(y) + "\" stroke=\"#e0e0e0\"/>\n";
        o += "<line x1=\"" + num(left - 5) + "\" y1=\"" + num(y) + "\" x2=\"" + num(left) + "\" y2=\"" +
             num(y) + "\" stroke=\"black\"/>\n";
        o += "<text x=\"" + num(left - 8) + "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\">" +
             tick_label(t, ystep) + "</text>\n";
    }
    o += "</g>\n";
    o += "<text x=\"" + num(left + pw / 2) + "\" y=\"" + num(h - 15) + "\" text-anchor=\"middle\">" +
         escape(plot.x_label) + "</text>\n";
    o += "<text x=\"18\" y=\"" + num(top + ph / 2) + "\" text-anchor=\"middle\" transform=\"rotate(-90 18 " +
         num(top + ph / 2) + ")\">" + escape(plot.y_label) + "</text>\n";

    // Series.
    for (size_t i = 0; i < plot.series.size(); ++i) {
        const PlotSeries& s = plot.series[i];
        const std::string color = s.color.empty() ? kPalette[i % std::size(kPalette)] : s.color;
        o += "<g class=\"series\">\n";
        if (s.line) {
            std::string pts;
            for (const auto& p : s.points) {
                if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
                if (!pts.empty()) pts += ' ';
                pts.append(num(sx(p.x))).append(",").append(num(sy(p.y)));
            }
            if (!pts.empty()) {
                o += "<polyline points=\"" + pts + "\" fill=\"none\" stroke=\"" + color +
                     "\" stroke-width=\"1.5\"/>\n";
            }
        }
        for (const auto& p : s.points) {
            if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
            o += marker_svg(s.marker, sx(p.x), sy(p.y), color);
            if (!p.label.empty()) {
                o += "<text x=\"" + num(sx(p.x) + 8) + "\" y=\"" + num(sy(p.y) - 8) + "\" font-size=\"10\">" +
                     escape(p.label) + "</text>\n";
            }
        }
        o += "</g>\n";
    }

    // Legend.
    o += "<g class=\"legend\">\n";
    const double lx = left + pw + 20;
    for (size_t i = 0; i < plot.series.size(); ++i) {
        const PlotSeries& s = plot.series[i];
        const std::string color = s.color.empty() ? kPalette[i % std::size(kPalette)] : s.color;
        const double ly = top + 10 + 20.0 * static_cast<double>(i);
        o += marker_svg(s.marker, lx, ly, color);
        o += "<text x=\"" + num(lx + 12) + "\" y=\"" + num(ly + 4) + "\">" + escape(s.name) + "</text>\n";
    }
    o += "</g>\n";
    o += "</svg>\n";
    return o;
}

}  // namespace ead::eval

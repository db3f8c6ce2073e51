// A tiny SVG 1.1 writer for scatter and line plots (no dependency): linear axes with "nice" ticks, axis
// labels, per-point text labels, distinct markers per series and a legend.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ead::eval {

enum class Marker { kCircle, kSquare, kTriangle, kDiamond, kCross };

struct PlotPoint {
    double x = 0;
    double y = 0;
    std::string label;  // drawn beside the point ("" = none)
};

struct PlotSeries {
    std::string name;  // legend entry
    std::vector<PlotPoint> points;
    Marker marker = Marker::kCircle;
    bool line = false;  // join the points in the given order
    std::string color;  // any SVG colour; "" picks one from a fixed palette by series index
};

struct Plot {
    std::string title;
    std::string x_label;
    std::string y_label;
    std::vector<PlotSeries> series;
    std::optional<double> x_min, x_max, y_min,
        y_max;  // default: the data's range, padded and rounded to ticks
    int width = 720;
    int height = 480;
};

// A complete standalone SVG document (XML declaration, <svg> root with the SVG namespace and version="1.1").
// Text is XML-escaped; non-finite coordinates are skipped.
std::string render_svg(const Plot& plot);

// Tick positions covering [lo, hi] with a step of 1, 2 or 5 times a power of ten, about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);

}  // namespace ead::eval

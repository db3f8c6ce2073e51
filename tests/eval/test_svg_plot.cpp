// The SVG writer (src/eval/svg_plot.h): well-formed XML, labels present, ticks sensible.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "eval/report.h"
#include "eval/svg_plot.h"

namespace ead::eval {
namespace {

// A small XML well-formedness check: declaration, balanced and properly nested elements, quoted attributes,
// only the five predefined entities, exactly one root. Returns "" when well formed, else what is wrong.
// Collects element names.
std::string check_xml(const std::string& s, std::vector<std::string>* elements) {
    std::vector<std::string> stack;
    size_t i = 0;
    int roots = 0;
    if (s.rfind("<?xml ", 0) == 0) i = s.find("?>") + 2;
    auto check_text = [&](size_t a, size_t b) -> std::string {
        for (size_t k = a; k < b; ++k) {
            if (s[k] == '<' || s[k] == '>') return "stray angle bracket at " + std::to_string(k);
            if (s[k] == '&') {
                const size_t semi = s.find(';', k);
                const std::string ent = semi == std::string::npos ? "" : s.substr(k, semi - k + 1);
                if (ent != "&amp;" && ent != "&lt;" && ent != "&gt;" && ent != "&quot;" && ent != "&apos;") {
                    return "bad entity at " + std::to_string(k);
                }
            }
        }
        return "";
    };
    while (i < s.size()) {
        const size_t lt = s.find('<', i);
        const size_t text_end = lt == std::string::npos ? s.size() : lt;
        if (auto e = check_text(i, text_end); !e.empty()) return e;
        if (stack.empty() && s.find_first_not_of(" \n\r\t", i) < text_end) return "text outside the root";
        if (lt == std::string::npos) break;
        const size_t gt = s.find('>', lt);
        if (gt == std::string::npos) return "unterminated tag";
        std::string tag = s.substr(lt + 1, gt - lt - 1);
        if (tag.empty()) return "empty tag";
        if (tag[0] == '/') {
            if (stack.empty() || stack.back() != tag.substr(1)) return "mismatched </" + tag.substr(1) + ">";
            stack.pop_back();
        } else {
            const bool self_closing = tag.back() == '/';
            if (self_closing) tag.pop_back();
            const size_t name_end = tag.find_first_of(" \n\t");
            const std::string name = tag.substr(0, name_end);
            if (name.empty()) return "element without a name";
            // Attributes: name="value" pairs.
            size_t k = name_end;
            while (k != std::string::npos && k < tag.size()) {
                k = tag.find_first_not_of(" \n\t", k);
                if (k == std::string::npos) break;
                const size_t eq = tag.find('=', k);
                if (eq == std::string::npos || eq + 1 >= tag.size() || tag[eq + 1] != '"')
                    return "unquoted attribute";
                const size_t close = tag.find('"', eq + 2);
                if (close == std::string::npos) return "unterminated attribute";
                if (auto e = check_text(lt + 1 + eq + 2, lt + 1 + close); !e.empty()) return e;
                k = close + 1;
            }
            if (stack.empty()) ++roots;
            if (elements) elements->push_back(name);
            if (!self_closing) stack.push_back(name);
        }
        i = gt + 1;
    }
    if (!stack.empty()) return "unclosed <" + stack.back() + ">";
    if (roots != 1) return "expected one root element, got " + std::to_string(roots);
    return "";
}

TEST(SvgPlot, CheckerCatchesErrors) {
    EXPECT_EQ(check_xml("<a><b/></a>", nullptr), "");
    EXPECT_NE(check_xml("<a><b></a>", nullptr), "");
    EXPECT_NE(check_xml("<a x=1></a>", nullptr), "");
    EXPECT_NE(check_xml("<a>&nbsp;</a>", nullptr), "");
    EXPECT_NE(check_xml("<a></a><b></b>", nullptr), "");
}

Plot sample_plot() {
    Plot p;
    p.title = "Accuracy vs f_L <test> & \"quotes\"";
    p.x_label = "large-model token share (%)";
    p.y_label = "accuracy (%)";
    p.series.push_back(
        {"EAD", {{10, 40, "tau=3"}, {25, 47, "tau=2"}, {43, 50, "tau=1"}}, Marker::kCircle, true, ""});
    p.series.push_back({"small only", {{0, 30, "small"}}, Marker::kSquare, false, ""});
    p.series.push_back({"large only", {{100, 52, "large"}}, Marker::kTriangle, false, "#d62728"});
    p.series.push_back({"other", {{50, 45, ""}, {std::nan(""), 3, "hidden"}}, Marker::kDiamond, false, ""});
    p.series.push_back({"x", {{60, 20, "a<b"}}, Marker::kCross, false, ""});
    return p;
}

TEST(SvgPlot, WellFormedWithLabelsAndLegend) {
    const std::string svg = render_svg(sample_plot());
    std::vector<std::string> elements;
    EXPECT_EQ(check_xml(svg, &elements), "") << svg;
    EXPECT_EQ(
        svg.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
                  "version=\"1.1\"",
                  0),
        0u);
    EXPECT_EQ(elements.front(), "svg");
    for (const char* label :
         {"tau=3", "tau=2", "tau=1", "small only", "large only", "large-model token share (%)",
          "accuracy (%)", "Accuracy vs f_L &lt;test&gt; &amp; &quot;quotes&quot;", "a&lt;b"}) {
        EXPECT_NE(svg.find(label), std::string::npos) << label;
    }
    EXPECT_EQ(svg.find("hidden"), std::string::npos);  // non-finite points are skipped
    EXPECT_EQ(svg.find("nan"), std::string::npos);
    EXPECT_NE(std::find(elements.begin(), elements.end(), "polyline"), elements.end());
    EXPECT_NE(std::find(elements.begin(), elements.end(), "rect"), elements.end());     // square marker
    EXPECT_NE(std::find(elements.begin(), elements.end(), "polygon"), elements.end());  // triangle / diamond
    EXPECT_NE(std::find(elements.begin(), elements.end(), "circle"), elements.end());
    EXPECT_NE(svg.find("<g class=\"legend\">"), std::string::npos);
    // Tick labels on the x axis 0..100.
    EXPECT_NE(svg.find(">0</text>"), std::string::npos);
    EXPECT_NE(svg.find(">100</text>"), std::string::npos);
}

TEST(SvgPlot, EmptyAndDegeneratePlots) {
    Plot p;
    p.title = "empty";
    EXPECT_EQ(check_xml(render_svg(p), nullptr), "");
    p.series.push_back({"one", {{1, 1, "only"}}, Marker::kCircle, true, ""});
    const std::string svg = render_svg(p);
    EXPECT_EQ(check_xml(svg, nullptr), "");
    EXPECT_NE(svg.find("only"), std::string::npos);
}

TEST(SvgPlot, NiceTicks) {
    EXPECT_EQ(nice_ticks(0, 100), (std::vector<double>{0, 20, 40, 60, 80, 100}));
    const auto unit = nice_ticks(0, 1, 5);
    ASSERT_EQ(unit.size(), 6u);
    for (size_t i = 0; i < unit.size(); ++i) EXPECT_NEAR(unit[i], 0.2 * static_cast<double>(i), 1e-12);
    const auto t = nice_ticks(0.31, 0.87);
    ASSERT_GE(t.size(), 3u);
    EXPECT_GE(t.front(), 0.31);
    EXPECT_LE(t.back(), 0.87 + 1e-12);
    EXPECT_TRUE(nice_ticks(1, 1).empty());
    EXPECT_TRUE(nice_ticks(0, std::numeric_limits<double>::infinity()).empty());
}

TEST(SvgPlot, ReportPlots) {
    std::vector<Summary> rows(4);
    rows[0].config = "small", rows[0].accuracy = 0.3, rows[0].large_share = 0,
    rows[0].measured_cost_ratio = 0.2;
    rows[1].config = "large", rows[1].accuracy = 0.52, rows[1].large_share = 1,
    rows[1].measured_cost_ratio = 1;
    rows[2].config = "tau=1", rows[2].accuracy = 0.5, rows[2].large_share = 0.43,
    rows[2].measured_cost_ratio = 0.6;
    rows[3].config = "tau=3", rows[3].accuracy = 0.4, rows[3].large_share = 0.1,
    rows[3].measured_cost_ratio = std::nan("");
    const Plot share = accuracy_vs_large_share(rows);
    ASSERT_EQ(share.series.size(), 3u);
    EXPECT_EQ(share.series[0].name, "EAD");
    ASSERT_EQ(share.series[0].points.size(), 2u);
    EXPECT_EQ(share.series[0].points[0].label, "tau=3");  // sorted by x
    EXPECT_DOUBLE_EQ(share.series[0].points[1].x, 43.0);
    EXPECT_EQ(share.series[1].marker, Marker::kSquare);
    EXPECT_EQ(share.series[2].marker, Marker::kTriangle);
    const Plot cost = accuracy_vs_cost(rows);
    EXPECT_EQ(cost.series[0].points.size(), 1u);  // tau=3 has no measured cost
    const std::string svg = render_svg(cost);
    EXPECT_EQ(check_xml(svg, nullptr), "");
    EXPECT_NE(svg.find("tau=1"), std::string::npos);
}

}  // namespace
}  // namespace ead::eval

// Answer extraction and the Hendrycks / Minerva string graders (see grading.h and the spec it cites).
#include "eval/grading.h"

#include <algorithm>
#include <array>
#include <vector>

namespace ead::eval {
namespace {

// =====================================================================================================================
// String helpers (UTF-8 aware where the Python originals index characters)
// =====================================================================================================================

// Bytes of the code point starting at s[i] (1 for ASCII and for malformed bytes; never past the end).
size_t cp_len(std::string_view s, size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 1;
    if (c >= 0xF0 && c < 0xF8)
        n = 4;
    else if (c >= 0xE0)
        n = c < 0xF0 ? 3 : 1;
    else if (c >= 0xC0)
        n = 2;
    if (i + n > s.size()) return 1;
    for (size_t k = 1; k < n; ++k) {
        if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 1;
    }
    return n;
}

size_t cp_count(std::string_view s) {
    size_t n = 0;
    for (size_t i = 0; i < s.size(); i += cp_len(s, i)) ++n;
    return n;
}

// Python's str.replace: every non-overlapping occurrence, left to right.
std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
    std::string out;
    out.reserve(s.size());
    size_t pos = 0;
    for (size_t hit; (hit = s.find(from, pos)) != std::string_view::npos; pos = hit + from.size()) {
        out.append(s, pos, hit - pos);
        out.append(to);
    }
    out.append(s, pos, std::string_view::npos);
    return out;
}

// Python's str.split(sep).
std::vector<std::string_view> split(std::string_view s, std::string_view sep) {
    std::vector<std::string_view> parts;
    size_t pos = 0;
    for (size_t hit; (hit = s.find(sep, pos)) != std::string_view::npos; pos = hit + sep.size()) {
        parts.push_back(s.substr(pos, hit - pos));
    }
    parts.push_back(s.substr(pos));
    return parts;
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

bool contains(std::string_view s, std::string_view what) {
    return s.find(what) != std::string_view::npos;
}

// =====================================================================================================================
// Hendrycks `_strip_string` helpers
// =====================================================================================================================

// Step 8: "\text{ " only ever describes units: keep what is before it. A second occurrence fails the
// original's `assert len(splits) == 2`.
std::string remove_right_units(std::string_view s) {
    constexpr std::string_view kUnits = "\\text{ ";
    const size_t hit = s.find(kUnits);
    if (hit == std::string_view::npos) return std::string(s);
    if (s.find(kUnits, hit + kUnits.size()) != std::string_view::npos) {
        throw NormalizationError("more than one \"\\text{ \"");
    }
    return std::string(s.substr(0, hit));
}

// Step 12: \sqrt3 -> \sqrt{3} (one code point). "\sqrt" with nothing after it raises IndexError in the
// original.
std::string fix_sqrt(std::string_view s) {
    constexpr std::string_view kSqrt = "\\sqrt";
    if (!contains(s, kSqrt)) return std::string(s);
    const auto parts = split(s, kSqrt);
    std::string out(parts[0]);
    for (size_t i = 1; i < parts.size(); ++i) {
        std::string_view p = parts[i];
        if (p.empty()) throw NormalizationError("\\sqrt with nothing after it");
        if (p[0] != '{') {
            const size_t n = cp_len(p, 0);
            out.append("\\sqrt{").append(p.substr(0, n)).append("}").append(p.substr(n));
        } else {
            out.append(kSqrt).append(p);
        }
    }
    return out;
}

// Step 14: \frac12 -> \frac{1}{2}, \frac1b -> \frac{1}{b}, \frac1{72} -> \frac{1}{72}. A piece of one code
// point returns the input unchanged (the original's caught assert); an empty piece raises IndexError in the
// original.
std::string fix_fracs(std::string_view s) {
    constexpr std::string_view kFrac = "\\frac";
    const auto parts = split(s, kFrac);
    std::string out(parts[0]);
    for (size_t i = 1; i < parts.size(); ++i) {
        std::string_view p = parts[i];
        out.append(kFrac);
        if (p.empty()) throw NormalizationError("\\frac with nothing after it");
        if (p[0] == '{') {
            out.append(p);
            continue;
        }
        if (cp_count(p) < 2) return std::string(s);
        const size_t na = cp_len(p, 0);
        const size_t nb = cp_len(p, na);
        std::string_view a = p.substr(0, na), b = p.substr(na, nb), rest = p.substr(na + nb);
        if (b != "{") {
            out.append("{").append(a).append("}{").append(b).append("}").append(rest);
        } else {
            out.append("{").append(a).append("}").append(b).append(rest);
        }
    }
    return out;
}

// Python `int(x)` succeeds and `str(int(x)) == x`: an optional '-' and ASCII digits without leading zeros.
bool is_canonical_int(std::string_view x) {
    if (!x.empty() && x[0] == '-') x.remove_prefix(1);
    if (x.empty() || (x[0] == '0' && x.size() > 1)) return false;
    return std::all_of(x.begin(), x.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Step 16: an integer a/b -> \frac{a}{b}.
std::string fix_a_slash_b(std::string_view s) {
    const auto parts = split(s, "/");
    if (parts.size() != 2 || !is_canonical_int(parts[0]) || !is_canonical_int(parts[1]))
        return std::string(s);
    return "\\frac{" + std::string(parts[0]) + "}{" + std::string(parts[1]) + "}";
}

// =====================================================================================================================
// Minerva `normalize_final_answer` helpers: the regex substitutions, written out. Python's `.` matches any
// code point except '\n'; `[^{]` matches '\n' too. re.sub scans left to right and resumes after each match.
// =====================================================================================================================

constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kSubstitutions = {{
    {"an ", ""},
    {"a ", ""},
    {".$", "$"},
    {"\\$", ""},
    {"\\ ", ""},
    {" ", ""},
    {"mbox", "text"},
    {",\\text{and}", ","},
    {"\\text{and}", ","},
    {"\\text{m}", "\\text{}"},
}};

constexpr std::array<std::string_view, 42> kRemovedExpressions = {
    "square",       "ways",
    "integers",     "dollars",
    "mph",          "inches",
    "ft",           "hours",
    "km",           "units",
    "\\ldots",      "sue",
    "points",       "feet",
    "minutes",      "digits",
    "cents",        "degrees",
    "cm",           "gm",
    "pounds",       "meters",
    "meals",        "edges",
    "students",     "childrentickets",
    "multiples",    "\\text{s}",
    "\\text{.}",    "\\text{\ns}",
    "\\text{}^2",   "\\text{}^3",
    "\\text{\n}",   "\\text{}",
    "\\mathrm{th}", "^\\circ",
    "^{\\circ}",    "\\;",
    ",\\!",         "{,}",
    "\"",           "\\dots",
};

// re.sub(r"(.*?)(\$)(.*?)(\$)(.*)", "$\\3$", s): each line with two '$' becomes "$" + text between the first
// two + "$".
std::string keep_first_math(std::string_view s) {
    std::string out;
    const auto lines = split(s, "\n");
    for (size_t i = 0; i < lines.size(); ++i) {
        if (i) out.push_back('\n');
        std::string_view line = lines[i];
        const size_t d1 = line.find('$');
        const size_t d2 = d1 == std::string_view::npos ? d1 : line.find('$', d1 + 1);
        if (d2 == std::string_view::npos) {
            out.append(line);
        } else {
            out.append("$").append(line.substr(d1 + 1, d2 - d1 - 1)).append("$");
        }
    }
    return out;
}

// re.sub(r"(OPEN)(.*?)(\})", "\\2", s) (lazy) or re.sub(r"(OPEN)(.*)(\})", "\\2", s) (greedy), OPEN ending in
// '{'.
std::string unwrap(std::string_view s, std::string_view open, bool greedy) {
    std::string out;
    size_t pos = 0;
    size_t search = 0;
    for (size_t occ; (occ = s.find(open, search)) != std::string_view::npos;) {
        const size_t body = occ + open.size();
        size_t line_end = s.find('\n', body);
        if (line_end == std::string_view::npos) line_end = s.size();
        std::string_view rest = s.substr(body, line_end - body);
        const size_t close = greedy ? rest.rfind('}') : rest.find('}');
        if (close == std::string_view::npos) {
            search = occ + 1;
            continue;
        }
        out.append(s.substr(pos, occ - pos)).append(rest.substr(0, close));
        pos = search = body + close + 1;
    }
    out.append(s.substr(pos));
    return out;
}

// re.sub(r"(frac)([^{])(.)", "frac{\\2}{\\3}", s) and re.sub(r"(sqrt)([^{])", "sqrt{\\2}", s).
std::string brace_shorthand(std::string_view s, std::string_view name, int n_args) {
    std::string out;
    size_t pos = 0;
    size_t search = 0;
    for (size_t occ; (occ = s.find(name, search)) != std::string_view::npos;) {
        size_t at = occ + name.size();
        std::string_view args[2];
        bool ok = true;
        for (int k = 0; k < n_args && ok; ++k) {
            if (at >= s.size()) {
                ok = false;
                break;
            }
            const size_t n = cp_len(s, at);
            args[k] = s.substr(at, n);
            ok = k == 0 ? args[k] != "{" : args[k] != "\n";
            at += n;
        }
        if (!ok) {
            search = occ + 1;
            continue;
        }
        out.append(s.substr(pos, occ - pos)).append(name);
        for (int k = 0; k < n_args; ++k) out.append("{").append(args[k]).append("}");
        pos = search = at;
    }
    out.append(s.substr(pos));
    return out;
}

// =====================================================================================================================
// Extraction helpers
// =====================================================================================================================

// Brace matching from the '{' at s[open]; the content between it and its partner, or nullopt when it never
// closes.
std::optional<std::string> braced_content(std::string_view s, size_t open) {
    int depth = 0;
    for (size_t i = open; i < s.size(); ++i) {
        if (s[i] == '{') ++depth;
        if (s[i] == '}' && --depth == 0) return std::string(s.substr(open + 1, i - open - 1));
    }
    return std::nullopt;
}

// lm-eval hendrycks_math: "the text between the first and last $".
std::string strip_math_delimiters(std::string_view s) {
    const size_t first = s.find('$');
    const size_t last = s.rfind('$');
    if (first == std::string_view::npos || first == last) return std::string(s);
    return std::string(s.substr(first + 1, last - first - 1));
}

}  // namespace

// =====================================================================================================================
// Names
// =====================================================================================================================

std::string_view grader_name(Grader g) {
    return g == Grader::kHendrycks ? "hendrycks" : "minerva";
}

std::string_view verdict_name(Verdict v) {
    switch (v) {
        case Verdict::kCorrect:
            return "correct";
        case Verdict::kIncorrect:
            return "incorrect";
        case Verdict::kNoAnswer:
            return "no_answer";
    }
    return "?";
}

std::string_view extraction_method_name(ExtractionMethod m) {
    switch (m) {
        case ExtractionMethod::kNone:
            return "none";
        case ExtractionMethod::kBoxed:
            return "boxed";
        case ExtractionMethod::kFinalAnswer:
            return "final_answer";
        case ExtractionMethod::kBare:
            return "bare";
    }
    return "?";
}

Grader parse_grader(std::string_view name) {
    if (name == "hendrycks") return Grader::kHendrycks;
    if (name == "minerva") return Grader::kMinerva;
    throw std::invalid_argument("unknown grader \"" + std::string(name) +
                                "\" (expected hendrycks or minerva)");
}

Verdict parse_verdict(std::string_view name) {
    if (name == "correct") return Verdict::kCorrect;
    if (name == "incorrect") return Verdict::kIncorrect;
    if (name == "no_answer") return Verdict::kNoAnswer;
    throw std::invalid_argument("unknown verdict \"" + std::string(name) +
                                "\" (expected correct, incorrect or no_answer)");
}

// =====================================================================================================================
// Extraction
// =====================================================================================================================

std::optional<std::string> extract_boxed(std::string_view text) {
    constexpr std::string_view kBoxed = "\\boxed", kFbox = "\\fbox";
    size_t idx = text.rfind(kBoxed);
    size_t pos = idx + kBoxed.size();
    if (idx == std::string_view::npos) {
        idx = text.rfind(kFbox);
        if (idx == std::string_view::npos) return std::nullopt;
        pos = idx + kFbox.size();
    }
    if (pos < text.size() && text[pos] == '{') return braced_content(text, pos);
    if (pos >= text.size() || text[pos] != ' ') return std::nullopt;
    while (pos < text.size() && text[pos] == ' ') ++pos;
    if (pos < text.size() && text[pos] == '{') return braced_content(text, pos);
    size_t end = text.find_first_of("$\n", pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view answer = trim(text.substr(pos, end - pos));
    if (answer.empty()) return std::nullopt;
    return std::string(answer);
}

std::optional<std::string> extract_final_answer(std::string_view text) {
    constexpr std::string_view kPrefix = "Final Answer: The final answer is";
    constexpr std::string_view kSuffix = " I hope it is correct";
    std::string t(text);
    t += "I hope it is correct.";
    const std::string_view s = t;
    for (size_t occ = s.find(kPrefix); occ != std::string_view::npos; occ = s.find(kPrefix, occ + 1)) {
        const size_t group = occ + kPrefix.size();
        for (size_t j = group; j < s.size() && s[j] != '\n';) {
            const size_t n = cp_len(s, j);  // the regex's `.` before " I hope"
            const size_t tail = j + n + kSuffix.size();
            if (s.compare(j + n, kSuffix.size(), kSuffix) == 0 && tail < s.size() && s[tail] != '\n') {
                return std::string(trim(s.substr(group, j - group)));
            }
            j += n;
        }
    }
    return std::nullopt;
}

Extraction extract_answer(std::string_view model_output) {
    if (auto boxed = extract_boxed(model_output)) return {ExtractionMethod::kBoxed, std::move(*boxed)};
    if (auto final = extract_final_answer(model_output))
        return {ExtractionMethod::kFinalAnswer, std::move(*final)};
    return {};
}

Extraction answer_from_answer_or_solution(std::string_view text) {
    if (contains(text, "\\boxed") || contains(text, "\\fbox")) {
        if (auto boxed = extract_boxed(text)) return {ExtractionMethod::kBoxed, std::move(*boxed)};
        return {};
    }
    if (auto final = extract_final_answer(text)) return {ExtractionMethod::kFinalAnswer, std::move(*final)};
    return {ExtractionMethod::kBare, std::string(trim(text))};
}

// =====================================================================================================================
// Hendrycks
// =====================================================================================================================

std::string strip_string(std::string_view input) {
    std::string s = replace_all(input, "\n", "");                       // 1
    s = replace_all(s, "\\!", "");                                      // 2
    s = replace_all(s, "\\\\", "\\");                                   // 3
    s = replace_all(replace_all(s, "tfrac", "frac"), "dfrac", "frac");  // 4
    s = replace_all(replace_all(s, "\\left", ""), "\\right", "");       // 5
    s = replace_all(replace_all(s, "^{\\circ}", ""), "^\\circ", "");    // 6
    s = replace_all(s, "\\$", "");                                      // 7
    s = remove_right_units(s);                                          // 8
    s = replace_all(s, "\\%", "");                                      // 9
    s = replace_all(replace_all(s, " .", " 0."), "{.", "{0.");          // 10
    if (s.empty()) return s;
    if (s[0] == '.') s.insert(s.begin(), '0');
    if (auto parts = split(s, "="); parts.size() == 2 && cp_count(parts[0]) <= 2) {  // 11
        s = std::string(parts[1]);
    }
    s = fix_sqrt(s);                     // 12
    s = replace_all(s, " ", "");         // 13
    s = fix_fracs(s);                    // 14
    if (s == "0.5") s = "\\frac{1}{2}";  // 15
    return fix_a_slash_b(s);             // 16
}

bool is_equiv_hendrycks(std::string_view a, std::string_view b) {
    try {
        return strip_string(a) == strip_string(b);
    } catch (const NormalizationError&) {
        return a == b;
    }
}

// =====================================================================================================================
// Minerva
// =====================================================================================================================

std::string normalize_final_answer(std::string_view input) {
    std::string s(split(input, "=").back());
    for (const auto& [before, after] : kSubstitutions) s = replace_all(s, before, after);
    for (std::string_view expr : kRemovedExpressions) s = replace_all(s, expr, "");
    s = keep_first_math(s);
    s = unwrap(s, "\\text{", false);
    s = unwrap(s, "\\textbf{", false);
    s = unwrap(s, "\\overline{", false);
    s = unwrap(s, "\\boxed{", true);
    s = brace_shorthand(s, "frac", 2);
    s = brace_shorthand(s, "sqrt", 1);
    s = replace_all(s, "$", "");
    const std::string digits = replace_all(s, ",", "");
    if (!digits.empty() &&
        std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        s = digits;
    }
    return s;
}

bool is_equiv_minerva(std::string_view a, std::string_view b) {
    return normalize_final_answer(a) == normalize_final_answer(b);
}

bool is_equiv(std::string_view a, std::string_view b, Grader grader) {
    return grader == Grader::kHendrycks ? is_equiv_hendrycks(a, b) : is_equiv_minerva(a, b);
}

std::string normalize(std::string_view s, Grader grader) {
    if (grader == Grader::kMinerva) return normalize_final_answer(s);
    try {
        return strip_string(s);
    } catch (const NormalizationError&) {
        return std::string(s);
    }
}

// =====================================================================================================================
// Grading
// =====================================================================================================================

namespace {

GradeResult grade_extraction(std::string_view reference, Extraction got, Grader grader) {
    Extraction ref = answer_from_answer_or_solution(reference);
    if (!ref.found()) {
        throw std::invalid_argument("reference solution has no extractable \\boxed answer");
    }
    GradeResult r;
    r.grader = grader;
    r.reference = std::move(ref.answer);
    r.normalized_reference = normalize(r.reference, grader);
    r.method = got.method;
    if (!got.found()) {
        r.verdict = Verdict::kNoAnswer;
        return r;
    }
    r.extracted = std::move(got.answer);
    std::string compared = r.extracted;
    if (grader == Grader::kHendrycks && r.method == ExtractionMethod::kFinalAnswer) {
        compared = strip_math_delimiters(compared);
    }
    r.normalized_extracted = normalize(compared, grader);
    r.verdict = is_equiv(r.reference, compared, grader) ? Verdict::kCorrect : Verdict::kIncorrect;
    return r;
}

}  // namespace

GradeResult grade(std::string_view reference, std::string_view model_output, Grader grader) {
    return grade_extraction(reference, extract_answer(model_output), grader);
}

GradeResult grade_answer_or_solution(std::string_view reference, std::string_view answer_or_solution,
                                     Grader grader) {
    return grade_extraction(reference, answer_from_answer_or_solution(answer_or_solution), grader);
}

}  // namespace ead::eval

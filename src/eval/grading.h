// Grading MATH-style answers (see ../shared/spec/math-grading.md): answer extraction from a model's output,
// the Hendrycks `_strip_string` equivalence and the Minerva `normalize_final_answer` exact match. Both
// graders are pure string transforms; the SymPy step of Minerva's `is_equiv` is not implemented, so the
// Minerva grader here is "normalized strings equal" (a lower bound on what SymPy would accept).
//
// Strings are UTF-8. Wherever the reference Python indexes single characters (`s[0]`, `len(s)`, regex `.`),
// these functions step over whole code points, so non-ASCII answers behave as they do in Python.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ead::eval {

enum class Grader { kHendrycks, kMinerva };
enum class Verdict { kCorrect, kIncorrect, kNoAnswer };
// How an answer was found: the last \boxed/\fbox, Minerva's "Final Answer: The final answer is ... I hope it
// is correct." sentence, the whole text taken as a bare answer, or nothing.
enum class ExtractionMethod { kNone, kBoxed, kFinalAnswer, kBare };

std::string_view grader_name(Grader g);                       // "hendrycks" | "minerva"
std::string_view verdict_name(Verdict v);                     // "correct" | "incorrect" | "no_answer"
std::string_view extraction_method_name(ExtractionMethod m);  // "none" | "boxed" | "final_answer" | "bare"
// Parse the names above; throw std::invalid_argument naming the accepted values.
Grader parse_grader(std::string_view name);
Verdict parse_verdict(std::string_view name);

// ---------------------------------------------------------------------------------------------------------------------
// Extraction
// ---------------------------------------------------------------------------------------------------------------------

// Content of the last `\boxed` (or, when the text has no `\boxed` at all, the last `\fbox`), as Hendrycks'
// `last_boxed_only_string` + `remove_boxed`:
//   `\boxed{...}`        braces matched from the opening one (every `{`/`}` counts, escaped or not);
//   `\boxed {...}`       the same after spaces;
//   `\boxed 5$`          no braces (Minerva's form): the text after the spaces up to the next `$`, newline or
//   end,
//                        with surrounding whitespace trimmed.
// nullopt when there is no such command, its braces never close, or it is followed by anything else
// (`\boxed5`). Unlike the Python originals, `\fbox{...}` yields its content (Hendrycks' `remove_boxed`
// returns None for it) and the last command wins whichever form it has (Minerva's code prefers any `\boxed `
// over a later `\boxed{`).
std::optional<std::string> extract_boxed(std::string_view text);

// Minerva's `get_unnormalized_answer`: append "I hope it is correct." and search for
// `Final Answer: The final answer is(.*?). I hope it is correct.` (`.` = any code point but a newline); the
// group, stripped of surrounding whitespace. nullopt where lm-eval returns "[invalidanswer]".
std::optional<std::string> extract_final_answer(std::string_view text);

struct Extraction {
    ExtractionMethod method = ExtractionMethod::kNone;
    std::string answer;  // empty when method == kNone
    bool found() const { return method != ExtractionMethod::kNone; }
};

// A model output: the boxed answer, else the Minerva final-answer sentence, else none (kNone).
Extraction extract_answer(std::string_view model_output);

// Either a bare answer ("\frac{1}{2}") or a full solution: a text holding `\boxed`/`\fbox` or a Minerva
// final-answer sentence is a solution and yields its extracted answer (kNone when its box is malformed); any
// other text is a bare answer, returned with surrounding whitespace trimmed (kBare).
Extraction answer_from_answer_or_solution(std::string_view text);

// ---------------------------------------------------------------------------------------------------------------------
// Normalization and equivalence
// ---------------------------------------------------------------------------------------------------------------------

// Raised by strip_string where the Python original raises (a second "\text{ ", "\sqrt" or "\frac" with
// nothing after it); is_equiv_hendrycks then falls back to raw equality, as the original does.
class NormalizationError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Hendrycks `_strip_string`, the 16 steps of spec section 3.1 in order.
std::string strip_string(std::string_view s);
// `strip_string(a) == strip_string(b)`, or `a == b` when either throws.
bool is_equiv_hendrycks(std::string_view a, std::string_view b);

// Minerva `normalize_final_answer`, spec section 3.2 (lm-eval's lists, in lm-eval's order).
std::string normalize_final_answer(std::string_view s);
// `normalize_final_answer(a) == normalize_final_answer(b)`.
bool is_equiv_minerva(std::string_view a, std::string_view b);

bool is_equiv(std::string_view a, std::string_view b, Grader grader);
// The grader's normal form, for display: strip_string (the input unchanged where it throws) or
// normalize_final_answer.
std::string normalize(std::string_view s, Grader grader);

// ---------------------------------------------------------------------------------------------------------------------
// Grading one output
// ---------------------------------------------------------------------------------------------------------------------

struct GradeResult {
    Verdict verdict = Verdict::kNoAnswer;
    Grader grader = Grader::kHendrycks;
    ExtractionMethod method = ExtractionMethod::kNone;
    std::string extracted;             // the answer taken from the model output ("" when none)
    std::string reference;             // the reference answer (extracted when a solution was given)
    std::string normalized_extracted;  // normalize(compared answer, grader)
    std::string normalized_reference;  // normalize(reference, grader)
};

// Grades `model_output` against `reference` (a bare answer or a full solution). No extractable answer gives
// kNoAnswer. With the Hendrycks grader an answer from the final-answer sentence is compared without its
// `$...$` delimiters (the text between the first and last `$`, as lm-eval's hendrycks_math extraction does);
// Minerva's normalization removes them itself. Throws std::invalid_argument when the reference is a solution
// whose answer cannot be extracted.
GradeResult grade(std::string_view reference, std::string_view model_output, Grader grader);
// The same, but the second argument may also be a bare answer (answer_from_answer_or_solution): what
// `ead eval grade` does.
GradeResult grade_answer_or_solution(std::string_view reference, std::string_view answer_or_solution,
                                     Grader grader);

}  // namespace ead::eval

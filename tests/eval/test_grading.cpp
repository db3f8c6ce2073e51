// Graders and answer extraction (src/eval/grading.h). Every expected verdict in kPairs was derived by
// executing the algorithms of ../shared/spec/math-grading.md (Hendrycks `_strip_string` / `is_equiv`, Minerva
// `normalize_final_answer` with normalized-string equality), by hand and with an independent Python
// re-implementation.
#include <gtest/gtest.h>

#include <string>

#include "common/test_env.h"
#include "eval/grading.h"

namespace ead::eval {
namespace {

struct Pair {
    const char* reference;
    const char* answer;
    bool hendrycks;  // is_equiv_hendrycks(reference, answer)
    bool minerva;    // is_equiv_minerva(reference, answer)
};

// clang-format off
const Pair kPairs[] = {
    {R"(\frac{1}{2})", R"(\frac12)", true, true},
    {R"(\frac{1}{2})", R"(\dfrac{1}{2})", true, false},  // graders differ
    {R"(\frac{1}{2})", R"(\tfrac12)", true, false},  // graders differ
    {R"(\frac{1}{2})", R"(1/2)", true, false},  // graders differ
    {R"(\frac{1}{2})", R"(0.5)", true, false},  // graders differ
    {R"(\frac12)", R"(.5)", true, false},  // graders differ
    {R"(\frac{1}{2})", R"(0.50)", false, false},
    {R"(\frac{3}{4})", R"(3/4)", true, false},  // graders differ
    {R"(\frac{2}{4})", R"(\frac{1}{2})", false, false},
    {R"(\frac{-1}{2})", R"(-1/2)", true, false},  // graders differ
    {R"(-\frac{1}{2})", R"(-1/2)", false, false},
    {R"(\frac{1}{2})", R"(\dfrac12)", true, false},  // graders differ
    {R"(\frac1{72})", R"(\frac{1}{72})", true, false},  // graders differ
    {R"(\frac{10}{3})", R"(\frac103)", false, false},
    {R"(1/2)", R"(1 / 2)", true, true},
    {R"(-\frac{2}{3})", R"(-\dfrac{2}{3})", true, false},  // graders differ
    {R"(\dfrac{2}{3})", R"(\dfrac{2}{3})", true, true},
    {R"(\frac{\pi}{2})", R"(\frac\pi2)", false, false},
    {R"(\frac{9}{2})", R"(4.5)", false, false},
    {R"(.5)", R"(0.5)", true, false},  // graders differ
    {R"(0.5)", R"(1/2)", true, false},  // graders differ
    {R"(1\frac{1}{2})", R"(1 1/2)", false, false},
    {R"(90)", R"(90^\circ)", true, true},
    {R"(90)", R"(90^{\circ})", true, true},
    {R"(90)", R"(90 degrees)", false, true},  // graders differ
    {R"(30^\circ)", R"(30 degrees)", false, true},  // graders differ
    {R"(5)", R"(5\text{ cm})", true, true},
    {R"(5)", R"(5 \text{ inches})", true, true},
    {R"(5)", R"(5\text{cm})", false, true},  // graders differ
    {R"(12)", R"(12\mbox{ inches})", false, true},  // graders differ
    {R"(10)", R"(10 \text{ m})", true, true},
    {R"(11)", R"(11\text{ students})", true, true},
    {R"(6)", R"(6 ways)", false, true},  // graders differ
    {R"(5)", R"(5\text{ m}\text{ m})", false, true},  // graders differ
    {R"(\text{ cm}\text{ cm})", R"(\text{ cm}\text{ cm})", true, true},
    {R"(25)", R"(25\%)", true, false},  // graders differ
    {R"(25\%)", R"(25%)", false, false},
    {R"(10)", R"(\$10)", true, true},
    {R"(10)", R"($10)", false, true},  // graders differ
    {R"(10.50)", R"(\$10.50)", true, true},
    {R"(5)", R"(5 dollars)", false, true},  // graders differ
    {R"(\$1.50)", R"(1.5)", false, false},
    {R"(\$5.00)", R"(5)", false, false},
    {R"(1000)", R"(1,000)", false, true},  // graders differ
    {R"(1000)", R"(1{,}000)", false, true},  // graders differ
    {R"(1000000)", R"(1,000,000)", false, true},  // graders differ
    {R"(1000)", R"(1\,000)", false, false},
    {R"(2,3)", R"(2, 3)", true, true},
    {R"(1,2)", R"(2,1)", false, false},
    {R"((1,2))", R"(\left(1,2\right))", true, false},  // graders differ
    {R"((1, 2))", R"((1,2))", true, true},
    {R"([2,5))", R"([2, 5))", true, true},
    {R"((2,5))", R"([2,5])", false, false},
    {R"((-\infty, 3])", R"((-\infty,3])", true, true},
    {R"(\left[ 1, 2 \right])", R"([1,2])", true, false},  // graders differ
    {R"(\left( \frac{1}{2}, 3 \right))", R"((\frac12,3))", true, false},  // graders differ
    {R"(\{1,2\})", R"(\{1, 2\})", true, true},
    {R"([1,2])", R"(x \in [1,2])", false, false},
    {R"(5)", R"(x = 5)", true, true},
    {R"(5)", R"(x=5)", true, true},
    {R"(5)", R"(xy = 5)", false, true},  // graders differ
    {R"(5)", R"(x+y=5)", false, true},  // graders differ
    {R"(4)", R"(k=4)", true, true},
    {R"(2\pi)", R"(2 \pi)", true, true},
    {R"(\pi)", R"(3.14)", false, false},
    {R"(\sqrt{3})", R"(\sqrt3)", true, true},
    {R"(2\sqrt{2})", R"(2 \sqrt 2)", false, true},  // graders differ
    {R"(\frac{\sqrt{3}}{2})", R"(\frac{\sqrt3}{2})", true, true},
    {R"(\sqrt{2}/2)", R"(\frac{\sqrt{2}}{2})", false, false},
    {R"(3\sqrt{2})", R"(3\sqrt2)", true, true},
    {R"(\sqrt)", R"(\sqrt)", true, true},
    {R"(\text{(A)})", R"((A))", false, true},  // graders differ
    {R"(\text{Monday})", R"(Monday)", false, true},  // graders differ
    {R"(\textbf{(C)})", R"((C))", false, true},  // graders differ
    {R"(0.3)", R"(0.\overline{3})", false, true},  // graders differ
    {R"(\frac{1}{3})", R"(0.\overline{3})", false, false},
    {R"(10)", R"(\boxed{10})", false, true},  // graders differ
    {R"(3)", R"($3$)", false, true},  // graders differ
    {R"(b)", R"(a b)", false, true},  // graders differ
    {R"(5)", R"(\mathbf{5})", false, false},
    {R"(3)", R"( 3 )", true, true},
    {R"(x^2 + 2x + 1)", R"(x^2+2x+1)", true, true},
    {R"(5)", R"(5.0)", false, false},
    {R"(3)", R"(3.)", false, false},
    {R"(\frac{1}{2})", R"(\frac{1}{2}.)", false, false},
    {R"(7)", R"(07)", false, false},
    {R"(a)", R"(A)", false, false},
    {R"(\infty)", R"(\infty)", true, true},
    {R"(5)", "5\n", true, false},  // graders differ
    {R"(\frac{1}{2})", R"(\frac{1}{2}\!)", true, false},  // graders differ
};
// clang-format on

TEST(Grading, PairTableHasEnoughCases) {
    EXPECT_GE(std::size(kPairs), 60u);
    int differ = 0;
    for (const Pair& p : kPairs) differ += p.hendrycks != p.minerva;
    EXPECT_GE(differ, 20);
}

TEST(Grading, PairTableHendrycks) {
    for (const Pair& p : kPairs) {
        EXPECT_EQ(is_equiv_hendrycks(p.reference, p.answer), p.hendrycks)
            << "reference [" << p.reference << "] answer [" << p.answer << "] strip: ["
            << normalize(p.reference, Grader::kHendrycks) << "] vs ["
            << normalize(p.answer, Grader::kHendrycks) << "]";
        // Equivalence is symmetric.
        EXPECT_EQ(is_equiv(p.answer, p.reference, Grader::kHendrycks), p.hendrycks)
            << p.reference << " | " << p.answer;
    }
}

TEST(Grading, PairTableMinerva) {
    for (const Pair& p : kPairs) {
        EXPECT_EQ(is_equiv_minerva(p.reference, p.answer), p.minerva)
            << "reference [" << p.reference << "] answer [" << p.answer << "] normalized: ["
            << normalize_final_answer(p.reference) << "] vs [" << normalize_final_answer(p.answer) << "]";
        EXPECT_EQ(is_equiv(p.answer, p.reference, Grader::kMinerva), p.minerva)
            << p.reference << " | " << p.answer;
    }
}

TEST(Grading, StripStringForms) {
    const std::pair<const char*, const char*> cases[] = {
        {R"(\dfrac12)", R"(\frac{1}{2})"},
        {R"( .5)", R"(\frac{1}{2})"},
        {R"(x = \frac{1}{2})", R"(\frac{1}{2})"},
        {R"(\left(1, 2\right))", R"((1,2))"},
        {R"(90^\circ)", R"(90)"},
        {R"(5\text{ cm})", R"(5)"},
        {R"(\sqrt3+\sqrt{2})", R"(\sqrt{3}+\sqrt{2})"},
        {R"(10/4)", R"(\frac{10}{4})"},
        {R"(-3/6)", R"(\frac{-3}{6})"},
        {R"(1/-2)", R"(\frac{1}{-2})"},
        {R"(01/2)", R"(01/2)"},
        {R"(\frac1b)", R"(\frac{1}{b})"},
        {R"(k = 3.)", R"(3.)"},
        {R"(50\%)", R"(50)"},
        {"50%", "50%"},
        {"", ""},
        {"a\nb", "ab"},
        {R"(\\frac{1}{2})", R"(\frac{1}{2})"},
        // Python counts code points: "θ " and "αβ" are two characters, "αβγ" three.
        {"θ = 5", "5"},
        {"αβ=5", "5"},
        {"αβγ=5", "αβγ=5"},
        {R"(\sqrtπ)", R"(\sqrt{π})"},
        {R"(\fracπ2)", R"(\frac{π}{2})"},
        {R"(\frac1π)", R"(\frac{1}{π})"},
        // A single character after \frac: the original returns the string unchanged.
        {R"(\frac{1}{2}+\frac1)", R"(\frac{1}{2}+\frac1)"},
    };
    for (const auto& [in, out] : cases) EXPECT_EQ(strip_string(in), out) << "input [" << in << "]";
}

TEST(Grading, StripStringThrowsWhereTheOriginalRaises) {
    EXPECT_THROW(strip_string(R"(5\text{ m}\text{ m})"), NormalizationError);
    EXPECT_THROW(strip_string(R"(2\sqrt)"), NormalizationError);
    EXPECT_THROW(strip_string(R"(\frac)"), NormalizationError);
    // ... and is_equiv falls back to raw equality.
    EXPECT_TRUE(is_equiv_hendrycks(R"(2\sqrt)", R"(2\sqrt)"));
    EXPECT_FALSE(is_equiv_hendrycks(R"(2\sqrt)", R"(2 \sqrt)"));
    EXPECT_EQ(normalize(R"(2\sqrt)", Grader::kHendrycks), R"(2\sqrt)");
}

TEST(Grading, NormalizeFinalAnswerForms) {
    const std::pair<const char*, const char*> cases[] = {
        {R"(The answer is $\frac12$)", R"(\frac{1}{2})"},
        {R"(x = 1,000)", R"(1000)"},
        {R"(\text{(B)})", R"((B))"},
        {R"(\left(1,2\right))", R"(\le(1,2\right))"},  // "ft" is a removed unit, even inside \left
        {R"(\fracab)", R"(\frac{a}{b})"},
        {R"(\sqrt2)", R"(\sqrt{2})"},
        {R"(5\text{ square units})", R"(5)"},
        {R"(\$\boxed{10})", R"(10)"},
        {R"(\textbf{B}\text{ and }\text{C})", R"(B,C)"},
        {R"(an apple)", R"(apple)"},
        {R"(1,000.5)", R"(1,000.5)"},
        {R"(\frac1{2})", R"(\frac{1}{{}2})"},
        {"$1$ and $2$\nx $3$ y $4$", "1\n3"},          // the first $...$ of each line
        {R"(\boxed{1}+\boxed{2})", R"(1}+\boxed{2)"},  // greedy \boxed{...}
        {"\\text{x\ny}", "\\text{x\ny}"},              // `.` does not cross a newline
        {"αβγ=5", "5"},
        {R"(\fracπ2)", R"(\frac{π}{2})"},
        {"", ""},
    };
    for (const auto& [in, out] : cases) EXPECT_EQ(normalize_final_answer(in), out) << "input [" << in << "]";
}

// ---------------------------------------------------------------------------------------------------------------------
// Extraction
// ---------------------------------------------------------------------------------------------------------------------

TEST(Extraction, Boxed) {
    EXPECT_EQ(extract_boxed(R"(so the answer is $\boxed{5}$.)"), "5");
    EXPECT_EQ(extract_boxed(R"(\boxed{\frac{1}{\sqrt{2}}})"), R"(\frac{1}{\sqrt{2}})");
    EXPECT_EQ(extract_boxed(R"(\boxed{\{1,2\}})"), R"(\{1,2\})");
    EXPECT_EQ(extract_boxed(R"(first \boxed{1}, then \boxed{2}, finally \boxed{3})"), "3");
    EXPECT_EQ(extract_boxed(R"(\fbox{7})"), "7");
    EXPECT_EQ(extract_boxed(R"(\fbox{7} and \boxed{8})"), "8");  // \fbox only when there is no \boxed
    EXPECT_EQ(extract_boxed(R"(\boxed{8} and \fbox{7})"), "8");
    EXPECT_EQ(extract_boxed(R"($\boxed 5$.)"), "5");
    EXPECT_EQ(extract_boxed(R"(\boxed 5)"), "5");
    EXPECT_EQ(extract_boxed("\\boxed 42\nmore text"), "42");
    EXPECT_EQ(extract_boxed(R"(\boxed {5})"), "5");
    EXPECT_EQ(extract_boxed(R"(\boxed{}\!)"), "");
    EXPECT_EQ(extract_boxed(R"(\boxed{5} then \boxed 6$)"), "6");  // the last command wins
    EXPECT_EQ(extract_boxed(R"(\boxed 6$ then \boxed{5})"), "5");
    EXPECT_EQ(extract_boxed("\\boxed{x = \\text{yes}}"), "x = \\text{yes}");
    EXPECT_EQ(extract_boxed("€ \\boxed{π}"), "π");
}

TEST(Extraction, BoxedMissingOrMalformed) {
    EXPECT_EQ(extract_boxed("no answer here"), std::nullopt);
    EXPECT_EQ(extract_boxed(""), std::nullopt);
    EXPECT_EQ(extract_boxed(R"(\boxed{\frac{1}{2})"), std::nullopt);  // never closes
    EXPECT_EQ(extract_boxed(R"(\boxed{1} \boxed{2)"), std::nullopt);  // the last one never closes
    EXPECT_EQ(extract_boxed(R"(\boxed5)"), std::nullopt);
    EXPECT_EQ(extract_boxed(R"(\boxed)"), std::nullopt);
    EXPECT_EQ(extract_boxed(R"(\boxed $)"), std::nullopt);
}

TEST(Extraction, MinervaFinalAnswer) {
    EXPECT_EQ(extract_final_answer("Final Answer: The final answer is $5$. I hope it is correct."), "$5$");
    // The end sequence is appended first, so a generation stopped before it still matches.
    EXPECT_EQ(extract_final_answer("Final Answer: The final answer is $\\frac{1}{2}$. "), "$\\frac{1}{2}$");
    // Non-greedy: the first " I hope it is correct" ends the group; the `.` before it is any character.
    EXPECT_EQ(extract_final_answer(
                  "Final Answer: The final answer is 7! I hope it is correct. I hope it is correct."),
              "7");
    EXPECT_EQ(extract_final_answer("Final Answer: The final answer is 3.14. I hope it is correct."), "3.14");
    // A newline inside breaks the match; a later sentence can still match.
    EXPECT_EQ(extract_final_answer("Final Answer: The final answer is 1\n. I hope it is correct."),
              std::nullopt);
    EXPECT_EQ(extract_final_answer(
                  "Final Answer: The final answer is 1\nFinal Answer: The final answer is 2. I hope "
                  "it is correct."),
              "2");
    EXPECT_EQ(extract_final_answer("The final answer is 5. I hope it is correct."),
              std::nullopt);  // no prefix
    EXPECT_EQ(extract_final_answer("Final Answer: The final answer is $5$."),
              std::nullopt);  // no space before I hope
    EXPECT_EQ(extract_final_answer("Final Answer: The final answer is π. I hope it is correct."), "π");
    EXPECT_EQ(extract_final_answer("Final Answer: The final answer is 5π I hope it is correct."),
              "5");  // `.` = π
}

TEST(Extraction, ExtractAnswer) {
    Extraction e = extract_answer(
        R"(We get $\boxed{12}$. Final Answer: The final answer is $13$. I hope it is correct.)");
    EXPECT_EQ(e.method, ExtractionMethod::kBoxed);
    EXPECT_EQ(e.answer, "12");
    e = extract_answer("Final Answer: The final answer is $13$. I hope it is correct.");
    EXPECT_EQ(e.method, ExtractionMethod::kFinalAnswer);
    EXPECT_EQ(e.answer, "$13$");
    e = extract_answer("I think it is 13.");
    EXPECT_FALSE(e.found());
    EXPECT_EQ(e.method, ExtractionMethod::kNone);
    e = extract_answer(R"(\boxed{13)");
    EXPECT_FALSE(e.found());
}

TEST(Extraction, AnswerOrSolution) {
    Extraction e = answer_from_answer_or_solution(R"(  \frac{1}{2} )");
    EXPECT_EQ(e.method, ExtractionMethod::kBare);
    EXPECT_EQ(e.answer, R"(\frac{1}{2})");
    e = answer_from_answer_or_solution(R"(Since $x=2$, we get $\boxed{4}$.)");
    EXPECT_EQ(e.method, ExtractionMethod::kBoxed);
    EXPECT_EQ(e.answer, "4");
    e = answer_from_answer_or_solution("Final Answer: The final answer is $4$. I hope it is correct.");
    EXPECT_EQ(e.method, ExtractionMethod::kFinalAnswer);
    e = answer_from_answer_or_solution(R"(a solution with a broken \boxed{4)");
    EXPECT_FALSE(e.found());
}

// ---------------------------------------------------------------------------------------------------------------------
// grade()
// ---------------------------------------------------------------------------------------------------------------------

TEST(Grade, Verdicts) {
    const char* solution = R"(The sum is $\frac{1}{2}+\frac{1}{4}=\boxed{\frac{3}{4}}$.)";
    GradeResult r = grade(solution, R"(So we get \boxed{3/4}.)", Grader::kHendrycks);
    EXPECT_EQ(r.verdict, Verdict::kCorrect);
    EXPECT_EQ(r.reference, R"(\frac{3}{4})");
    EXPECT_EQ(r.extracted, "3/4");
    EXPECT_EQ(r.normalized_extracted, R"(\frac{3}{4})");
    EXPECT_EQ(r.method, ExtractionMethod::kBoxed);
    EXPECT_EQ(r.grader, Grader::kHendrycks);

    r = grade(solution, R"(So we get \boxed{3/4}.)", Grader::kMinerva);
    EXPECT_EQ(r.verdict, Verdict::kIncorrect);
    EXPECT_EQ(r.normalized_extracted, "3/4");

    r = grade(R"(\frac{3}{4})", "no idea", Grader::kMinerva);
    EXPECT_EQ(r.verdict, Verdict::kNoAnswer);
    EXPECT_EQ(r.extracted, "");

    // The final-answer sentence: Hendrycks compares what is between the $ signs, Minerva normalizes them
    // away.
    const char* minerva_style = "Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.";
    EXPECT_EQ(grade(solution, minerva_style, Grader::kHendrycks).verdict, Verdict::kCorrect);
    EXPECT_EQ(grade(solution, minerva_style, Grader::kMinerva).verdict, Verdict::kCorrect);

    EXPECT_THROW(grade(R"(broken \boxed{3)", R"(\boxed{3})", Grader::kHendrycks), std::invalid_argument);
}

TEST(Grade, AnswerOrSolution) {
    EXPECT_EQ(grade_answer_or_solution("0.5", R"(\frac12)", Grader::kHendrycks).verdict, Verdict::kCorrect);
    EXPECT_EQ(grade_answer_or_solution("0.5", R"(\frac12)", Grader::kMinerva).verdict, Verdict::kIncorrect);
    EXPECT_EQ(grade_answer_or_solution("7", R"(text \boxed{7)", Grader::kMinerva).verdict,
              Verdict::kNoAnswer);
}

TEST(Grade, Names) {
    EXPECT_EQ(parse_grader("hendrycks"), Grader::kHendrycks);
    EXPECT_EQ(parse_grader(grader_name(Grader::kMinerva)), Grader::kMinerva);
    EXPECT_THROW(parse_grader("sympy"), std::invalid_argument);
    for (Verdict v : {Verdict::kCorrect, Verdict::kIncorrect, Verdict::kNoAnswer}) {
        EXPECT_EQ(parse_verdict(verdict_name(v)), v);
    }
    EXPECT_THROW(parse_verdict("maybe"), std::invalid_argument);
}

TEST(Grade, Cli) {
    auto r = test::run_cli(R"(eval grade --reference '\frac{1}{2}' '0.5')");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(r.out, "true\n");
    r = test::run_cli(R"(eval grade --grader minerva --reference '\frac{1}{2}' '0.5')");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(r.out, "false\n");
    r = test::run_cli(
        R"(eval grade --grader minerva --reference 'so $\boxed{1000}$' 'We find \boxed{1,000}.')");
    EXPECT_EQ(r.out, "true\n");
    r = test::run_cli(R"(eval grade --grader sympy --reference 1 1)");
    EXPECT_NE(r.exit_code, 0);
}

}  // namespace
}  // namespace ead::eval

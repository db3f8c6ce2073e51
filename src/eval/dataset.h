// MATH-style problem sets in JSON Lines: one object per line with `problem`, `solution` and/or `answer`,
// optional `level` (3 or "Level 3"), `type` or `subject`, and `unique_id` (MATH, MATH-500, PRM800K
// test.jsonl).
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ead::eval {

// A malformed dataset or results file; the message starts with "FILE:LINE: ".
class DatasetError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct Problem {
    std::string unique_id;  // `unique_id`, else "<source>:<line>"
    std::string problem;
    std::string solution;  // "" when the line has only `answer`
    std::string answer;    // `answer`, else the last \boxed{...} of `solution`
    int level = 0;         // 1..5; 0 when absent or "Level ?"
    std::string subject;   // `subject`, else `type`; "" when absent
    size_t line = 0;       // 1-based line in the source
};

// Parses JSONL from `in`; `source` names it in errors and default ids. Blank lines are skipped. Throws
// DatasetError
// ("SOURCE:LINE: what was wrong") for invalid JSON, a non-object, a missing or non-string `problem`, neither
// `solution` nor `answer`, a `solution` without an extractable answer (when there is no `answer`), a bad
// `level`, or a duplicate `unique_id`.
std::vector<Problem> parse_problems(std::istream& in, const std::string& source);
// Opens and parses a file; throws DatasetError when it cannot be opened.
std::vector<Problem> read_problems(const std::string& path);

// Which problems to run: first a seeded sample of `sample` problems (0 = all; kept in file order), then
// `offset` problems skipped, then at most `limit` kept (0 = no limit).
struct Selection {
    size_t offset = 0;
    size_t limit = 0;
    size_t sample = 0;
    uint64_t seed = 0;
};

// `n` distinct indices out of [0, total), in increasing order, chosen by a partial Fisher-Yates shuffle
// driven by SplitMix64(seed): the same (total, n, seed) gives the same indices on every platform. n >= total
// gives all.
std::vector<size_t> sample_indices(size_t total, size_t n, uint64_t seed);
std::vector<Problem> select(const std::vector<Problem>& problems, const Selection& sel);

}  // namespace ead::eval

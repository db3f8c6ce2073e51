// Shared helpers for the test suite: where the shared data and real models live, running the CLI.
#pragma once

#include <string>
#include <vector>

namespace ead::test {

// ../shared beside the repository (conformance data, tokenizer fixtures); empty string when absent.
std::string shared_dir();
// The repository's models/ folder (filled by tools/fetch_models.py).
std::string models_dir();
// Path of a real model in models/, or empty when it has not been fetched.
std::string real_model(const std::string& file);
bool file_exists(const std::string& path);
// True when EAD_TEST_QUICK is set (sanitizer runs): tests may shrink their random-case counts.
bool quick();

struct CliResult {
    int exit_code = -1;
    std::string out;  // stdout and stderr together
};
// Runs the built `ead` binary with the given shell-quoted arguments.
CliResult run_cli(const std::string& args);

}  // namespace ead::test

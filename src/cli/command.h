// Subcommand registry of the `ead` CLI. Each src/cli/cmd_*.cpp registers one subcommand at static-init time:
//
//   static const bool kRegistered = ead::cli::register_command(
//       {"info", "Describe a GGUF file", [](CLI::App& app) { ...add options...; return [=]{ ...; return 0; }; }});
//
// The setup function declares the subcommand's options on `app` and returns the function that runs it.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace ead::cli {

using Runner = std::function<int()>;

struct Command {
    std::string name;
    std::string help;
    std::function<Runner(CLI::App&)> setup;
};

bool register_command(Command c);
std::vector<Command>& commands();

}  // namespace ead::cli

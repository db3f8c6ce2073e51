// `ead`: the command-line front end. Subcommands live in cmd_*.cpp and register themselves (command.h).
#include <algorithm>
#include <cstdio>
#include <exception>
#include <map>

#include "cli/command.h"

namespace ead::cli {

std::vector<Command>& commands() {
    static std::vector<Command> all;
    return all;
}

bool register_command(Command c) {
    commands().push_back(std::move(c));
    return true;
}

}  // namespace ead::cli

int main(int argc, char** argv) {
    using namespace ead::cli;
    CLI::App app{"ead: Entropy Adaptive Decoding inference engine"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "ead 0.1.0");
    auto& cmds = commands();
    std::sort(cmds.begin(), cmds.end(), [](const Command& a, const Command& b) { return a.name < b.name; });
    std::map<CLI::App*, Runner> runners;
    for (auto& c : cmds) {
        CLI::App* sub = app.add_subcommand(c.name, c.help);
        runners[sub] = c.setup(*sub);
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    for (auto& [sub, run] : runners) {
        if (!sub->parsed()) continue;
        try {
            return run();
        } catch (const std::exception& e) {
            std::fflush(stdout);
            std::fprintf(stderr, "error: %s\n", e.what());
            return 1;
        }
    }
    return 1;
}

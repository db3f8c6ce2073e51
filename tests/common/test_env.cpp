#include "common/test_env.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>

namespace ead::test {

bool file_exists(const std::string& path) {
    struct stat st {};
    return stat(path.c_str(), &st) == 0;
}

std::string shared_dir() {
    const char* env = std::getenv("EAD_SHARED_DIR");
    std::string d = env ? env : EAD_SHARED_DIR;
    return file_exists(d) ? d : std::string();
}

std::string models_dir() { return std::string(EAD_SOURCE_DIR) + "/models"; }

std::string real_model(const std::string& file) {
    std::string p = models_dir() + "/" + file;
    return file_exists(p) ? p : std::string();
}

bool quick() { return std::getenv("EAD_TEST_QUICK") != nullptr; }

CliResult run_cli(const std::string& args) {
    CliResult r;
    std::string cmd = std::string(EAD_CLI_PATH) + " " + args + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    int status = pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

}  // namespace ead::test

// Helpers for the server tests: the `ead serve` child process, SSE parsing, a synthetic model pair.
#pragma once

#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ead::server::test {

using nlohmann::json;

// A `ead serve` child process on a free loopback port (--port 0; the port is read from its "listening on" line).
class ServerProcess {
public:
    ServerProcess(const std::vector<std::string>& args, const std::string& log_path) : log_(log_path) {
        // A log left by an earlier process (same path, e.g. a recycled pid) would give its stale port to the
        // loop below if read before the child truncates it.
        std::error_code ec;
        std::filesystem::remove(log_path, ec);
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            FILE* f = std::freopen(log_path.c_str(), "w", stdout);
            (void)f;
            dup2(fileno(stdout), fileno(stderr));
            std::vector<std::string> all = {EAD_CLI_PATH, "serve", "--host", "127.0.0.1", "--port", "0"};
            all.insert(all.end(), args.begin(), args.end());
            std::vector<char*> argv;
            for (auto& a : all) argv.push_back(a.data());
            argv.push_back(nullptr);
            execv(argv[0], argv.data());
            _exit(127);
        }
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (std::chrono::steady_clock::now() < deadline) {
            std::ifstream in(log_path);
            std::string line;
            while (std::getline(in, line)) {
                const std::string key = "listening on http://127.0.0.1:";
                if (auto p = line.find(key); p != std::string::npos) {
                    port_ = std::atoi(line.c_str() + p + key.size());
                    return;
                }
            }
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                throw std::runtime_error("ead serve exited at start:\n" + log());
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        throw std::runtime_error("ead serve did not start in time:\n" + log());
    }
    ~ServerProcess() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    int port() const { return port_; }
    pid_t pid() const { return pid_; }
    std::string log() const {
        std::ifstream in(log_);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    // Sends SIGTERM and waits up to timeout_s for the exit; returns the exit code (-1: killed / timed out).
    int terminate(double timeout_s) {
        kill(pid_, SIGTERM);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return -1;
    }

private:
    pid_t pid_ = -1;
    int port_ = 0;
    std::string log_;
};

// Parses a server-sent-events body into its JSON payloads; `done` is set when the last event is [DONE].
inline std::vector<json> parse_sse(const std::string& body, bool* done) {
    std::vector<json> events;
    *done = false;
    size_t pos = 0;
    while (pos < body.size()) {
        size_t end = body.find("\n\n", pos);
        if (end == std::string::npos) end = body.size();
        const std::string ev = body.substr(pos, end - pos);
        pos = end + 2;
        if (ev.rfind("data: ", 0) != 0) continue;  // comments (": queued")
        const std::string data = ev.substr(6);
        if (data == "[DONE]") {
            *done = true;
            continue;
        }
        if (*done) throw std::runtime_error("event after [DONE]");
        events.push_back(json::parse(data));
    }
    return events;
}

inline httplib::Result post_json(httplib::Client& cli, const std::string& path, const json& body) {
    return cli.Post(path.c_str(), body.dump(), "application/json");
}

// A well-formed OpenAI error body.
inline bool is_error_body(const std::string& body) {
    json j = json::parse(body, nullptr, false);
    if (!j.is_object() || !j.contains("error")) return false;
    const json& e = j["error"];
    return e.is_object() && e.contains("message") && e["message"].is_string() && !e["message"].get<std::string>().empty() &&
           e.contains("type") && e["type"].is_string() && e.contains("param") && e.contains("code");
}

// Value of a metric line "NAME VALUE" (NAME with its labels); -1 when absent.
inline double metric(const std::string& text, const std::string& name) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(name + " ", 0) == 0) return std::atof(line.c_str() + name.size() + 1);
    }
    return -1;
}

}  // namespace ead::server::test

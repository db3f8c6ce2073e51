// Errors the HTTP layer turns into OpenAI-style JSON bodies:
//   {"error": {"message": "...", "type": "invalid_request_error", "param": "max_tokens", "code": null}}
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace ead::server {

class ApiError : public std::runtime_error {
public:
    // `param`: the request field at fault ("messages[1].role", "ead.tau"), empty for none. `code`: a short
    // machine-readable code ("context_length_exceeded"), empty for none. `type`: empty = by status.
    ApiError(int status, const std::string& message, std::string param = {}, std::string code = {},
             std::string type = {});

    int status() const { return status_; }
    const std::string& param() const { return param_; }
    const std::string& code() const { return code_; }
    const std::string& type() const { return type_; }

private:
    int status_;
    std::string param_;
    std::string code_;
    std::string type_;
};

// "invalid_request_error" (4xx), "not_found_error" (404), "server_error" (5xx).
std::string default_error_type(int status);

nlohmann::ordered_json error_json(int status, const std::string& message, const std::string& param = {},
                                  const std::string& code = {}, const std::string& type = {});
nlohmann::ordered_json error_json(const ApiError& e);

// Compact JSON text; invalid UTF-8 in strings (a model may emit any bytes) is replaced by U+FFFD, never thrown.
std::string dump_json(const nlohmann::ordered_json& j);

}  // namespace ead::server

#include "server/api_error.h"

namespace ead::server {

ApiError::ApiError(int status, const std::string& message, std::string param, std::string code, std::string type)
    : std::runtime_error(message),
      status_(status),
      param_(std::move(param)),
      code_(std::move(code)),
      type_(type.empty() ? default_error_type(status) : std::move(type)) {}

std::string default_error_type(int status) {
    if (status == 404) return "not_found_error";
    if (status >= 500) return "server_error";
    return "invalid_request_error";
}

nlohmann::ordered_json error_json(int status, const std::string& message, const std::string& param,
                                  const std::string& code, const std::string& type) {
    nlohmann::ordered_json e;
    e["message"] = message;
    e["type"] = type.empty() ? default_error_type(status) : type;
    e["param"] = param.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(param);
    e["code"] = code.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(code);
    nlohmann::ordered_json j;
    j["error"] = std::move(e);
    return j;
}

nlohmann::ordered_json error_json(const ApiError& e) {
    return error_json(e.status(), e.what(), e.param(), e.code(), e.type());
}

std::string dump_json(const nlohmann::ordered_json& j) {
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace ead::server

// Every decoding knob, declared once.
//
// DecodeParams holds the values; its default member initializers ARE the defaults (they reproduce the paper,
// see /work/shared/spec/ead-paper.md). param_decls() is the table of declarations (name, type, range,
// environment variable, help) that the CLI (`--min-dwell`), the server's start-up flags, environment
// variables (EAD_MIN_DWELL) and per-request JSON overrides ("min_dwell") all iterate; nothing else lists the
// knobs.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ead::decode {

enum class Strategy : uint8_t { kSmall, kLarge, kEad, kSpec, kEadSpec };

// "small", "large", "ead", "spec", "ead-spec"
std::string_view strategy_name(Strategy s);
// Throws ParamError for an unknown name.
Strategy parse_strategy(std::string_view name);

struct DecodeParams {
    // --- strategy
    // ----------------------------------------------------------------------------------------------
    std::string strategy = "ead";  // small | large | ead | spec | ead-spec

    // --- EAD (paper sections 3-5)
    // ------------------------------------------------------------------------------
    double tau = 1.0;  // threshold on the rolling entropy, bits (the paper sweeps it; no default is given)
    double tau_up = kUnset;    // switch S->L when rolling > tau_up; unset (NaN) = tau
    double tau_down = kUnset;  // switch L->S when rolling <= tau_down; unset (NaN) = tau
    int32_t window = 5;        // w: tokens in the rolling mean
    int32_t min_dwell = 10;    // d_min: tokens the active model generates before the rule may switch
    bool start_large = false;  // paper [choice]: start on the small model
    bool reset_window_on_switch = false;  // paper [choice]: the window is kept across switches
    bool lazy_prefill = true;  // paper [choice]: a model prefills the prompt at its first activation

    // --- speculative decoding (spec, ead-spec)
    // ------------------------------------------------------------------
    int32_t draft_max = 8;  // tokens the small model drafts per round
    double p_min = 0.0;     // stop drafting when the small model's top raw probability is below this

    // --- sampling (sampler.h; temperature 0 = greedy)
    // -------------------------------------------------------
    double temperature = 0.0;
    int32_t top_k = 0;            // 0 = off
    double top_p = 1.0;           // 1 = off
    double min_p = 0.0;           // 0 = off
    double repeat_penalty = 1.0;  // 1 = off
    int32_t repeat_last_n = 64;   // -1 = whole history, 0 = no penalties
    double presence_penalty = 0.0;
    double frequency_penalty = 0.0;
    int64_t seed = -1;  // -1 = random (the run reports the seed it used)

    // --- run
    // ----------------------------------------------------------------------------------------------------
    int32_t n_predict = 512;  // maximum tokens to generate; -1 = until end of generation or context
    int32_t threads = 0;      // CPU threads for the models; 0 = all cores

    static constexpr double kUnset = std::numeric_limits<double>::quiet_NaN();

    // Resolved accessors.
    Strategy strategy_id() const { return parse_strategy(strategy); }
    double effective_tau_up() const { return std::isnan(tau_up) ? tau : tau_up; }
    double effective_tau_down() const { return std::isnan(tau_down) ? tau : tau_down; }
};

// A bad value for a knob; the message names the knob (JSON field / flag) and what was expected.
class ParamError : public std::invalid_argument {
  public:
    using std::invalid_argument::invalid_argument;
};

enum class ParamType : uint8_t { kBool, kInt, kFloat, kString };

using ParamField = std::variant<bool DecodeParams::*, int32_t DecodeParams::*, int64_t DecodeParams::*,
                                double DecodeParams::*, std::string DecodeParams::*>;

struct ParamDecl {
    std::string_view name;  // JSON field; the CLI flag is "--" + name with '_' -> '-'
    std::string_view env;   // environment variable
    std::string_view help;
    ParamField field;
    double min = -std::numeric_limits<double>::infinity();  // numeric range, inclusive
    double max = std::numeric_limits<double>::infinity();
    std::vector<std::string_view> choices = {};  // allowed strings (kString)
    bool nullable = false;                       // JSON null accepted (kFloat: unset = NaN)

    ParamType type() const;
    std::string flag() const;  // "--min-dwell"
    // Every CLI spelling, as CLI11 takes them: flag() plus the short ones llama.cpp users type (-n, -s, -t,
    // --temp), the same in generate, eval run and serve.
    std::string cli_names() const;
};

// The table (in declaration order).
const std::vector<ParamDecl>& param_decls();
// nullptr when unknown.
const ParamDecl* find_param(std::string_view name);

// Parses text (a CLI argument or environment value) into the knob; throws ParamError naming `decl.name`.
// Booleans accept true/false/1/0/yes/no/on/off; a nullable float accepts "" / "none" / "null" (unset).
void set_param(DecodeParams& p, const ParamDecl& decl, std::string_view text);
// The knob's value as text (the form set_param accepts; "none" for an unset float).
std::string param_text(const DecodeParams& p, const ParamDecl& decl);

// Applies a JSON object of overrides {"tau": 2.5, "strategy": "spec", ...}. Type and range errors name the
// field. Unknown fields throw unless ignore_unknown (a server request holds other fields too). Then
// validate()s.
void apply_json(DecodeParams& p, const nlohmann::json& j, bool ignore_unknown = false);
// Every knob, in declaration order (an unset float is null).
nlohmann::ordered_json to_json(const DecodeParams& p);
// Applies every declared environment variable that is set (EAD_TAU=2.5 ...). Then validate()s.
void apply_env(DecodeParams& p);
// Cross-field checks (ranges are checked by the setters): strategy known, tau_up >= tau_down.
void validate(const DecodeParams& p);

}  // namespace ead::decode

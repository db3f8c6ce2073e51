#include "decode/switch_rule.h"

#include "decode/params.h"

namespace ead::decode {

SwitchConfig SwitchConfig::from(const DecodeParams& p) {
    SwitchConfig c;
    c.tau_up = p.effective_tau_up();
    c.tau_down = p.effective_tau_down();
    c.window = p.window;
    c.min_dwell = p.min_dwell;
    c.start_large = p.start_large;
    c.reset_window_on_switch = p.reset_window_on_switch;
    return c;
}

SwitchRule::SwitchRule(const SwitchConfig& config)
    : config_(config),
      active_(config.start_large ? ModelId::kLarge : ModelId::kSmall),
      window_(config.window) {}

SwitchRule::Decision SwitchRule::step(double entropy_bits) {
    window_.push(entropy_bits);
    ++dwell_;
    const double rolling = window_.mean();
    ModelId next = active_;
    if (dwell_ >= config_.min_dwell) {
        if (rolling > config_.tau_up)
            next = ModelId::kLarge;
        else if (rolling <= config_.tau_down)
            next = ModelId::kSmall;
    }
    const bool switched = next != active_;
    if (switched) {
        active_ = next;
        dwell_ = 0;
        if (config_.reset_window_on_switch) window_.clear();
    }
    return {next, switched, rolling};
}

}  // namespace ead::decode

// The EAD switching rule (paper section 4), as a state machine fed one entropy per generated token.
//
//   next = large   if rolling > tau_up   and dwell >= min_dwell
//          small   if rolling <= tau_down and dwell >= min_dwell
//          current otherwise
//
// With tau_up == tau_down == tau this is the paper's rule (`>` up, `<=` down). `dwell` counts the tokens the
// active model generated since it became active (0 at the start) and resets to 0 on every switch. Order per
// token: the active model produces the token, its entropy enters the window (step()), the rule picks the
// model for the next token. Between tau_down and tau_up (hysteresis) the current model stays.
#pragma once

#include <cstdint>

#include "decode/entropy.h"
#include "decode/sequence.h"

namespace ead::decode {

struct DecodeParams;

struct SwitchConfig {
    double tau_up = 1.0;    // bits
    double tau_down = 1.0;  // bits, <= tau_up
    int32_t window = 5;
    int32_t min_dwell = 10;
    bool start_large = false;
    bool reset_window_on_switch = false;

    static SwitchConfig from(const DecodeParams& p);
};

class SwitchRule {
  public:
    explicit SwitchRule(const SwitchConfig& config);

    struct Decision {
        ModelId next;
        bool switched;
        double rolling;  // the rolling mean the rule compared (after this token's entropy entered the window)
    };

    // The active model just produced a token with this entropy (bits): push it, count it, apply the rule. On
    // a switch the dwell counter resets (and the window, if configured).
    Decision step(double entropy_bits);

    ModelId active() const { return active_; }
    int32_t dwell() const { return dwell_; }
    const RollingWindow& window() const { return window_; }

  private:
    SwitchConfig config_;
    ModelId active_;
    int32_t dwell_ = 0;
    RollingWindow window_;
};

}  // namespace ead::decode

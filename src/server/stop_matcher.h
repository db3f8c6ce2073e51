// Stop strings over streamed text: text is released as soon as it cannot be the start of a stop string; a
// matched stop string and everything after it is dropped.
#pragma once

#include <string>
#include <vector>

namespace ead::server {

class StopMatcher {
public:
    explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}

    // Appends `text`; returns the text that is now safe to emit. After a match, stopped() is true and the text
    // before the stop string has been returned.
    std::string push(const std::string& text);
    // The held-back rest (no stop string matched).
    std::string finish();
    bool stopped() const { return stopped_; }

private:
    std::vector<std::string> stops_;
    std::string pending_;
    bool stopped_ = false;
};

}  // namespace ead::server

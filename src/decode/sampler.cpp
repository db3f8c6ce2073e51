#include "decode/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <unordered_map>

#include "decode/params.h"

namespace ead::decode {
namespace {

bool before(const Candidate& a, const Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

}  // namespace

// -----------------------------------------------------------------------------------------------------------
// Candidates, Rng
// -----------------------------------------------------------------------------------------------------------

void Candidates::reset(const float* logits, int32_t n_vocab) {
    data_.resize(static_cast<size_t>(n_vocab));
    for (int32_t i = 0; i < n_vocab; ++i) data_[i] = {i, logits[i], 0.0};
    sorted_ = false;
}

void Candidates::sort_desc() {
    if (sorted_) return;
    std::sort(data_.begin(), data_.end(), before);
    sorted_ = true;
}

void Candidates::normalize() {
    if (data_.empty()) return;
    float mx = -std::numeric_limits<float>::infinity();
    for (const auto& c : data_) mx = std::max(mx, c.logit);
    double z = 0.0;
    for (auto& c : data_) {
        c.p = (c.logit == -std::numeric_limits<float>::infinity())
                  ? 0.0
                  : std::exp(static_cast<double>(c.logit) - static_cast<double>(mx));
        z += c.p;
    }
    for (auto& c : data_) c.p /= z;
}

double Candidates::prob_of(int32_t id) const {
    if (id >= 0 && id < size() && data_[id].id == id) return data_[id].p;  // identity layout
    for (const auto& c : data_)
        if (c.id == id) return c.p;
    return 0.0;
}

double Rng::uniform() {
    return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

// -----------------------------------------------------------------------------------------------------------
// Samplers
// -----------------------------------------------------------------------------------------------------------

Sampler::~Sampler() = default;

std::string PenaltySampler::describe() const {
    return "penalties(repeat=" + fmt("%g", repeat_) + ", last_n=" + std::to_string(last_n_) +
           ", presence=" + fmt("%g", presence_) + ", frequency=" + fmt("%g", frequency_) + ")";
}

void PenaltySampler::apply(Candidates& c, std::span<const int32_t> history) const {
    if (last_n_ == 0 || history.empty()) return;
    const size_t n = last_n_ < 0 ? history.size() : std::min(history.size(), static_cast<size_t>(last_n_));
    std::unordered_map<int32_t, int32_t> counts;
    for (size_t i = history.size() - n; i < history.size(); ++i) counts[history[i]]++;
    auto& data = c.data();
    auto penalize = [&](Candidate& cand, int32_t count) {
        if (repeat_ != 1.0f) cand.logit = cand.logit > 0.0f ? cand.logit / repeat_ : cand.logit * repeat_;
        cand.logit -= presence_ + frequency_ * static_cast<float>(count);
    };
    const bool identity =
        !c.sorted() && c.size() > 0 && data.front().id == 0 && data.back().id == c.size() - 1;
    if (identity) {
        for (const auto& [id, count] : counts)
            if (id >= 0 && id < c.size()) penalize(data[id], count);
    } else {
        for (auto& cand : data) {
            auto it = counts.find(cand.id);
            if (it != counts.end()) penalize(cand, it->second);
        }
    }
    c.set_sorted(false);
}

std::string TemperatureSampler::describe() const {
    return "temperature(" + fmt("%g", temperature_) + ")";
}

void TemperatureSampler::apply(Candidates& c, std::span<const int32_t>) const {
    for (auto& cand : c.data()) cand.logit /= temperature_;  // order is preserved
}

std::string TopKSampler::describe() const {
    return "top_k(" + std::to_string(k_) + ")";
}

void TopKSampler::apply(Candidates& c, std::span<const int32_t>) const {
    auto& data = c.data();
    const int32_t k = std::max<int32_t>(1, k_);
    if (k < c.size()) {
        if (!c.sorted()) std::partial_sort(data.begin(), data.begin() + k, data.end(), before);
        data.resize(static_cast<size_t>(k));
    } else {
        c.sort_desc();
    }
    c.set_sorted(true);
}

std::string TopPSampler::describe() const {
    return "top_p(" + fmt("%g", p_) + ")";
}

void TopPSampler::apply(Candidates& c, std::span<const int32_t>) const {
    if (c.empty()) return;
    c.sort_desc();
    c.normalize();
    auto& data = c.data();
    double cum = 0.0;
    size_t keep = data.size();
    for (size_t i = 0; i < data.size(); ++i) {
        cum += data[i].p;
        if (cum >= static_cast<double>(p_)) {
            keep = i + 1;
            break;
        }
    }
    data.resize(keep);
}

std::string MinPSampler::describe() const {
    return "min_p(" + fmt("%g", min_p_) + ")";
}

void MinPSampler::apply(Candidates& c, std::span<const int32_t>) const {
    if (c.empty()) return;
    c.normalize();
    double p_max = 0.0;
    for (const auto& cand : c.data()) p_max = std::max(p_max, cand.p);
    const double cut = static_cast<double>(min_p_) * p_max;
    auto& data = c.data();
    data.erase(std::remove_if(data.begin(), data.end(), [&](const Candidate& x) { return x.p < cut; }),
               data.end());  // stable: keeps the order (and sortedness)
}

void GreedySampler::apply(Candidates& c, std::span<const int32_t>) const {
    auto& data = c.data();
    if (data.empty()) return;
    size_t best = 0;
    for (size_t i = 1; i < data.size(); ++i)
        if (before(data[i], data[best])) best = i;
    if (best != 0) data[0] = data[best];
    data.erase(data.begin() + 1, data.end());
    c.set_sorted(true);
}

// -----------------------------------------------------------------------------------------------------------
// Chain
// -----------------------------------------------------------------------------------------------------------

SamplerChain& SamplerChain::add(std::unique_ptr<Sampler> s) {
    greedy_ = dynamic_cast<const GreedySampler*>(s.get()) != nullptr;
    samplers_.push_back(std::move(s));
    return *this;
}

void SamplerChain::distribution(const float* logits, int32_t n_vocab, std::span<const int32_t> history,
                                Candidates& out) const {
    out.reset(logits, n_vocab);
    for (const auto& s : samplers_) s->apply(out, history);
    out.normalize();
}

std::string SamplerChain::describe() const {
    std::string s;
    for (const auto& sampler : samplers_) {
        if (!s.empty()) s += " -> ";
        s += sampler->describe();
    }
    return s.empty() ? "softmax" : s;
}

int32_t sample(const Candidates& dist, Rng& rng) {
    const auto& data = dist.data();
    if (data.size() == 1) return data[0].id;
    double total = 0.0;
    for (const auto& c : data) total += c.p;
    const double target = rng.uniform() * total;
    double cum = 0.0;
    for (const auto& c : data) {
        cum += c.p;
        if (cum > target) return c.id;
    }
    for (auto it = data.rbegin(); it != data.rend(); ++it)  // rounding: the last token with p > 0
        if (it->p > 0.0) return it->id;
    return data.back().id;
}

SamplerChain make_sampler_chain(const DecodeParams& p) {
    SamplerChain chain;
    if (p.repeat_last_n != 0 &&
        (p.repeat_penalty != 1.0 || p.presence_penalty != 0.0 || p.frequency_penalty != 0.0)) {
        chain.add(std::make_unique<PenaltySampler>(static_cast<float>(p.repeat_penalty), p.repeat_last_n,
                                                   static_cast<float>(p.presence_penalty),
                                                   static_cast<float>(p.frequency_penalty)));
    }
    if (p.temperature <= 0.0) {
        chain.add(std::make_unique<GreedySampler>());
        return chain;
    }
    if (p.temperature != 1.0)
        chain.add(std::make_unique<TemperatureSampler>(static_cast<float>(p.temperature)));
    if (p.top_k > 0) chain.add(std::make_unique<TopKSampler>(p.top_k));
    if (p.top_p < 1.0) chain.add(std::make_unique<TopPSampler>(static_cast<float>(p.top_p)));
    if (p.min_p > 0.0) chain.add(std::make_unique<MinPSampler>(static_cast<float>(p.min_p)));
    return chain;
}

}  // namespace ead::decode

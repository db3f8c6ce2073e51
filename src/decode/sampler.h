// Samplers: small composable transforms of the candidate set, applied in a chain, then one draw.
//
// A chain turns raw logits into the distribution the next token is drawn from:
//
//   temperature > 0:  penalties -> temperature -> top-k -> top-p -> min-p -> softmax -> draw (inverse CDF)
//   temperature == 0: penalties -> greedy (argmax, ties to the lowest id; a one-hot distribution, no draw)
//
// (make_sampler_chain; samplers that would do nothing, e.g. top_k = 0, are left out.) Entropy is not a
// sampler: entropy_bits (entropy.h) always sees the raw logits.
//
// Random numbers: Rng wraps std::mt19937_64 (whose output sequence the C++ standard fixes) and maps one
// 64-bit output x to a uniform double u = (x >> 11) * 2^-53 in [0, 1); no std::*_distribution is used, so a
// seed gives the same tokens with every standard library.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace ead::decode {

struct DecodeParams;

struct Candidate {
    int32_t id;
    float logit;
    double p;  // filled by Candidates::normalize
};

// The working set of a sampler chain: initially every token id with its raw logit.
class Candidates {
  public:
    void reset(const float* logits, int32_t n_vocab);

    std::vector<Candidate>& data() { return data_; }
    const std::vector<Candidate>& data() const { return data_; }
    int32_t size() const { return static_cast<int32_t>(data_.size()); }
    bool empty() const { return data_.empty(); }

    // Sorts by logit, descending; equal logits by ascending id. No-op when already sorted.
    void sort_desc();
    bool sorted() const { return sorted_; }
    // Marks the order as sorted (for samplers that produce sorted output themselves) or unknown.
    void set_sorted(bool sorted) { sorted_ = sorted; }
    // p = softmax(logit) over the current set, accumulated in double.
    void normalize();
    // Probability of id in the current set (after normalize); 0 when id is not in it.
    double prob_of(int32_t id) const;

  private:
    std::vector<Candidate> data_;
    bool sorted_ = false;
};

class Rng {
  public:
    explicit Rng(uint64_t seed) : engine_(seed) {}
    uint64_t next_u64() { return engine_(); }
    // Uniform in [0, 1): (next_u64() >> 11) * 2^-53.
    double uniform();

  private:
    std::mt19937_64 engine_;
};

class Sampler {
  public:
    virtual ~Sampler();
    // e.g. "top_k(40)"
    virtual std::string describe() const = 0;
    // Transforms c in place. history: the tokens so far (prompt + generated), oldest first.
    virtual void apply(Candidates& c, std::span<const int32_t> history) const = 0;
};

// Repetition, presence and frequency penalties over the last `last_n` tokens of the history (-1: all of it,
// 0: none). For a token that occurs count > 0 times there: logit = logit > 0 ? logit / repeat : logit *
// repeat (repeat = 1 disables), then logit -= presence + frequency * count.
class PenaltySampler : public Sampler {
  public:
    PenaltySampler(float repeat, int32_t last_n, float presence, float frequency)
        : repeat_(repeat), last_n_(last_n), presence_(presence), frequency_(frequency) {}
    std::string describe() const override;
    void apply(Candidates& c, std::span<const int32_t> history) const override;

  private:
    float repeat_;
    int32_t last_n_;
    float presence_;
    float frequency_;
};

// logit /= temperature (temperature > 0).
class TemperatureSampler : public Sampler {
  public:
    explicit TemperatureSampler(float temperature) : temperature_(temperature) {}
    std::string describe() const override;
    void apply(Candidates& c, std::span<const int32_t> history) const override;

  private:
    float temperature_;
};

// Keeps the k highest logits (k >= 1); leaves the set sorted.
class TopKSampler : public Sampler {
  public:
    explicit TopKSampler(int32_t k) : k_(k) {}
    std::string describe() const override;
    void apply(Candidates& c, std::span<const int32_t> history) const override;

  private:
    int32_t k_;
};

// Keeps the smallest prefix of the sorted set whose probability sum reaches p (at least one token).
class TopPSampler : public Sampler {
  public:
    explicit TopPSampler(float p) : p_(p) {}
    std::string describe() const override;
    void apply(Candidates& c, std::span<const int32_t> history) const override;

  private:
    float p_;
};

// Keeps the tokens whose probability is at least min_p times the largest probability.
class MinPSampler : public Sampler {
  public:
    explicit MinPSampler(float min_p) : min_p_(min_p) {}
    std::string describe() const override;
    void apply(Candidates& c, std::span<const int32_t> history) const override;

  private:
    float min_p_;
};

// Keeps only the highest logit (ties: lowest id).
class GreedySampler : public Sampler {
  public:
    std::string describe() const override { return "greedy"; }
    void apply(Candidates& c, std::span<const int32_t> history) const override;
};

class SamplerChain {
  public:
    SamplerChain& add(std::unique_ptr<Sampler> s);

    // Applies every sampler in order to the raw logits[0..n_vocab), then normalizes: out holds the
    // distribution the next token is drawn from, sorted by descending probability when a sampler sorted it.
    void distribution(const float* logits, int32_t n_vocab, std::span<const int32_t> history,
                      Candidates& out) const;
    // True when the chain ends in GreedySampler: every distribution is one-hot and drawing uses no
    // randomness.
    bool greedy() const { return greedy_; }
    // "penalties(...) -> temperature(0.8) -> top_p(0.95)"
    std::string describe() const;

  private:
    std::vector<std::unique_ptr<Sampler>> samplers_;
    bool greedy_ = false;
};

// Draws one token from a normalized distribution: the first candidate (in the set's order) at which the
// cumulative probability exceeds u * sum(p), u = rng.uniform(). A one-element set returns it without drawing.
int32_t sample(const Candidates& dist, Rng& rng);

// The chain for the sampling knobs of params (see the order at the top of this file).
SamplerChain make_sampler_chain(const DecodeParams& params);

}  // namespace ead::decode

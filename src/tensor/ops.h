// The small operations a transformer needs.
// CONTRACT between the tensor stage and the model stage; implemented in src/tensor/.
// All functions work on contiguous float arrays; `out` may alias `x` unless stated otherwise.
//
// These are Highway SIMD versions (ops_simd.cpp), dispatched at runtime to the best compiled target; any length n
// works (tails shorter than a vector go through the same vector code). The scalar originals remain as
// ead::tensor::ref (tensor/ops_ref.h) and are the reference the tests hold these to.
#pragma once

#include <cstdint>

namespace ead::tensor {

// out[i] = x[i] / sqrt(mean(x^2) + eps) * w[i]   (w may be nullptr: no scaling). Accumulates in double: the
// floats are widened and their squares (exact in double) summed in double lanes, then the scale is rounded to float
// once, as in the reference; only the order of the double additions differs from it.
void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps);

enum class RopeStyle {
    kNormal,  // rotates adjacent pairs (2i, 2i+1)          — llama
    kNeox,    // rotates pairs (i, i + n_rot/2)              — qwen2, qwen3, gemma3
};
// Rotates the first n_rot dims of each of n_heads vectors of head_dim floats at `x` (in place) for position
// pos. Angle of pair i: pos * freq_scale * base^(-2i/n_rot) / (freq_factors ? freq_factors[i] : 1). Scalar
// (it is per head and cheap next to the matmuls): the same code as ref::rope. Equal to rope_angles then
// rope_rotate, which let a forward pass compute a position's angles once for all its heads and layers.
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float base, float freq_scale,
          const float* freq_factors, RopeStyle style);
// cs[2i], cs[2i + 1] = cos, sin of pair i's angle at pos, for i < n_rot / 2 (computed in double, as
// ref::rope).
void rope_angles(int64_t n_rot, int64_t pos, float base, float freq_scale, const float* freq_factors,
                 float* cs);
// Rotates as rope() does, by the angles rope_angles() wrote to cs.
void rope_rotate(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* cs,
                 RopeStyle style);

// In-place softmax over n values (max-subtracted, accumulates in double: each float exp(x - max) is widened and
// summed in double lanes). exp is Highway's (max error 1 ulp; exactly 0 below -104, so -inf entries give 0).
void softmax(float* x, int64_t n);

// Both use Highway's exp on -|argument| only (never overflows): sigmoid(t) = 1/(1+e) for t >= 0, e/(1+e) for t < 0,
// e = exp(-|t|). gelu_tanh uses the identity 0.5(1 + tanh(u)) = sigmoid(2u), which avoids the cancellation in 1 + tanh
// for negative u.
void silu(const float* x, float* out, int64_t n);       // x * sigmoid(x)
void gelu_tanh(const float* x, float* out, int64_t n);  // 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))
void add(const float* a, const float* b, float* out, int64_t n);
void mul(const float* a, const float* b, float* out, int64_t n);
void scale(float* x, float s, int64_t n);
// out[i] = dot(a, b) over n floats (float accumulation in SIMD lanes).
float dot(const float* a, const float* b, int64_t n);
// y[i] += s * x[i]   (one fused multiply-add where the target has FMA)
void axpy(float s, const float* x, float* y, int64_t n);

}  // namespace ead::tensor

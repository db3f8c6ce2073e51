// Scalar reference versions of the small transformer ops of tensor/ops.h (implemented in ops.cpp). The public
// functions in tensor/ops.h are the Highway versions (ops_simd.cpp); these stay as the specification the
// tests compare them against, with the same signatures and contracts.
#pragma once

#include <cstdint>

#include "tensor/ops.h"

namespace ead::tensor::ref {

void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps);
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float base,
          float freq_scale, const float* freq_factors, RopeStyle style);
void rope_angles(int64_t n_rot, int64_t pos, float base, float freq_scale, const float* freq_factors,
                 float* cs);
void rope_rotate(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* cs,
                 RopeStyle style);
void softmax(float* x, int64_t n);
void silu(const float* x, float* out, int64_t n);
void gelu_tanh(const float* x, float* out, int64_t n);
void add(const float* a, const float* b, float* out, int64_t n);
void mul(const float* a, const float* b, float* out, int64_t n);
void scale(float* x, float s, int64_t n);
float dot(const float* a, const float* b, int64_t n);
void axpy(float s, const float* x, float* y, int64_t n);

}  // namespace ead::tensor::ref

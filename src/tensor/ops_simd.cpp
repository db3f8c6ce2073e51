// Highway versions of the small transformer ops (tensor/ops.h), dispatched at runtime to the best compiled
// target. The scalar originals are ead::tensor::ref (ops.cpp); tests/tensor/test_simd_ops.cpp holds these to
// them. Tails shorter than a vector are copied into a padded buffer and run through the same vector code, so
// every element gets the same arithmetic whatever its position.
#include "tensor/simd_targets.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "tensor/ops_simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
// After highway.h: re-included per target.
#include <hwy/contrib/math/math-inl.h>

#include <cmath>
#include <cstring>

#include "tensor/ops.h"
#include "tensor/ops_ref.h"

HWY_BEFORE_NAMESPACE();
namespace ead::tensor {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;
using DD = hn::ScalableTag<double>;
using DFD = hn::Rebind<float, DD>;  // as many floats as DD has doubles
using VD = hn::Vec<DD>;

// GCC contracts a vector multiply followed by an add into an FMA where the target has one (-ffp-contract=fast
// is its C++ default). Where the reference rounds a product before adding, passing the product through here
// keeps it rounded: the compiler cannot see through the empty asm.
template <class V>
HWY_INLINE V rounded(V v) {
#if HWY_ARCH_X86 && HWY_TARGET != HWY_EMU128 && HWY_TARGET != HWY_SCALAR && defined(__GNUC__)
    asm("" : "+x"(v.raw));
#endif
    return v;
}

// out[i] = op(x[i]) for n floats; out may alias x.
template <class Op>
HWY_INLINE void map1(const float* x, float* out, int64_t n, const Op& op) {
    const DF df;
    const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
    int64_t i = 0;
    for (; i + lanes <= n; i += lanes) hn::StoreU(op(hn::LoadU(df, x + i)), df, out + i);
    if (i == n) return;
    HWY_ALIGN float buf[hn::MaxLanes(DF())] = {};
    const size_t rest = static_cast<size_t>(n - i);
    std::memcpy(buf, x + i, rest * sizeof(float));
    hn::Store(op(hn::Load(df, buf)), df, buf);
    std::memcpy(out + i, buf, rest * sizeof(float));
}

// out[i] = op(a[i], b[i]) for n floats; out may alias a or b.
template <class Op>
HWY_INLINE void map2(const float* a, const float* b, float* out, int64_t n, const Op& op) {
    const DF df;
    const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
    int64_t i = 0;
    for (; i + lanes <= n; i += lanes)
        hn::StoreU(op(hn::LoadU(df, a + i), hn::LoadU(df, b + i)), df, out + i);
    if (i == n) return;
    HWY_ALIGN float ba[hn::MaxLanes(DF())] = {};
    HWY_ALIGN float bb[hn::MaxLanes(DF())] = {};
    const size_t rest = static_cast<size_t>(n - i);
    std::memcpy(ba, a + i, rest * sizeof(float));
    std::memcpy(bb, b + i, rest * sizeof(float));
    hn::Store(op(hn::Load(df, ba), hn::Load(df, bb)), df, ba);
    std::memcpy(out + i, ba, rest * sizeof(float));
}

// acc + the n floats at x (n a multiple of Lanes(DD)), widened to double.
HWY_INLINE VD add_widened(VD acc, const float* x, int64_t n) {
    const DD dd;
    const DFD dfd;
    const int64_t lanes = static_cast<int64_t>(hn::Lanes(dd));
    for (int64_t k = 0; k < n; k += lanes) acc = hn::Add(acc, hn::PromoteTo(dd, hn::LoadU(dfd, x + k)));
    return acc;
}

// sigmoid(t) from e = exp(-|t|) in (0, 1], so nothing overflows: 1/(1+e) for t >= 0, e/(1+e) for t < 0.
HWY_INLINE VF sigmoid(DF df, VF t) {
    const VF one = hn::Set(df, 1.0f);
    const VF e = hn::Exp(df, hn::Neg(hn::Abs(t)));
    return hn::Div(hn::IfThenElse(hn::Lt(t, hn::Zero(df)), e, one), hn::Add(one, e));
}

void RmsNorm(const float* x, const float* w, float* out, int64_t n, float eps) {
    const DF df;
    const DD dd;
    const DFD dfd;
    const int64_t lanes = static_cast<int64_t>(hn::Lanes(dd));
    // Squares of floats are exact in double: the sum differs from the reference only in the order of
    // additions.
    VD a0 = hn::Zero(dd), a1 = hn::Zero(dd);
    int64_t i = 0;
    for (; i + 2 * lanes <= n; i += 2 * lanes) {
        const VD v0 = hn::PromoteTo(dd, hn::LoadU(dfd, x + i));
        const VD v1 = hn::PromoteTo(dd, hn::LoadU(dfd, x + i + lanes));
        a0 = hn::MulAdd(v0, v0, a0);
        a1 = hn::MulAdd(v1, v1, a1);
    }
    double ss = hn::GetLane(hn::SumOfLanes(dd, hn::Add(a0, a1)));
    for (; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
    const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
    const VF vinv = hn::Set(df, inv);
    if (w != nullptr) {
        map2(x, w, out, n, [&](VF v, VF wv) { return hn::Mul(hn::Mul(v, vinv), wv); });
    } else {
        map1(x, out, n, [&](VF v) { return hn::Mul(v, vinv); });
    }
}

void Softmax(float* x, int64_t n) {
    if (n <= 0) return;
    const DF df;
    const DD dd;
    const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
    float mx = x[0];
    int64_t i = 0;
    if (n >= lanes) {
        VF vmax = hn::LoadU(df, x);
        for (i = lanes; i + lanes <= n; i += lanes) vmax = hn::Max(vmax, hn::LoadU(df, x + i));
        mx = hn::GetLane(hn::MaxOfLanes(df, vmax));
    }
    for (; i < n; ++i) mx = std::fmax(mx, x[i]);

    // exp(x - max) in place, summed in double lanes as it is produced.
    const VF vmx = hn::Set(df, mx);
    VD acc = hn::Zero(dd);
    i = 0;
    for (; i + lanes <= n; i += lanes) {
        const VF e = hn::Exp(df, hn::Sub(hn::LoadU(df, x + i), vmx));
        hn::StoreU(e, df, x + i);
        acc = add_widened(acc, x + i, lanes);
    }
    double sum = hn::GetLane(hn::SumOfLanes(dd, acc));
    if (i < n) {
        HWY_ALIGN float buf[hn::MaxLanes(DF())] = {};
        const int64_t rest = n - i;
        std::memcpy(buf, x + i, static_cast<size_t>(rest) * sizeof(float));
        hn::Store(hn::Exp(df, hn::Sub(hn::Load(df, buf), vmx)), df, buf);
        for (int64_t k = 0; k < rest; ++k) sum += buf[k];
        std::memcpy(x + i, buf, static_cast<size_t>(rest) * sizeof(float));
    }
    const VF vinv = hn::Set(df, static_cast<float>(1.0 / sum));
    map1(x, x, n, [&](VF v) { return hn::Mul(v, vinv); });
}

void Silu(const float* x, float* out, int64_t n) {
    const DF df;
    map1(x, out, n, [&](VF v) { return hn::Mul(v, sigmoid(df, v)); });
}

void GeluTanh(const float* x, float* out, int64_t n) {
    const DF df;
    const VF k = hn::Set(df, 0.79788456080286535588f), c = hn::Set(df, 0.044715f);
    map1(x, out, n, [&](VF v) {
        // u as the reference rounds it: k * (v + ((c * v) * v) * v), the cubic term rounded before the add.
        const VF u = hn::Mul(k, hn::Add(v, rounded(hn::Mul(hn::Mul(hn::Mul(c, v), v), v))));
        return hn::Mul(v, sigmoid(df, hn::Add(u, u)));
    });
}

void Add(const float* a, const float* b, float* out, int64_t n) {
    map2(a, b, out, n, [](VF va, VF vb) { return hn::Add(va, vb); });
}

void Mul(const float* a, const float* b, float* out, int64_t n) {
    map2(a, b, out, n, [](VF va, VF vb) { return hn::Mul(va, vb); });
}

void Scale(float* x, float s, int64_t n) {
    const VF vs = hn::Set(DF(), s);
    map1(x, x, n, [&](VF v) { return hn::Mul(v, vs); });
}

float Dot(const float* a, const float* b, int64_t n) {
    const DF df;
    const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
    VF a0 = hn::Zero(df), a1 = hn::Zero(df), a2 = hn::Zero(df), a3 = hn::Zero(df);
    int64_t i = 0;
    for (; i + 4 * lanes <= n; i += 4 * lanes) {
        a0 = hn::MulAdd(hn::LoadU(df, a + i), hn::LoadU(df, b + i), a0);
        a1 = hn::MulAdd(hn::LoadU(df, a + i + lanes), hn::LoadU(df, b + i + lanes), a1);
        a2 = hn::MulAdd(hn::LoadU(df, a + i + 2 * lanes), hn::LoadU(df, b + i + 2 * lanes), a2);
        a3 = hn::MulAdd(hn::LoadU(df, a + i + 3 * lanes), hn::LoadU(df, b + i + 3 * lanes), a3);
    }
    for (; i + lanes <= n; i += lanes) a0 = hn::MulAdd(hn::LoadU(df, a + i), hn::LoadU(df, b + i), a0);
    float sum = hn::GetLane(hn::SumOfLanes(df, hn::Add(hn::Add(a0, a1), hn::Add(a2, a3))));
    for (; i < n; ++i) sum += a[i] * b[i];
    return sum;
}

void Axpy(float s, const float* x, float* y, int64_t n) {
    const VF vs = hn::Set(DF(), s);
    map2(x, y, y, n, [&](VF vx, VF vy) { return hn::MulAdd(vs, vx, vy); });
}

}  // namespace HWY_NAMESPACE
}  // namespace ead::tensor
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ead::tensor {

HWY_EXPORT(RmsNorm);
HWY_EXPORT(Softmax);
HWY_EXPORT(Silu);
HWY_EXPORT(GeluTanh);
HWY_EXPORT(Add);
HWY_EXPORT(Mul);
HWY_EXPORT(Scale);
HWY_EXPORT(Dot);
HWY_EXPORT(Axpy);

void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps) {
    HWY_DYNAMIC_DISPATCH(RmsNorm)(x, w, out, n, eps);
}

void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float base,
          float freq_scale, const float* freq_factors, RopeStyle style) {
    ref::rope(x, n_heads, head_dim, n_rot, pos, base, freq_scale, freq_factors, style);
}

void rope_angles(int64_t n_rot, int64_t pos, float base, float freq_scale, const float* freq_factors,
                 float* cs) {
    ref::rope_angles(n_rot, pos, base, freq_scale, freq_factors, cs);
}

void rope_rotate(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* cs,
                 RopeStyle style) {
    ref::rope_rotate(x, n_heads, head_dim, n_rot, cs, style);
}

void softmax(float* x, int64_t n) {
    HWY_DYNAMIC_DISPATCH(Softmax)(x, n);
}
void silu(const float* x, float* out, int64_t n) {
    HWY_DYNAMIC_DISPATCH(Silu)(x, out, n);
}
void gelu_tanh(const float* x, float* out, int64_t n) {
    HWY_DYNAMIC_DISPATCH(GeluTanh)(x, out, n);
}
void add(const float* a, const float* b, float* out, int64_t n) {
    HWY_DYNAMIC_DISPATCH(Add)(a, b, out, n);
}
void mul(const float* a, const float* b, float* out, int64_t n) {
    HWY_DYNAMIC_DISPATCH(Mul)(a, b, out, n);
}
void scale(float* x, float s, int64_t n) {
    HWY_DYNAMIC_DISPATCH(Scale)(x, s, n);
}
float dot(const float* a, const float* b, int64_t n) {
    return HWY_DYNAMIC_DISPATCH(Dot)(a, b, n);
}
void axpy(float s, const float* x, float* y, int64_t n) {
    HWY_DYNAMIC_DISPATCH(Axpy)(s, x, y, n);
}

}  // namespace ead::tensor
#endif

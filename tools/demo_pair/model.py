"""LLaMA architecture in PyTorch, computing exactly what llama.cpp computes for a `llama` GGUF.

    x = token_embd[ids]
    per layer:  h = rms_norm(x) * attn_norm
                q, k, v = Wq h, Wk h, Wv h;  RoPE on q, k ("normal" style: adjacent pairs (2i, 2i+1),
                angle = pos * base^(-2i/head_dim));  causal softmax(q k^T / sqrt(head_dim)) v  (GQA: kv heads
                shared by n_head/n_head_kv consecutive query heads);  x += Wo attn
                h = rms_norm(x) * ffn_norm;  x += W_down(silu(W_gate h) * W_up h)
    logits = output(rms_norm(x) * output_norm)   (output tied to token_embd when cfg.tied)

rms_norm(x) = x / sqrt(mean(x^2) + eps).
"""

import dataclasses
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclasses.dataclass
class ModelConfig:
    n_vocab: int
    n_embd: int = 64
    n_layer: int = 2
    n_head: int = 2
    n_head_kv: int = 2
    n_ff: int = 128
    n_ctx: int = 256
    rope_base: float = 10000.0
    eps: float = 1e-5
    tied: bool = True

    @property
    def head_dim(self):
        return self.n_embd // self.n_head


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(n_ctx, head_dim, base):
    inv = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)  # [hd/2]
    ang = torch.arange(n_ctx, dtype=torch.float64)[:, None] * inv[None, :]       # [T, hd/2]
    return torch.cos(ang).float(), torch.sin(ang).float()


def apply_rope(x, cos, sin):
    # x: [B, H, T, hd]; pairs (2i, 2i+1)
    x0, x1 = x[..., 0::2], x[..., 1::2]
    y0 = x0 * cos - x1 * sin
    y1 = x0 * sin + x1 * cos
    return torch.stack((y0, y1), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        hd = c.head_dim
        self.attn_norm = RMSNorm(c.n_embd, c.eps)
        self.wq = nn.Linear(c.n_embd, c.n_head * hd, bias=False)
        self.wk = nn.Linear(c.n_embd, c.n_head_kv * hd, bias=False)
        self.wv = nn.Linear(c.n_embd, c.n_head_kv * hd, bias=False)
        self.wo = nn.Linear(c.n_head * hd, c.n_embd, bias=False)
        self.ffn_norm = RMSNorm(c.n_embd, c.eps)
        self.w_gate = nn.Linear(c.n_embd, c.n_ff, bias=False)
        self.w_up = nn.Linear(c.n_embd, c.n_ff, bias=False)
        self.w_down = nn.Linear(c.n_ff, c.n_embd, bias=False)

    def forward(self, x, cos, sin, mask):
        c = self.c
        B, T, _ = x.shape
        hd = c.head_dim
        h = self.attn_norm(x)
        q = self.wq(h).view(B, T, c.n_head, hd).transpose(1, 2)
        k = self.wk(h).view(B, T, c.n_head_kv, hd).transpose(1, 2)
        v = self.wv(h).view(B, T, c.n_head_kv, hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if c.n_head_kv != c.n_head:
            r = c.n_head // c.n_head_kv
            k = k.repeat_interleave(r, dim=1)
            v = v.repeat_interleave(r, dim=1)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, c.n_head * hd)
        x = x + self.wo(y)
        h = self.ffn_norm(x)
        return x + self.w_down(F.silu(self.w_gate(h)) * self.w_up(h))


class Llama(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.tok_embd = nn.Embedding(c.n_vocab, c.n_embd)
        self.blocks = nn.ModuleList([Block(c) for _ in range(c.n_layer)])
        self.norm = RMSNorm(c.n_embd, c.eps)
        self.output = None if c.tied else nn.Linear(c.n_embd, c.n_vocab, bias=False)
        cos, sin = rope_tables(c.n_ctx, c.head_dim, c.rope_base)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.apply(self._init)
        for b in self.blocks:  # scaled residual projections
            nn.init.normal_(b.wo.weight, std=0.02 / math.sqrt(2 * c.n_layer))
            nn.init.normal_(b.w_down.weight, std=0.02 / math.sqrt(2 * c.n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def n_params(self):
        return sum(p.numel() for p in self.parameters())

    def forward(self, ids):
        B, T = ids.shape
        x = self.tok_embd(ids)
        cos, sin = self.cos[:T], self.sin[:T]
        mask = torch.ones(T, T, dtype=torch.bool, device=ids.device).triu(1)
        for b in self.blocks:
            x = b(x, cos, sin, mask)
        x = self.norm(x)
        w = self.tok_embd.weight if self.output is None else self.output.weight
        return x @ w.t()

    # GGUF tensor names (llama.cpp) -> parameters
    def gguf_tensors(self):
        out = [("token_embd.weight", self.tok_embd.weight)]
        for i, b in enumerate(self.blocks):
            p = f"blk.{i}."
            out += [(p + "attn_norm.weight", b.attn_norm.weight), (p + "attn_q.weight", b.wq.weight),
                    (p + "attn_k.weight", b.wk.weight), (p + "attn_v.weight", b.wv.weight),
                    (p + "attn_output.weight", b.wo.weight), (p + "ffn_norm.weight", b.ffn_norm.weight),
                    (p + "ffn_gate.weight", b.w_gate.weight), (p + "ffn_up.weight", b.w_up.weight),
                    (p + "ffn_down.weight", b.w_down.weight)]
        out.append(("output_norm.weight", self.norm.weight))
        if self.output is not None:
            out.append(("output.weight", self.output.weight))
        return out

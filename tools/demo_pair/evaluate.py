"""Measures GGUF models of the demo pair in PyTorch, on the weights as stored in the file (dequantized).

    /usr/bin/python3 tools/demo_pair/evaluate.py accuracy FILE.gguf [--n 500]   greedy accuracy on the test split
    /usr/bin/python3 tools/demo_pair/evaluate.py entropy FILE.gguf [--n 500]    teacher-forced entropy split
    /usr/bin/python3 tools/demo_pair/evaluate.py logits FILE.gguf --tokens 1,2,3 -o out.f32   dump logits
    /usr/bin/python3 tools/demo_pair/evaluate.py compare FILE.gguf --tokens 1,2,3 --ead out.f32  max abs diff
"""

import argparse
import json
import math
import os
import re
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import gguf_writer as gw  # noqa: E402
import task  # noqa: E402
import tokenizer as tk  # noqa: E402
from model import Llama, ModelConfig  # noqa: E402


def load_gguf_model(path):
    md, ts = gw.read_gguf(path)
    a = "llama."
    cfg = ModelConfig(n_vocab=len(md["tokenizer.ggml.tokens"]), n_embd=md[a + "embedding_length"],
                      n_layer=md[a + "block_count"], n_head=md[a + "attention.head_count"],
                      n_head_kv=md[a + "attention.head_count_kv"], n_ff=md[a + "feed_forward_length"],
                      n_ctx=md[a + "context_length"], rope_base=md[a + "rope.freq_base"],
                      eps=md[a + "attention.layer_norm_rms_epsilon"], tied="output.weight" not in ts)
    m = Llama(cfg)
    with torch.no_grad():
        for name, p in m.gguf_tensors():
            arr = ts[name][0]
            assert tuple(arr.shape) == tuple(p.shape), (name, arr.shape, p.shape)
            p.copy_(torch.from_numpy(arr))
    m.eval()
    tok = tk.Tokenizer(md["tokenizer.ggml.tokens"], md["tokenizer.ggml.scores"], md["tokenizer.ggml.token_type"])
    return m, tok, md


# ---- incremental decoding with a KV cache (same math as Llama.forward) ----
def step(model, ids, cache, pos0):
    """ids [B, T] at positions pos0..pos0+T-1; cache: list of (k, v) per layer (or None). -> logits [B,T,V]"""
    c = model.c
    B, T = ids.shape
    hd = c.head_dim
    x = model.tok_embd(ids)
    cos, sin = model.cos[pos0:pos0 + T], model.sin[pos0:pos0 + T]
    S = pos0 + T
    mask = torch.ones(T, S, dtype=torch.bool).triu(pos0 + 1)
    from model import apply_rope
    for li, b in enumerate(model.blocks):
        h = b.attn_norm(x)
        q = b.wq(h).view(B, T, c.n_head, hd).transpose(1, 2)
        k = b.wk(h).view(B, T, c.n_head_kv, hd).transpose(1, 2)
        v = b.wv(h).view(B, T, c.n_head_kv, hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache[li] is not None:
            k = torch.cat([cache[li][0], k], 2)
            v = torch.cat([cache[li][1], v], 2)
        cache[li] = (k, v)
        if c.n_head_kv != c.n_head:
            r = c.n_head // c.n_head_kv
            k = k.repeat_interleave(r, dim=1)
            v = v.repeat_interleave(r, dim=1)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, c.n_head * hd)
        x = x + b.wo(y)
        h = b.ffn_norm(x)
        x = x + b.w_down(F.silu(b.w_gate(h)) * b.w_up(h))
    x = model.norm(x)
    w = model.tok_embd.weight if model.output is None else model.output.weight
    return x @ w.t()


@torch.no_grad()
def greedy(model, prompts, max_new=120, stop=(tk.IM_END, tk.EOS)):
    """prompts: list of equal-length id lists -> list of generated id lists (stop token excluded)."""
    ids = torch.tensor(prompts)
    cache = [None] * model.c.n_layer
    logits = step(model, ids, cache, 0)[:, -1]
    pos = ids.shape[1]
    out = [[] for _ in prompts]
    done = [False] * len(prompts)
    for _ in range(max_new):
        nxt = logits.argmax(-1)
        for b, t in enumerate(nxt.tolist()):
            if not done[b]:
                if t in stop:
                    done[b] = True
                else:
                    out[b].append(t)
        if all(done) or pos >= model.c.n_ctx:
            break
        logits = step(model, nxt[:, None], cache, pos)[:, -1]
        pos += 1
    return out


BOXED = re.compile(r"\\boxed\{([^{}]*)\}")


def extract(text):
    m = BOXED.findall(text)
    return m[-1].strip() if m else None


def accuracy(model, tok, examples):
    groups = {}
    for i, ex in enumerate(examples):
        p = tok.encode(tk.chat_prompt(ex["problem"]), add_bos=True)
        groups.setdefault(len(p), []).append((i, p))
    gens = [None] * len(examples)
    for L, items in sorted(groups.items()):
        for j in range(0, len(items), 64):
            chunk = items[j:j + 64]
            for (i, _), g in zip(chunk, greedy(model, [p for _, p in chunk])):
                gens[i] = tok.decode(g)
    correct = [extract(g) == ex["answer"] for g, ex in zip(gens, examples)]
    by_level = {}
    for c, ex in zip(correct, examples):
        by_level.setdefault(ex["level"], []).append(c)
    return (sum(correct) / len(correct), {k: sum(v) / len(v) for k, v in sorted(by_level.items())}, gens)


@torch.no_grad()
def entropy_split(model, tok, examples, bs=50):
    """Teacher-forced on the reference solutions: entropy (bits, raw logits) of each solution-token prediction,
    split by whether the greedy prediction equals the reference token."""
    agree, disagree, digit, other = [], [], [], []
    is_digit = torch.tensor([p.isdigit() for p in tok.pieces])
    for i in range(0, len(examples), bs):
        ids, tgt = data.make_batch([data.encode_example(tok, ex) for ex in examples[i:i + bs]])
        logits = model(ids).double()
        lp = logits.log_softmax(-1)
        H = -(lp.exp() * lp).sum(-1) / math.log(2)
        sel = tgt != -100
        ok = (logits.argmax(-1) == tgt)
        agree += H[sel & ok].tolist()
        disagree += H[sel & ~ok].tolist()
        dg = is_digit[tgt.clamp(min=0)]
        digit += H[sel & dg].tolist()
        other += H[sel & ~dg].tolist()
    return agree, disagree, digit, other


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["accuracy", "entropy", "logits", "compare"])
    ap.add_argument("file")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--test", default="models/demo/test.jsonl")
    ap.add_argument("--tokens")
    ap.add_argument("-o")
    ap.add_argument("--ead")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--dump")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model, tok, md = load_gguf_model(a.file)
    if a.what in ("accuracy", "entropy"):
        examples = [json.loads(line) for line in open(a.test, encoding="utf-8")][:a.n]
    if a.what == "accuracy":
        t = time.time()
        acc, by_level, gens = accuracy(model, tok, examples)
        print(json.dumps({"file": a.file, "n": len(examples), "greedy_accuracy": acc, "by_level": by_level,
                          "seconds": round(time.time() - t, 1)}))
        if a.dump:
            with open(a.dump, "w", encoding="utf-8") as f:
                for g, ex in zip(gens, examples):
                    f.write(json.dumps({"problem": ex["problem"], "answer": ex["answer"], "generated": g}) + "\n")
    elif a.what == "entropy":
        ag, dis, dg, ot = entropy_split(model, tok, examples)
        print(json.dumps({"file": a.file, "n": len(examples), "tokens_agree": len(ag),
                          "tokens_disagree": len(dis), "mean_entropy_bits_agree": float(np.mean(ag)),
                          "mean_entropy_bits_disagree": float(np.mean(dis)) if dis else None,
                          "token_accuracy": len(ag) / (len(ag) + len(dis)),
                          "mean_entropy_bits_digit_tokens": float(np.mean(dg)),
                          "mean_entropy_bits_other_tokens": float(np.mean(ot)),
                          "mean_entropy_bits_all": float(np.mean(ag + dis))}))
    else:
        ids = [int(x) for x in a.tokens.split(",")]
        with torch.no_grad():
            logits = model(torch.tensor([ids]))[0].numpy().astype(np.float32)
        if a.what == "logits":
            logits.tofile(a.o)
            print(a.o, logits.shape)
        else:
            e = np.fromfile(a.ead, dtype=np.float32)
            if e.size == logits[-1].size:  # only the last position
                d = np.abs(e - logits[-1])
            else:
                d = np.abs(e.reshape(logits.shape) - logits)
            print(json.dumps({"file": a.file, "n_tokens": len(ids), "max_abs_diff": float(d.max()),
                              "max_abs_logit": float(np.abs(logits).max())}))


if __name__ == "__main__":
    main()

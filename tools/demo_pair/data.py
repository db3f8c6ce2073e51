"""Tokenized examples and batches: BOS + ChatML prompt (loss-masked) + solution + <|im_end|> </s> (trained)."""

import torch

import task
import tokenizer as tk


def encode_example(tok, ex):
    prompt = tok.encode(tk.chat_prompt(ex["problem"]), add_bos=True)
    target = tok.encode(ex["solution"], add_bos=False) + [tk.IM_END, tk.EOS]
    return prompt, target


def make_batch(examples_ids, pad=tk.EOS):
    """-> ids [B, T], targets [B, T] (-100 where not trained), lengths of the prompts."""
    seqs = [p + t for p, t in examples_ids]
    T = max(len(s) for s in seqs) - 1
    B = len(seqs)
    ids = torch.full((B, T), pad, dtype=torch.long)
    tgt = torch.full((B, T), -100, dtype=torch.long)
    for b, (p, t) in enumerate(examples_ids):
        s = p + t
        ids[b, :len(s) - 1] = torch.tensor(s[:-1])
        # position j predicts s[j+1]; train on the solution tokens, i.e. s[len(p):]
        tgt[b, len(p) - 1:len(s) - 1] = torch.tensor(s[len(p):])
    return ids, tgt


class Stream:
    def __init__(self, tok, seed, cfg=task.Config()):
        self.tok = tok
        self.gen = task.generate(seed, "train", cfg)

    def batch(self, n):
        return make_batch([encode_example(self.tok, next(self.gen)) for _ in range(n)])


def stream_batch(tok, seed, step, n, cfg=task.Config()):
    """The training batch of `step`: all its problems have the same number of steps (less padding), cycling
    through min_steps..max_steps; a pure function of (seed, step)."""
    k = cfg.min_steps + step % (cfg.max_steps - cfg.min_steps + 1)
    import dataclasses
    c = dataclasses.replace(cfg, min_steps=k, max_steps=k)
    gen = task.generate(f"{seed}-{step}", "train", c)
    return make_batch([encode_example(tok, next(gen)) for _ in range(n)])


@torch.no_grad()
def teacher_forced_exact(model, tok, examples, bs=100):
    """Fraction of examples whose every solution token is the argmax under teacher forcing (= greedy decoding
    reproduces the reference solution exactly; a lower bound of greedy answer accuracy)."""
    model.eval()
    ok = 0
    for i in range(0, len(examples), bs):
        ids, tgt = make_batch([encode_example(tok, ex) for ex in examples[i:i + bs]])
        pred = model(ids).argmax(-1)
        good = (pred == tgt) | (tgt == -100)
        ok += int(good.all(-1).sum())
    model.train()
    return ok / len(examples)

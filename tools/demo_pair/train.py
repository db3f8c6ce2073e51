"""Trains one model of the demo pair (CPU, fixed seeds, fixed number of steps; resumable).

    /usr/bin/python3 tools/demo_pair/train.py --preset small --out models/demo/ckpt-small.pt
"""

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import task  # noqa: E402
import tokenizer as tk  # noqa: E402
from model import Llama, ModelConfig  # noqa: E402

PRESETS = {
    # name: (model kwargs, train kwargs)
    "small": (dict(n_embd=64, n_layer=2, n_head=2, n_head_kv=2, n_ff=128, tied=True),
              dict(steps=400, batch=64, lr=3e-3, warmup=100)),
    "large": (dict(n_embd=128, n_layer=4, n_head=4, n_head_kv=2, n_ff=384, tied=False),
              dict(steps=1000, batch=32, lr=1.5e-3, warmup=100)),
}


def lr_at(step, steps, lr, warmup, decay_frac=0.25):
    """Warmup-stable-decay: linear warmup, constant, linear decay to 5% over the last decay_frac of the steps.
    Until the decay starts the schedule does not depend on `steps`, so a run can be lengthened or shortened
    (resuming from a checkpoint taken before the decay) and still equal a fresh run with the new length."""
    if step < warmup:
        return lr * (step + 1) / warmup
    d0 = int(steps * (1 - decay_frac))
    if step < d0:
        return lr
    return lr * (0.05 + 0.95 * (steps - step) / max(1, steps - d0))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", required=True, choices=sorted(PRESETS))
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int)
    ap.add_argument("--batch", type=int)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--ckpt-every", type=int, default=100)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    mk, tr = PRESETS[a.preset]
    tr = dict(tr)
    for k in ("steps", "batch", "lr"):
        if getattr(a, k) is not None:
            tr[k] = getattr(a, k)
    tok = tk.build_default()
    cfg = ModelConfig(n_vocab=len(tok), **mk)
    torch.manual_seed(a.seed)
    model = Llama(cfg)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=tr["lr"], betas=(0.9, 0.98), eps=1e-8)
    # The data stream is a pure function of (seed, step): the stream for step s is seeded by (seed, s),
    # so resuming from a checkpoint continues bit-for-bit.
    step = 0
    log = []
    elapsed = 0.0
    if os.path.exists(a.out):
        ck = torch.load(a.out)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, log, elapsed = ck["step"], ck["log"], ck["elapsed"]
        print(f"resumed at step {step}", flush=True)
    evalset = task.test_set(300, seed=999)
    print(f"preset {a.preset} params {model.n_params()} cfg {cfg} train {tr} threads {a.threads}", flush=True)

    def save():
        tmp = a.out + ".tmp"
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "log": log,
                    "elapsed": elapsed, "cfg": cfg.__dict__, "train": tr, "preset": a.preset,
                    "seed": a.seed}, tmp)
        os.replace(tmp, a.out)

    model.train()
    t0 = time.time() - elapsed
    ema = None
    while step < tr["steps"]:
        ids, tgt = data.stream_batch(tok, a.seed, step, tr["batch"])
        for g in opt.param_groups:
            g["lr"] = lr_at(step, tr["steps"], tr["lr"], tr["warmup"])
        logits = model(ids)
        loss = torch.nn.functional.cross_entropy(logits.view(-1, logits.size(-1)), tgt.view(-1),
                                                 ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        elapsed = time.time() - t0
        if step % 25 == 0:
            print(f"step {step} loss {loss.item():.4f} ema {ema:.4f} t {elapsed:.0f}s", flush=True)
        rec = None
        if step % a.eval_every == 0 or step == tr["steps"]:
            acc = data.teacher_forced_exact(model, tok, evalset)
            rec = {"step": step, "loss_ema": ema, "tf_exact": acc, "time_s": elapsed}
            print("eval", json.dumps(rec), flush=True)
        if rec is None and step % 25 == 0:
            rec = {"step": step, "loss_ema": ema, "time_s": elapsed}
        if rec:
            log.append(rec)
        if step % a.ckpt_every == 0 or step == tr["steps"]:
            save()
    save()
    print("done", flush=True)


if __name__ == "__main__":
    main()

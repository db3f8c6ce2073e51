"""Exports a trained checkpoint to GGUF (llama architecture), Q8_0 and/or F16.

    /usr/bin/python3 tools/demo_pair/export.py CKPT NAME OUT_PREFIX [--types Q8_0,F16]
writes OUT_PREFIX.Q8_0.gguf etc. Matrices in the file type, 1-D norm weights F32.
"""

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_writer as gw  # noqa: E402
import tokenizer as tk  # noqa: E402
from model import Llama, ModelConfig  # noqa: E402


def load_checkpoint(path):
    ck = torch.load(path)
    cfg = ModelConfig(**ck["cfg"])
    m = Llama(cfg)
    m.load_state_dict(ck["model"])
    m.eval()
    return m, ck


def metadata(cfg, name, ftype, tok):
    md = [
        ("general.architecture", "str", "llama"),
        ("general.name", "str", name),
        ("general.file_type", "u32", gw.FTYPE[ftype]),
        ("llama.vocab_size", "u32", cfg.n_vocab),
        ("llama.context_length", "u32", cfg.n_ctx),
        ("llama.embedding_length", "u32", cfg.n_embd),
        ("llama.block_count", "u32", cfg.n_layer),
        ("llama.feed_forward_length", "u32", cfg.n_ff),
        ("llama.attention.head_count", "u32", cfg.n_head),
        ("llama.attention.head_count_kv", "u32", cfg.n_head_kv),
        ("llama.rope.dimension_count", "u32", cfg.head_dim),
        ("llama.rope.freq_base", "f32", cfg.rope_base),
        ("llama.attention.layer_norm_rms_epsilon", "f32", cfg.eps),
    ]
    return md + tok.gguf_metadata()


def export(model, name, path, ftype, tok):
    gt = {"Q8_0": gw.GGML_Q8_0, "F16": gw.GGML_F16, "F32": gw.GGML_F32}[ftype]
    tensors = []
    for tname, p in model.gguf_tensors():
        a = p.detach().float().numpy()
        tensors.append((tname, a, gt if a.ndim == 2 else gw.GGML_F32))
    gw.write_gguf(path, metadata(model.c, name, ftype, tok), tensors)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ckpt")
    ap.add_argument("name")
    ap.add_argument("out_prefix")
    ap.add_argument("--types", default="Q8_0,F16")
    a = ap.parse_args()
    tok = tk.build_default()
    model, _ = load_checkpoint(a.ckpt)
    assert model.c.n_vocab == len(tok)
    for ft in a.types.split(","):
        path = f"{a.out_prefix}.{ft}.gguf"
        export(model, a.name, path, ft, tok)
        print(path, os.path.getsize(path))


if __name__ == "__main__":
    main()

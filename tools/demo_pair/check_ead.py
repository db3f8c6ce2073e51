"""Cross-checks ead against this folder's Python reference on the demo pair.

    /usr/bin/python3 tools/demo_pair/check_ead.py EAD_BINARY models/demo/demo-small.Q8_0.gguf [--n 50]

1. tokenizer: `ead tokenize -m FILE --ids --no-bos TEXT` must give exactly tokenizer.py's ids (test problems,
   solutions, ChatML prompts, odd strings);
2. forward pass: `ead logits -m FILE --tokens IDS -o out.f32` vs PyTorch on the file's dequantized weights:
   max abs logit difference and argmax agreement for a few test prompts.
Either check is skipped (with a message) when the subcommand does not exist yet.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evaluate  # noqa: E402
import tokenizer as tk  # noqa: E402

ODD = ["<s>", "</s>", "<unk>", "", " ", "  two  spaces ", "café 🙂", "\\boxed{12}.", "Step 3: 9 × 7 = 63", "tab\there", "new\nline",
       "<|im_start|>user\nhi<|im_end|>", "unknownword Zzyzx", "▁literal"]


def has(ead, sub):
    r = subprocess.run([ead, sub, "--help"], capture_output=True, text=True)
    return r.returncode == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ead")
    ap.add_argument("file")
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--test", default="models/demo/test.jsonl")
    a = ap.parse_args()
    torch.set_num_threads(1)
    model, tok, _ = evaluate.load_gguf_model(a.file)
    rows = [json.loads(line) for line in open(a.test, encoding="utf-8")][:a.n]
    report = {"file": a.file}
    if has(a.ead, "tokenize"):
        texts = ODD + [r["problem"] for r in rows] + [r["solution"] for r in rows] + \
            [tk.chat_prompt(r["problem"]) for r in rows[:10]]
        bad = 0
        for t in texts:
            out = subprocess.run([a.ead, "tokenize", "-m", a.file, "--ids", "--no-bos", "--parse-special", "--", t],
                                 capture_output=True, text=True)
            got = [int(x) for x in re.findall(r"-?\d+", out.stdout)]
            want = tok.encode(t, add_bos=False)
            if out.returncode != 0 or got != want:
                bad += 1
                if bad <= 5:
                    print("MISMATCH", repr(t), "ead", got, "python", want, out.stderr.strip()[:200])
        report["tokenize_texts"], report["tokenize_mismatches"] = len(texts), bad
        # the chat template: `--chat PROBLEM` must give BOS + the ChatML prompt this folder trains on
        bad_chat = 0
        for r in rows[:10]:
            out = subprocess.run([a.ead, "tokenize", "-m", a.file, "--ids", "--chat", "--", r["problem"]],
                                 capture_output=True, text=True)
            got = [int(x) for x in re.findall(r"-?\d+", out.stdout)]
            want = tok.encode(tk.chat_prompt(r["problem"]), add_bos=True)
            if got != want:
                bad_chat += 1
                if bad_chat <= 2:
                    print("CHAT MISMATCH", "ead", got, "python", want, out.stderr.strip()[:200])
        report["chat_prompts"], report["chat_mismatches"] = 10, bad_chat
    else:
        print("skip: no `ead tokenize`")
    if has(a.ead, "logits"):
        worst, agree, total = 0.0, 0, 0
        with tempfile.TemporaryDirectory() as d:
            for r in rows[:5]:
                ids = tok.encode(tk.chat_prompt(r["problem"]) + r["solution"])
                out = os.path.join(d, "l.f32")
                subprocess.run([a.ead, "logits", "-m", a.file, "--tokens", ",".join(map(str, ids)), "-o", out,
                                "--kv-type", "f32"],
                               check=True, capture_output=True)
                with torch.no_grad():
                    ref = model(torch.tensor([ids]))[0].numpy()
                e = np.fromfile(out, dtype=np.float32)
                if e.size == ref.size:
                    e = e.reshape(ref.shape)
                else:  # last position only
                    ref = ref[-1:]
                    e = e.reshape(ref.shape)
                worst = max(worst, float(np.abs(e - ref).max()))
                agree += int((e.argmax(-1) == ref.argmax(-1)).sum())
                total += ref.shape[0]
        report["logits_max_abs_diff"], report["argmax_agreement"] = worst, agree / total
    else:
        print("skip: no `ead logits`")
    print(json.dumps(report))


if __name__ == "__main__":
    main()

"""Deterministic generator of multi-step arithmetic word problems (the demo pair's task).

A problem is a story about one person and one kind of item: a start count followed by 1..N steps, each an
addition, subtraction or multiplication. The solution restates every step as an equation and ends with
\\boxed{answer} (MATH answer format). Almost every solution token is templated prose or a copy of a number
from the problem; the hard tokens are the digits of each step's result.

Train/test split: the *canonical form* of a problem is its arithmetic skeleton (start value, list of
(operation, operand)), independent of names, items and verbs. sha256(canonical form) decides the split, so
no arithmetic skeleton of the test split ever appears in training, by construction.

Difficulty knobs (Config): number of steps, start range, operand range, multiplication factors, the
largest intermediate value, the set of operations.
"""

import dataclasses
import hashlib
import json
import random

NAMES = [
    ("Mia", "she", "her"), ("Tom", "he", "him"), ("Ava", "she", "her"), ("Leo", "he", "him"),
    ("Emma", "she", "her"), ("Sam", "he", "him"), ("Lily", "she", "her"), ("Ben", "he", "him"),
]
ITEMS = ["apples", "marbles", "books", "coins", "stickers", "cards", "pens", "shells"]

# (problem sentence, solution clause); {p} pronoun, {b} operand, {i} items.
ADD = [
    ("{P} buys {b} more {i}.", "{P} buys {b} more"),
    ("{P} finds {b} more {i}.", "{P} finds {b} more"),
    ("{P} gets {b} more {i}.", "{P} gets {b} more"),
]
SUB = [
    ("{P} gives away {b} {i}.", "{P} gives away {b}"),
    ("{P} loses {b} {i}.", "{P} loses {b}"),
    ("{P} sells {b} {i}.", "{P} sells {b}"),
]
MUL = [
    ("Then the number of {i} becomes {b} times as large.", "The number becomes {b} times as large"),
]
OPS = {"+": ADD, "-": SUB, "*": MUL}
SYMBOL = {"+": "+", "-": "-", "*": "\u00d7"}  # multiplication sign (a 2-byte UTF-8 character)


@dataclasses.dataclass(frozen=True)
class Config:
    min_steps: int = 1
    max_steps: int = 3
    start_min: int = 2
    start_max: int = 40
    operand_max: int = 9       # + and - operands are 1..operand_max
    factors: tuple = (2, 3)
    value_max: int = 99        # every intermediate value stays in [0, value_max]
    ops: tuple = ("+", "-", "*")
    test_mod: int = 10         # 1 in test_mod skeletons is a test skeleton


def canonical(start, steps):
    return str(start) + "".join(f"{op}{b}" for op, b in steps)


def is_test(start, steps, cfg=Config()):
    h = hashlib.sha256(canonical(start, steps).encode()).digest()
    return int.from_bytes(h[:8], "little") % cfg.test_mod == 0


def sample_skeleton(rng, cfg, n_steps):
    """Returns (start, [(op, operand)...], [values after each step]) with all values in [0, value_max]."""
    while True:
        cur = rng.randint(cfg.start_min, cfg.start_max)
        start, steps, values = cur, [], []
        ok = True
        for _ in range(n_steps):
            choices = []
            for op in cfg.ops:
                if op == "+" and cur + 1 <= cfg.value_max:
                    choices.append(op)
                elif op == "-" and cur >= 2:
                    choices.append(op)
                elif op == "*" and cur * min(cfg.factors) <= cfg.value_max and cur >= 1:
                    choices.append(op)
            if not choices:
                ok = False
                break
            op = rng.choice(choices)
            if op == "+":
                b = rng.randint(1, min(cfg.operand_max, cfg.value_max - cur))
                cur = cur + b
            elif op == "-":
                b = rng.randint(1, min(cfg.operand_max, cur - 1))
                cur = cur - b
            else:
                b = rng.choice([f for f in cfg.factors if cur * f <= cfg.value_max])
                cur = cur * b
            steps.append((op, b))
            values.append(cur)
        if ok:
            return start, steps, values


def cap(s):
    return s[0].upper() + s[1:]


def render(rng, start, steps, values):
    name, p, _ = rng.choice(NAMES)
    items = rng.choice(ITEMS)
    prob = [f"{name} has {start} {items}."]
    sol = [f"{name} starts with {start} {items}."]
    cur = start
    for k, ((op, b), v) in enumerate(zip(steps, values)):
        q, s = rng.choice(OPS[op])
        prob.append(q.format(P=cap(p), p=p, b=b, i=items))
        clause = s.format(P=cap(p), p=p, b=b, i=items)
        sol.append(f"Step {k + 1}: {clause}, so {cur} {SYMBOL[op]} {b} = {v}.")
        cur = v
    prob.append(f"How many {items} does {name} have now?")
    sol.append(f"The answer is \\boxed{{{cur}}}.")
    return " ".join(prob), " ".join(sol), str(cur)


def generate(seed, split, cfg=Config()):
    """Infinite deterministic stream of problems (dicts with MATH fields) of one split."""
    rng = random.Random(f"{seed}-{split}")
    want_test = split == "test"
    while True:
        n = rng.randint(cfg.min_steps, cfg.max_steps)
        start, steps, values = sample_skeleton(rng, cfg, n)
        if is_test(start, steps, cfg) != want_test:
            continue
        problem, solution, answer = render(rng, start, steps, values)
        yield {"problem": problem, "solution": solution, "answer": answer,
               "level": f"Level {n}", "type": "Arithmetic", "canonical": canonical(start, steps)}


def test_set(n, seed=1234, cfg=Config()):
    """n distinct test problems (distinct skeletons)."""
    out, seen = [], set()
    for ex in generate(seed, "test", cfg):
        if ex["canonical"] in seen:
            continue
        seen.add(ex["canonical"])
        out.append(ex)
        if len(out) == n:
            return out


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({k: r[k] for k in ("problem", "solution", "answer", "level", "type")},
                               ensure_ascii=False) + "\n")


if __name__ == "__main__":
    g = generate(0, "train")
    for _ in range(4):
        ex = next(g)
        print(ex["problem"])
        print(ex["solution"])
        print()

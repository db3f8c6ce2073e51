"""The demo pair's shared SentencePiece-style vocabulary and the llama.cpp SPM encoding algorithm.

Vocabulary layout (ids):
    0 <unk> (type 2 unknown), 1 <s> (BOS, control), 2 </s> (EOS, control),
    3 <|im_start|>, 4 <|im_end|> (control; ChatML),
    5..260 byte-fallback tokens <0x00>..<0xFF> (type 6),
    then every character of the corpus except '\\n' (type 1; ' ' is stored as U+2581; digits 0-9 are here),
    then word pieces (type 1): every word of the templates with and without the U+2581 space marker, and all
    their prefixes of length >= 2 so that the pair-merge algorithm can build each word one character at a time.
    '\\n' deliberately has no piece: it is encoded as the byte token <0x0A> (as in LLaMA's vocabulary).
    No piece contains a digit except the ten single-digit pieces, so numbers are always one token per digit.

add_space_prefix is FALSE: the text of a fragment is encoded as is (no leading U+2581 is inserted), which
keeps the llama.cpp rule "prefix a space after BOS / a special token" out of the picture.

Encoding (exactly llama.cpp's SPM tokenizer, llm_tokenizer_spm):
    1. split the text on control/unknown token strings (longest first), which become their ids (parse_special);
    2. in each remaining fragment replace ' ' by U+2581 and split it into UTF-8 characters;
    3. repeatedly merge the adjacent pair of symbols whose concatenation is a vocabulary piece with the highest
       score; ties go to the leftmost pair;
    4. each final symbol is its piece id if it is in the vocabulary, else its UTF-8 bytes as byte tokens.
"""

import re

SPACE = "\u2581"
UNK, BOS, EOS, IM_START, IM_END = 0, 1, 2, 3, 4
TYPE_NORMAL, TYPE_UNKNOWN, TYPE_CONTROL, TYPE_BYTE = 1, 2, 3, 6

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

WORD_RE = re.compile(SPACE + r"?(?:[A-Za-z]+|\\boxed\{)")
EXTRA_PIECES = [SPACE + "=", SPACE + "+", SPACE + "-", SPACE + "\u00d7"]


def chat_prompt(problem):
    """The ChatML prompt (without BOS) for one user message, with the generation prompt."""
    return f"<|im_start|>user\n{problem}<|im_end|>\n<|im_start|>assistant\n"


class Tokenizer:
    def __init__(self, pieces, scores, types):
        self.pieces, self.scores, self.types = list(pieces), list(scores), list(types)
        self.piece_to_id = {}
        for i, p in enumerate(self.pieces):
            self.piece_to_id.setdefault(p, i)
        self.byte_id = {int(p[3:5], 16): i for i, p in enumerate(self.pieces) if self.types[i] == TYPE_BYTE}
        # Strings split out of the text: every non-normal, non-byte token, longest first (llama.cpp order).
        self.specials = sorted([i for i, t in enumerate(self.types) if t in (TYPE_CONTROL, TYPE_UNKNOWN)],
                               key=lambda i: -len(self.pieces[i].encode()))
        assert not any(SPACE in p[1:] for p in self.pieces), "fast path needs U+2581 only at piece starts"
        self._memo = {}

    @staticmethod
    def build(texts):
        """Builds the vocabulary from a list of corpus strings (deterministic)."""
        pieces = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
        types = [TYPE_UNKNOWN, TYPE_CONTROL, TYPE_CONTROL, TYPE_CONTROL, TYPE_CONTROL]
        for b in range(256):
            pieces.append(f"<0x{b:02X}>")
            types.append(TYPE_BYTE)
        scores = [0.0] * len(pieces)
        chars, word_count = set(), {}
        for t in texts:
            e = t.replace(" ", SPACE)
            chars.update(e)
            for m in WORD_RE.finditer(e):
                word_count[m.group(0)] = word_count.get(m.group(0), 0) + 1
        chars.discard("\n")
        for k, c in enumerate(sorted(chars)):
            pieces.append(c)
            types.append(TYPE_NORMAL)
            scores.append(-1000.0 - k)
        for p in EXTRA_PIECES:
            word_count[p] = word_count.get(p, 0) + 1
        # Words by frequency (then alphabetically); then the prefixes each word needs.
        words = sorted(word_count, key=lambda w: (-word_count[w], w))
        have = set(pieces)
        ordered = []
        for w in words:
            for L in range(2, len(w) + 1):
                p = w[:L]
                if p not in have:
                    have.add(p)
                    ordered.append(p)
        for k, p in enumerate(ordered):
            assert not any(ch.isdigit() for ch in p)
            pieces.append(p)
            types.append(TYPE_NORMAL)
            scores.append(-float(k))
        return Tokenizer(pieces, scores, types)

    def __len__(self):
        return len(self.pieces)

    # ---- encoding ----
    def _spm(self, text, out):
        """Fast path, identical result: no piece has U+2581 after its first character, so no merge ever
        crosses the start of a U+2581-led chunk; the chunks are encoded independently (memoized)."""
        e = text.replace(" ", SPACE)
        for chunk in re.findall(SPACE + "?[^" + SPACE + "]*", e):
            if not chunk:
                continue
            ids = self._memo.get(chunk)
            if ids is None:
                ids = []
                self._spm_reference(chunk, ids)
                self._memo[chunk] = ids
            out.extend(ids)

    def _spm_reference(self, text, out):
        """The llama.cpp SPM algorithm, literally: greedy highest-score adjacent merge, ties leftmost."""
        syms = list(text.replace(" ", SPACE))
        while len(syms) > 1:
            best, best_i = None, -1
            for i in range(len(syms) - 1):
                pid = self.piece_to_id.get(syms[i] + syms[i + 1])
                if pid is None:
                    continue
                s = self.scores[pid]
                if best is None or s > best:  # strict: ties keep the leftmost
                    best, best_i = s, i
            if best_i < 0:
                break
            syms[best_i:best_i + 2] = [syms[best_i] + syms[best_i + 1]]
        for s in syms:
            pid = self.piece_to_id.get(s)
            if pid is not None:
                out.append(pid)
            else:
                out.extend(self.byte_id[b] for b in s.encode("utf-8"))

    def encode(self, text, add_bos=True, parse_special=True):
        out = [BOS] if add_bos else []
        frags = [text]  # str = raw text, int = special token id
        if parse_special:
            for sid in self.specials:
                sp = self.pieces[sid]
                nxt = []
                for f in frags:
                    if isinstance(f, int):
                        nxt.append(f)
                        continue
                    parts = f.split(sp)
                    for j, part in enumerate(parts):
                        if j:
                            nxt.append(sid)
                        if part:
                            nxt.append(part)
                frags = nxt
        for f in frags:
            if isinstance(f, int):
                out.append(f)
            elif f:
                self._spm(f, out)
        return out

    def decode(self, ids, skip_special=True):
        buf = bytearray()
        for i in ids:
            t = self.types[i]
            if t == TYPE_BYTE:
                buf.append(int(self.pieces[i][3:5], 16))
            elif t in (TYPE_CONTROL, TYPE_UNKNOWN):
                if not skip_special:
                    buf.extend(self.pieces[i].encode())
            else:
                buf.extend(self.pieces[i].replace(SPACE, " ").encode())
        return buf.decode("utf-8", errors="replace")

    # ---- GGUF metadata ----
    def gguf_metadata(self):
        return [
            ("tokenizer.ggml.model", "str", "llama"),
            ("tokenizer.ggml.pre", "str", "default"),
            ("tokenizer.ggml.tokens", "arr_str", self.pieces),
            ("tokenizer.ggml.scores", "arr_f32", self.scores),
            ("tokenizer.ggml.token_type", "arr_i32", self.types),
            ("tokenizer.ggml.bos_token_id", "u32", BOS),
            ("tokenizer.ggml.eos_token_id", "u32", EOS),
            ("tokenizer.ggml.eot_token_id", "u32", IM_END),
            ("tokenizer.ggml.unknown_token_id", "u32", UNK),
            ("tokenizer.ggml.add_bos_token", "bool", True),
            ("tokenizer.ggml.add_eos_token", "bool", False),
            ("tokenizer.ggml.add_space_prefix", "bool", False),
            ("tokenizer.chat_template", "str", CHATML_TEMPLATE),
        ]


def build_default():
    """The demo pair's vocabulary: built from 4000 training problems and the chat template strings."""
    import task
    g = task.generate(0, "train")
    texts = ["user", "assistant"]
    for _ in range(4000):
        ex = next(g)
        texts += [ex["problem"], ex["solution"]]
    return Tokenizer.build(texts)


def self_check(tok, n=300):
    """The memoized fast path equals the literal algorithm on test texts and odd strings."""
    import task
    texts = ["", " ", "  a  b ", "Step 12: x", "café 🙂 naïve", "\\boxed{7}", "<|im_start|>x<|im_end|>", "The Thee"]
    g = task.generate(7, "test")
    for _ in range(n):
        ex = next(g)
        texts += [ex["problem"], ex["solution"]]
    for t in texts:
        a, b = [], []
        tok._spm(t, a)
        tok._spm_reference(t, b)
        assert a == b, t
        assert tok.decode(tok.encode(t, add_bos=False, parse_special=False)) == t, t
    return len(texts)


if __name__ == "__main__":
    import sys
    tok = build_default()
    print("vocab", len(tok))
    s = sys.argv[1] if len(sys.argv) > 1 else "Mia has 23 apples. She buys 7 more apples, so 23 + 7 = 30."
    ids = tok.encode(s, add_bos=False)
    print(ids)
    print([tok.pieces[i] for i in ids])
    print("self-check texts:", self_check(tok))


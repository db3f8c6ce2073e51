"""Minimal GGUF (version 3) writer and reader for the demo pair; F32, F16 and Q8_0 tensors.

File layout (little-endian):
    "GGUF" u32 version=3, u64 n_tensors, u64 n_kv
    n_kv x (string key, u32 value type, value)          string = u64 length + UTF-8 bytes
    n_tensors x (string name, u32 n_dims, n_dims x u64 ne (ne[0] innermost), u32 ggml type,
                 u64 offset relative to the data section, a multiple of the alignment)
    zero padding to the alignment (general.alignment, default 32), then the tensor data, each tensor
    zero-padded to the alignment.
Q8_0 (ggml type 8): blocks of 32 consecutive values of a row: fp16 d = amax/127, then 32 int8
q = roundf(x / d) (rounding half away from zero, with 1/d computed in fp32); value = d * q.
"""

import struct

import numpy as np

GGUF_MAGIC = b"GGUF"
# metadata value types
T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STR, T_ARR, T_U64, T_I64, T_F64 = range(13)
# tensor types
GGML_F32, GGML_F16, GGML_Q8_0 = 0, 1, 8
QK8_0 = 32
FTYPE = {"F32": 0, "F16": 1, "Q8_0": 7}  # general.file_type (llama_ftype: ALL_F32, MOSTLY_F16, MOSTLY_Q8_0)

_SCALAR = {"u8": (T_U8, "<B"), "i8": (T_I8, "<b"), "u16": (T_U16, "<H"), "i16": (T_I16, "<h"),
           "u32": (T_U32, "<I"), "i32": (T_I32, "<i"), "f32": (T_F32, "<f"), "bool": (T_BOOL, "<?"),
           "u64": (T_U64, "<Q"), "i64": (T_I64, "<q"), "f64": (T_F64, "<d")}


def _str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _value(kind, v):
    if kind == "str":
        return struct.pack("<I", T_STR) + _str(v)
    if kind in _SCALAR:
        t, f = _SCALAR[kind]
        return struct.pack("<I", t) + struct.pack(f, v)
    if kind.startswith("arr_"):
        ek = kind[4:]
        if ek == "str":
            body = b"".join(_str(x) for x in v)
            return struct.pack("<IIQ", T_ARR, T_STR, len(v)) + body
        t, f = _SCALAR[ek]
        arr = np.asarray(v, dtype=np.dtype(f))
        return struct.pack("<IIQ", T_ARR, t, len(v)) + arr.tobytes()
    raise ValueError(kind)


def quantize_q8_0(x):
    """x: float32 array [rows, n] with n % 32 == 0 -> bytes (rows * n/32 blocks of 34 bytes)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    assert x.shape[-1] % QK8_0 == 0, x.shape
    blocks = x.reshape(-1, QK8_0)
    amax = np.abs(blocks).max(axis=1)
    d = (amax / np.float32(127)).astype(np.float32)
    with np.errstate(divide="ignore"):
        idv = np.where(d != 0, np.float32(1) / d, np.float32(0)).astype(np.float32)
    v = blocks * idv[:, None]
    q = (np.sign(v) * np.floor(np.abs(v) + np.float32(0.5))).astype(np.int8)  # roundf
    out = np.empty(len(blocks), dtype=[("d", "<f2"), ("qs", "i1", (QK8_0,))])
    out["d"] = d.astype(np.float16)
    out["qs"] = q
    return out.tobytes()


def dequantize_q8_0(b, shape):
    arr = np.frombuffer(b, dtype=[("d", "<f2"), ("qs", "i1", (QK8_0,))])
    return (arr["d"].astype(np.float32)[:, None] * arr["qs"].astype(np.float32)).reshape(shape)


def tensor_bytes(x, ggml_type):
    if ggml_type == GGML_F32:
        return np.ascontiguousarray(x, dtype="<f4").tobytes()
    if ggml_type == GGML_F16:
        return np.ascontiguousarray(x, dtype="<f2").tobytes()
    if ggml_type == GGML_Q8_0:
        return quantize_q8_0(x)
    raise ValueError(ggml_type)


def write_gguf(path, metadata, tensors, alignment=32):
    """metadata: [(key, kind, value)]; tensors: [(name, float32 numpy array in PyTorch (row-major) shape,
    ggml type)]. ne is the reversed PyTorch shape (ne[0] = last, contiguous dimension)."""
    kv = list(metadata)
    if alignment != 32 or not any(k == "general.alignment" for k, _, _ in kv):
        kv.append(("general.alignment", "u32", alignment))
    head = bytearray(GGUF_MAGIC + struct.pack("<IQQ", 3, len(tensors), len(kv)))
    for k, kind, v in kv:
        head += _str(k) + _value(kind, v)
    blobs, offset = [], 0
    for name, arr, gt in tensors:
        data = tensor_bytes(arr, gt)
        ne = list(reversed(arr.shape))
        head += _str(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", n) for n in ne)
        head += struct.pack("<IQ", gt, offset)
        pad = (-len(data)) % alignment
        blobs.append(data + b"\0" * pad)
        offset += len(data) + pad
    head += b"\0" * ((-len(head)) % alignment)
    with open(path, "wb") as f:
        f.write(head)
        for b in blobs:
            f.write(b)


def read_gguf(path):
    """-> (metadata dict, {name: (float32 array in PyTorch shape, ggml type)}); dequantizes."""
    buf = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        r = struct.unpack_from(fmt, buf, pos)
        pos += struct.calcsize(fmt)
        return r[0] if len(r) == 1 else r

    def rstr():
        nonlocal pos
        n = take("<Q")
        s = buf[pos:pos + n].decode("utf-8")
        pos += n
        return s

    rev = {t: f for t, f in _SCALAR.values()}

    def rval(t):
        if t == T_STR:
            return rstr()
        if t == T_ARR:
            et, n = take("<I"), take("<Q")
            return [rval(et) for _ in range(n)]
        return take(rev[t])

    assert buf[:4] == GGUF_MAGIC
    pos = 4
    version, nt, nkv = take("<I"), take("<Q"), take("<Q")
    assert version == 3
    md = {}
    for _ in range(nkv):
        k = rstr()
        md[k] = rval(take("<I"))
    infos = []
    for _ in range(nt):
        name = rstr()
        nd = take("<I")
        ne = [take("<Q") for _ in range(nd)]
        gt, off = take("<I"), take("<Q")
        infos.append((name, ne, gt, off))
    al = md.get("general.alignment", 32)
    data0 = pos + (-pos) % al
    out = {}
    for name, ne, gt, off in infos:
        shape = tuple(reversed(ne))
        n = int(np.prod(ne))
        start = data0 + off
        if gt == GGML_F32:
            a = np.frombuffer(buf, "<f4", n, start).reshape(shape)
        elif gt == GGML_F16:
            a = np.frombuffer(buf, "<f2", n, start).astype(np.float32).reshape(shape)
        elif gt == GGML_Q8_0:
            a = dequantize_q8_0(buf[start:start + n // QK8_0 * 34], shape)
        else:
            raise ValueError(gt)
        out[name] = (np.array(a, dtype=np.float32), gt)
    return md, out

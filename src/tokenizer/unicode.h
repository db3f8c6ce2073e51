// UTF-8 helpers and the byte <-> printable-character table of byte-level BPE (GPT-2 style).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ead::tokenizer {

// Length in bytes of the valid UTF-8 sequence that starts at s[i] (1..4), or 1 when the bytes there are not
// valid UTF-8 (a stray continuation byte, an overlong form, a surrogate, a truncated sequence): the caller
// then treats that one byte on its own. Requires i < s.size().
size_t utf8_char_len(std::string_view s, size_t i);

// Number of bytes at the end of `s` that begin a UTF-8 sequence which is valid so far but incomplete (0..3).
// A streaming decoder holds these back until the next piece arrives.
size_t utf8_incomplete_tail(std::string_view s);

// True when the whole of `s` is valid UTF-8.
bool utf8_valid(std::string_view s);

// Appends the UTF-8 encoding of code point `cp` (which must be <= 0x10FFFF).
void append_utf8(std::string& out, uint32_t cp);

// Decodes the code point of the valid sequence of `len` bytes at s[i] (see utf8_char_len).
uint32_t utf8_decode(std::string_view s, size_t i, size_t len);

// ---- byte-level BPE ----
// GPT-2 maps each byte to a printable code point: bytes 0x21..0x7E, 0xA1..0xAC and 0xAE..0xFF map to
// themselves, the 68 others (controls, space, 0x7F..0xA0, 0xAD) to U+0100.. in increasing byte order.

// The UTF-8 text of the code point that stands for byte `b`.
std::string_view byte_to_bpe_char(uint8_t b);
// The byte that code point `cp` stands for, or -1 when `cp` is not in the table.
int bpe_char_to_byte(uint32_t cp);
// Maps every byte of `bytes` to its printable character (appending to `out`).
void bytes_to_bpe_text(std::string_view bytes, std::string& out);
// Inverse of bytes_to_bpe_text; characters outside the table are copied unchanged (appending to `out`).
void bpe_text_to_bytes(std::string_view text, std::string& out);

}  // namespace ead::tokenizer

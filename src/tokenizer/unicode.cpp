#include "tokenizer/unicode.h"

#include <array>

namespace ead::tokenizer {

size_t utf8_char_len(std::string_view s, size_t i) {
    const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
    const uint8_t c = b(i);
    if (c < 0x80) return 1;
    size_t len;
    uint32_t min_cp;
    if ((c & 0xE0) == 0xC0)
        len = 2, min_cp = 0x80;
    else if ((c & 0xF0) == 0xE0)
        len = 3, min_cp = 0x800;
    else if ((c & 0xF8) == 0xF0)
        len = 4, min_cp = 0x10000;
    else
        return 1;  // continuation byte or 0xF8..0xFF
    if (i + len > s.size()) return 1;
    for (size_t k = 1; k < len; ++k)
        if ((b(i + k) & 0xC0) != 0x80) return 1;
    const uint32_t cp = utf8_decode(s, i, len);
    if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 1;
    return len;
}

uint32_t utf8_decode(std::string_view s, size_t i, size_t len) {
    const auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(s[k])); };
    switch (len) {
        case 1:
            return b(i);
        case 2:
            return ((b(i) & 0x1F) << 6) | (b(i + 1) & 0x3F);
        case 3:
            return ((b(i) & 0x0F) << 12) | ((b(i + 1) & 0x3F) << 6) | (b(i + 2) & 0x3F);
        default:
            return ((b(i) & 0x07) << 18) | ((b(i + 1) & 0x3F) << 12) | ((b(i + 2) & 0x3F) << 6) |
                   (b(i + 3) & 0x3F);
    }
}

size_t utf8_incomplete_tail(std::string_view s) {
    // Look back at most 3 bytes for a lead byte whose sequence would run past the end.
    const size_t n = s.size();
    for (size_t back = 1; back <= 3 && back <= n; ++back) {
        const uint8_t c = static_cast<uint8_t>(s[n - back]);
        if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
        size_t need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
        return need > back ? back : 0;
    }
    return 0;
}

bool utf8_valid(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        const size_t len = utf8_char_len(s, i);
        if (len == 1 && static_cast<uint8_t>(s[i]) >= 0x80) return false;
        i += len;
    }
    return true;
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

namespace {

bool byte_maps_to_itself(int b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
}

struct ByteTable {
    std::array<std::string, 256> text;   // byte -> UTF-8 of its code point
    std::array<uint32_t, 256> cp{};      // byte -> code point
    std::array<int16_t, 0x144> inverse;  // code point (< 0x144) -> byte, or -1

    ByteTable() {
        inverse.fill(-1);
        uint32_t next = 0x100;
        for (int b = 0; b < 256; ++b) {
            cp[b] = byte_maps_to_itself(b) ? static_cast<uint32_t>(b) : next++;
            append_utf8(text[b], cp[b]);
            inverse[cp[b]] = static_cast<int16_t>(b);
        }
    }
};

const ByteTable& byte_table() {
    static const ByteTable table;
    return table;
}

}  // namespace

std::string_view byte_to_bpe_char(uint8_t b) {
    return byte_table().text[b];
}

int bpe_char_to_byte(uint32_t cp) {
    return cp < 0x144 ? byte_table().inverse[cp] : -1;
}

void bytes_to_bpe_text(std::string_view bytes, std::string& out) {
    const ByteTable& t = byte_table();
    for (char c : bytes) out += t.text[static_cast<uint8_t>(c)];
}

void bpe_text_to_bytes(std::string_view text, std::string& out) {
    for (size_t i = 0; i < text.size();) {
        const size_t len = utf8_char_len(text, i);
        const uint32_t cp = len == 1 ? static_cast<uint8_t>(text[i]) : utf8_decode(text, i, len);
        const int b = (len == 1 && cp >= 0x80) ? -1 : bpe_char_to_byte(cp);
        if (b >= 0)
            out += static_cast<char>(b);
        else
            out.append(text, i, len);
        i += len;
    }
}

}  // namespace ead::tokenizer

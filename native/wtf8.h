// WTF-8: UTF-8 that also encodes lone surrogates, so every JS string (a sequence of UTF-16 code units, valid
// or not) maps to exactly one byte string and back. Keys are stored this way: two different JS strings never
// collapse into one key, as they would if lone surrogates became U+FFFD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace arenakv::wtf8 {

// The length encode() gives, without encoding: 1 byte per unit below 0x80, 2 below 0x800, 4 per surrogate pair,
// 3 for everything else (lone surrogates included).
inline size_t encodedLength(const char16_t* units, size_t n) {
  size_t bytes = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t c = units[i];
    if (c < 0x80) {
      bytes += 1;
    } else if (c < 0x800) {
      bytes += 2;
    } else if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && units[i + 1] >= 0xDC00 && units[i + 1] <= 0xDFFF) {
      bytes += 4;
      i++;
    } else {
      bytes += 3;
    }
  }
  return bytes;
}

inline void encode(const char16_t* units, size_t n, std::string* out) {
  // ASCII, the common key, narrows unit by unit without the per-byte appends below.
  size_t ascii = 0;
  while (ascii < n && units[ascii] < 0x80) ascii++;
  out->resize(ascii);
  for (size_t i = 0; i < ascii; i++) (*out)[i] = static_cast<char>(units[i]);
  if (ascii == n) return;
  out->reserve(n);
  for (size_t i = ascii; i < n; i++) {
    uint32_t c = units[i];
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
      continue;
    }
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && units[i + 1] >= 0xDC00 && units[i + 1] <= 0xDFFF) {
      c = 0x10000 + ((c - 0xD800) << 10) + (units[i + 1] - 0xDC00);
      i++;
    }
    if (c < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    } else if (c < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (c >> 12)));
      out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (c >> 18)));
      out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    }
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

// Decodes bytes produced by encode(); anything else is taken byte by byte as Latin-1 rather than trusted.
inline void decode(const uint8_t* s, size_t n, std::u16string* out) {
  out->clear();
  for (size_t i = 0; i < n;) {
    uint8_t b = s[i];
    if (b < 0x80) {
      out->push_back(b);
      i++;
    } else if ((b & 0xE0) == 0xC0 && i + 1 < n) {
      out->push_back(static_cast<char16_t>(((b & 0x1F) << 6) | (s[i + 1] & 0x3F)));
      i += 2;
    } else if ((b & 0xF0) == 0xE0 && i + 2 < n) {
      out->push_back(static_cast<char16_t>(((b & 0x0F) << 12) | ((s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F)));
      i += 3;
    } else if ((b & 0xF8) == 0xF0 && i + 3 < n) {
      uint32_t c = ((b & 0x07) << 18) | ((s[i + 1] & 0x3F) << 12) | ((s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F);
      c -= 0x10000;
      out->push_back(static_cast<char16_t>(0xD800 + (c >> 10)));
      out->push_back(static_cast<char16_t>(0xDC00 + (c & 0x3FF)));
      i += 4;
    } else {
      out->push_back(b);
      i++;
    }
  }
}

}  // namespace arenakv::wtf8

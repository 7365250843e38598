// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/train/pickle_scan.h"

#include <cstdint>
#include <cstring>

namespace qnn {

namespace {

uint64_t little_endian(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

bool pickle_lengths_fit(const unsigned char* data, size_t size) {
  size_t at = 0;
  // Skips a fixed-size argument; false when it does not fit.
  const auto fixed = [&](size_t n) {
    if (n > size - at) return false;
    at += n;
    return true;
  };
  // A length of `n` little-endian bytes, then that many bytes.
  const auto counted = [&](int n) {
    if (size_t(n) > size - at) return false;
    const uint64_t len = little_endian(data + at, n);
    at += size_t(n);
    if (len > size - at) return false;
    at += size_t(len);
    return true;
  };
  // Text up to and including a newline (protocol 0 arguments).
  const auto line = [&] {
    const void* nl = std::memchr(data + at, '\n', size - at);
    if (!nl) return false;
    at = size_t(static_cast<const unsigned char*>(nl) - data) + 1;
    return true;
  };
  while (at < size) {
    const unsigned char op = data[at++];
    bool ok = true;
    switch (op) {
      case '.':  // STOP
        return true;
      // no argument
      case '(': case '0': case '1': case '2': case 'N': case 'Q': case 'R': case 'a': case 'b': case 'd':
      case '}': case 'e': case 'l': case ']': case 'o': case 's': case 't': case ')': case 'u':
      case 0x81: case 0x85: case 0x86: case 0x87: case 0x88: case 0x89: case 0x8f: case 0x90: case 0x91:
      case 0x92: case 0x93: case 0x94: case 0x97: case 0x98:
        break;
      // newline-terminated arguments: FLOAT INT LONG PERSID STRING UNICODE GET PUT
      case 'F': case 'I': case 'L': case 'P': case 'S': case 'V': case 'g': case 'p':
        ok = line();
        break;
      case 'c': case 'i':  // GLOBAL, INST: module and name lines
        ok = line() && line();
        break;
      // fixed-size arguments
      case 'K': case 'h': case 'q': case 0x80: case 0x82:  // BININT1 BINGET BINPUT PROTO EXT1
        ok = fixed(1);
        break;
      case 'M': case 0x83:  // BININT2 EXT2
        ok = fixed(2);
        break;
      case 'J': case 'j': case 0x84:  // BININT LONG_BINGET EXT4
        ok = fixed(4);
        break;
      case 'r':  // LONG_BINPUT: LibTorch grows its memo table to the id first; a pickler
                 // numbers its memo entries 0, 1, 2, ..., so an id can never exceed the
                 // pickle's length
        ok = size - at >= 4 && little_endian(data + at, 4) <= size && fixed(4);
        break;
      case 'G':  // BINFLOAT
        ok = fixed(8);
        break;
      case 0x95:  // FRAME: an 8-byte length of opcodes that must all be there
        if (size - at < 8 || little_endian(data + at, 8) > size - at - 8) return false;
        at += 8;
        break;
      // length-prefixed arguments
      case 'U': case 'C': case 0x8c: case 0x8a:  // SHORT_BINSTRING SHORT_BINBYTES SHORT_BINUNICODE LONG1
        ok = counted(1);
        break;
      case 'T': case 'X': case 'B': case 0x8b:  // BINSTRING BINUNICODE BINBYTES LONG4
        ok = counted(4);
        break;
      case 0x8d: case 0x8e: case 0x96:  // BINUNICODE8 BINBYTES8 BYTEARRAY8
        ok = counted(8);
        break;
      default:  // unknown to pickle: LibTorch refuses it before allocating anything
        return true;
    }
    if (!ok) return false;
  }
  return true;  // no STOP: LibTorch reports the truncated pickle
}

}  // namespace qnn

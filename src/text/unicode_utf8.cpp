#include "text/unicode_utf8.h"

#include <array>

#include "text/tokenizer.h"

namespace xnai::text {

uint32_t utf8_next(std::string_view s, size_t& pos) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t b0 = byte(pos);
  const auto cont = [&](size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
  if ((b0 & 0x80) == 0) {
    pos += 1;
    return b0;
  }
  if ((b0 & 0x40) != 0) {
    if ((b0 & 0x20) == 0) {
      if (cont(pos + 1)) {
        const uint32_t cp = (uint32_t(b0 & 0x1F) << 6) | (byte(pos + 1) & 0x3F);
        pos += 2;
        return cp;
      }
    } else if ((b0 & 0x10) == 0) {
      if (cont(pos + 1) && cont(pos + 2)) {
        const uint32_t cp =
            (uint32_t(b0 & 0x0F) << 12) | (uint32_t(byte(pos + 1) & 0x3F) << 6) | (byte(pos + 2) & 0x3F);
        pos += 3;
        return cp;
      }
    } else if ((b0 & 0x08) == 0) {
      if (cont(pos + 1) && cont(pos + 2) && cont(pos + 3)) {
        const uint32_t cp = (uint32_t(b0 & 0x07) << 18) | (uint32_t(byte(pos + 1) & 0x3F) << 12) |
                            (uint32_t(byte(pos + 2) & 0x3F) << 6) | (byte(pos + 3) & 0x3F);
        pos += 4;
        return cp;
      }
    }
  }
  pos += 1;
  return kReplacementChar;
}

void utf8_decode(std::string_view s, std::vector<uint32_t>& out) {
  out.reserve(out.size() + s.size());
  for (size_t pos = 0; pos < s.size();) out.push_back(utf8_next(s, pos));
}

void utf8_append(uint32_t cp, std::string& out) {
  if (cp <= 0x7F) {
    out.push_back(static_cast<char>(cp));
  } else if (cp <= 0x7FF) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp <= 0xFFFF) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp <= 0x10FFFF) {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    utf8_append(kReplacementChar, out);
  }
}

namespace {

struct ByteAlphabet {
  std::array<uint32_t, 256> to_cp{};
  std::array<std::string, 256> to_utf8;
  std::array<int16_t, 256 + 68> from_cp;  // 68 = the bytes that are not printable
  ByteAlphabet() {
    from_cp.fill(-1);
    const auto printable = [](int b) {
      return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      to_cp[b] = printable(b) ? uint32_t(b) : next++;
      utf8_append(to_cp[b], to_utf8[b]);
      from_cp[to_cp[b]] = int16_t(b);
    }
  }
};

const ByteAlphabet& alphabet() {
  static const ByteAlphabet a;
  return a;
}

}  // namespace

uint32_t byte_to_unicode(uint8_t b) { return alphabet().to_cp[b]; }
const std::string& byte_to_unicode_utf8(uint8_t b) { return alphabet().to_utf8[b]; }

int unicode_to_byte(uint32_t cp) {
  const auto& table = alphabet().from_cp;
  return cp < table.size() ? table[cp] : -1;
}

std::string take_complete_utf8(std::string& pending) {
  // Look at most 3 bytes back for the start of a sequence that is valid so far but incomplete.
  size_t keep_from = pending.size();
  const size_t n = pending.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const uint8_t b = static_cast<uint8_t>(pending[n - back]);
    if ((b & 0xC0) == 0x80) continue;  // continuation byte: keep looking for its lead
    const size_t need = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
    if (need > back) keep_from = n - back;  // a lead byte whose sequence is not complete yet
    break;
  }
  std::string out = pending.substr(0, keep_from);
  pending.erase(0, keep_from);
  return out;
}

std::string take_complete_utf8(std::string& pending, std::string_view piece) {
  pending.append(piece);
  return take_complete_utf8(pending);
}

}  // namespace xnai::text

/* Sixteen bytes of a JSON string at a time. The request path walks every
 * string of every request and answer; they are short (keys, methods,
 * paths), so the cost is per string more than per byte, and one SSE2 test
 * usually covers a whole string where the 8-byte SWAR loop in Swift took
 * two rounds and more setup. Swift's SIMD types compiled to scalar code
 * here, hence C. static inline: Swift imports the body, and LLVM inlines it
 * into PlainBytes.skip. */
#ifndef BERTH_JSON_BYTES_H
#define BERTH_JSON_BYTES_H

#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#if defined(__SSE2__)
/* 0xFF in each byte of v that is '"', '\\' or below 0x20. */
static inline __m128i berth_json_special_bytes(__m128i v) {
    __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    /* max(v, 0x1F) == 0x1F exactly when v <= 0x1F, unsigned. */
    __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1F)), _mm_set1_epi8(0x1F));
    return _mm_or_si128(_mm_or_si128(quote, backslash), control);
}

/* Bit k set when p[k] is '"', '\\' or below 0x20. All 16 bytes readable. */
static inline unsigned berth_json_special_mask16(const uint8_t *p) {
    __m128i v = _mm_loadu_si128((const __m128i *)p);
    return (unsigned)_mm_movemask_epi8(berth_json_special_bytes(v));
}

/* The same, and also bit k when p[k] is 0x80 or above (not ASCII: the
 * validating walk checks it is UTF-8). movemask takes each byte's top bit,
 * so this costs one OR more than the test above. */
static inline unsigned berth_json_stop_mask16(const uint8_t *p) {
    __m128i v = _mm_loadu_si128((const __m128i *)p);
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(berth_json_special_bytes(v), v));
}
#else
static inline unsigned berth_json_special_mask16(const uint8_t *p) {
    unsigned mask = 0;
    for (int k = 0; k < 16; k++) {
        if (p[k] == '"' || p[k] == '\\' || p[k] < 0x20) mask |= 1u << k;
    }
    return mask;
}

static inline unsigned berth_json_stop_mask16(const uint8_t *p) {
    unsigned mask = berth_json_special_mask16(p);
    for (int k = 0; k < 16; k++) {
        if (p[k] >= 0x80) mask |= 1u << k;
    }
    return mask;
}
#endif

/* The index (0-15) of the first byte of p[0..15] that is '"', '\\' or below
 * 0x20, or 16 when there is none. All 16 bytes must be readable. */
static inline int berth_json_special16(const uint8_t *p) {
    unsigned mask = berth_json_special_mask16(p);
    return mask ? __builtin_ctz(mask) : 16;
}

/* berth_json_special16 for the validating walk (JSONSkipper, JSONScanner):
 * it also stops at a byte of 0x80 or above. The framer, which only looks
 * for the quote that ends a string, keeps the test above. */
static inline int berth_json_stop16(const uint8_t *p) {
    unsigned mask = berth_json_stop_mask16(p);
    return mask ? __builtin_ctz(mask) : 16;
}

/* The same test for a string that starts in the buffer's last 16 bytes:
 * p points 16 bytes before the buffer's end and `skip` (0-15) bytes of it
 * come before the string. Returns the index, counted from p + skip, of the
 * first byte it stops at, or 16 - skip when there is none. Reads nothing
 * past the end, where a plain 16-byte load from p + skip would. */
static inline int berth_json_stop16_tail(const uint8_t *p, int skip) {
    unsigned mask = berth_json_stop_mask16(p) >> skip;
    return mask ? __builtin_ctz(mask) : 16 - skip;
}

#endif

/*
 * berth_json.h: building a JSON answer in C without writing an escaper.
 *
 * Header-only `static inline` helpers; nothing here is part of the ABI
 * (berth.h), and a plugin that does not include this header loses nothing.
 * Everything is written into a buffer the caller owns: no allocation, so a
 * handler may use a buffer on its stack.
 *
 *     char buf[256];
 *     berth_json j;
 *     berth_json_init(&j, buf, sizeof buf);
 *     berth_json_raw(&j, "{\"hello\":");
 *     berth_json_string(&j, name.ptr, name.len);   // untrusted text: escaped
 *     berth_json_raw(&j, ",\"count\":");
 *     berth_json_int(&j, count);
 *     berth_json_raw(&j, "}");
 *     if (berth_json_ok(&j)) req->host->respond(req, 200, j.data, j.length);
 *     else req->host->respond_error(req, 500, "too_large", "answer did not fit");
 *
 * What did not fit is not written, and nothing after it is either: once a
 * write does not fit, `overflowed` stays set and later writes do nothing, so
 * a truncated answer is never mistaken for a whole one. Check berth_json_ok
 * once, before respond. While it is ok, `data` is NUL-terminated (one byte of
 * the capacity is kept for the NUL), so it can also be logged.
 */
#ifndef BERTH_JSON_H
#define BERTH_JSON_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char *data;
    size_t length, capacity;
    int overflowed;
} berth_json;

/* Starts an empty text in `buffer` of `capacity` bytes. */
static inline void berth_json_init(berth_json *json, char *buffer, size_t capacity) {
    json->data = buffer;
    json->length = 0;
    json->capacity = capacity;
    json->overflowed = buffer == NULL || capacity == 0;
    if (!json->overflowed) buffer[0] = '\0';
}

/* Room for `count` more bytes and the NUL after them; sets `overflowed` if
 * there is none. */
static inline int berth_json__room(berth_json *json, size_t count) {
    if (json->overflowed) return 0;
    if (count >= json->capacity - json->length) {
        json->overflowed = 1;
        return 0;
    }
    return 1;
}

static inline void berth_json__append(berth_json *json, const char *bytes, size_t count) {
    if (!berth_json__room(json, count)) return;
    for (size_t i = 0; i < count; i++) json->data[json->length + i] = bytes[i];
    json->length += count;
    json->data[json->length] = '\0';
}

/* Appends `text` (NUL-terminated) as it is: the JSON punctuation and keys
 * you write yourself. Never pass it text a client sent. */
static inline void berth_json_raw(berth_json *json, const char *text) {
    size_t count = 0;
    if (text == NULL) return;
    while (text[count] != '\0') count++;
    berth_json__append(json, text, count);
}

/* The length of the UTF-8 sequence at `s` (at most `left` bytes), or 0 if
 * it is not one: a bad lead byte, a missing or wrong continuation byte, an
 * overlong form, a surrogate or a value past U+10FFFF. */
static inline size_t berth_json__utf8_length(const unsigned char *s, size_t left) {
    unsigned char lead = s[0];
    size_t count;
    unsigned char low = 0x80, high = 0xBF; /* allowed range of the second byte */
    if (lead >= 0xC2 && lead <= 0xDF) count = 2;
    else if (lead >= 0xE0 && lead <= 0xEF) {
        count = 3;
        if (lead == 0xE0) low = 0xA0;       /* overlong */
        if (lead == 0xED) high = 0x9F;      /* surrogates */
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        count = 4;
        if (lead == 0xF0) low = 0x90;       /* overlong */
        if (lead == 0xF4) high = 0x8F;      /* past U+10FFFF */
    } else return 0;
    if (count > left) return 0;
    if (s[1] < low || s[1] > high) return 0;
    for (size_t i = 2; i < count; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    }
    return count;
}

/* Appends `length` bytes of `text` as a JSON string, quotes included,
 * escaped per RFC 8259: `"` and `\` with a backslash, control characters
 * as \n, \r, \t, \b, \f or \u00XX. The bytes need no NUL and may contain
 * one (written as \u0000). Bytes that are not UTF-8 (a path parameter
 * decoded from %FF, say) become U+FFFD, so the answer is always valid JSON
 * text, which the host checks. */
static inline void berth_json_string(berth_json *json, const char *text, size_t length) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *bytes = (const unsigned char *)text;
    berth_json__append(json, "\"", 1);
    for (size_t i = 0; i < length && !json->overflowed;) {
        unsigned char byte = bytes[i];
        if (byte == '"' || byte == '\\') {
            char escaped[2] = {'\\', (char)byte};
            berth_json__append(json, escaped, 2);
            i++;
        } else if (byte < 0x20) {
            switch (byte) {
            case '\n': berth_json__append(json, "\\n", 2); break;
            case '\r': berth_json__append(json, "\\r", 2); break;
            case '\t': berth_json__append(json, "\\t", 2); break;
            case '\b': berth_json__append(json, "\\b", 2); break;
            case '\f': berth_json__append(json, "\\f", 2); break;
            default: {
                char escaped[6] = {'\\', 'u', '0', '0', hex[byte >> 4], hex[byte & 0xF]};
                berth_json__append(json, escaped, 6);
            }
            }
            i++;
        } else if (byte < 0x80) {
            berth_json__append(json, (const char *)bytes + i, 1);
            i++;
        } else {
            size_t count = berth_json__utf8_length(bytes + i, length - i);
            if (count == 0) {
                berth_json__append(json, "\xEF\xBF\xBD", 3); /* U+FFFD */
                i++;
            } else {
                berth_json__append(json, (const char *)bytes + i, count);
                i += count;
            }
        }
    }
    berth_json__append(json, "\"", 1);
}

/* Appends `value` in decimal (LLONG_MIN included). */
static inline void berth_json_int(berth_json *json, long long value) {
    char digits[24];
    size_t at = sizeof digits;
    /* In unsigned arithmetic, so negating LLONG_MIN does not overflow. */
    unsigned long long magnitude = value < 0 ? 0ULL - (unsigned long long)value : (unsigned long long)value;
    do {
        digits[--at] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);
    if (value < 0) digits[--at] = '-';
    berth_json__append(json, digits + at, sizeof digits - at);
}

/* 1 if everything written so far fit (the text is whole), else 0. */
static inline int berth_json_ok(const berth_json *json) {
    return !json->overflowed;
}

#ifdef __cplusplus
}
#endif

#endif /* BERTH_JSON_H */

/* plugins/marshallers/common/mstr.h — string and number helpers shared by the
 * marshallers (header-only: each plugin is its own .so and links nothing shared).
 * Record strings are borrowed from the core and the kernel; the wire formats need
 * bounded, valid UTF-8 (proto3 parsers reject anything else), so every string goes
 * through mstr_len() (bound + cut at a character boundary) and mstr_copy() (replace
 * invalid bytes with '?', length preserving). */
#ifndef XTCPD_MSTR_H
#define XTCPD_MSTR_H

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <xtcpd/plugin.h>

/* The two counters every marshaller keeps: records with a string cut to MSTR_MAX, and
 * records with a string whose invalid UTF-8 bytes became '?'. */
struct mstr_counters {
	_Atomic uint64_t *truncated;
	_Atomic uint64_t *bad_utf8;
};

static inline int mstr_counters_init(struct mstr_counters *c, const struct xtcpd_host *host,
				     struct xtcpd_ctx *ctx)
{
	c->truncated = host->metric(ctx, XTCPD_METRIC_COUNTER, "marshal_truncated_total", NULL,
				    "Records with a string cut to the longest the marshaller writes");
	c->bad_utf8 = host->metric(ctx, XTCPD_METRIC_COUNTER, "marshal_invalid_utf8_total", NULL,
				   "Records with a string whose invalid UTF-8 bytes became '?'");
	if (c->truncated == NULL || c->bad_utf8 == NULL) {
		host->log(ctx, XTCPD_LOG_ERR, "cannot register metrics");
		return -ENOMEM;
	}
	return 0;
}

static inline void mstr_counters_add(const struct mstr_counters *c, int truncated, unsigned bad_utf8)
{
	if (truncated)
		atomic_fetch_add_explicit(c->truncated, 1, memory_order_relaxed);
	if (bad_utf8)
		atomic_fetch_add_explicit(c->bad_utf8, 1, memory_order_relaxed);
}

/* Longest string any marshaller writes, in bytes. Config strings, container metadata
 * and LLDP descriptions are all far below it; a longer one is truncated and counted. */
#define MSTR_MAX 1024

/* Bytes of `s` to write: strnlen bounded by max, cut back to a UTF-8 character start
 * when it had to be truncated (*truncated set to 1). */
static inline size_t mstr_len(const char *s, size_t max, int *truncated)
{
	size_t n = strnlen(s, max + 1);

	if (n <= max)
		return n;
	*truncated = 1;
	n = max;
	/* Drop continuation bytes (10xxxxxx) so the cut lands on a character start. */
	while (n > 0 && ((uint8_t)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* Length of the valid UTF-8 sequence at s[0..n) (1-4), or 0 if invalid. */
static inline size_t mstr_utf8_seq(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	size_t len, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF are invalid. */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Copy n bytes of s to dst, replacing each byte that is not part of valid UTF-8 with
 * '?'. Returns the number of bytes replaced (0 for clean text, the common case). */
static inline unsigned mstr_copy(uint8_t *dst, const char *s, size_t n)
{
	const uint8_t *u = (const uint8_t *)s;
	unsigned bad = 0;
	size_t i = 0, k;

	for (;;) {
		/* ASCII fast path, 8 bytes at a time. */
		while (i + 8 <= n) {
			uint64_t w;
			memcpy(&w, u + i, 8);
			if (w & 0x8080808080808080ull)
				break;
			memcpy(dst + i, &w, 8);
			i += 8;
		}
		if (i >= n)
			return bad;
		if (u[i] < 0x80) {
			dst[i] = u[i];
			i++;
			continue;
		}
		k = mstr_utf8_seq(u + i, n - i);
		if (k == 0) {
			dst[i++] = '?';
			bad++;
			continue;
		}
		memcpy(dst + i, u + i, k);
		i += k;
	}
}

/* The common string, short plain ASCII, in one pass: copy s to dst until its NUL, as long
 * as every byte is ASCII and the NUL comes within lim bytes. Returns the end of the copy,
 * or NULL when s is not such a string (a byte >= 0x80, or no NUL in s[0..lim)): the
 * caller then takes mstr_len + mstr_copy, whose result it would have been; dst holds
 * lim bytes. s[0..lim) must be readable up to its NUL. */
static inline uint8_t *mstr_ascii(uint8_t *dst, const char *s, size_t lim)
{
	for (size_t i = 0; i < lim; i++) {
		const signed char c = (signed char)s[i];

		if (c <= 0)  /* the NUL, or a byte >= 0x80 */
			return c == 0 ? dst + i : NULL;
		dst[i] = (uint8_t)c;
	}
	return NULL;
}

/* Write n bytes of s as the inside of a JSON string: '"', '\\' and control characters
 * escaped as Go's protojson (and encoding/json since Go 1.22) escapes them: \b \f \n \r
 * \t, else \u00xx in lower case; invalid UTF-8 bytes replaced by '?' (counted in *bad).
 * dst needs 6 * n bytes at most. Returns the end. */
static inline uint8_t *mstr_json(uint8_t *dst, const char *s, size_t n, unsigned *bad)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *u = (const uint8_t *)s;
	size_t i = 0, k;

	while (i < n) {
		uint8_t c = u[i];

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			*dst++ = c;
			i++;
		} else if (c < 0x80) {
			*dst++ = '\\';
			switch (c) {
			case '"': *dst++ = '"'; break;
			case '\\': *dst++ = '\\'; break;
			case '\b': *dst++ = 'b'; break;
			case '\f': *dst++ = 'f'; break;
			case '\n': *dst++ = 'n'; break;
			case '\r': *dst++ = 'r'; break;
			case '\t': *dst++ = 't'; break;
			default:
				*dst++ = 'u', *dst++ = '0', *dst++ = '0';
				*dst++ = (uint8_t)hex[c >> 4], *dst++ = (uint8_t)hex[c & 15];
			}
			i++;
		} else if ((k = mstr_utf8_seq(u + i, n - i)) != 0) {
			memcpy(dst, u + i, k);
			dst += k;
			i += k;
		} else {
			*dst++ = '?';
			(*bad)++;
			i++;
		}
	}
	return dst;
}

/* Exactly the bytes mstr_json() writes for s[0..n) (for a buffer too tight for 6 * n). */
static inline size_t mstr_json_len(const char *s, size_t n)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t i = 0, out = 0, k;

	while (i < n) {
		uint8_t c = u[i];

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			out++, i++;
		} else if (c < 0x80) {
			out += (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' ||
				c == '\r' || c == '\t') ? 2 : 6;
			i++;
		} else if ((k = mstr_utf8_seq(u + i, n - i)) != 0) {
			out += k, i += k;
		} else {
			out++, i++;
		}
	}
	return out;
}

/* Decimal digits of v into p; returns the end. */
static inline uint8_t *mstr_u64(uint8_t *p, uint64_t v)
{
	uint8_t tmp[20];
	int n = 0;

	do {
		tmp[n++] = (uint8_t)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static inline uint8_t *mstr_i64(uint8_t *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return mstr_u64(p, (uint64_t)0 - (uint64_t)v);
	}
	return mstr_u64(p, (uint64_t)v);
}

#endif /* XTCPD_MSTR_H */

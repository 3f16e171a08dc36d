/* plugins/marshallers/json/json_addr.h — addresses as text, byte for byte what glibc's
 * inet_ntop writes (RFC 5952 style: lowercase hex, no leading zeros, the first longest
 * run of two or more zero groups as "::", embedded IPv4 for ::a.b.c.d and
 * ::ffff:a.b.c.d), without its snprintf per group. Header-only: tests compare it with
 * inet_ntop over many addresses. */
#ifndef XTCPD_JSON_ADDR_H
#define XTCPD_JSON_ADDR_H

#include <stdint.h>

/* Decimal of one byte. */
static inline uint8_t *jz_u8(uint8_t *p, unsigned v)
{
	if (v >= 100) {
		*p++ = (uint8_t)('0' + v / 100);
		v %= 100;
		*p++ = (uint8_t)('0' + v / 10);
	} else if (v >= 10) {
		*p++ = (uint8_t)('0' + v / 10);
	}
	*p++ = (uint8_t)('0' + v % 10);
	return p;
}

/* a.b.c.d from 4 bytes; at most 15 bytes written. */
static inline uint8_t *jz_addr4(uint8_t *p, const uint8_t *a)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			*p++ = '.';
		p = jz_u8(p, a[i]);
	}
	return p;
}

/* One 16-bit group in lowercase hex without leading zeros. */
static inline uint8_t *jz_hex16(uint8_t *p, unsigned w)
{
	static const char hex[] = "0123456789abcdef";
	int shift = w >= 0x1000 ? 12 : w >= 0x100 ? 8 : w >= 0x10 ? 4 : 0;

	for (; shift >= 0; shift -= 4)
		*p++ = (uint8_t)hex[(w >> shift) & 15];
	return p;
}

/* IPv6 text from 16 bytes; at most 45 bytes written. */
static inline uint8_t *jz_addr6(uint8_t *p, const uint8_t *a)
{
	unsigned w[8];
	int best = -1, best_len = 0, cur = -1, cur_len = 0, i;

	for (i = 0; i < 8; i++) {
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
		if (w[i] == 0) {
			if (cur < 0)
				cur = i, cur_len = 0;
			if (++cur_len > best_len)
				best = cur, best_len = cur_len;
		} else {
			cur = -1;
		}
	}
	if (best_len < 2)
		best = -1;
	for (i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*p++ = ':';
			continue;
		}
		if (i)
			*p++ = ':';
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)))
			return jz_addr4(p, a + 12);
		p = jz_hex16(p, w[i]);
	}
	if (best >= 0 && best + best_len == 8)
		*p++ = ':';
	return p;
}

#endif /* XTCPD_JSON_ADDR_H */

/* plugins/marshallers/common/humanize.h — the human renderings xtcp2's csv/tsv use
 * (its pkg/recordfmt), byte for byte: addresses as Go's net.IP prints them, TCP states
 * by their kernel names, the congestion enum without its prefix, the timestamp as
 * RFC 3339 with nanoseconds in UTC. Header-only (each plugin is its own .so); nothing
 * allocates, every function writes at p and returns the end. */
#ifndef XTCPD_HUMANIZE_H
#define XTCPD_HUMANIZE_H

#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "plugins/marshallers/common/mstr.h"

/* Longest rendering of any function below (an IPv6 address is 39, a timestamp 35). */
#define HZ_MAX 48

/* Decimal digits of v at p, two at a time from a table (mstr_u64 goes one digit at a
 * time through a scratch copy: the text formats write a number per column). */
static inline uint8_t *hz_u64(uint8_t *p, uint64_t v)
{
	static const char d2[201] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	unsigned n = 1;
	uint8_t *e;

	for (uint64_t t = v; t >= 10; t /= 10)
		n++;
	e = p + n;
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		*--e = (uint8_t)d2[2 * r + 1];
		*--e = (uint8_t)d2[2 * r];
	}
	if (v >= 10) {
		*--e = (uint8_t)d2[2 * v + 1];
		*--e = (uint8_t)d2[2 * v];
	} else {
		*--e = (uint8_t)('0' + v);
	}
	return p + n;
}

static inline uint8_t *hz_i64(uint8_t *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return hz_u64(p, (uint64_t)0 - (uint64_t)v);
	}
	return hz_u64(p, (uint64_t)v);
}

static inline uint8_t *hz_put(uint8_t *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/* include/net/tcp_states.h, spelled as xtcp2 does; anything else as its number. */
static inline uint8_t *hz_state(uint8_t *p, uint32_t s)
{
	static const char *const n[] = {
		NULL, "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
		"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
		"NEW_SYN_RECV",
	};

	if (s < sizeof(n) / sizeof(n[0]) && n[s])
		return hz_put(p, n[s]);
	return hz_u64(p, s);
}

/* CongestionAlgorithm without CONGESTION_ALGORITHM_; UNSPECIFIED is empty and a value
 * the enum does not know is its number (what protobuf-go's String() gives). */
static inline uint8_t *hz_cong(uint8_t *p, uint32_t c)
{
	static const char *const n[] = { "", "CUBIC", "DCTCP", "VEGAS", "PRAGUE", "BBR1",
		"BBR2", "BBR3" };

	if (c < sizeof(n) / sizeof(n[0]))
		return hz_put(p, n[c]);
	return hz_u64(p, c);
}

static inline uint8_t *hz_ipv4(uint8_t *p, const uint8_t *b)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			*p++ = '.';
		p = hz_u64(p, b[i]);
	}
	return p;
}

/* RFC 5952 as Go's netip writes it: lower-case hex without leading zeros, the first
 * longest run of two or more zero groups as "::". */
static inline uint8_t *hz_ipv6(uint8_t *p, const uint8_t *b)
{
	static const char hex[] = "0123456789abcdef";
	unsigned zs = 8, ze = 8, i, j;

	for (i = 0; i < 8; i++) {
		for (j = i; j < 8 && !b[2 * j] && !b[2 * j + 1]; j++)
			;
		if (j - i >= 2 && j - i > ze - zs)
			zs = i, ze = j;
	}
	for (i = 0; i < 8; i++) {
		unsigned v = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
		int shift, started = 0;

		if (i == zs) {
			*p++ = ':', *p++ = ':';
			i = ze - 1;
			continue;
		}
		if (i && i != ze)
			*p++ = ':';
		for (shift = 12; shift >= 0; shift -= 4) {
			unsigned d = (v >> shift) & 15;

			if (d || started || shift == 0) {
				*p++ = (uint8_t)hex[d];
				started = 1;
			}
		}
	}
	return p;
}

/* The 16 raw bytes of an inet_diag address: family decides (IPv4 uses the first 4);
 * an IPv4-mapped IPv6 address prints as IPv4, as Go's net.IP.String() does. */
static inline uint8_t *hz_ip(uint8_t *p, uint32_t family, const uint8_t *b)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (family == AF_INET)
		return hz_ipv4(p, b);
	if (!memcmp(b, mapped, sizeof(mapped)))
		return hz_ipv4(p, b + 12);
	return hz_ipv6(p, b);
}

/* Days since 1970-01-01 -> civil date (H. Hinnant's days_from_civil, inverted). */
static inline void hz_civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static inline uint8_t *hz_2(uint8_t *p, unsigned v)
{
	*p++ = (uint8_t)('0' + v / 10);
	*p++ = (uint8_t)('0' + v % 10);
	return p;
}

/* Go's time.RFC3339Nano in UTC ("2006-01-02T15:04:05.999999999Z": trailing zeros of
 * the fraction dropped, and the dot with them); zero or negative is empty, as xtcp2. */
static inline uint8_t *hz_time(uint8_t *p, int64_t ns)
{
	int64_t secs, days, y;
	unsigned sod, m, d, frac, div;

	if (ns <= 0)
		return p;
	secs = ns / 1000000000;
	frac = (unsigned)(ns % 1000000000);
	days = secs / 86400;
	sod = (unsigned)(secs % 86400);
	hz_civil(days, &y, &m, &d);
	p = hz_2(p, (unsigned)(y / 100));
	p = hz_2(p, (unsigned)(y % 100));
	*p++ = '-';
	p = hz_2(p, m);
	*p++ = '-';
	p = hz_2(p, d);
	*p++ = 'T';
	p = hz_2(p, sod / 3600);
	*p++ = ':';
	p = hz_2(p, sod / 60 % 60);
	*p++ = ':';
	p = hz_2(p, sod % 60);
	if (frac) {
		*p++ = '.';
		for (div = 100000000; frac; div /= 10) {
			*p++ = (uint8_t)('0' + frac / div);
			frac %= div;
		}
	}
	*p++ = 'Z';
	return p;
}

#endif /* XTCPD_HUMANIZE_H */

/* compat_value — xtcp2's values in Go's syntax (strconv.ParseBool, time.ParseDuration,
 * unsigned decimals) checked and normalized into what xtcpd's keys read, with messages
 * naming where the value came from. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conf/compat_int.h"
#include "conf/conf.h"

int compat_is_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Go's strconv.ParseBool. Returns 1, 0, or -1 when it is not a bool. */
static int compat_parse_bool(const char *s)
{
	static const char *const t[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const f[] = { "0", "f", "F", "FALSE", "false", "False" };

	for (size_t i = 0; i < 6; i++) {
		if (!strcmp(s, t[i]))
			return 1;
		if (!strcmp(s, f[i]))
			return 0;
	}
	return -1;
}

/* Go's time.ParseDuration ("1m30s", "1.5s", "250ms", "0") into ms. Returns 0 or -EINVAL
 * (malformed, negative, below a millisecond resolution, or too large). */
static int compat_go_duration_ms(const char *s, int64_t *ms)
{
	static const struct { const char *u; int64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 },
		{ "ms", 1000000 }, { "s", 1000000000LL }, { "m", 60000000000LL },
		{ "h", 3600000000000LL },
	};
	const int64_t cap = INT64_MAX / 10;
	int64_t total = 0;

	if (!strcmp(s, "0")) {
		*ms = 0;
		return 0;
	}
	if (*s == '+')
		s++;
	if (!*s)
		return -EINVAL;
	while (*s) {
		int64_t whole = 0, frac = 0, scale = 1, unit = 0, part;
		const char *start = s;
		size_t ulen = 0;

		for (; *s >= '0' && *s <= '9'; s++) {
			if (whole > cap)
				return -EINVAL;
			whole = whole * 10 + (*s - '0');
		}
		if (*s == '.')
			for (s++; *s >= '0' && *s <= '9'; s++)
				if (scale < 1000000000000LL) {
					frac = frac * 10 + (*s - '0');
					scale *= 10;
				}
		if (s == start || (s == start + 1 && *start == '.'))
			return -EINVAL;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].u);
			/* longest match first matters only for "ms" vs "m": checked in order */
			if (!strncmp(s, units[i].u, l) && l > ulen) {
				ulen = l;
				unit = units[i].ns;
			}
		}
		if (!unit)
			return -EINVAL;
		s += ulen;
		if (whole > INT64_MAX / unit)
			return -EINVAL;
		part = whole * unit + (int64_t)((double)frac * (double)unit / (double)scale);
		if (part > INT64_MAX - total)
			return -EINVAL;
		total += part;
	}
	if (total % 1000000)
		return -EINVAL;
	*ms = total / 1000000;
	return 0;
}

int compat_zero(const char *v)
{
	int64_t ms;

	return (compat_is_digits(v) && strspn(v, "0") == strlen(v)) ||
	       (!conf_parse_duration(v, &ms) && !ms);
}

/* Checks and normalizes one value. Durations in xtcpd's own grammar (conf_parse_duration:
 * "10s", "1m30s") pass through; other Go durations ("1.5s", "1h0m") become "<N>ms". */
int compat_value(struct compat_out *o, const char *where, const struct compat_opt *opt,
			const char *v, char *buf, size_t n, const char **res)
{
	int64_t ms;

	*res = v;
	switch (opt->val) {
	case VAL_UINT:
		if (!compat_is_digits(v))
			return compat_fail(o, "%s: \"%s\" is not a whole number", where, v);
		return 0;
	case VAL_DUR:
		if (!conf_parse_duration(v, &ms))
			return 0;
		if (compat_go_duration_ms(v, &ms))
			return compat_fail(o, "%s: \"%s\" is not a duration of whole milliseconds "
					   "(like 10s, 1m30s, 250ms)", where, v);
		snprintf(buf, n, "%lldms", (long long)ms);
		*res = buf;
		return 0;
	case VAL_BOOL:
		switch (compat_parse_bool(v)) {
		case 1:
			*res = "true";
			return 0;
		case 0:
			*res = "false";
			return 0;
		}
		return compat_fail(o, "%s: \"%s\" is not true or false", where, v);
	case VAL_STR:
		return 0;
	}
	return 0;
}


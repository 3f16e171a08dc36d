/* filter — the closed source's own filter: the kernel sends every destroyed socket of a
 * namespace to every listener of the group, so ports, addresses and states are matched
 * here, on the message header, before the message is parsed or anything is encoded. */
#include "clsrc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

/* The next comma-separated word of *p (spaces trimmed) into w; 0 at the end. */
static int clf_word(const char **p, char *w, size_t n)
{
	const char *s = *p, *e;
	size_t len;

	while (*s == ',' || *s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return 0;
	e = strchr(s, ',');
	len = e ? (size_t)(e - s) : strlen(s);
	*p = s + len;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len >= n)
		len = n - 1;
	memcpy(w, s, len);
	w[len] = 0;
	return 1;
}

static int clf_port(const char *w, uint16_t *out)
{
	char *end;
	unsigned long v;

	if (*w < '0' || *w > '9')
		return -EINVAL;
	v = strtoul(w, &end, 10);
	if (*end || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int clf_ports_parse(const char *s, struct clf_ports *p, char *err, size_t n)
{
	char w[64];

	memset(p, 0, sizeof(*p));
	while (s && clf_word(&s, w, sizeof(w))) {
		char *dash = strchr(w, '-');

		if (p->n == CLF_MAX) {
			snprintf(err, n, "more than %d items", CLF_MAX);
			return -EINVAL;
		}
		if (dash)
			*dash = 0;
		if (clf_port(w, &p->lo[p->n]) || clf_port(dash ? dash + 1 : w, &p->hi[p->n]) ||
		    p->lo[p->n] > p->hi[p->n]) {
			if (dash)
				*dash = '-';
			snprintf(err, n, "'%s' is not a port or a range of ports (lo-hi)", w);
			return -EINVAL;
		}
		p->n++;
	}
	return 0;
}

int clf_addrs_parse(const char *s, struct clf_addrs *a, char *err, size_t n)
{
	char w[80];

	memset(a, 0, sizeof(*a));
	while (s && clf_word(&s, w, sizeof(w))) {
		char *slash = strchr(w, '/'), *end = NULL;
		int v6 = strchr(w, ':') != NULL, max = v6 ? 128 : 32;
		long bits = max;

		if (a->n == CLF_MAX) {
			snprintf(err, n, "more than %d items", CLF_MAX);
			return -EINVAL;
		}
		if (slash) {
			*slash = 0;
			bits = strtol(slash + 1, &end, 10);
		}
		if ((slash && (end == slash + 1 || *end || bits < 0 || bits > max)) ||
		    inet_pton(v6 ? AF_INET6 : AF_INET, w, a->addr[a->n]) != 1) {
			if (slash)
				*slash = '/';
			snprintf(err, n, "'%s' is not an address or a prefix (10.0.0.0/8, fd00::/8)", w);
			return -EINVAL;
		}
		a->family[a->n] = v6 ? AF_INET6 : AF_INET;
		a->bits[a->n] = (uint8_t)bits;
		a->n++;
	}
	return 0;
}

static int clf_port_in(const struct clf_ports *p, uint16_t v)
{
	if (!p->n)
		return 1;
	for (unsigned i = 0; i < p->n; i++)
		if (v >= p->lo[i] && v <= p->hi[i])
			return 1;
	return 0;
}

static int clf_prefix(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes))
		return 0;
	return !rest || ((a[bytes] ^ b[bytes]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static int clf_addr_in(const struct clf_addrs *l, int family, const uint8_t *addr)
{
	if (!l->n)
		return 1;
	for (unsigned i = 0; i < l->n; i++)
		if (l->family[i] == family && clf_prefix(l->addr[i], addr, l->bits[i]))
			return 1;
	return 0;
}

int clf_match(const struct clf *f, int family, int state, uint16_t sport, uint16_t dport,
	      const uint8_t *src, const uint8_t *dst)
{
	return (state >= 32 || (f->states & (1u << state))) && clf_port_in(&f->sport, sport) &&
	       clf_port_in(&f->dport, dport) && clf_addr_in(&f->src, family, src) &&
	       clf_addr_in(&f->dst, family, dst);
}

/* request — deserializer names, states and filters turned into a dump request. The
 * filter compiler emits straight-line INET_DIAG_REQ_BYTECODE that the kernel's auditor
 * (inet_diag_bc_audit) accepts: each op's "yes" steps to the next op, "no" jumps forward
 * to the next alternative, to the end of its clause, or past the end (= reject). */
#include "request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <libmnl/libmnl.h>
#include <xtcpd/record.h>

#ifndef TCPDIAG_GETSOCK
#define TCPDIAG_GETSOCK 18
#endif
#define NLR_EXT(attr) ((uint8_t)(1u << ((attr) - 1)))

/* What each name asks of the kernel and what it decodes. Attributes without an ext
 * bit (cgroup, sockopt, mark) come with every answer the kernel is able to give
 * (mark: only to a reader with CAP_NET_ADMIN over the namespace). classid is requested
 * through the TCLASS bit; vegas/dctcp/bbr share the VEGASINFO bit (the kernel answers
 * with the socket's algorithm's info). */
static const struct {
	const char *name;
	uint8_t ext;
	uint32_t decode;
} nlr_deser[] = {
	{ "meminfo", NLR_EXT(INET_DIAG_MEMINFO), XTCPD_HAS_MEMINFO },
	{ "info", NLR_EXT(INET_DIAG_INFO), XTCPD_HAS_INFO },
	{ "vegas", NLR_EXT(INET_DIAG_VEGASINFO), XTCPD_HAS_VEGAS },
	{ "cong", NLR_EXT(INET_DIAG_CONG), XTCPD_HAS_CONG },
	{ "tos", NLR_EXT(INET_DIAG_TOS), XTCPD_HAS_TOS },
	{ "tc", NLR_EXT(INET_DIAG_TCLASS), XTCPD_HAS_TCLASS },
	{ "skmem", NLR_EXT(INET_DIAG_SKMEMINFO), XTCPD_HAS_SKMEM },
	{ "shut", NLR_EXT(INET_DIAG_SHUTDOWN), XTCPD_HAS_SHUTDOWN },
	{ "dctcp", NLR_EXT(INET_DIAG_VEGASINFO), XTCPD_HAS_DCTCP },
	{ "bbr", NLR_EXT(INET_DIAG_VEGASINFO), XTCPD_HAS_BBR },
	{ "classid", NLR_EXT(INET_DIAG_TCLASS), XTCPD_HAS_CLASS_ID },
	{ "cgroup", 0, XTCPD_HAS_CGROUP },
	{ "sockopt", 0, XTCPD_HAS_SOCKOPT },
	{ "mark", 0, XTCPD_HAS_MARK },
};
#define NLR_N_DESER (sizeof(nlr_deser) / sizeof(nlr_deser[0]))
/* "default": what `ss -tinm` shows. */
static const char nlr_default[] = "meminfo,info,cong,skmem";

/* Calls fn for each comma-separated word of list (spaces trimmed). */
static int nlr_words(const char *list, int (*fn)(const char *w, size_t n, void *arg), void *arg)
{
	const char *p = list ? list : "";

	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *w = p;
		int err;

		while (n && (*w == ' ' || *w == '\t'))
			w++, n--;
		while (n && (w[n - 1] == ' ' || w[n - 1] == '\t'))
			n--;
		if (n) {
			err = fn(w, n, arg);
			if (err)
				return err;
		}
		p = e ? e + 1 : p + strlen(p);
	}
	return 0;
}

static int nlr_is(const char *w, size_t n, const char *name)
{
	return strlen(name) == n && memcmp(w, name, n) == 0;
}

struct nlr_deser_acc {
	uint8_t ext;
	uint32_t decode;
};

static int nlr_deser_word(const char *w, size_t n, void *arg)
{
	struct nlr_deser_acc *acc = arg;

	if (nlr_is(w, n, "all")) {
		for (size_t i = 0; i < NLR_N_DESER; i++) {
			acc->ext |= nlr_deser[i].ext;
			acc->decode |= nlr_deser[i].decode;
		}
		return 0;
	}
	if (nlr_is(w, n, "default"))
		return nlr_words(nlr_default, nlr_deser_word, acc);
	for (size_t i = 0; i < NLR_N_DESER; i++) {
		if (nlr_is(w, n, nlr_deser[i].name)) {
			acc->ext |= nlr_deser[i].ext;
			acc->decode |= nlr_deser[i].decode;
			return 0;
		}
	}
	return -EINVAL;
}

int nlr_deserializers(const char *list, uint8_t *ext, uint32_t *decode)
{
	struct nlr_deser_acc acc = { 0, 0 };
	int err = nlr_words(list, nlr_deser_word, &acc);

	if (err)
		return err;
	/* meminfo's four values are four of skmem's nine (rmem = RMEM_ALLOC, wmem =
	 * WMEM_QUEUED, fmem = FWD_ALLOC, tmem = WMEM_ALLOC: the same reads in the kernel):
	 * with both decoded, only SKMEMINFO is asked for and the parser fills mem_* from it.
	 * The kernel then builds one attribute less per socket (~3 % of a dump's CPU). */
	if ((acc.decode & (XTCPD_HAS_MEMINFO | XTCPD_HAS_SKMEM)) ==
	    (XTCPD_HAS_MEMINFO | XTCPD_HAS_SKMEM))
		acc.ext &= (uint8_t)~NLR_EXT(INET_DIAG_MEMINFO);
	*ext = acc.ext;
	*decode = acc.decode;
	return 0;
}

/* TCP states by the kernel's numbers (include/net/tcp_states.h), named as ss does. */
static const char *const nlr_state_names[] = {
	NULL, "established", "syn-sent", "syn-recv", "fin-wait-1", "fin-wait-2", "time-wait",
	"close", "close-wait", "last-ack", "listen", "closing", "new-syn-recv", "bound-inactive",
};
#define NLR_BOUND_INACTIVE 13

static int nlr_state_word(const char *w, size_t n, void *arg)
{
	uint32_t *mask = arg;

	if (nlr_is(w, n, "all")) {
		/* Bound-inactive makes the kernel walk the host-wide bind table: ask by name. */
		*mask |= ((1u << NLR_BOUND_INACTIVE) - 1) & ~1u;
		return 0;
	}
	for (unsigned i = 1; i < sizeof(nlr_state_names) / sizeof(nlr_state_names[0]); i++) {
		if (nlr_is(w, n, nlr_state_names[i])) {
			*mask |= 1u << i;
			return 0;
		}
	}
	return -EINVAL;
}

int nlr_states(const char *list, uint32_t *mask)
{
	uint32_t m = 0;
	int err = nlr_words(list, nlr_state_word, &m);

	if (err)
		return err;
	if (!m)
		return -EINVAL;
	*mask = m;
	return 0;
}

/* ---- filter bytecode ------------------------------------------------------------------ */

/* One alternative of a clause: a port range (two ops) or an address prefix (one op). */
struct nlr_atom {
	int is_addr;
	uint16_t lo, hi;
	uint8_t family, prefix_len;
	uint8_t addr[16];
};

#define NLR_ATOMS_MAX 64

struct nlr_clause {
	int dst; /* 0: local side (S_*), 1: remote side (D_*) */
	size_t n;
	struct nlr_atom a[NLR_ATOMS_MAX];
};

static int nlr_port(const char *s, size_t n, uint16_t *out)
{
	char tmp[8];
	char *end;
	long v;

	if (n == 0 || n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	v = strtol(tmp, &end, 10);
	if (*end || v < 0 || v > 65535 || tmp[0] < '0' || tmp[0] > '9')
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

static int nlr_port_word(const char *w, size_t n, void *arg)
{
	struct nlr_clause *cl = arg;
	struct nlr_atom *a;
	const char *dash = memchr(w, '-', n);

	if (cl->n == NLR_ATOMS_MAX)
		return -E2BIG;
	a = &cl->a[cl->n];
	memset(a, 0, sizeof(*a));
	if (dash) {
		if (nlr_port(w, (size_t)(dash - w), &a->lo) ||
		    nlr_port(dash + 1, n - (size_t)(dash - w) - 1, &a->hi) || a->lo > a->hi)
			return -EINVAL;
	} else {
		if (nlr_port(w, n, &a->lo))
			return -EINVAL;
		a->hi = a->lo;
	}
	cl->n++;
	return 0;
}

static int nlr_prefix_word(const char *w, size_t n, void *arg)
{
	struct nlr_clause *cl = arg;
	struct nlr_atom *a;
	char tmp[INET6_ADDRSTRLEN + 8];
	char *slash, *end;
	long plen = -1;

	if (cl->n == NLR_ATOMS_MAX)
		return -E2BIG;
	if (n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, w, n);
	tmp[n] = '\0';
	slash = strchr(tmp, '/');
	if (slash) {
		*slash = '\0';
		plen = strtol(slash + 1, &end, 10);
		if (*end || slash[1] == '\0')
			return -EINVAL;
	}
	a = &cl->a[cl->n];
	memset(a, 0, sizeof(*a));
	a->is_addr = 1;
	if (inet_pton(AF_INET, tmp, a->addr) == 1) {
		a->family = AF_INET;
		if (plen < 0)
			plen = 32;
		if (plen > 32)
			return -EINVAL;
	} else if (inet_pton(AF_INET6, tmp, a->addr) == 1) {
		a->family = AF_INET6;
		if (plen < 0)
			plen = 128;
		if (plen > 128)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	a->prefix_len = (uint8_t)plen;
	cl->n++;
	return 0;
}

static size_t nlr_atom_size(const struct nlr_atom *a)
{
	if (a->is_addr)
		return sizeof(struct inet_diag_bc_op) + sizeof(struct inet_diag_hostcond) +
		       (a->family == AF_INET ? 4 : 16);
	return 4 * sizeof(struct inet_diag_bc_op); /* GE + port, LE + port */
}

static size_t nlr_clause_size(const struct nlr_clause *cl)
{
	size_t len = 0;

	for (size_t i = 0; i < cl->n; i++)
		len += nlr_atom_size(&cl->a[i]) + (i + 1 < cl->n ? sizeof(struct inet_diag_bc_op) : 0);
	return len;
}

static void nlr_op(uint8_t *p, uint8_t code, size_t yes, size_t no)
{
	struct inet_diag_bc_op op = { code, (unsigned char)yes, (unsigned short)no };

	memcpy(p, &op, sizeof(op));
}

/* Emit clause cl at offset off of a program `total` bytes long. */
static size_t nlr_emit_clause(const struct nlr_clause *cl, uint8_t *prog, size_t off, size_t total)
{
	size_t end = off + nlr_clause_size(cl);

	for (size_t i = 0; i < cl->n; i++) {
		const struct nlr_atom *a = &cl->a[i];
		size_t next = off + nlr_atom_size(a) + (i + 1 < cl->n ? sizeof(struct inet_diag_bc_op) : 0);
		/* On failure: try the next alternative, or reject (jump 4 past the end). */
		size_t fail = i + 1 < cl->n ? next : total + 4;

		if (a->is_addr) {
			struct inet_diag_hostcond hc = { a->family, a->prefix_len, -1 };
			size_t sz = nlr_atom_size(a);

			nlr_op(prog + off, cl->dst ? INET_DIAG_BC_D_COND : INET_DIAG_BC_S_COND, sz, fail - off);
			memcpy(prog + off + sizeof(struct inet_diag_bc_op), &hc, sizeof(hc));
			memcpy(prog + off + sizeof(struct inet_diag_bc_op) + sizeof(hc), a->addr,
			       a->family == AF_INET ? 4 : 16);
			off += sz;
		} else {
			nlr_op(prog + off, cl->dst ? INET_DIAG_BC_D_GE : INET_DIAG_BC_S_GE, 8, fail - off);
			nlr_op(prog + off + 4, 0, 0, a->lo);
			off += 8;
			nlr_op(prog + off, cl->dst ? INET_DIAG_BC_D_LE : INET_DIAG_BC_S_LE, 8, fail - off);
			nlr_op(prog + off + 4, 0, 0, a->hi);
			off += 8;
		}
		if (i + 1 < cl->n) {
			/* This alternative matched: skip the others. */
			nlr_op(prog + off, INET_DIAG_BC_JMP, 4, end - off);
			off += 4;
		}
	}
	return off;
}

/* Validation with a reason: nlr_words stops at the first bad word; name it. */
struct nlr_check {
	struct nlr_clause cl;
	int (*word)(const char *w, size_t n, void *arg);
	const char *bad;
	size_t bad_len;
};

static int nlr_check_word(const char *w, size_t n, void *arg)
{
	struct nlr_check *c = arg;
	int err = c->word(w, n, &c->cl);

	if (err) {
		c->bad = w;
		c->bad_len = n;
	}
	return err;
}

int nlr_bc_check(const char *s, int ports, char *err, size_t n)
{
	struct nlr_check *c = calloc(1, sizeof(*c));
	int rc;

	if (!c) {
		snprintf(err, n, "out of memory");
		return -ENOMEM;
	}
	c->word = ports ? nlr_port_word : nlr_prefix_word;
	rc = nlr_words(s, nlr_check_word, c);
	if (rc == -E2BIG)
		snprintf(err, n, "more than %d items", NLR_ATOMS_MAX);
	else if (rc && ports)
		snprintf(err, n, "'%.*s' is not a port (0..65535) or a range LOW-HIGH", (int)c->bad_len, c->bad);
	else if (rc)
		snprintf(err, n, "'%.*s' is not an address prefix (like 10.0.0.0/8 or fd00::/8; at most "
			 "/32 for IPv4, /128 for IPv6)", (int)c->bad_len, c->bad);
	free(c);
	return rc ? -EINVAL : 0;
}

int nlr_bytecode(const char *sport, const char *dport, const char *src, const char *dst,
		 uint8_t *out, size_t cap, size_t *len)
{
	const char *txt[4] = { sport, dport, src, dst };
	struct nlr_clause *cl = calloc(4, sizeof(*cl));
	size_t total = 0, off = 0;
	int err = 0;

	if (!cl)
		return -ENOMEM;
	for (int i = 0; i < 4; i++) {
		cl[i].dst = i & 1;
		err = nlr_words(txt[i], i < 2 ? nlr_port_word : nlr_prefix_word, &cl[i]);
		if (err) {
			err = -EINVAL;
			goto out;
		}
		total += nlr_clause_size(&cl[i]);
	}
	/* Jumps are 16-bit and "yes" 8-bit in struct inet_diag_bc_op. */
	if (total > cap || total > 60000) {
		err = -E2BIG;
		goto out;
	}
	for (int i = 0; i < 4; i++)
		off = nlr_emit_clause(&cl[i], out, off, total);
	*len = total;
out:
	free(cl);
	return err;
}

struct nlmsghdr *nlr_build(void *buf, int family, uint32_t seq, uint8_t ext, uint32_t states,
			   const uint8_t *bc, size_t bc_len)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	if (family == 0) {
		struct inet_diag_req *r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));

		nlh->nlmsg_type = TCPDIAG_GETSOCK;
		r->idiag_family = AF_INET; /* ignored: the compat dump walks both families */
		r->idiag_ext = ext;
		r->idiag_states = states;
		r->id.idiag_cookie[0] = r->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	} else {
		struct inet_diag_req_v2 *r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));

		nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
		r->sdiag_family = (uint8_t)family;
		r->sdiag_protocol = IPPROTO_TCP;
		r->idiag_ext = ext;
		r->idiag_states = states;
	}
	if (bc_len)
		mnl_attr_put(nlh, INET_DIAG_REQ_BYTECODE, bc_len, bc);
	return nlh;
}

/* parse — inet_diag message -> struct xtcpd_record. Every length comes from the message
 * and is checked before use; attributes we do not know are skipped and counted, ones
 * longer than we know are copied up to what we know (kernels only ever append). */
#include "parse.h"

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <libmnl/libmnl.h>

/* The last attribute type of the kernel enum this parser was written against (6.18),
 * fixed here so a newer <linux/inet_diag.h> does not silently change what "unknown"
 * means. */
#define NLP_ATTR_LAST 22 /* INET_DIAG_SOCKOPT */

#ifndef TCPDIAG_GETSOCK
#define TCPDIAG_GETSOCK 18
#endif

/* Names NUL-padded to 8 bytes: compared 8 bytes at once against a NUL-padded name. */
static const struct {
	char name[8];
	uint32_t val;
} nlp_congs[] = {
	{ "cubic", XTCPD_CONG_CUBIC },   { "bbr", XTCPD_CONG_BBR1 },
	{ "dctcp", XTCPD_CONG_DCTCP },   { "vegas", XTCPD_CONG_VEGAS },
	{ "prague", XTCPD_CONG_PRAGUE }, { "bbr1", XTCPD_CONG_BBR1 },
	{ "bbr2", XTCPD_CONG_BBR2 },     { "bbr3", XTCPD_CONG_BBR3 },
};

/* Once per socket, so without a call into libc: `name` holds n < 16 bytes and NULs up
 * to its 16th byte. */
static uint32_t nlp_cong_lookup(const char name[XTCPD_CONG_NAME_MAX], size_t n)
{
	if (n >= sizeof(nlp_congs[0].name))
		return XTCPD_CONG_UNSPECIFIED;
	for (size_t i = 0; i < sizeof(nlp_congs) / sizeof(nlp_congs[0]); i++)
		if (memcmp(name, nlp_congs[i].name, sizeof(nlp_congs[i].name)) == 0)
			return nlp_congs[i].val;
	return XTCPD_CONG_UNSPECIFIED;
}

uint32_t nlp_cong_enum(const char *name)
{
	char padded[XTCPD_CONG_NAME_MAX] = { 0 };
	size_t n = strnlen(name, sizeof(padded));

	if (n >= sizeof(padded))
		return XTCPD_CONG_UNSPECIFIED;
	memcpy(padded, name, n);
	return nlp_cong_lookup(padded, n);
}

/* n, hidden from the compiler. A memset or memcpy of a few hundred bytes whose size
 * the compiler knows (or bounds) is expanded inline as `rep stos`/`rep movs`, which
 * costs ~10 ns each on the machines measured (AMD EPYC: slow start-up of rep string
 * instructions); libc's vectorised functions do the same in ~1 ns. Halves the parse. */
static inline size_t nlp_opaque(size_t n)
{
	__asm__("" : "+r"(n));
	return n;
}

static uint32_t nlp_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t nlp_u16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void nlp_header(const struct inet_diag_msg *m, struct xtcpd_record *rec)
{
	rec->family = m->idiag_family;
	rec->state = m->idiag_state;
	rec->timer = m->idiag_timer;
	rec->retrans = m->idiag_retrans;
	rec->sport = ntohs(m->id.idiag_sport);
	rec->dport = ntohs(m->id.idiag_dport);
	memcpy(rec->src, m->id.idiag_src, sizeof(rec->src));
	memcpy(rec->dst, m->id.idiag_dst, sizeof(rec->dst));
	rec->ifindex = m->id.idiag_if;
	rec->cookie = (uint64_t)m->id.idiag_cookie[0] | (uint64_t)m->id.idiag_cookie[1] << 32;
	rec->expires = m->idiag_expires;
	rec->rqueue = m->idiag_rqueue;
	rec->wqueue = m->idiag_wqueue;
	rec->uid = m->idiag_uid;
	rec->inode = m->idiag_inode;
}

/* The minimum payload each known attribute needs (0 = any length is fine). */
static size_t nlp_min_len(unsigned type)
{
	switch (type) {
	case INET_DIAG_MEMINFO:   return sizeof(struct inet_diag_meminfo);
	case INET_DIAG_VEGASINFO: return sizeof(struct tcpvegas_info);
	case INET_DIAG_DCTCPINFO: return sizeof(struct tcp_dctcp_info);
	case INET_DIAG_BBRINFO:   return 5 * sizeof(uint32_t);
	case INET_DIAG_TOS:
	case INET_DIAG_TCLASS:
	case INET_DIAG_SHUTDOWN:  return 1;
	case INET_DIAG_CLASS_ID:
	case INET_DIAG_MARK:      return sizeof(uint32_t);
	case INET_DIAG_SOCKOPT:   return sizeof(uint16_t);
	case INET_DIAG_CGROUP_ID: return sizeof(uint64_t);
	case INET_DIAG_CONG:      return 1;
	default:                  return 0;
	}
}

static void nlp_info(const uint8_t *p, size_t len, struct xtcpd_record *rec,
		     struct nlp_counts *c)
{
	size_t n = len;

	if (n > sizeof(rec->tcpi)) {
		n = sizeof(rec->tcpi);
		rec->flags |= XTCPD_REC_INFO_OVERSIZE;
		c->oversize_info++;
	}
	memcpy(&rec->tcpi, p, nlp_opaque(n));
	rec->tcpi_len = len > UINT16_MAX ? UINT16_MAX : (uint16_t)len;
}

static void nlp_cong(const uint8_t *p, size_t len, struct xtcpd_record *rec)
{
	size_t n = strnlen((const char *)p, len);

	if (n >= sizeof(rec->cong_name))
		n = sizeof(rec->cong_name) - 1;
	memset(rec->cong_name, 0, sizeof(rec->cong_name)); /* NUL-padded, even on a repeat */
	memcpy(rec->cong_name, p, n);
	rec->cong_enum = nlp_cong_lookup(rec->cong_name, n);
}

/* Decode one attribute whose payload length has been checked against nlp_min_len.
 * Returns the presence bit it set (0 for attributes outside the record). */
static uint32_t nlp_attr(unsigned type, const uint8_t *p, size_t len, uint32_t decode,
			 struct xtcpd_record *rec, struct nlp_counts *c)
{
	switch (type) {
	case INET_DIAG_MEMINFO:
		if (!(decode & XTCPD_HAS_MEMINFO))
			return 0;
		rec->mem_rmem = nlp_u32(p);
		rec->mem_wmem = nlp_u32(p + 4);
		rec->mem_fmem = nlp_u32(p + 8);
		rec->mem_tmem = nlp_u32(p + 12);
		return XTCPD_HAS_MEMINFO;
	case INET_DIAG_INFO:
		if (!(decode & XTCPD_HAS_INFO))
			return 0;
		nlp_info(p, len, rec, c);
		return XTCPD_HAS_INFO;
	case INET_DIAG_CONG:
		if (!(decode & XTCPD_HAS_CONG))
			return 0;
		nlp_cong(p, len, rec);
		return XTCPD_HAS_CONG;
	case INET_DIAG_TOS:
		if (!(decode & XTCPD_HAS_TOS))
			return 0;
		rec->tos = p[0];
		return XTCPD_HAS_TOS;
	case INET_DIAG_TCLASS:
		if (!(decode & XTCPD_HAS_TCLASS))
			return 0;
		rec->tclass = p[0];
		return XTCPD_HAS_TCLASS;
	case INET_DIAG_SKMEMINFO: {
		size_t n = len / sizeof(uint32_t);

		if (!(decode & XTCPD_HAS_SKMEM))
			return 0;
		if (n >= XTCPD_SKMEM_VARS)  /* every kernel since 4.x: a fixed-size copy */
			memcpy(rec->skmem, p, sizeof(rec->skmem));
		else
			memcpy(rec->skmem, p, n * sizeof(uint32_t));
		/* meminfo is not requested when skmem is (nlr_deserializers): its values
		 * are skmem's, unless the kernel sent a MEMINFO (a capture) before. */
		if ((decode & XTCPD_HAS_MEMINFO) && !(rec->present & XTCPD_HAS_MEMINFO) &&
		    n > XTCPD_SKMEM_WMEM_QUEUED) {
			rec->mem_rmem = rec->skmem[XTCPD_SKMEM_RMEM_ALLOC];
			rec->mem_wmem = rec->skmem[XTCPD_SKMEM_WMEM_QUEUED];
			rec->mem_fmem = rec->skmem[XTCPD_SKMEM_FWD_ALLOC];
			rec->mem_tmem = rec->skmem[XTCPD_SKMEM_WMEM_ALLOC];
			return XTCPD_HAS_SKMEM | XTCPD_HAS_MEMINFO;
		}
		return XTCPD_HAS_SKMEM;
	}
	case INET_DIAG_SHUTDOWN:
		if (!(decode & XTCPD_HAS_SHUTDOWN))
			return 0;
		rec->shutdown = p[0];
		return XTCPD_HAS_SHUTDOWN;
	case INET_DIAG_VEGASINFO:
		if (!(decode & XTCPD_HAS_VEGAS))
			return 0;
		rec->vegas_enabled = nlp_u32(p);
		rec->vegas_rtt_cnt = nlp_u32(p + 4);
		rec->vegas_rtt = nlp_u32(p + 8);
		rec->vegas_min_rtt = nlp_u32(p + 12);
		return XTCPD_HAS_VEGAS;
	case INET_DIAG_DCTCPINFO:
		if (!(decode & XTCPD_HAS_DCTCP))
			return 0;
		rec->dctcp_enabled = nlp_u16(p);
		rec->dctcp_ce_state = nlp_u16(p + 2);
		rec->dctcp_alpha = nlp_u32(p + 4);
		rec->dctcp_ab_ecn = nlp_u32(p + 8);
		rec->dctcp_ab_tot = nlp_u32(p + 12);
		return XTCPD_HAS_DCTCP;
	case INET_DIAG_BBRINFO:
		if (!(decode & XTCPD_HAS_BBR))
			return 0;
		rec->bbr_bw_lo = nlp_u32(p);
		rec->bbr_bw_hi = nlp_u32(p + 4);
		rec->bbr_min_rtt = nlp_u32(p + 8);
		rec->bbr_pacing_gain = nlp_u32(p + 12);
		rec->bbr_cwnd_gain = nlp_u32(p + 16);
		return XTCPD_HAS_BBR;
	case INET_DIAG_CLASS_ID:
		if (!(decode & XTCPD_HAS_CLASS_ID))
			return 0;
		rec->class_id = nlp_u32(p);
		return XTCPD_HAS_CLASS_ID;
	case INET_DIAG_SOCKOPT:
		if (!(decode & XTCPD_HAS_SOCKOPT))
			return 0;
		rec->sockopt = nlp_u16(p);
		return XTCPD_HAS_SOCKOPT;
	case INET_DIAG_CGROUP_ID:
		if (!(decode & XTCPD_HAS_CGROUP))
			return 0;
		memcpy(&rec->cgroup_id, p, sizeof(rec->cgroup_id));
		return XTCPD_HAS_CGROUP;
	case INET_DIAG_MARK:
		if (!(decode & XTCPD_HAS_MARK))
			return 0;
		rec->mark = nlp_u32(p);
		return XTCPD_HAS_MARK;
	default:
		/* Known to the kernel but not part of the record (PROTOCOL, SKV6ONLY, LOCALS,
		 * PEERS, PAD, MD5SIG, ULP_INFO, SK_BPF_STORAGES). */
		return 0;
	}
}

int nlp_parse(const struct nlmsghdr *nlh, uint32_t decode, struct xtcpd_record *rec,
	      struct nlp_counts *c)
{
	const size_t hdr = MNL_ALIGN(sizeof(struct inet_diag_msg));
	const struct nlattr *a;
	size_t left;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY && nlh->nlmsg_type != TCPDIAG_GETSOCK) {
		c->bad_type++;
		return -ENOMSG;
	}
	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct inet_diag_msg)) {
		c->bad_header++;
		return -EBADMSG;
	}
	memset(rec, 0, nlp_opaque(sizeof(*rec)));
	nlp_header((const struct inet_diag_msg *)((const uint8_t *)nlh + NLMSG_HDRLEN), rec);

	left = nlh->nlmsg_len > NLMSG_HDRLEN + hdr ? nlh->nlmsg_len - NLMSG_HDRLEN - hdr : 0;
	/* Pointer arithmetic, not libmnl's accessors: those are calls into the shared
	 * library, two per attribute. */
	a = (const struct nlattr *)((const uint8_t *)nlh + NLMSG_HDRLEN + hdr);
	while (left > 0) {
		unsigned type;
		size_t len, step;

		if (left < sizeof(*a) || a->nla_len < sizeof(*a) || a->nla_len > left)
			goto bad;
		type = a->nla_type & NLA_TYPE_MASK;
		len = a->nla_len - MNL_ATTR_HDRLEN;
		if (type == 0 || type > NLP_ATTR_LAST) {
			c->unknown_attr++;
		} else {
			if (len < nlp_min_len(type))
				goto bad;
			rec->present |= nlp_attr(type, (const uint8_t *)a + MNL_ATTR_HDRLEN, len,
						 decode, rec, c);
		}
		/* The last attribute may end unpadded at the end of the message. */
		step = MNL_ALIGN(a->nla_len);
		if (step >= left)
			break;
		left -= step;
		a = (const struct nlattr *)((const uint8_t *)a + step);
	}
	c->records++;
	return 0;
bad:
	c->bad_attr++;
	return -EBADMSG;
}

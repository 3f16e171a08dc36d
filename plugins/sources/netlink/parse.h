/* parse — one inet_diag answer (struct nlmsghdr + struct inet_diag_msg + attributes)
 * into a struct xtcpd_record, in place: no allocation, no read past the message. */
#ifndef NLP_PARSE_H
#define NLP_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>
#include <xtcpd/record.h>

/* Per-reader counters (plain integers: one reader owns them, the plugin folds them into
 * its atomic metrics after each buffer). */
struct nlp_counts {
	uint64_t records;         /* messages parsed into a record */
	uint64_t unknown_attr;    /* attribute types this parser does not know (skipped) */
	uint64_t oversize_info;   /* tcp_info longer than struct xtcpd_tcp_info */
	uint64_t bad_header;      /* message too short for struct inet_diag_msg */
	uint64_t bad_attr;        /* attribute with a lying length or too short a payload */
	uint64_t bad_type;        /* message type that is not an inet_diag answer */
};

/* Which attributes are decoded: a mask of enum xtcpd_present bits. */
#define NLP_DECODE_ALL 0x3fffu

/* Parse the inet_diag message `nlh`, whose nlmsg_len the caller has already checked
 * against the receive buffer (nlp_msg_ok). Zeroes *rec, then fills the kernel part.
 * Returns 0, -ENOMSG (not an inet_diag answer) or -EBADMSG (malformed; counted). */
int nlp_parse(const struct nlmsghdr *nlh, uint32_t decode, struct xtcpd_record *rec,
	      struct nlp_counts *c);

/* Walking a buffer of messages. (Not mnl_nlmsg_ok/next: they compare nlmsg_len as an
 * int and align it in 32 bits, so a length near 4 GiB passes the check and then does
 * not advance: an endless loop on a hostile capture file.) */
static inline int nlp_msg_ok(const struct nlmsghdr *h, size_t rem)
{
	return rem >= sizeof(*h) && h->nlmsg_len >= sizeof(*h) && h->nlmsg_len <= rem;
}

/* Bytes from h to the next message (h is nlp_msg_ok); the last may be unpadded. */
static inline size_t nlp_msg_step(const struct nlmsghdr *h, size_t rem)
{
	size_t s = NLMSG_ALIGN((size_t)h->nlmsg_len);

	return s > rem ? rem : s;
}

/* Congestion control name -> enum xtcpd_cong. */
uint32_t nlp_cong_enum(const char *name);

#endif

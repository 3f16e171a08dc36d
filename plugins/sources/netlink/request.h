/* request — what the netlink source asks the kernel for: attribute set (idiag_ext and
 * the decode mask), states, the kernel-side filter bytecode, and the dump requests. */
#ifndef NLR_REQUEST_H
#define NLR_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#define NLR_BC_MAX 4096       /* bytes of filter bytecode we build at most */
#define NLR_REQ_MAX (NLR_BC_MAX + 256)

enum nlr_dump { NLR_DUMP_AUTO, NLR_DUMP_LEGACY, NLR_DUMP_PER_FAMILY };

/* The comma-separated deserializer names (xtcp2's, plus mark, all, default) -> the
 * idiag_ext bits to request and the XTCPD_HAS_* bits to decode. -EINVAL on an unknown
 * name (the core's LIST validation normally catches it first). */
int nlr_deserializers(const char *list, uint8_t *ext, uint32_t *decode);
/* The comma-separated state names ("all" = every state but bound-inactive) -> the
 * idiag_states mask. */
int nlr_states(const char *list, uint32_t *mask);

/* Compile the filters into INET_DIAG_REQ_BYTECODE: sport/dport are lists of ports and
 * ranges ("22,8000-8100"), src/dst lists of address prefixes ("10.0.0.0/8,::1");
 * NULL or "" = no condition. All given conditions must hold, any item of one list may
 * match. *len = 0 when there is nothing to filter. -EINVAL names nothing (nlr_bc_check
 * says which key and word are bad), -E2BIG: the program would be longer than cap. */
int nlr_bytecode(const char *sport, const char *dport, const char *src, const char *dst,
		 uint8_t *out, size_t cap, size_t *len);
/* Validate one filter value alone (ports = 1: sport/dport, 0: src/dst): 0, or -EINVAL
 * with err naming the first bad item. */
int nlr_bc_check(const char *s, int ports, char *err, size_t n);

/* Build the dump request into buf (NLR_REQ_MAX bytes): legacy TCPDIAG_GETSOCK (both
 * families in one table walk) when family is 0, else SOCK_DIAG_BY_FAMILY for it. */
struct nlmsghdr *nlr_build(void *buf, int family, uint32_t seq, uint8_t ext, uint32_t states,
			   const uint8_t *bc, size_t bc_len);

#endif

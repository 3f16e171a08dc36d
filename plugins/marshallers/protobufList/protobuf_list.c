/* plugins/marshallers/protobufList — marshaller "protobufList": each message is
 * varint(len(Envelope)) || Envelope, ClickHouse's ProtobufList, with rows as field 10.
 * The encoder is generated from <xtcpd/record_fields.h> at compile time: no reflection,
 * one pass, canonical encoding byte for byte identical to protobuf_c_message_pack. */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xtcpd/plugin.h>

#include <xtcpd/record_fields.h>
#include "plugins/marshallers/common/mstr.h"
#include "plugins/marshallers/common/mgroup.h"

struct pbl {
	const struct xtcpd_host *host;
	struct xtcpd_ctx *ctx;
	struct mstr_counters cnt;       /* truncated / invalid UTF-8 strings */
	int cache;                      /* the host lends enrich_generation (ABI 1.7) */
};

/* What one append saw; folded into the counters once per record. */
struct pbl_stats {
	int truncated;
	unsigned bad_utf8;
};

/* Envelope.row = 10, length-delimited. */
#define PBL_ROW_TAG 0x52

/* ---- encoding helpers --------------------------------------------------------------- */

/* Tag of field `num` with wire type `wt`; num is a constant so this folds to stores. */
#define PBL_TAG(p, num, wt)                                                              \
	do {                                                                             \
		const uint32_t tag_ = ((uint32_t)(num) << 3) | (wt);                     \
		if (tag_ < 0x80) {                                                       \
			*(p)++ = (uint8_t)tag_;                                          \
		} else if (tag_ < 0x4000) {                                              \
			*(p)++ = (uint8_t)(tag_ | 0x80);                                 \
			*(p)++ = (uint8_t)(tag_ >> 7);                                   \
		} else {                                                                 \
			*(p)++ = (uint8_t)(tag_ | 0x80);                                 \
			*(p)++ = (uint8_t)((tag_ >> 7) | 0x80);                          \
			*(p)++ = (uint8_t)(tag_ >> 14);                                  \
		}                                                                        \
	} while (0)

static inline uint8_t *pbl_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* The 7-bit groups of v's low 56 bits, one per byte (little-endian order). */
static inline uint64_t pbl_spread7(uint64_t v)
{
	v &= 0x00ffffffffffffffull;
	v = (v & 0x000000000fffffffull) | ((v & 0x00fffffff0000000ull) << 4);
	v = (v & 0x00003fff00003fffull) | ((v & 0x0fffc0000fffc000ull) << 2);
	return (v & 0x007f007f007f007full) | ((v & 0x3f803f803f803f80ull) << 1);
}

/* pbl_varint for a 64-bit field, in a numeric field's slot (10 writable bytes at p). A
 * value of 2^56 or more (a time in ns, an unlimited pacing rate: 9 or 10 bytes) has its
 * first 8 bytes made in a register and stored at once, instead of 8 turns of the loop.
 * Only for those: a varint of data-dependent length made without a loop puts its length
 * on the chain of every later field's address, which measured slower than the loop. */
static inline uint8_t *pbl_varint64(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (v >> 56) {
		const uint64_t x = pbl_spread7(v) | 0x8080808080808080ull;

		memcpy(p, &x, 8);
		return pbl_varint(p + 8, v >> 56);
	}
#endif
	return pbl_varint(p, v);
}

static size_t pbl_varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Worst case of one numeric field: a 3-byte tag and a 10-byte varint. */
#define PBL_NUM_MAX 13
#define PBL_COUNT(...) + 1
/* Room that makes every numeric field of a row safe without per-field checks. */
#define PBL_NUMERIC_MAX (PBL_NUM_MAX * (0 XTCPD_RECORD_FIELDS(PBL_COUNT)))

/* Per-type writers; `safe` = 1 checks the room before each field (the end of a buffer),
 * 0 relies on the row-level check: the caller saw PBL_NUMERIC_MAX bytes of room, and
 * strings and addresses (always checked, strings vary in length) must leave that much
 * behind them (`send`) so the numeric fields after them still fit. */
#define PBL_W_U32(num, cond, val)                                                        \
	if ((cond) && (val)) {                                                           \
		if (safe && end - p < PBL_NUM_MAX)                                       \
			return NULL;                                                     \
		PBL_TAG(p, num, 0);                                                      \
		p = pbl_varint(p, (uint32_t)(val));                                      \
	}
#define PBL_W_U64(num, cond, val)                                                        \
	if ((cond) && (val)) {                                                           \
		if (safe && end - p < PBL_NUM_MAX)                                       \
			return NULL;                                                     \
		PBL_TAG(p, num, 0);                                                      \
		p = pbl_varint64(p, (uint64_t)(val));                                    \
	}
#define PBL_W_I64(num, cond, val) PBL_W_U64(num, cond, (uint64_t)(int64_t)(val))
#define PBL_W_ENUM(num, cond, val) PBL_W_U32(num, cond, val)
#define PBL_W_BOOL(num, cond, val)                                                       \
	if ((cond) && (val)) {                                                           \
		if (safe && end - p < PBL_NUM_MAX)                                       \
			return NULL;                                                     \
		PBL_TAG(p, num, 0);                                                      \
		*p++ = 1;                                                                \
	}
#define PBL_W_ADDR(num, cond, val)                                                       \
	if (cond) {                                                                      \
		if (send - p < 3 + 1 + 16)                                               \
			return NULL;                                                     \
		PBL_TAG(p, num, 2);                                                      \
		*p++ = 16;                                                               \
		memcpy(p, (val), 16);                                                    \
		p += 16;                                                                 \
	}
/* A string of fewer than 128 ASCII bytes (hostname, netns, version, the congestion
 * algorithm: nearly every one) is copied after a 1-byte length in one pass (mstr_ascii);
 * any other takes mstr_len + mstr_copy. Both write the same bytes. */
#define PBL_ASCII_MAX 127
#define PBL_W_STRN(num, cond, val, max)                                                  \
	if ((cond) && (val)) {                                                           \
		const char *s_ = (val);                                                  \
		uint8_t *t_ = p, *q_ = NULL;                                             \
		size_t n_;                                                               \
		if (s_[0] && send - p >= 3 + 1 + PBL_ASCII_MAX) {                        \
			PBL_TAG(t_, num, 2);                                             \
			q_ = mstr_ascii(t_ + 1, s_,                                      \
					(max) < PBL_ASCII_MAX ? (max) : PBL_ASCII_MAX);  \
		}                                                                        \
		if (q_) {                                                                \
			*t_ = (uint8_t)(q_ - t_ - 1);                                    \
			p = q_;                                                          \
		} else if ((n_ = mstr_len(s_, (max), &st->truncated)) != 0) {            \
			if (send - p < (ptrdiff_t)(3 + 2 + n_))                          \
				return NULL;                                             \
			PBL_TAG(p, num, 2);                                              \
			p = pbl_varint(p, n_);                                           \
			st->bad_utf8 += mstr_copy(p, s_, n_);                            \
			p += n_;                                                         \
		}                                                                        \
	}

#define PBL_W_STR(num, cond, val) PBL_W_STRN(num, cond, val, MSTR_MAX)
#define PBL_W_NAME(num, cond, val) PBL_W_STRN(num, cond, val, sizeof(val) - 1)

/* ---- enrichment groups (common/mgroup.h): each written once per thread, then copied --- */

static __thread struct mg_entry pbl_tls_cache[MG_N];

#define PBL_FIELD(num, name, camel, type, jmode, jkey, cond, val)                       \
	if (MG_OF(num) == MG_NONE) {                                                     \
		PBL_W_##type(num, cond, val)                                             \
	} else if (MG_FIRST(num) && mg_any(r, MG_OF(num))) {                             \
		p = mg_put(p, safe ? end : send, r, &st->truncated, &st->bad_utf8, row,  \
			   MG_OF(num), 0, pbl_group_write);                              \
		if (p == NULL)                                                           \
			return NULL;                                                     \
	}
#define PBL_FIELD_IN(num, name, camel, type, jmode, jkey, cond, val)                    \
	if (MG_OF(num) == g) {                                                           \
		PBL_W_##type(num, cond, val)                                             \
	}

/* The fields of group g alone, at p, checked against end; NULL if they run into it. */
static inline __attribute__((always_inline)) uint8_t *
pbl_group_fields(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r,
                 struct pbl_stats *st, const int g)
{
	const int safe = 1;
	const uint8_t *send = end;

	XTCPD_RECORD_FIELDS(PBL_FIELD_IN)
	return p;
}

static uint8_t *pbl_group_write(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r,
                                int *truncated, unsigned *bad_utf8, int g,
                               unsigned mode)
{
	struct pbl_stats st = { 0, 0 };

	(void)mode;

#define PBL_GROUP(G) p = pbl_group_fields(p, end, r, &st, G)
	MG_DISPATCH(g, PBL_GROUP)
#undef PBL_GROUP
	*truncated |= st.truncated;
	*bad_utf8 += st.bad_utf8;
	return p;
}

/* Encode the fields of one row at p; NULL if it runs into end. `full`: the caller saw a
 * tcp_info of at least PBL_TCPI_FULL bytes (what every kernel since 6.7 sends), so the
 * length test of each member that ends by then (~65 of them) folds away; a member past
 * it is still tested. XTCPD_TCPI_HAS is redefined for this function alone. */
#define PBL_TCPI_FULL XTCPD_TCPI_END(total_rto_time)
#pragma push_macro("XTCPD_TCPI_HAS")
#undef XTCPD_TCPI_HAS
#define XTCPD_TCPI_HAS(len, field)                                                       \
	((full && XTCPD_TCPI_END(field) <= PBL_TCPI_FULL) || (size_t)(len) >= XTCPD_TCPI_END(field))

static inline __attribute__((always_inline)) uint8_t *
pbl_fields(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r,
           struct pbl_stats *st, struct mg_row *row, const int safe, const int full)
{
	const uint8_t *send = safe ? end : end - PBL_NUMERIC_MAX;

	XTCPD_RECORD_FIELDS(PBL_FIELD)
	return p;
}
#pragma pop_macro("XTCPD_TCPI_HAS")

static uint8_t *pbl_fields_fast(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r,
                                struct pbl_stats *st, struct mg_row *row)
{
	if (r->tcpi_len >= PBL_TCPI_FULL)
		return pbl_fields(p, end, r, st, row, 0, 1);
	return pbl_fields(p, end, r, st, row, 0, 0);
}

static uint8_t *pbl_fields_safe(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r,
                                struct pbl_stats *st, struct mg_row *row)
{
	return pbl_fields(p, end, r, st, row, 1, 0);
}

/* Append `Envelope.row` (tag, length, fields) at data[*len, cap). The row length is
 * unknown until its fields are written, so the fields go after a 2-byte length slot
 * (rows are 128..16383 bytes in practice) and move by one byte in the rare other
 * cases: one pass, canonical varints, nothing to size twice. */
static int pbl_append_row(uint8_t *data, size_t *len, size_t cap,
                          const struct xtcpd_record *r, struct pbl_stats *st,
                          struct mg_row *row)
{
	uint8_t *start = data + *len, *end = data + cap, *p, *q;
	size_t rowlen, k;

	if (cap < *len + 3)
		return -ENOSPC;
	p = start + 3;
	q = NULL;
	if ((size_t)(end - p) >= PBL_NUMERIC_MAX)
		q = pbl_fields_fast(p, end, r, st, row);
	/* The fast path keeps slack behind strings: near the end, or for a row with long
	 * strings, the checked path may still fit it. */
	if (q == NULL) {
		*st = (struct pbl_stats){ 0, 0 };
		q = pbl_fields_safe(p, end, r, st, row);
	}
	if (q == NULL)
		return -ENOSPC;
	rowlen = (size_t)(q - p);
	start[0] = PBL_ROW_TAG;
	if (rowlen < 0x80) {
		start[1] = (uint8_t)rowlen;
		memmove(start + 2, p, rowlen);
		q--;
	} else if (rowlen < 0x4000) {
		start[1] = (uint8_t)(rowlen | 0x80);
		start[2] = (uint8_t)(rowlen >> 7);
	} else {
		k = pbl_varint_size(rowlen) - 2;
		if ((size_t)(end - q) < k)
			return -ENOSPC;
		memmove(p + k, p, rowlen);
		pbl_varint(start + 1, rowlen);
		q += k;
	}
	*len = (size_t)(q - data);
	return 0;
}

/* Bytes reserved at begin for the Envelope length: enough for any length < cap. */
static size_t pbl_prefix_room(size_t cap)
{
	return pbl_varint_size(cap);
}

/* ---- plugin ops ---------------------------------------------------------------------- */

/* No key, nothing to resolve: the check confirms the configuration has no keys. */
static int pbl_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	if (cfg->n_values || cfg->n_extra)
		return XTCPD_CHECK_FAIL(res, NULL, "configuration has %zu keys, this plugin has none",
					cfg->n_values + cfg->n_extra);
	return 0;
}

static int pbl_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
                      const struct xtcpd_config *cfg, void **inst)
{
	struct pbl *m;

	(void)cfg;
	*inst = NULL;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	*inst = m;
	m->host = host;
	m->ctx = ctx;
	m->cache = XTCPD_HOST_HAS(host, enrich_generation);
	return mstr_counters_init(&m->cnt, host, ctx);
}

static void pbl_destroy(void *inst)
{
	free(inst);
}

static int pbl_begin(void *inst, struct xtcpd_buf *buf)
{
	(void)inst;
	buf->off = buf->len = pbl_prefix_room(buf->cap);
	return buf->cap > buf->len ? 0 : -ENOSPC;
}

static int pbl_append(void *inst, struct xtcpd_buf *buf, const struct xtcpd_record *rec)
{
	const struct pbl *m = inst;
	struct pbl_stats st = { 0, 0 };
	struct mg_row row = { m->cache ? m->host : NULL, m->ctx, pbl_tls_cache, 0, 0 };
	size_t len = buf->len;
	int rc;

	rc = pbl_append_row(buf->data, &len, buf->cap, rec, &st, &row);
	if (rc == 0) {
		buf->len = len;
		mstr_counters_add(&((struct pbl *)inst)->cnt, st.truncated, st.bad_utf8);
	}
	return rc;
}

static int pbl_finish(void *inst, struct xtcpd_buf *buf)
{
	size_t room = pbl_prefix_room(buf->cap);
	size_t n = buf->len - room;

	(void)inst;
	/* The prefix ends where the Envelope starts: write it right-aligned in the room. */
	buf->off = room - pbl_varint_size(n);
	pbl_varint(buf->data + buf->off, n);
	return 0;
}

static const struct xtcpd_key pbl_keys[] = {
	XTCPD_KEYS_END,
};

static const struct xtcpd_marshaller_ops pbl_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_marshaller_ops),
		.create = pbl_create,
		.destroy = pbl_destroy,
	},
	.begin = pbl_begin,
	.append = pbl_append,
	.finish = pbl_finish,
	.content_type = "application/octet-stream", /* as xtcp2 labels protobufList */
};

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_MARSHALLER, "protobufList", PACKAGE_VERSION,
                     "varint-length-prefixed protobuf Envelope of rows (ClickHouse ProtobufList)",
                     pbl_keys, &pbl_ops, pbl_check);

/* plugins/marshallers/json — marshaller "json": one JSON object per socket per line,
 * for people and scripts. Keys are the schema's field names (times carry their unit:
 * tcp_info_rtt_us), addresses are text, state/timer/congestion are names. Fields of
 * attribute groups the kernel did not send are left out.
 *
 * Written by hand, like protoJson: the writer of every field is generated from
 * <xtcpd/record_fields.h> at compile time (constant keys, a digit loop for numbers, our
 * own address formatter), one pass into the pooled buffer, no allocation, no tree. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <xtcpd/plugin.h>

#include <xtcpd/record_fields.h>
#include "plugins/marshallers/common/mstr.h"
#include "plugins/marshallers/common/mgroup.h"
#include "plugins/marshallers/json/json_addr.h"
#include "plugins/marshallers/json/json_names.h"

struct jz {
	struct mstr_counters cnt;       /* truncated / invalid UTF-8 strings */
	const struct xtcpd_host *host;  /* NULL: no enrichment cache (host older than 1.7) */
	struct xtcpd_ctx *ctx;
};

struct jz_stats {
	int truncated;
	unsigned bad_utf8;
};

/* ",\"key\":" for every field; the first comma of a line becomes its '{'. */
#define JZ_KEY(jkey) ",\"" #jkey "\":"
#define JZ_PUT(p, lit) (memcpy(p, lit, sizeof(lit) - 1), (p) += sizeof(lit) - 1)

/* Worst case of a non-string field: key, then a 20-digit number, a quoted address
 * (46 bytes) or the longest name. */
#define JZ_SIZE(num, name, camel, type, jmode, jkey, ...) + sizeof(JZ_KEY(jkey)) + 48
#define JZ_FIXED_MAX (0 XTCPD_RECORD_FIELDS(JZ_SIZE))

/* Room before a field: `safe` checks each (the end of a buffer); the fast path relies
 * on the caller having seen JZ_FIXED_MAX bytes, which strings keep behind them. */
#define JZ_ROOM(jkey)                                                                    \
	if (safe && end - p < (ptrdiff_t)(sizeof(JZ_KEY(jkey)) + 48))                    \
		return NULL;

/* Numbers by type: U32/U64/ENUM unsigned, I64 signed. */
#define JZ_NUM_U32(p, v) mstr_u64(p, (uint32_t)(v))
#define JZ_NUM_U64(p, v) mstr_u64(p, (uint64_t)(v))
#define JZ_NUM_I64(p, v) mstr_i64(p, (int64_t)(v))

/* N: a number whenever the kernel sent it (zero included). */
#define JZ_W_N(type, jkey, cond, val)                                                    \
	if (cond) {                                                                      \
		JZ_ROOM(jkey);                                                           \
		JZ_PUT(p, JZ_KEY(jkey));                                                 \
		p = JZ_NUM_##type(p, val);                                               \
	}
/* Z: enrichment, where 0 means unknown: left out. */
#define JZ_W_Z(type, jkey, cond, val)                                                    \
	if ((cond) && (val)) {                                                           \
		JZ_ROOM(jkey);                                                           \
		JZ_PUT(p, JZ_KEY(jkey));                                                 \
		p = JZ_NUM_##type(p, val);                                               \
	}
#define JZ_W_BOOL(type, jkey, cond, val)                                                 \
	if ((cond) && (val)) {                                                           \
		JZ_ROOM(jkey);                                                           \
		JZ_PUT(p, JZ_KEY(jkey));                                                 \
		JZ_PUT(p, "true");                                                       \
	}
/* Enumerations by name (json_names.h: a dozen bytes at most, so a byte loop). */
static inline uint8_t *jz_name(uint8_t *p, const char *s)
{
	*p++ = '"';
	while (*s)
		*p++ = (uint8_t)*s++;
	*p++ = '"';
	return p;
}
#define JZ_W_NAMED(jkey, cond, fn, val)                                                  \
	if (cond) {                                                                      \
		JZ_ROOM(jkey);                                                           \
		JZ_PUT(p, JZ_KEY(jkey));                                                 \
		p = jz_name(p, fn((unsigned)(val)));                                     \
	}
#define JZ_W_FAMILY(type, jkey, cond, val) JZ_W_NAMED(jkey, cond, jz_family_name, val)
#define JZ_W_STATE(type, jkey, cond, val) JZ_W_NAMED(jkey, cond, jz_state_name, val)
#define JZ_W_TIMER(type, jkey, cond, val) JZ_W_NAMED(jkey, cond, jz_timer_name, val)
#define JZ_W_CASTATE(type, jkey, cond, val) JZ_W_NAMED(jkey, cond, jz_ca_state_name, val)
#define JZ_W_CONG(type, jkey, cond, val) JZ_W_NAMED(jkey, cond, jz_cong_name, val)
/* Addresses as inet_ntop writes them: IPv4 from the first 4 bytes for AF_INET. */
#define JZ_W_ADDR(type, jkey, cond, val)                                                 \
	if (cond) {                                                                      \
		JZ_ROOM(jkey);                                                           \
		JZ_PUT(p, JZ_KEY(jkey));                                                 \
		*p++ = '"';                                                              \
		p = r->family == AF_INET ? jz_addr4(p, (val)) : jz_addr6(p, (val));      \
		*p++ = '"';                                                              \
	}
/* Strings: left out when unset or empty; bounded, escaped, valid UTF-8 (mstr.h). */
#define JZ_STRN(jkey, s_, max)                                                           \
	{                                                                                \
		size_t n_ = mstr_len(s_, (max), &st->truncated);                         \
		if (n_) {                                                                \
			if (send - p < (ptrdiff_t)(sizeof(JZ_KEY(jkey)) + 2 + 6 * n_) && \
			    (!safe || send - p < (ptrdiff_t)(sizeof(JZ_KEY(jkey)) + 2 +    \
			                      mstr_json_len(s_, n_))))                   \
				return NULL;                                             \
			JZ_PUT(p, JZ_KEY(jkey));                                         \
			*p++ = '"';                                                      \
			p = mstr_json(p, s_, n_, &st->bad_utf8);                         \
			*p++ = '"';                                                      \
		}                                                                        \
	}
#define JZ_S_STR(jkey, cond, val)                                                        \
	if ((cond) && (val))                                                             \
		JZ_STRN(jkey, (val), MSTR_MAX)
#define JZ_S_NAME(jkey, cond, val)                                                       \
	if (cond)                                                                        \
		JZ_STRN(jkey, (val), sizeof(val) - 1)
#define JZ_W_S(type, jkey, cond, val) JZ_S_##type(jkey, cond, val)

/* The enrichment groups (common/mgroup.h): each written once per thread, then copied. */
static __thread struct mg_entry jz_tls_cache[MG_N];

#define JZ_FIELD_IN(num, name, camel, type, jmode, jkey, cond, val)                     \
	if (MG_OF(num) == g) {                                                           \
		JZ_W_##jmode(type, jkey, cond, val)                                      \
	}

/* The fields of group g alone, at p, checked against end; NULL if they run into it. */
static inline __attribute__((always_inline)) uint8_t *
jz_group_fields(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r,
                struct jz_stats *st, const int g)
{
	const int safe = 1;
	const uint8_t *send = end;

	XTCPD_RECORD_FIELDS(JZ_FIELD_IN)
	return p;
}

static uint8_t *jz_group_write(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r,
                               int *truncated, unsigned *bad_utf8, int g,
                               unsigned mode)
{
	struct jz_stats st = { 0, 0 };

	(void)mode;

#define JZ_GROUP(G) p = jz_group_fields(p, end, r, &st, G)
	MG_DISPATCH(g, JZ_GROUP)
#undef JZ_GROUP
	*truncated |= st.truncated;
	*bad_utf8 += st.bad_utf8;
	return p;
}

#define JZ_FIELD(num, name, camel, type, jmode, jkey, cond, val)                        \
	if (MG_OF(num) == MG_NONE) {                                                     \
		JZ_W_##jmode(type, jkey, cond, val)                                      \
	} else if (MG_FIRST(num) && mg_any(r, MG_OF(num))) {                             \
		p = mg_put(p, send, r, &st->truncated, &st->bad_utf8, row, MG_OF(num), 0, \
			   jz_group_write);                                              \
		if (p == NULL)                                                           \
			return NULL;                                                     \
	}

/* Write ",\"key\":value,..." for one record at p; NULL if it runs into end. */
static inline __attribute__((always_inline)) uint8_t *
jz_fields(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r, struct jz_stats *st,
          struct mg_row *row, const int safe)
{
	/* Fast mode: strings leave JZ_FIXED_MAX behind them for the unchecked fields. */
	const uint8_t *send = safe ? end : end - JZ_FIXED_MAX;

	XTCPD_RECORD_FIELDS(JZ_FIELD)
	return p;
}

static uint8_t *jz_fields_fast(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r,
                               struct jz_stats *st, struct mg_row *row)
{
	return jz_fields(p, end, r, st, row, 0);
}

static uint8_t *jz_fields_safe(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r,
                               struct jz_stats *st, struct mg_row *row)
{
	return jz_fields(p, end, r, st, row, 1);
}

/* ---- plugin ops ---------------------------------------------------------------------- */

static int jz_append(void *inst, struct xtcpd_buf *buf, const struct xtcpd_record *rec)
{
	struct jz *m = inst;
	struct jz_stats st = { 0, 0 };
	struct mg_row row = { m->host, m->ctx, jz_tls_cache, 0, 0 };
	/* "}\n" always fits after the fields. */
	const uint8_t *end = buf->data + buf->cap - 2;
	uint8_t *p = buf->data + buf->len, *q = NULL;

	if (buf->cap < buf->len + 3)
		return -ENOSPC;
	if (end - p >= (ptrdiff_t)JZ_FIXED_MAX)
		q = jz_fields_fast(p, end, rec, &st, &row);
	/* The fast path keeps slack behind strings: the checked one may still fit it. */
	if (q == NULL) {
		st = (struct jz_stats){ 0, 0 };
		q = jz_fields_safe(p, end, rec, &st, &row);
	}
	if (q == NULL)
		return -ENOSPC;
	if (q == p) /* no field at all: "{}" */
		q++;
	*p = '{'; /* over the first field's ',' */
	*q++ = '}';
	*q++ = '\n';
	buf->len = (size_t)(q - buf->data);
	mstr_counters_add(&m->cnt, st.truncated, st.bad_utf8);
	return 0;
}

static int jz_begin(void *inst, struct xtcpd_buf *buf)
{
	(void)inst;
	buf->off = buf->len = 0;
	return 0;
}

static int jz_finish(void *inst, struct xtcpd_buf *buf)
{
	(void)inst, (void)buf;
	return 0;
}

static void jz_destroy(void *inst)
{
	free(inst);
}

/* No key, nothing to resolve: the check confirms the configuration has no keys. */
static int jz_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	if (cfg->n_values || cfg->n_extra)
		return XTCPD_CHECK_FAIL(res, NULL, "configuration has %zu keys, this plugin has none",
					cfg->n_values + cfg->n_extra);
	return 0;
}

static int jz_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
                     const struct xtcpd_config *cfg, void **inst)
{
	struct jz *m;

	(void)cfg;
	*inst = NULL;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	*inst = m;
	m->host = XTCPD_HOST_HAS(host, enrich_generation) ? host : NULL;
	m->ctx = ctx;
	return mstr_counters_init(&m->cnt, host, ctx);
}

static const struct xtcpd_key jz_keys[] = {
	XTCPD_KEYS_END,
};

static const struct xtcpd_marshaller_ops jz_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_marshaller_ops),
		.create = jz_create,
		.destroy = jz_destroy,
	},
	.begin = jz_begin,
	.append = jz_append,
	.finish = jz_finish,
	.content_type = "application/x-ndjson",   /* as xtcp2 labels its jsonl */
};

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_MARSHALLER, "json", PACKAGE_VERSION,
                     "one JSON object per socket per line, for people",
                     jz_keys, &jz_ops, jz_check);

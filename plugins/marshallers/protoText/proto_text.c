/* plugins/marshallers/protoText — marshaller "protoText": each batch is one Envelope in
 * protobuf text format, written exactly as protoc --decode prints it ("row {", two-space
 * indent, fields in number order, proto3 defaults left out, strings and bytes C-escaped,
 * enums by name). Batches concatenated still parse as one Envelope (repeated rows
 * merge), so a file of them is one protoc --encode away from protobufList's bytes.
 * Generated from proto/record_fields.h; no allocation. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xtcpd/plugin.h>

#include <xtcpd/record_fields.h>
#include "plugins/marshallers/common/humanize.h"
#include "plugins/marshallers/common/mstr.h"
#include "plugins/marshallers/common/mgroup.h"

struct pt {
	struct mstr_counters cnt;       /* truncated / invalid UTF-8 strings */
	const struct xtcpd_host *host;  /* NULL: no enrichment cache (host older than 1.7) */
	struct xtcpd_ctx *ctx;
};

struct pt_stats {
	int truncated;
	unsigned bad_utf8;
};

static const char *const pt_cong[] = {
	"CONGESTION_ALGORITHM_UNSPECIFIED", "CONGESTION_ALGORITHM_CUBIC",
	"CONGESTION_ALGORITHM_DCTCP", "CONGESTION_ALGORITHM_VEGAS",
	"CONGESTION_ALGORITHM_PRAGUE", "CONGESTION_ALGORITHM_BBR1",
	"CONGESTION_ALGORITHM_BBR2", "CONGESTION_ALGORITHM_BBR3",
};

#define PT_ROW_HEAD "row {\n"
#define PT_ROW_TAIL "}\n"
#define PT_KEY(name) "  " #name ": "
#define PT_PUT(p, lit) (memcpy(p, lit, sizeof(lit) - 1), (p) += sizeof(lit) - 1)
/* Room for a key and any value but a string (a number, an enum name, 16 escaped bytes). */
#define PT_ROOM(name)                                                                    \
	if (end - p < (ptrdiff_t)(sizeof(PT_KEY(name)) + 70))                            \
		return NULL;

/* C-escape n bytes as protoc does (CEscape): \n \r \t \" \' \\, other bytes outside
 * printable ASCII as three octal digits. dst needs 4 * n bytes. */
static uint8_t *pt_escape(uint8_t *p, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];

		switch (c) {
		case '\n': *p++ = '\\', *p++ = 'n'; break;
		case '\r': *p++ = '\\', *p++ = 'r'; break;
		case '\t': *p++ = '\\', *p++ = 't'; break;
		case '"': *p++ = '\\', *p++ = '"'; break;
		case '\'': *p++ = '\\', *p++ = '\''; break;
		case '\\': *p++ = '\\', *p++ = '\\'; break;
		default:
			if (c >= 0x20 && c < 0x7f) {
				*p++ = c;
			} else {
				*p++ = '\\';
				*p++ = (uint8_t)('0' + (c >> 6));
				*p++ = (uint8_t)('0' + ((c >> 3) & 7));
				*p++ = (uint8_t)('0' + (c & 7));
			}
		}
	}
	return p;
}

#define PT_W_U32(name, cond, val)                                                        \
	{                                                                                \
		uint32_t v_ = (cond) ? (uint32_t)(val) : 0;                              \
		if (v_) {                                                                \
			PT_ROOM(name)                                                    \
			PT_PUT(p, PT_KEY(name));                                         \
			p = hz_u64(p, v_);                                             \
			*p++ = '\n';                                                     \
		}                                                                        \
	}
#define PT_W_U64(name, cond, val)                                                        \
	{                                                                                \
		uint64_t v_ = (cond) ? (uint64_t)(val) : 0;                              \
		if (v_) {                                                                \
			PT_ROOM(name)                                                    \
			PT_PUT(p, PT_KEY(name));                                         \
			p = hz_u64(p, v_);                                             \
			*p++ = '\n';                                                     \
		}                                                                        \
	}
#define PT_W_I64(name, cond, val)                                                        \
	{                                                                                \
		int64_t v_ = (cond) ? (int64_t)(val) : 0;                                \
		if (v_) {                                                                \
			PT_ROOM(name)                                                    \
			PT_PUT(p, PT_KEY(name));                                         \
			p = hz_i64(p, v_);                                             \
			*p++ = '\n';                                                     \
		}                                                                        \
	}
#define PT_W_BOOL(name, cond, val)                                                       \
	if ((cond) && (val)) {                                                           \
		PT_ROOM(name)                                                            \
		PT_PUT(p, PT_KEY(name) "true\n");                                        \
	}
/* A value the enum does not know (a newer kernel's algorithm) prints as its number,
 * as protoc does. */
#define PT_W_ENUM(name, cond, val)                                                       \
	{                                                                                \
		uint32_t v_ = (cond) ? (uint32_t)(val) : 0;                              \
		if (v_) {                                                                \
			PT_ROOM(name)                                                    \
			PT_PUT(p, PT_KEY(name));                                         \
			if (v_ < sizeof(pt_cong) / sizeof(pt_cong[0]))                   \
				p = (uint8_t *)memcpy(p, pt_cong[v_], strlen(pt_cong[v_])) + \
				    strlen(pt_cong[v_]);                                 \
			else                                                             \
				p = hz_u64(p, v_);                                     \
			*p++ = '\n';                                                     \
		}                                                                        \
	}
#define PT_W_ADDR(name, cond, val)                                                       \
	if (cond) {                                                                      \
		PT_ROOM(name)                                                            \
		PT_PUT(p, PT_KEY(name) "\"");                                            \
		p = pt_escape(p, (val), 16);                                             \
		*p++ = '"';                                                              \
		*p++ = '\n';                                                             \
	}
/* Strings: the bytes protobufList would carry (bounded, invalid UTF-8 as '?'), copied
 * in place and then escaped from a scratch copy only when they need it (rare). */
#define PT_W_STRN(name, cond, val, max)                                                  \
	if ((cond) && (val)) {                                                           \
		const char *s_ = (val);                                                  \
		size_t n_ = mstr_len(s_, (max), &st->truncated);                         \
		if (n_) {                                                                \
			if (end - p < (ptrdiff_t)(sizeof(PT_KEY(name)) + 4 * n_ + 3))    \
				return NULL;                                             \
			PT_PUT(p, PT_KEY(name) "\"");                                    \
			p = pt_str(p, s_, n_, &st->bad_utf8);                            \
			*p++ = '"';                                                      \
			*p++ = '\n';                                                     \
		}                                                                        \
	}
#define PT_W_STR(name, cond, val) PT_W_STRN(name, cond, val, MSTR_MAX)
#define PT_W_NAME(name, cond, val) PT_W_STRN(name, cond, val, sizeof(val) - 1)


static int pt_plain(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] >= 0x7f || s[i] == '"' || s[i] == '\'' || s[i] == '\\')
			return 0;
	return 1;
}

/* A string's escaped text at p (4 * n bytes of room). Valid UTF-8 first, as in every
 * other format, then C-escaped like any bytes. */
static uint8_t *pt_str(uint8_t *p, const char *s, size_t n, unsigned *bad)
{
	uint8_t tmp[MSTR_MAX];

	if (pt_plain((const uint8_t *)s, n)) {
		memcpy(p, s, n);
		return p + n;
	}
	*bad += mstr_copy(tmp, s, n);
	return pt_escape(p, tmp, n);
}

/* The enrichment groups (common/mgroup.h): each written once per thread, then copied. */
static __thread struct mg_entry pt_tls_cache[MG_N];

#define PT_FIELD_IN(num, name, camel, type, jmode, jkey, cond, val)                     \
	if (MG_OF(num) == g) {                                                           \
		PT_W_##type(name, cond, val)                                             \
	}

static inline __attribute__((always_inline)) uint8_t *
pt_group_fields(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r,
		struct pt_stats *st, const int g)
{
	XTCPD_RECORD_FIELDS(PT_FIELD_IN)
	return p;
}

static uint8_t *pt_group_write(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r,
			       int *truncated, unsigned *bad_utf8, int g, unsigned mode)
{
	struct pt_stats st = { 0, 0 };

	(void)mode;
#define PT_GROUP(G) p = pt_group_fields(p, end, r, &st, G)
	MG_DISPATCH(g, PT_GROUP)
#undef PT_GROUP
	*truncated |= st.truncated;
	*bad_utf8 += st.bad_utf8;
	return p;
}

#define PT_FIELD(num, name, camel, type, jmode, jkey, cond, val)                        \
	if (MG_OF(num) == MG_NONE) {                                                     \
		PT_W_##type(name, cond, val)                                             \
	} else if (MG_FIRST(num) && mg_any(r, MG_OF(num))) {                             \
		p = mg_put(p, end, r, &st->truncated, &st->bad_utf8, row, MG_OF(num), 0,  \
			   pt_group_write);                                              \
		if (p == NULL)                                                           \
			return NULL;                                                     \
	}

/* One "row { ... }" at p; NULL if it runs into end. */
static uint8_t *pt_row(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r,
		       struct pt_stats *st, struct mg_row *row)
{
	if (end - p < (ptrdiff_t)(sizeof(PT_ROW_HEAD) + sizeof(PT_ROW_TAIL)))
		return NULL;
	PT_PUT(p, PT_ROW_HEAD);
	XTCPD_RECORD_FIELDS(PT_FIELD)
	if (end - p < (ptrdiff_t)sizeof(PT_ROW_TAIL))
		return NULL;
	PT_PUT(p, PT_ROW_TAIL);
	return p;
}

/* ---- plugin ops ---------------------------------------------------------------------- */

/* The check op (ABI 1.3): protoText has no key of its own; the core's marshaller keys
 * are the core's to check. */
static int pt_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	if (cfg->n_values || cfg->n_extra)
		return XTCPD_CHECK_FAIL(res, NULL, "configuration has %zu keys, this plugin has none",
					cfg->n_values + cfg->n_extra);
	return 0;
}

static int pt_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		     const struct xtcpd_config *cfg, void **inst)
{
	struct pt *m;

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

static void pt_destroy(void *inst)
{
	free(inst);
}

static int pt_begin(void *inst, struct xtcpd_buf *buf)
{
	(void)inst;
	buf->off = buf->len = 0;
	return 0;
}

static int pt_append(void *inst, struct xtcpd_buf *buf, const struct xtcpd_record *rec)
{
	struct pt *m = inst;
	struct pt_stats st = { 0, 0 };
	struct mg_row row = { m->host, m->ctx, pt_tls_cache, 0, 0 };
	uint8_t *q = pt_row(buf->data + buf->len, buf->data + buf->cap, rec, &st, &row);

	if (q == NULL)
		return -ENOSPC;
	buf->len = (size_t)(q - buf->data);
	mstr_counters_add(&m->cnt, st.truncated, st.bad_utf8);
	return 0;
}

static int pt_finish(void *inst, struct xtcpd_buf *buf)
{
	(void)inst, (void)buf;
	return 0;
}

static const struct xtcpd_key pt_keys[] = {
	XTCPD_KEYS_END,
};

static const struct xtcpd_marshaller_ops pt_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_marshaller_ops),
		.create = pt_create,
		.destroy = pt_destroy,
	},
	.begin = pt_begin,
	.append = pt_append,
	.finish = pt_finish,
};

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_MARSHALLER, "protoText", PACKAGE_VERSION,
		     "protobuf text format: one Envelope of rows per batch, as protoc --decode prints it",
		     pt_keys, &pt_ops, pt_check);

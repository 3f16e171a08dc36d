/* plugins/marshallers/protoJson — marshaller "protoJson": the proto3 canonical JSON
 * mapping as xtcp2 writes it (Go protojson, default options): one Envelope per line,
 * {"row":[{...},...]}\n, or with layout = jsonl one record per line (xtcp2's jsonl).
 * lowerCamelCase names, 64-bit integers as strings, bytes as base64, enums by name,
 * defaults omitted; xtcpd's extension fields only with extensions = true, so a strict
 * parser with xtcp2's v1 schema accepts the default output. Generated from
 * <xtcpd/record_fields.h>: no reflection, no allocation, one pass into the buffer. */
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

/* Field numbers from here on are xtcpd's extensions (proto/xtcp_flat_record.proto):
 * xtcp2's schema has no such field, so a strict parser refuses them as keys. */
#define PJ_EXT_FIRST 5000

enum pj_layout { PJ_ENVELOPE, PJ_JSONL };

struct pj_opt {
	int ext;                        /* write the extension fields */
	int enum_num;                   /* enums as numbers instead of names */
};

struct pj {
	int emit_defaults;
	enum pj_layout layout;
	struct pj_opt opt;
	struct mstr_counters cnt;       /* truncated / invalid UTF-8 strings */
	const struct xtcpd_host *host;  /* NULL: no enrichment cache (host older than 1.7) */
	struct xtcpd_ctx *ctx;
};

struct pj_stats {
	int truncated;
	unsigned bad_utf8;
};

#define PJ_HEAD "{\"row\":["
#define PJ_TAIL "]}\n"
#define PJ_HEAD_LEN (sizeof(PJ_HEAD) - 1)
#define PJ_TAIL_LEN (sizeof(PJ_TAIL) - 1)

static const char *const pj_cong[] = {
	"CONGESTION_ALGORITHM_UNSPECIFIED", "CONGESTION_ALGORITHM_CUBIC",
	"CONGESTION_ALGORITHM_DCTCP", "CONGESTION_ALGORITHM_VEGAS",
	"CONGESTION_ALGORITHM_PRAGUE", "CONGESTION_ALGORITHM_BBR1",
	"CONGESTION_ALGORITHM_BBR2", "CONGESTION_ALGORITHM_BBR3",
};

/* ",\"name\":" for every field; the first comma of a row becomes its '{'. */
#define PJ_KEY(camel) ",\"" #camel "\":"
#define PJ_PUT(p, lit) (memcpy(p, lit, sizeof(lit) - 1), (p) += sizeof(lit) - 1)

/* Worst case of a non-string field: key plus a quoted 20-digit number, 24 chars of
 * base64 or the longest enum name. */
#define PJ_SIZE(num, name, camel, ...) + sizeof(PJ_KEY(camel)) + 40
#define PJ_FIXED_MAX (0 XTCPD_RECORD_FIELDS(PJ_SIZE))

static uint8_t *pj_base64(uint8_t *p, const uint8_t *b, size_t n)
{
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | b[i + 2];
		*p++ = (uint8_t)a[v >> 18], *p++ = (uint8_t)a[(v >> 12) & 63];
		*p++ = (uint8_t)a[(v >> 6) & 63], *p++ = (uint8_t)a[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)b[i] << 16;
		*p++ = (uint8_t)a[v >> 18], *p++ = (uint8_t)a[(v >> 12) & 63];
		*p++ = '=', *p++ = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8;
		*p++ = (uint8_t)a[v >> 18], *p++ = (uint8_t)a[(v >> 12) & 63];
		*p++ = (uint8_t)a[(v >> 6) & 63], *p++ = '=';
	}
	return p;
}

/* Field writers. `dflt` = emit_defaults: write the field even when zero or absent.
 * `safe` = check room before each field (near the end of the buffer). */
#define PJ_ROOM(n)                                                                       \
	if (safe && end - p < (ptrdiff_t)(n))                                            \
		return NULL;
#define PJ_W_U32(camel, cond, val)                                                       \
	{                                                                                \
		uint32_t v_ = (cond) ? (uint32_t)(val) : 0;                              \
		if (v_ || dflt) {                                                        \
			PJ_ROOM(sizeof(PJ_KEY(camel)) + 40);                             \
			PJ_PUT(p, PJ_KEY(camel));                                        \
			p = mstr_u64(p, v_);                                             \
		}                                                                        \
	}
#define PJ_W_U64(camel, cond, val)                                                       \
	{                                                                                \
		uint64_t v_ = (cond) ? (uint64_t)(val) : 0;                              \
		if (v_ || dflt) {                                                        \
			PJ_ROOM(sizeof(PJ_KEY(camel)) + 40);                             \
			PJ_PUT(p, PJ_KEY(camel));                                        \
			*p++ = '"';                                                      \
			p = mstr_u64(p, v_);                                             \
			*p++ = '"';                                                      \
		}                                                                        \
	}
#define PJ_W_I64(camel, cond, val)                                                       \
	{                                                                                \
		int64_t v_ = (cond) ? (int64_t)(val) : 0;                                \
		if (v_ || dflt) {                                                        \
			PJ_ROOM(sizeof(PJ_KEY(camel)) + 40);                             \
			PJ_PUT(p, PJ_KEY(camel));                                        \
			*p++ = '"';                                                      \
			p = mstr_i64(p, v_);                                             \
			*p++ = '"';                                                      \
		}                                                                        \
	}
#define PJ_W_BOOL(camel, cond, val)                                                      \
	{                                                                                \
		int v_ = (cond) && (val);                                                \
		if (v_ || dflt) {                                                        \
			PJ_ROOM(sizeof(PJ_KEY(camel)) + 40);                             \
			PJ_PUT(p, PJ_KEY(camel));                                        \
			if (v_)                                                          \
				PJ_PUT(p, "true");                                       \
			else                                                             \
				PJ_PUT(p, "false");                                      \
		}                                                                        \
	}
/* Unknown enum values (a newer kernel's algorithm) are written as numbers, as the
 * mapping prescribes; every value with enums = number. */
#define PJ_W_ENUM(camel, cond, val)                                                      \
	{                                                                                \
		uint32_t v_ = (cond) ? (uint32_t)(val) : 0;                              \
		if (v_ || dflt) {                                                        \
			PJ_ROOM(sizeof(PJ_KEY(camel)) + 40);                             \
			PJ_PUT(p, PJ_KEY(camel));                                        \
			if (!opt->enum_num && v_ < sizeof(pj_cong) / sizeof(pj_cong[0])) { \
				size_t n_ = strlen(pj_cong[v_]);                         \
				*p++ = '"';                                              \
				memcpy(p, pj_cong[v_], n_);                              \
				p += n_;                                                 \
				*p++ = '"';                                              \
			} else {                                                         \
				p = mstr_u64(p, v_);                                     \
			}                                                                \
		}                                                                        \
	}
#define PJ_W_ADDR(camel, cond, val)                                                      \
	if ((cond) || dflt) {                                                            \
		PJ_ROOM(sizeof(PJ_KEY(camel)) + 40);                                     \
		PJ_PUT(p, PJ_KEY(camel));                                                \
		*p++ = '"';                                                              \
		p = pj_base64(p, (val), 16);                                             \
		*p++ = '"';                                                              \
	}
#define PJ_W_STRN(camel, cond, val, max)                                                 \
	{                                                                                \
		const char *s_ = (cond) ? (val) : NULL;                                  \
		size_t n_ = s_ ? mstr_len(s_, (max), &st->truncated) : 0;                \
		if (n_ || dflt) {                                                        \
			if (send - p < (ptrdiff_t)(sizeof(PJ_KEY(camel)) + 2 + 6 * n_) && \
			    (!safe || send - p < (ptrdiff_t)(sizeof(PJ_KEY(camel)) + 2 +   \
			                      mstr_json_len(s_, n_))))                   \
				return NULL;                                             \
			PJ_PUT(p, PJ_KEY(camel));                                        \
			*p++ = '"';                                                      \
			p = mstr_json(p, s_ ? s_ : "", n_, &st->bad_utf8);               \
			*p++ = '"';                                                      \
		}                                                                        \
	}
#define PJ_W_STR(camel, cond, val) PJ_W_STRN(camel, cond, val, MSTR_MAX)
#define PJ_W_NAME(camel, cond, val) PJ_W_STRN(camel, cond, val, sizeof(val) - 1)

/* The enrichment groups (common/mgroup.h): each written once per thread, then copied.
 * The mode is what changes their bytes: emit_defaults (empty strings written), extensions
 * (the pod group), enums. */
static __thread struct mg_entry pj_tls_cache[MG_N];

#define PJ_MODE(dflt, opt) ((unsigned)(dflt) | (unsigned)(opt)->ext << 1 | (unsigned)(opt)->enum_num << 2)

#define PJ_FIELD_IN(num, name, camel, type, jmode, jkey, cond, val)                     \
	if (MG_OF(num) == g && ((num) < PJ_EXT_FIRST || opt->ext)) {                     \
		PJ_W_##type(camel, cond, val)                                            \
	}

/* The fields of group g alone, at p, checked against end; NULL if they run into it. */
static inline __attribute__((always_inline)) uint8_t *
pj_group_fields(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r,
                struct pj_stats *st, const struct pj_opt *opt, const int dflt, const int g)
{
	const int safe = 1;
	const uint8_t *send = end;

	XTCPD_RECORD_FIELDS(PJ_FIELD_IN)
	return p;
}

static uint8_t *pj_group_write(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r,
                               int *truncated, unsigned *bad_utf8, int g, unsigned mode)
{
	const struct pj_opt o = { (mode >> 1) & 1, (mode >> 2) & 1 };
	const int dflt = mode & 1;
	struct pj_stats st = { 0, 0 };

#define PJ_GROUP(G) p = pj_group_fields(p, end, r, &st, &o, dflt, G)
	MG_DISPATCH(g, PJ_GROUP)
#undef PJ_GROUP
	*truncated |= st.truncated;
	*bad_utf8 += st.bad_utf8;
	return p;
}

#define PJ_FIELD(num, name, camel, type, jmode, jkey, cond, val)                          \
	if ((num) < PJ_EXT_FIRST || opt->ext) {                                          \
		if (MG_OF(num) == MG_NONE) {                                             \
			PJ_W_##type(camel, cond, val)                                    \
		} else if (MG_FIRST(num) && (dflt || mg_any(r, MG_OF(num)))) {           \
			p = mg_put(p, send, r, &st->truncated, &st->bad_utf8, row,       \
				   MG_OF(num), dflt, pj_group_write);                    \
			if (p == NULL)                                                   \
				return NULL;                                             \
		}                                                                        \
	}

/* Write ",\"f\":v,..." for one row at p; NULL if it runs into end. */
static inline __attribute__((always_inline)) uint8_t *
pj_fields(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r,
          struct pj_stats *st, const struct pj_opt *opt, struct mg_row *row, const int dflt,
          const int safe)
{
	/* Fast mode: the caller saw PJ_FIXED_MAX bytes of room; strings leave that much
	 * behind them so the unchecked fields after them still fit. */
	const uint8_t *send = safe ? end : end - PJ_FIXED_MAX;

	XTCPD_RECORD_FIELDS(PJ_FIELD)
	return p;
}

static uint8_t *pj_fields_fast(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r,
                               struct pj_stats *st, const struct pj_opt *opt, struct mg_row *row)
{
	return pj_fields(p, end, r, st, opt, row, 0, 0);
}

static uint8_t *pj_fields_safe(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r,
                               struct pj_stats *st, const struct pj_opt *opt, struct mg_row *row)
{
	return pj_fields(p, end, r, st, opt, row, 0, 1);
}

static uint8_t *pj_fields_dflt(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r,
                               struct pj_stats *st, const struct pj_opt *opt, struct mg_row *row)
{
	return pj_fields(p, end, r, st, opt, row, 1, 1);
}

/* ---- plugin ops ---------------------------------------------------------------------- */

enum { K_EMIT_DEFAULTS, K_LAYOUT, K_EXTENSIONS, K_ENUMS, K_N };

static const struct xtcpd_key pj_keys[] = {
	[K_EMIT_DEFAULTS] = { "emit_defaults", XTCPD_KEY_BOOL, "false", 0, 0, NULL, 0,
	  "write every field, zeros and empty strings included (proto3 JSON option)" },
	[K_LAYOUT] = { "layout", XTCPD_KEY_ENUM, "envelope", 0, 0, "envelope|jsonl", 0,
	  "envelope: one {\"row\":[...]} per line (xtcp2 protoJson); jsonl: one record per line "
	  "(xtcp2 jsonl)" },
	[K_EXTENSIONS] = { "extensions", XTCPD_KEY_BOOL, "false", 0, 0, NULL, 0,
	  "also write xtcpd's extension fields (5001-5006: inetDiagMark, dumpInterrupted, "
	  "tcpInfoLength, socketClosed, podNamespace, podName); only xtcpd's .proto then parses the output" },
	[K_ENUMS] = { "enums", XTCPD_KEY_ENUM, "name", 0, 0, "name|number", 0,
	  "congestionAlgorithmEnum by name (as xtcp2, protojson's default) or as its number" },
	XTCPD_KEYS_END,
};

/* The host validated each value against its type and choices; the check confirms the
 * values are this plugin's key table, in order (an older table would shift them). */
static int pj_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	if (cfg->n_values != K_N || cfg->n_extra)
		return XTCPD_CHECK_FAIL(res, NULL, "configuration has %zu keys, this plugin has %d",
					cfg->n_values + cfg->n_extra, K_N);
	if (cfg->values[K_LAYOUT].num < 0 || cfg->values[K_LAYOUT].num > PJ_JSONL)
		return XTCPD_CHECK_FAIL(res, "layout", "must be envelope or jsonl");
	if (cfg->values[K_ENUMS].num < 0 || cfg->values[K_ENUMS].num > 1)
		return XTCPD_CHECK_FAIL(res, "enums", "must be name or number");
	return 0;
}

static int pj_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
                     const struct xtcpd_config *cfg, void **inst)
{
	struct pj *m;

	*inst = NULL;
	if (cfg->n_values != K_N)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	*inst = m;
	m->emit_defaults = cfg->values[K_EMIT_DEFAULTS].num != 0;
	m->layout = cfg->values[K_LAYOUT].num == PJ_JSONL ? PJ_JSONL : PJ_ENVELOPE;
	m->opt.ext = cfg->values[K_EXTENSIONS].num != 0;
	m->opt.enum_num = cfg->values[K_ENUMS].num == 1;
	m->host = XTCPD_HOST_HAS(host, enrich_generation) ? host : NULL;
	m->ctx = ctx;
	return mstr_counters_init(&m->cnt, host, ctx);
}

static void pj_destroy(void *inst)
{
	free(inst);
}

static int pj_begin(void *inst, struct xtcpd_buf *buf)
{
	const struct pj *m = inst;

	buf->off = buf->len = 0;
	if (m->layout == PJ_JSONL)
		return 0;
	if (buf->cap < PJ_HEAD_LEN + PJ_TAIL_LEN)
		return -ENOSPC;
	memcpy(buf->data, PJ_HEAD, PJ_HEAD_LEN);
	buf->len = PJ_HEAD_LEN;
	return 0;
}

/* envelope: {"row":[ROW,ROW]}\n with "]}\n" always kept writable so finish cannot fail;
 * jsonl: ROW\nROW\n, as xtcp2's jsonl (protojson.Marshal of each row, then '\n'). */
static int pj_append(void *inst, struct xtcpd_buf *buf, const struct xtcpd_record *rec)
{
	struct pj *m = inst;
	struct pj_stats st = { 0, 0 };
	struct mg_row row = { m->host, m->ctx, pj_tls_cache, 0, PJ_MODE(m->emit_defaults, &m->opt) };
	const int jsonl = m->layout == PJ_JSONL;
	const uint8_t *end = buf->data + buf->cap - (jsonl ? 0 : PJ_TAIL_LEN);
	uint8_t *start = buf->data + buf->len, *p, *q;
	int sep;

	if (end - start < 3)
		return -ENOSPC;
	/* Envelope rows after the first are preceded by ','; the object's '{' overwrites
	 * the leading ',' of its first field. */
	sep = !jsonl && buf->len > PJ_HEAD_LEN;
	p = start + sep;
	q = NULL;
	if (m->emit_defaults)
		q = pj_fields_dflt(p, end, rec, &st, &m->opt, &row);
	else if (end - p >= (ptrdiff_t)PJ_FIXED_MAX)
		q = pj_fields_fast(p, end, rec, &st, &m->opt, &row);
	/* The fast path keeps slack behind strings: the checked one may still fit it. */
	if (q == NULL && !m->emit_defaults) {
		st = (struct pj_stats){ 0, 0 };
		q = pj_fields_safe(p, end, rec, &st, &m->opt, &row);
	}
	if (q == NULL || end - q < 1 + jsonl)
		return -ENOSPC;
	if (q == p)
		*q++ = '{';
	*p = '{';
	*q++ = '}';
	if (jsonl)
		*q++ = '\n';
	if (sep)
		*start = ',';
	buf->len = (size_t)(q - buf->data);
	mstr_counters_add(&m->cnt, st.truncated, st.bad_utf8);
	return 0;
}

static int pj_finish(void *inst, struct xtcpd_buf *buf)
{
	const struct pj *m = inst;

	if (m->layout == PJ_JSONL)
		return 0;
	memcpy(buf->data + buf->len, PJ_TAIL, PJ_TAIL_LEN);
	buf->len += PJ_TAIL_LEN;
	return 0;
}

static const struct xtcpd_marshaller_ops pj_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_marshaller_ops),
		.create = pj_create,
		.destroy = pj_destroy,
	},
	.begin = pj_begin,
	.append = pj_append,
	.finish = pj_finish,
	/* as xtcp2 labels protoJson; its jsonl is application/x-ndjson, which --marshal
	 * jsonl gives an http sink through the sink's content_type key */
	.content_type = "application/json",
};

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_MARSHALLER, "protoJson", PACKAGE_VERSION,
                     "proto3 JSON as xtcp2 writes it: an Envelope of rows, or a record, per line",
                     pj_keys, &pj_ops, pj_check);

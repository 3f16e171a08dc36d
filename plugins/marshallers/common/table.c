/* plugins/marshallers/common/table.c — delimited text, one line per socket, as xtcp2's
 * csv and tsv write it (Go's encoding/csv: '\n' line ends, a field quoted when it holds
 * the delimiter, '"', CR or LF, or starts with a space; '"' doubled inside quotes).
 * Columns are named by their proto3 JSON names, in schema order unless `columns` picks
 * them; six of them are humanized (addresses, the two states, the congestion enum, the
 * timestamp), everything else is the plain value, 0 or empty when absent. Generated
 * from <xtcpd/record_fields.h>; no allocation after create. */
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
#include "plugins/marshallers/common/table.h"

#define TZ_MAX_COLUMNS 4096
#define TZ_LOG_INTERVAL_MS 10000
#define TZ_EXTENSIONS 5000      /* field numbers from here on are opt-in by name */

#define TZ_IDX(num, name, ...) TZ_F_##name,
enum tz_field { XTCPD_RECORD_FIELDS(TZ_IDX) TZ_NFIELDS };

#define TZ_NAME(num, name, camel, ...) #camel,
static const char *const tz_names[TZ_NFIELDS] = { XTCPD_RECORD_FIELDS(TZ_NAME) };
#define TZ_NUM(num, ...) num,
static const unsigned tz_numbers[TZ_NFIELDS] = { XTCPD_RECORD_FIELDS(TZ_NUM) };

/* "all|schemaVersion|daemonVersion|...": the core checks every word of `columns`. */
#define TZ_CHOICE(num, name, camel, ...) "|" #camel

const struct xtcpd_key table_keys[] = {
	[TABLE_K_COLUMNS] = { "columns", XTCPD_KEY_LIST, "all", 0, 0,
			      "all" XTCPD_RECORD_FIELDS(TZ_CHOICE), 0,
			      "columns in order, by JSON name (hostname, inetDiagMsgSocketSource, "
			      "tcpInfoRtt, ...); all = every v1 schema field in schema order" },
	[TABLE_K_HEADER] = { "header", XTCPD_KEY_BOOL, "true", 0, 0, NULL, 0,
			     "start each batch with the column names (stream sinks write them "
			     "once per file or connection)" },
	XTCPD_KEYS_END,
};

struct tz {
	const struct xtcpd_host *host;
	struct xtcpd_ctx *ctx;
	uint8_t delim;
	uint16_t *cols;
	size_t ncols;
	int v1;                 /* the columns are every v1 field in schema order */
	uint8_t *hdr;           /* the header line, '\n' included; NULL with header = false */
	size_t hdr_len;
	struct mstr_counters cnt;
	char rl_hdr;            /* rate-limit key */
};

struct tz_stats {
	int truncated;
	unsigned bad_utf8;
};

/* ---- fields ---------------------------------------------------------------------------- */

/* Go's unicode.IsSpace for the first character of s (already valid UTF-8 or cut). */
static int tz_space_first(const uint8_t *s, size_t n)
{
	uint32_t cp;
	size_t k = mstr_utf8_seq(s, n);

	if (k == 0)
		return 0;       /* invalid: written as '?' */
	if (k == 1)
		return s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r');
	cp = k == 2 ? (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f) :
	     k == 3 ? (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f) :
	     0;
	return cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

static int tz_needs_quotes(const uint8_t *s, size_t n, uint8_t delim)
{
	size_t i;

	if (n == 0)
		return 0;
	if (n == 2 && s[0] == '\\' && s[1] == '.')
		return 1;       /* Go quotes it (PostgreSQL's end-of-data marker) */
	for (i = 0; i < n; i++)
		if (s[i] == delim || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			return 1;
	return tz_space_first(s, n);
}

/* s[0..n) between quotes, '"' doubled, invalid UTF-8 bytes as '?'. */
static uint8_t *tz_quoted(uint8_t *p, const uint8_t *s, size_t n, unsigned *bad)
{
	size_t i = 0, k;

	*p++ = '"';
	while (i < n) {
		if (s[i] == '"') {
			*p++ = '"', *p++ = '"';
			i++;
		} else if ((k = mstr_utf8_seq(s + i, n - i)) != 0) {
			memcpy(p, s + i, k);
			p += k, i += k;
		} else {
			*p++ = '?';
			(*bad)++;
			i++;
		}
	}
	*p++ = '"';
	return p;
}

/* A string field (NULL = empty); NULL when it does not fit before end. */
static uint8_t *tz_str(uint8_t *p, const uint8_t *end, const char *s, size_t max,
		       uint8_t delim, struct tz_stats *st)
{
	size_t n;

	if (s == NULL)
		return p;
	n = mstr_len(s, max, &st->truncated);
	if (end - p < (ptrdiff_t)(2 * n + 2))
		return NULL;
	if (!tz_needs_quotes((const uint8_t *)s, n, delim)) {
		st->bad_utf8 += mstr_copy(p, s, n);
		return p + n;
	}
	return tz_quoted(p, (const uint8_t *)s, n, &st->bad_utf8);
}

/* xtcp2 humanizes the two TCP states of the json table's STATE mode. */
#define TZ_STATE_N 0
#define TZ_STATE_Z 0
#define TZ_STATE_S 0
#define TZ_STATE_BOOL 0
#define TZ_STATE_FAMILY 0
#define TZ_STATE_STATE 1
#define TZ_STATE_TIMER 0
#define TZ_STATE_CASTATE 0
#define TZ_STATE_CONG 0
#define TZ_STATE_ADDR 0

#define TZ_ROOM                                                                          \
	if (end - p < HZ_MAX)                                                            \
		return NULL;
#define TZ_W_U32(num, jmode, cond, val)                                                  \
	{                                                                                \
		uint32_t v_ = (cond) ? (uint32_t)(val) : 0;                              \
		TZ_ROOM                                                                  \
		p = TZ_STATE_##jmode ? hz_state(p, v_) : hz_u64(p, v_);                \
	}
#define TZ_W_U64(num, jmode, cond, val)                                                  \
	{                                                                                \
		TZ_ROOM                                                                  \
		p = hz_u64(p, (cond) ? (uint64_t)(val) : 0);                           \
	}
/* The only signed field is the timestamp. */
#define TZ_W_I64(num, jmode, cond, val)                                                  \
	{                                                                                \
		int64_t v_ = (cond) ? (int64_t)(val) : 0;                                \
		TZ_ROOM                                                                  \
		p = (num) == 10 ? hz_time(p, v_) : hz_i64(p, v_);                      \
	}
#define TZ_W_ENUM(num, jmode, cond, val)                                                 \
	{                                                                                \
		TZ_ROOM                                                                  \
		p = hz_cong(p, (cond) ? (uint32_t)(val) : 0);                            \
	}
#define TZ_W_BOOL(num, jmode, cond, val)                                                 \
	{                                                                                \
		TZ_ROOM                                                                  \
		p = hz_put(p, (cond) && (val) ? "true" : "false");                       \
	}
#define TZ_W_ADDR(num, jmode, cond, val)                                                 \
	{                                                                                \
		TZ_ROOM                                                                  \
		p = hz_ip(p, r->family, (val));                                          \
	}
#define TZ_W_STR(num, jmode, cond, val)                                                  \
	p = tz_str(p, end, (cond) ? (val) : NULL, MSTR_MAX, delim, st);
#define TZ_W_NAME(num, jmode, cond, val)                                                 \
	p = tz_str(p, end, (cond) ? (val) : NULL, sizeof(val) - 1, delim, st);

#define TZ_CASE(num, name, camel, type, jmode, jkey, cond, val)                          \
	case TZ_F_##name:                                                                \
		TZ_W_##type(num, jmode, cond, val) break;

/* Field f of r at p; NULL when it does not fit before end. */
static uint8_t *tz_field(uint8_t *p, const uint8_t *end, unsigned f,
			 const struct xtcpd_record *r, uint8_t delim, struct tz_stats *st)
{
	switch (f) {
		XTCPD_RECORD_FIELDS(TZ_CASE)
	}
	return p;
}

/* One v1 column, its delimiter first (but the first column's). */
#define TZ_ONE(num, type, jmode, cond, val)                                              \
	{                                                                                \
		if ((num) != 1) {                                                        \
			if (p == end)                                                    \
				return NULL;                                             \
			*p++ = delim;                                                    \
		}                                                                        \
		TZ_W_##type(num, jmode, cond, val)                                       \
		if (p == NULL)                                                           \
			return NULL;                                                     \
	}

/* The enrichment groups of the v1 row (container, uplinks; common/mgroup.h): written
 * once per thread, delimiters included, then copied. Every column is written, empty ones
 * too, so a group whose pointers are all NULL has its bytes as well. */
static __thread struct mg_entry tz_tls_cache[MG_N];

#define TZ_ALL_IN(num, name, camel, type, jmode, jkey, cond, val)                        \
	if ((num) < TZ_EXTENSIONS && MG_OF(num) == g)                                    \
		TZ_ONE(num, type, jmode, cond, val)

static inline __attribute__((always_inline)) uint8_t *
tz_group_fields(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r, uint8_t delim,
		struct tz_stats *st, const int g)
{
	XTCPD_RECORD_FIELDS(TZ_ALL_IN)
	return p;
}

static uint8_t *tz_group_write(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r,
			       int *truncated, unsigned *bad_utf8, int g, unsigned mode)
{
	struct tz_stats st = { 0, 0 };
	const uint8_t delim = (uint8_t)mode;

#define TZ_GROUP(G) p = tz_group_fields(p, end, r, delim, &st, G)
	MG_DISPATCH(g, TZ_GROUP)
#undef TZ_GROUP
	*truncated |= st.truncated;
	*bad_utf8 += st.bad_utf8;
	return p;
}

/* Every v1 field in schema order, straight through: the default column set, without a
 * dispatch per column. */
#define TZ_ALL(num, name, camel, type, jmode, jkey, cond, val)                           \
	if ((num) < TZ_EXTENSIONS) {                                                     \
		if (MG_OF(num) == MG_NONE) {                                             \
			TZ_ONE(num, type, jmode, cond, val)                              \
		} else if (MG_FIRST(num)) {                                              \
			p = mg_put(p, end, r, &st->truncated, &st->bad_utf8, row,        \
				   MG_OF(num), 1, tz_group_write);                       \
			if (p == NULL)                                                   \
				return NULL;                                             \
		}                                                                        \
	}

static uint8_t *tz_row_v1(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r,
			  uint8_t delim, struct tz_stats *st, struct mg_row *row)
{
	XTCPD_RECORD_FIELDS(TZ_ALL)
	return p;
}

/* ---- configuration --------------------------------------------------------------------- */

/* How many columns "all" is: the v1 fields. */
static unsigned tz_v1_count(void)
{
	unsigned n = 0;

	while (n < TZ_NFIELDS && tz_numbers[n] < TZ_EXTENSIONS)
		n++;
	return n;
}

static int tz_lookup(const char *w, size_t n)
{
	for (unsigned i = 0; i < TZ_NFIELDS; i++)
		if (strlen(tz_names[i]) == n && !memcmp(tz_names[i], w, n))
			return (int)i;
	return -1;
}

/* Resolve `spec` (words separated by commas or spaces) into cols (NULL: count only);
 * "all" is every v1 field in schema order. Returns the number of columns, or -EINVAL
 * with the reason in res (an unknown name, more than TZ_MAX_COLUMNS). No side effects. */
static int tz_columns(const char *spec, uint16_t *cols, struct xtcpd_check *res)
{
	size_t n = 0;

	for (const char *p = spec ? spec : "all"; *p;) {
		size_t len = strcspn(p, ", ");
		int f;

		if (len == 3 && !memcmp(p, "all", 3)) {
			for (unsigned i = 0; i < TZ_NFIELDS && tz_numbers[i] < TZ_EXTENSIONS; i++) {
				if (cols && n < TZ_MAX_COLUMNS)
					cols[n] = (uint16_t)i;
				n++;
			}
		} else if (len) {
			f = tz_lookup(p, len);
			if (f < 0)
				return XTCPD_CHECK_FAIL(res, "columns", "unknown column '%.*s' (JSON "
							"names of the schema, e.g. hostname, "
							"inetDiagMsgSocketSourcePort)", (int)len, p);
			if (cols && n < TZ_MAX_COLUMNS)
				cols[n] = (uint16_t)f;
			n++;
		}
		p += len;
		p += strspn(p, ", ");
	}
	if (n == 0)
		return tz_columns("all", cols, res);
	if (n > TZ_MAX_COLUMNS)
		return XTCPD_CHECK_FAIL(res, "columns", "%zu columns (\"all\" is %u), at most %d", n,
					tz_v1_count(), TZ_MAX_COLUMNS);
	return (int)n;
}

/* The check op of csv and tsv (ABI 1.3): every check of the configuration, without
 * side effects. */
int table_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	int n;

	if (cfg->n_values < TABLE_K__COUNT)
		return XTCPD_CHECK_FAIL(res, NULL, "configuration has %zu keys, this plugin needs %d",
					cfg->n_values, TABLE_K__COUNT);
	n = tz_columns(cfg->values[TABLE_K_COLUMNS].str, NULL, res);
	return n < 0 ? n : 0;
}

static int tz_build_header(struct tz *m)
{
	size_t len = 0, i;
	uint8_t *p;

	for (i = 0; i < m->ncols; i++)
		len += strlen(tz_names[m->cols[i]]) + 1;
	m->hdr = malloc(len);
	if (m->hdr == NULL)
		return -ENOMEM;
	for (i = 0, p = m->hdr; i < m->ncols; i++) {
		if (i)
			*p++ = m->delim;
		p = hz_put(p, tz_names[m->cols[i]]);
	}
	*p++ = '\n';
	m->hdr_len = (size_t)(p - m->hdr);
	return 0;
}

int table_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		 const struct xtcpd_config *cfg, char delim, void **inst)
{
	char msg[256];
	struct xtcpd_check res = { .struct_size = sizeof(res), .msg = msg, .msg_size = sizeof(msg) };
	struct tz *m;
	int rc, n;

	*inst = NULL;
	rc = table_check(cfg, &res);
	if (rc) {
		host->log(ctx, XTCPD_LOG_ERR, "%s%s%s", res.key ? res.key : "", res.key ? ": " : "",
			  msg);
		return rc;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	*inst = m;
	m->host = host;
	m->ctx = ctx;
	m->delim = (uint8_t)delim;
	n = tz_columns(cfg->values[TABLE_K_COLUMNS].str, NULL, &res);
	m->cols = calloc((size_t)n, sizeof(*m->cols));
	if (m->cols == NULL)
		return -ENOMEM;
	m->ncols = (size_t)tz_columns(cfg->values[TABLE_K_COLUMNS].str, m->cols, &res);
	/* v1 fields come first in the table (numbers ascend, extensions last) */
	m->v1 = 1;
	for (size_t i = 0; i < TZ_NFIELDS; i++)
		if ((tz_numbers[i] < TZ_EXTENSIONS) != (i < m->ncols && m->cols[i] == i))
			m->v1 = 0;
	if (m->ncols >= TZ_NFIELDS || tz_numbers[m->ncols] < TZ_EXTENSIONS)
		m->v1 = 0;
	if (cfg->values[TABLE_K_HEADER].num && (rc = tz_build_header(m)))
		return rc;
	return mstr_counters_init(&m->cnt, host, ctx);
}

void table_destroy(void *inst)
{
	struct tz *m = inst;

	if (m == NULL)
		return;
	free(m->cols);
	free(m->hdr);
	free(m);
}

/* ---- batches --------------------------------------------------------------------------- */

int table_begin(void *inst, struct xtcpd_buf *buf)
{
	struct tz *m = inst;

	buf->off = buf->len = 0;
	if (m->hdr == NULL)
		return 0;
	if (buf->cap < m->hdr_len + 1) {
		m->host->log_ratelimited(m->ctx, &m->rl_hdr, TZ_LOG_INTERVAL_MS, XTCPD_LOG_ERR,
					 "the %zu-byte header line does not fit a %zu-byte batch: "
					 "pick fewer columns, set header = false or raise the "
					 "sink's message size", m->hdr_len, buf->cap);
		return -EMSGSIZE;
	}
	memcpy(buf->data, m->hdr, m->hdr_len);
	buf->len = m->hdr_len;
	buf->flags |= XTCPD_BUF_HEADER;
	return 0;
}

int table_append(void *inst, struct xtcpd_buf *buf, const struct xtcpd_record *rec)
{
	struct tz *m = inst;
	struct tz_stats st = { 0, 0 };
	const uint8_t *end = buf->data + buf->cap;
	uint8_t *p = buf->data + buf->len;
	size_t i;

	if (m->v1) {
		struct mg_row row = { XTCPD_HOST_HAS(m->host, enrich_generation) ? m->host : NULL,
				      m->ctx, tz_tls_cache, 0, m->delim };

		p = tz_row_v1(p, end, rec, m->delim, &st, &row);
		if (p == NULL)
			return -ENOSPC;
	}
	for (i = 0; i < m->ncols && !m->v1; i++) {
		if (i) {
			if (p == end)
				return -ENOSPC;
			*p++ = m->delim;
		}
		p = tz_field(p, end, m->cols[i], rec, m->delim, &st);
		if (p == NULL)
			return -ENOSPC;
	}
	if (p == end)
		return -ENOSPC;
	*p++ = '\n';
	buf->len = (size_t)(p - buf->data);
	mstr_counters_add(&m->cnt, st.truncated, st.bad_utf8);
	return 0;
}

int table_finish(void *inst, struct xtcpd_buf *buf)
{
	(void)inst, (void)buf;
	return 0;
}

/* tests/plugins/marshallers/mt.h — shared support for the marshaller tests, tool and bench:
 * plugin loading and instances through the shared test host (tests/lib/testhost.h),
 * and deterministic records whose every field
 * value is derived from its schema field number, so a decoder's output can be checked
 * against mt_expect() without trusting the marshallers' own field table. */
#ifndef XTCPD_MT_H
#define XTCPD_MT_H

#include <stddef.h>
#include <stdint.h>

#include <xtcpd/plugin.h>

enum mt_kind {
	MT_FULL = 1,   /* every field set, distinct non-default values */
	MT_FEW,        /* only a handful of fields (the rest default/absent) */
};

enum mt_type { MT_T_NUM = 1, MT_T_STR, MT_T_BYTES, MT_T_BOOL };

struct mt_val {
	enum mt_type type;
	uint64_t u;            /* numbers (int64 as two's complement), bools */
	char s[64];
	uint8_t b[16];
	size_t blen;
};

/* Storage a record borrows its strings and uplinks from. */
struct mt_rec {
	struct xtcpd_record r;
	struct xtcpd_uplink up[2];
	char str[48][64];
	unsigned nstr;
};


/* Value of schema field `num` in a record made by mt_fill(kind, seed); returns 1 when
 * the field is set (non-default), 0 when a decoder must see the default. */
int mt_expect(unsigned num, enum mt_kind kind, unsigned seed, struct mt_val *out);
void mt_fill(struct mt_rec *m, enum mt_kind kind, unsigned seed);
/* Realistic record number i of a fixed deterministic set (benchmarks, samples). */
void mt_fill_real(struct mt_rec *m, unsigned i);

/* Records with values that are hard to render as text (mt_tricky.c):
 * mt_tricky_count() of them; mt_tricky_json() prints their raw inputs as JSON. */
unsigned mt_tricky_count(void);
void mt_fill_tricky(struct mt_rec *m, unsigned i);
void mt_tricky_json(void);

/* Counter registered by any instance made with mt_create() (UINT64_MAX: never). */
uint64_t mt_metric(const char *name);
void mt_metrics_reset(void);

/* dlopen "<$XTCPD_PLUGIN_DIR>/marshaller_<name>.so" (tests/lib/testhost); NULL on failure. */
const struct xtcpd_plugin *mt_load(const char *name);
/* create() with the configuration of NULL-terminated "key=value" strings (NULL = all
 * defaults), checked by the core's own parser; mt_destroy() destroys the instance and
 * frees the configuration it borrowed. */
int mt_create(const struct xtcpd_plugin *p, const char *const *kv, void **inst);
void mt_destroy(const struct xtcpd_plugin *p, void *inst);
static inline const struct xtcpd_marshaller_ops *mt_ops(const struct xtcpd_plugin *p)
{
	return (const struct xtcpd_marshaller_ops *)p->ops;
}

/* Marshal recs[0..n) in one batch into data[cap]; returns the number appended before
 * the first failure, with the message in buf->data[off, len) after finish. */
size_t mt_batch(const struct xtcpd_plugin *p, void *inst, struct xtcpd_buf *buf,
                uint8_t *data, size_t cap, struct mt_rec *recs, size_t n, int *rc);

#endif /* XTCPD_MT_H */

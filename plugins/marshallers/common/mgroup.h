/* plugins/marshallers/common/mgroup.h — the enrichment groups' cache, shared by the
 * marshallers (header-only, like mstr.h). The enrichment fields (container_* 40-43,
 * uplink1_* 100-124, uplink2_* 200-224, pod_* 5005-5006) are ~20 strings a record that
 * are the same on every record of a namespace (container, pod) or of the host (uplinks):
 * bounding, checking and escaping them per record cost more than all of tcp_info. So a
 * marshaller writes each group once into a per-thread cache, keyed by the addresses of
 * its text, the host's enrichment generation (ABI 1.7: it moves before the host frees
 * such text, so an address seen again in the same generation is the same text) and the
 * marshaller's mode, and copies those bytes into each record at the group's place in
 * field order: the output is byte for byte what writing the strings gives. */
#ifndef XTCPD_MGROUP_H
#define XTCPD_MGROUP_H

#include <stdint.h>
#include <string.h>
#include <xtcpd/plugin.h>

enum { MG_NONE, MG_CONTAINER, MG_UPLINK1, MG_UPLINK2, MG_POD, MG_N };

/* The group of schema field `num` (a constant: folds at compile time). */
#define MG_OF(num)                                                                       \
	((num) >= 40 && (num) <= 43 ? MG_CONTAINER :                                     \
	 (num) >= 100 && (num) <= 124 ? MG_UPLINK1 :                                     \
	 (num) >= 200 && (num) <= 224 ? MG_UPLINK2 :                                     \
	 (num) >= 5005 && (num) <= 5006 ? MG_POD : MG_NONE)
/* The group's first field: where its bytes go. */
#define MG_FIRST(num) ((num) == 40 || (num) == 100 || (num) == 200 || (num) == 5005)

/* One group's bytes; a group longer than this is written in place every time. */
#define MG_BYTES_MAX 1536

struct mg_entry {
	uint64_t gen;                   /* 0: empty */
	const void *key[4];
	unsigned mode;
	int truncated;                  /* what writing it saw, added per record */
	unsigned bad_utf8;
	size_t len;
	uint8_t bytes[MG_BYTES_MAX];
};

/* What one record's groups need: set up by the marshaller's append. */
struct mg_row {
	const struct xtcpd_host *host;  /* NULL: no cache (a host older than ABI 1.7) */
	struct xtcpd_ctx *ctx;
	struct mg_entry *cache;         /* this thread's, MG_N entries */
	uint64_t gen;                   /* read at the record's first group (0: not yet) */
	unsigned mode;                  /* the marshaller's options that change the bytes */
};

/* The dispatch every marshaller's group writer makes: CALL(G) with G the constant group,
 * so each group gets its own copy of the field writer, filtered at compile time. */
#define MG_DISPATCH(g, CALL)                                                             \
	switch (g) {                                                                     \
	case MG_CONTAINER: CALL(MG_CONTAINER); break;                                    \
	case MG_UPLINK1: CALL(MG_UPLINK1); break;                                        \
	case MG_UPLINK2: CALL(MG_UPLINK2); break;                                        \
	default: CALL(MG_POD); break;                                                    \
	}

/* Write group g of r at p, checked against end, as the marshaller's `mode` says; NULL
 * when it does not fit. The marshaller's own writer of the group's fields (its field
 * macros, filtered by MG_OF). */
typedef uint8_t *(*mg_write_fn)(uint8_t *p, const uint8_t *end, const struct xtcpd_record *r,
				int *truncated, unsigned *bad_utf8, int g, unsigned mode);

/* The addresses group g of r is made of; 0 when all are NULL (nothing to write, unless
 * the marshaller writes empty fields too). */
static inline int mg_keys(const struct xtcpd_record *r, int g, const void *key[4])
{
	key[0] = key[1] = key[2] = key[3] = NULL;
	switch (g) {
	case MG_CONTAINER:
		key[0] = r->container_id, key[1] = r->container_runtime;
		key[2] = r->container_name, key[3] = r->container_image;
		break;
	case MG_UPLINK1: key[0] = r->uplink[0]; break;
	case MG_UPLINK2: key[0] = r->uplink[1]; break;
	default: key[0] = r->pod_namespace, key[1] = r->pod_name; break;
	}
	return key[0] || key[1] || key[2] || key[3];
}

/* Whether group g of r has any text (g a constant: this folds to a few loads and tests,
 * so a marshaller calls mg_put only then and enrichment off costs what it did). */
static inline __attribute__((always_inline)) int mg_any(const struct xtcpd_record *r,
							const int g)
{
	switch (g) {
	case MG_CONTAINER:
		return r->container_id || r->container_runtime || r->container_name ||
		       r->container_image;
	case MG_UPLINK1: return r->uplink[0] != NULL;
	case MG_UPLINK2: return r->uplink[1] != NULL;
	default: return r->pod_namespace || r->pod_name;
	}
}

/* Group g of r at p, whose bytes must end by `limit`: copied from the cache when its text
 * is the cached text, else written (into the cache first when it fits there). `empty`:
 * the marshaller writes a group whose pointers are all NULL too (its defaults). NULL when
 * it does not fit before limit. */
static inline uint8_t *mg_put(uint8_t *p, const uint8_t *limit, const struct xtcpd_record *r,
			      int *truncated, unsigned *bad_utf8, struct mg_row *row, int g,
			      int empty, mg_write_fn write)
{
	const void *key[4];
	struct mg_entry *c;

	if (!mg_keys(r, g, key) && !empty)
		return p;  /* enrichment off: nothing to write */
	if (row->host == NULL)
		return write(p, limit, r, truncated, bad_utf8, g, row->mode);
	if (row->gen == 0)
		row->gen = row->host->enrich_generation(row->ctx);
	c = &row->cache[g];
	if (c->gen != row->gen || c->mode != row->mode || memcmp(c->key, key, sizeof(key))) {
		int tr = 0;
		unsigned bad = 0;
		uint8_t *q = write(c->bytes, c->bytes + sizeof(c->bytes), r, &tr, &bad, g, row->mode);

		if (q == NULL) {  /* too long to keep: in place, every time */
			c->gen = 0;
			return write(p, limit, r, truncated, bad_utf8, g, row->mode);
		}
		c->gen = row->gen;
		c->mode = row->mode;
		memcpy(c->key, key, sizeof(key));
		c->truncated = tr;
		c->bad_utf8 = bad;
		c->len = (size_t)(q - c->bytes);
	}
	if ((size_t)(limit - p) < c->len)
		return NULL;
	memcpy(p, c->bytes, c->len);
	*truncated |= c->truncated;
	*bad_utf8 += c->bad_utf8;
	return p + c->len;
}

#endif /* XTCPD_MGROUP_H */

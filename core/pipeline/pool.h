/* pool — fixed-capacity pools of same-size objects, allocated once, with statistics. */
#ifndef XTCPD_POOL_H
#define XTCPD_POOL_H

#include <stddef.h>
#include <stdint.h>

struct pool;

struct pool_stats {
	unsigned capacity, in_use, high_water;
	uint64_t gets, misses;
};

/* All `capacity` objects are reserved here (not touched: pages become resident on first
 * use); get/put never allocate. get returns the most recently put object first. */
int pool_create(const char *name, size_t obj_size, unsigned capacity, struct pool **out);
void pool_destroy(struct pool *p);     /* NULL ok */
/* Wait up to wait_ms (0: none, <0: forever) for a free object; NULL = miss (counted). */
void *pool_get(struct pool *p, int wait_ms);
void pool_put(struct pool *p, void *obj);
void pool_stats(struct pool *p, struct pool_stats *st);
const char *pool_name(const struct pool *p);
void pool_rename(struct pool *p, const char *name);
size_t pool_obj_size(const struct pool *p);

/* Every pool ever created and not destroyed, for metrics. */
typedef void (*pool_visit_fn)(void *arg, struct pool *p);
void pool_foreach(pool_visit_fn fn, void *arg);

#endif

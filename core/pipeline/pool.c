/* pool — fixed-capacity object pools. One slab per pool, a LIFO free stack of pointers,
 * one mutex + condvar (gets are per batch, not per record, so contention is negligible).
 * Slabs are mapped, not malloc'ed, and not pre-touched: pages become resident on first
 * use; and freeing a slab of tens of MB through malloc would raise glibc's mmap threshold
 * to its size, so that the next ones come from the heap and stay resident after they are
 * freed (RSS grew by the size of a pool with every reload that rebuilt one).
 * XTCPD_POOL_POISON=1 in the environment poisons freed objects (debug). */
#include "config.h"
#include "pipeline/pool.h"
#include "ops/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

struct pool {
	char name[48];
	size_t obj_size;
	unsigned capacity, nfree, high_water;
	uint64_t gets, misses;
	int poison;
	unsigned char *slab;
	size_t slab_len;
	void **free;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct pool *next;
};

static struct pool *pools;
static pthread_mutex_t pools_lock = PTHREAD_MUTEX_INITIALIZER;

int pool_create(const char *name, size_t obj_size, unsigned capacity, struct pool **out)
{
	struct pool *p;
	pthread_condattr_t ca;
	const char *env = secure_getenv("XTCPD_POOL_POISON");

	*out = NULL;
	if (!capacity || !obj_size)
		return -EINVAL;
	obj_size = (obj_size + 15) & ~(size_t)15;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->obj_size = obj_size;
	p->capacity = p->nfree = capacity;
	p->poison = env && *env == '1';
	p->slab_len = obj_size * capacity;
	p->slab = mmap(NULL, p->slab_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p->free = calloc(capacity, sizeof(void *));
	if (p->slab == MAP_FAILED || !p->free) {
		if (p->slab != MAP_FAILED)
			munmap(p->slab, p->slab_len);
		free(p->free);
		free(p);
		return -ENOMEM;
	}
	/* Not touched here: a page becomes resident when an object on it is first used,
	 * and the free stack hands out the most recently released object first (HAProxy
	 * style), so the pages in use follow the load, not the capacity. */
	for (unsigned i = 0; i < capacity; i++)
		p->free[i] = p->slab + (size_t)(capacity - 1 - i) * obj_size;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_lock(&pools_lock);
	p->next = pools;
	pools = p;
	pthread_mutex_unlock(&pools_lock);
	*out = p;
	return 0;
}

void pool_destroy(struct pool *p)
{
	struct pool **pp;

	if (!p)
		return;
	pthread_mutex_lock(&pools_lock);
	for (pp = &pools; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	pthread_mutex_unlock(&pools_lock);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	munmap(p->slab, p->slab_len);
	free(p->free);
	free(p);
}

void *pool_get(struct pool *p, int wait_ms)
{
	struct timespec dl;
	void *obj = NULL;

	if (wait_ms > 0)
		dl = clock_deadline(CLOCK_MONOTONIC, wait_ms);
	pthread_mutex_lock(&p->lock);
	p->gets++;
	while (!p->nfree && wait_ms != 0) {
		int rc = wait_ms < 0 ? pthread_cond_wait(&p->cond, &p->lock)
				     : pthread_cond_timedwait(&p->cond, &p->lock, &dl);
		if (rc == ETIMEDOUT)
			break;
	}
	if (p->nfree) {
		obj = p->free[--p->nfree];
		if (p->capacity - p->nfree > p->high_water)
			p->high_water = p->capacity - p->nfree;
	} else {
		p->misses++;
	}
	pthread_mutex_unlock(&p->lock);
	return obj;
}

void pool_put(struct pool *p, void *obj)
{
	if (!obj)
		return;
	if (p->poison)
		memset(obj, 0x5a, p->obj_size);
	pthread_mutex_lock(&p->lock);
	p->free[p->nfree++] = obj;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void pool_stats(struct pool *p, struct pool_stats *st)
{
	pthread_mutex_lock(&p->lock);
	st->capacity = p->capacity;
	st->in_use = p->capacity - p->nfree;
	st->high_water = p->high_water;
	st->gets = p->gets;
	st->misses = p->misses;
	pthread_mutex_unlock(&p->lock);
}

const char *pool_name(const struct pool *p)
{
	return p->name;
}

void pool_rename(struct pool *p, const char *name)
{
	pthread_mutex_lock(&pools_lock); /* the metrics read names under it */
	snprintf(p->name, sizeof(p->name), "%s", name);
	pthread_mutex_unlock(&pools_lock);
}

size_t pool_obj_size(const struct pool *p)
{
	return p->obj_size;
}

void pool_foreach(pool_visit_fn fn, void *arg)
{
	pthread_mutex_lock(&pools_lock);
	for (struct pool *p = pools; p; p = p->next)
		fn(arg, p);
	pthread_mutex_unlock(&pools_lock);
}

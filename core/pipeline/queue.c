/* queue — bounded ring of pointers guarded by one mutex and two condvars. Batches, not
 * records, go through it, so a lock per operation costs nothing measurable. */
#include "config.h"
#include "pipeline/queue.h"
#include "ops/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct queue {
	void **ring;
	unsigned cap, head, count;
	int closed;
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
};

int queue_create(unsigned capacity, struct queue **out)
{
	struct queue *q;
	pthread_condattr_t ca;

	*out = NULL;
	if (!capacity)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->ring = calloc(capacity, sizeof(void *));
	if (!q->ring) {
		free(q);
		return -ENOMEM;
	}
	q->cap = capacity;
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->not_empty, &ca);
	pthread_cond_init(&q->not_full, &ca);
	pthread_condattr_destroy(&ca);
	*out = q;
	return 0;
}

void queue_destroy(struct queue *q)
{
	if (!q)
		return;
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
	free(q->ring);
	free(q);
}

int queue_push(struct queue *q, void *item, int wait_ms)
{
	struct timespec dl;
	int rc = 0;

	dl = clock_deadline(CLOCK_MONOTONIC, wait_ms);
	pthread_mutex_lock(&q->lock);
	while (!q->closed && q->count == q->cap && wait_ms > 0 && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&q->not_full, &q->lock, &dl);
	if (q->closed) {
		rc = -EPIPE;
	} else if (q->count == q->cap) {
		rc = -EAGAIN;
	} else {
		q->ring[(q->head + q->count) % q->cap] = item;
		q->count++;
		pthread_cond_signal(&q->not_empty);
		rc = 0;
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

void *queue_pop(struct queue *q)
{
	void *item = NULL;

	pthread_mutex_lock(&q->lock);
	while (!q->count && !q->closed)
		pthread_cond_wait(&q->not_empty, &q->lock);
	if (q->count) {
		item = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->count--;
		pthread_cond_signal(&q->not_full);
	}
	pthread_mutex_unlock(&q->lock);
	return item;
}

void queue_close(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = 1;
	pthread_cond_broadcast(&q->not_empty);
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->lock);
}

unsigned queue_depth(struct queue *q)
{
	unsigned n;

	pthread_mutex_lock(&q->lock);
	n = q->count;
	pthread_mutex_unlock(&q->lock);
	return n;
}

unsigned queue_capacity(const struct queue *q)
{
	return q->cap;
}

/* queue — a bounded multi-producer, single-consumer queue of pointers between stages. */
#ifndef XTCPD_QUEUE_H
#define XTCPD_QUEUE_H

#include <stdint.h>

struct queue;

int queue_create(unsigned capacity, struct queue **out);
void queue_destroy(struct queue *q);   /* NULL ok; must be empty or its items are lost */
/* Add an item, waiting up to wait_ms when full (0: no wait). 0, -EAGAIN when full,
 * -EPIPE once closed. */
int queue_push(struct queue *q, void *item, int wait_ms);
/* Take the oldest item, waiting while empty; NULL once closed and drained. */
void *queue_pop(struct queue *q);
/* No more pushes; pop drains what is left then returns NULL. */
void queue_close(struct queue *q);
unsigned queue_depth(struct queue *q);
unsigned queue_capacity(const struct queue *q);

#endif

/* reader — one cycle: the main thread creates each namespace's iterator inside it (host
 * ns_run) and queues it; `readers` threads (constant, started once) take namespaces off
 * the queue, read their iterator to the end into a fixed buffer, convert and emit each
 * record. A read may end inside a record: the tail moves to the front of the buffer.
 * Nothing is allocated per cycle. */
#include "bisrc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

struct bpfi_lane {
	struct bpfi *s;
	unsigned id;
};


/* Convert and emit every whole record of buf[0, len); returns the bytes used. Records are
 * read in place: buf is the pool's (aligned) and every record starts at a multiple of
 * its size, which keeps the alignment (the 480-byte copy per socket was ~2 % of a pass). */
static size_t bpfi_emit_buf(struct bpfi *s, struct bpfi_ns *n, unsigned lane, const uint8_t *buf,
			    size_t len, uint64_t *count)
{
	const size_t sz = sizeof(struct bpfi_rec);
	struct xtcpd_record rec;
	size_t off = 0;

	_Static_assert(sizeof(struct bpfi_rec) % _Alignof(struct bpfi_rec) == 0,
		       "records in place keep their alignment");
	for (; off + sz <= len; off += sz) {
		const struct bpfi_rec *b = (const struct bpfi_rec *)(const void *)(buf + off);

		if (b->magic != BPFI_MAGIC || b->size != sz) {
			/* Cannot happen with our own program: the stream is out of step. */
			BPFI_ADD(s, BPFI_M_ERR_RECORD, 1);
			return len;
		}
		if (atomic_load_explicit(&s->closed, memory_order_relaxed)) {
			BPFI_ADD(s, BPFI_M_LATE, 1);
			continue;
		}
		bpfi_conv(b, s->hz, s->decode, &rec);
		rec.socket_fd = (uint64_t)n->iter_fd;
		if (rec.flags & XTCPD_REC_INFO_OVERSIZE)
			BPFI_ADD(s, BPFI_M_OVERSIZE, 1);
		s->host->emit_ns(s->ctx, lane, n->ns, &rec); /* the host fills the namespace fields */
		(*count)++;
	}
	return off;
}

/* Read one namespace's iterator to its end. */
static void bpfi_read_ns(struct bpfi *s, struct bpfi_ns *n, unsigned lane, uint8_t *buf)
{
	size_t have = 0;
	uint64_t count = 0, bytes = 0;

	for (;;) {
		ssize_t r = read(n->iter_fd, buf + have, s->read_buffer - have);
		size_t used;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			BPFI_ADD(s, BPFI_M_ERR_READ, 1);
			s->host->log_ratelimited(s->ctx, bpfi_read_ns, 60000, XTCPD_LOG_WARN,
				"namespace %s: reading the iterator: %s", n->ns->name, strerror(errno));
			break;
		}
		if (r == 0)
			break;
		bytes += (uint64_t)r;
		have += (size_t)r;
		used = bpfi_emit_buf(s, n, lane, buf, have, &count);
		memmove(buf, buf + used, have - used);
		have -= used;
		if (atomic_load_explicit(&s->closed, memory_order_relaxed))
			break;
	}
	if (have)
		BPFI_ADD(s, BPFI_M_ERR_RECORD, 1);
	BPFI_ADD(s, BPFI_M_RECORDS, count);
	BPFI_ADD(s, BPFI_M_BYTES, bytes);
}

static void *bpfi_reader(void *arg)
{
	struct bpfi_lane *l = arg;
	struct bpfi *s = l->s;
	uint8_t *buf = s->bufs + (size_t)l->id * s->read_buffer;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct bpfi_ns *n;

		while (!s->head && !s->stopping)
			pthread_cond_wait(&s->work, &s->lock);
		if (s->stopping)
			break;
		n = s->head;
		s->head = n->next;
		if (!s->head)
			s->tail = &s->head;
		s->queued--;
		s->active++;
		pthread_mutex_unlock(&s->lock);
		if (!atomic_load(&s->closed))
			bpfi_read_ns(s, n, l->id, buf);
		close(n->iter_fd);
		n->iter_fd = -1;
		pthread_mutex_lock(&s->lock);
		s->active--;
		pthread_cond_broadcast(&s->idle);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int bpfi_readers_start(struct bpfi *s)
{
	int err;

	struct bpfi_lane *lanes = calloc(s->readers, sizeof(*lanes));

	s->lanes = lanes;
	s->threads = calloc(s->readers, sizeof(*s->threads));
	if (!s->threads || !lanes)
		return -ENOMEM;
	for (unsigned i = 0; i < s->readers; i++) {
		lanes[i] = (struct bpfi_lane){ s, i };
		err = pthread_create(&s->threads[i], NULL, bpfi_reader, &lanes[i]);
		if (err)
			return -err;
		s->n_threads++;
	}
	return 0;
}

void bpfi_readers_stop(struct bpfi *s)
{
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_cond_broadcast(&s->work);
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < s->n_threads; i++)
		pthread_join(s->threads[i], NULL);
	s->n_threads = 0;
	free(s->threads);
	free(s->lanes);
	s->threads = NULL;
	s->lanes = NULL;
}

/* ns_run callback: the iterator of the namespace the calling thread is in. */
static int bpfi_iter_open(void *arg)
{
	struct bpfi_ns *n = arg;
	int fd = bpf_iter_create(n->src->link_fd);

	return fd < 0 ? -errno : fd;
}

static void bpfi_enqueue(struct bpfi *s, struct bpfi_ns *n)
{
	int fd = s->host->ns_run(s->ctx, n->ns, bpfi_iter_open, n);

	if (fd < 0) {
		BPFI_ADD(s, BPFI_M_ERR_ITER, 1);
		s->host->log_ratelimited(s->ctx, bpfi_enqueue, 60000, XTCPD_LOG_WARN,
			"namespace %s: cannot create its iterator: %s", n->ns->name, strerror(-fd));
		return;
	}
	BPFI_ADD(s, BPFI_M_ITERS, 1);
	n->iter_fd = fd;
	n->next = NULL;
	pthread_mutex_lock(&s->lock);
	*s->tail = n;
	s->tail = &n->next;
	s->queued++;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->lock);
}

int bpfi_cycle(struct bpfi *s, const struct xtcpd_cycle *cyc)
{
	struct timespec dl = { (time_t)(cyc->deadline_ns / 1000000000), (long)(cyc->deadline_ns % 1000000000) };
	uint64_t before = atomic_load(s->m[BPFI_M_RECORDS]);
	int err = 0;

	atomic_store(&s->closed, 0);
	for (size_t i = 0; i < cyc->n_ns; i++) {
		struct bpfi_ns *n = cyc->ns[i]->source_priv;

		if (!n)
			continue;
		if (s->skip_empty && !nlss_has_tcp(&n->ss)) {
			BPFI_ADD(s, BPFI_M_NS_SKIPPED, 1);
			continue;
		}
		bpfi_enqueue(s, n);
	}
	pthread_mutex_lock(&s->lock);
	while ((s->queued || s->active) && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&s->idle, &s->lock, &dl);
	if (s->queued || s->active) {
		/* Past the deadline: emit nothing more, drop what is queued, wait for readers
		 * to leave the buffer they are in. */
		atomic_store(&s->closed, 1);
		BPFI_ADD(s, BPFI_M_MISSED, s->queued + s->active);
		while (s->head) {
			struct bpfi_ns *n = s->head;

			s->head = n->next;
			close(n->iter_fd);
			n->iter_fd = -1;
		}
		s->tail = &s->head;
		s->queued = 0;
		while (s->active)
			pthread_cond_wait(&s->idle, &s->lock);
		err = -ETIMEDOUT;
	} else {
		err = 0;
	}
	pthread_mutex_unlock(&s->lock);
	atomic_store(s->m[BPFI_M_CYCLE_SOCKETS], atomic_load(s->m[BPFI_M_RECORDS]) - before);
	return err;
}

/* rows — protobufList rows and the subscribers' rings (see rows.h). Nothing here
 * allocates but ring_init. */
#include "config.h"
#include "rows.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;

	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;

		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -EBADMSG;
}

int rows_split(const uint8_t *data, size_t n,
	       void (*fn)(void *arg, const uint8_t *rec, size_t len), void *arg)
{
	const uint8_t *p = data, *end = data + n;
	uint64_t len, key;
	int rows = 0;

	if (varint(&p, end, &len) || len != (uint64_t)(end - p))
		return -EBADMSG;
	while (p < end) {
		if (varint(&p, end, &key) || key != ((10u << 3) | 2) || varint(&p, end, &len) ||
		    len > (uint64_t)(end - p))
			return -EBADMSG;
		if (fn)
			fn(arg, p, (size_t)len);
		p += len;
		rows++;
	}
	return rows;
}

int64_t rows_timestamp(const uint8_t *rec, size_t len)
{
	const uint8_t *p = rec, *end = rec + len;
	uint64_t key, v;

	while (p < end) {
		if (varint(&p, end, &key))
			return 0;
		switch (key & 7) {
		case 0:
			if (varint(&p, end, &v))
				return 0;
			if (key >> 3 == 10)
				return (int64_t)v;
			break;
		case 1: if (end - p < 8) return 0; p += 8; break;
		case 5: if (end - p < 4) return 0; p += 4; break;
		case 2:
			if (varint(&p, end, &v) || v > (uint64_t)(end - p))
				return 0;
			p += v;
			break;
		default:
			return 0;
		}
	}
	return 0;
}

#define RING_PAD(n) (((n) + 3) & ~(size_t)3)

int ring_init(struct ring *r, size_t cap)
{
	memset(r, 0, sizeof(*r));
	cap = RING_PAD(cap);
	r->buf = malloc(cap);
	if (!r->buf)
		return -ENOMEM;
	r->cap = cap;
	return 0;
}

void ring_fini(struct ring *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* Room for `need` contiguous bytes at r->tail (wrapping to 0 when the end is short):
 * the offset, or -1. */
static long ring_room(struct ring *r, size_t need)
{
	if (!r->used)
		r->head = r->tail = 0;
	if (r->tail >= r->head && (r->used == 0 || r->tail != r->head)) {
		if (r->cap - r->tail >= need)
			return (long)r->tail;
		if (r->head >= need) {  /* wrap: the end's gap counts as used */
			if (r->cap - r->tail >= 4)
				memset(r->buf + r->tail, 0, 4);
			r->used += r->cap - r->tail;
			r->tail = 0;
			return 0;
		}
		return -1;
	}
	return r->head - r->tail >= need ? (long)r->tail : -1;
}

int ring_push_record(struct ring *r, const uint8_t *rec, size_t len)
{
	uint8_t hdr[11];
	size_t h = 0, need;
	uint64_t v = len;
	uint32_t total;
	long at;

	hdr[h++] = (1u << 3) | 2;  /* FlatRecordsResponse.xtcp_flat_record */
	do {
		hdr[h++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	total = (uint32_t)(h + len);
	need = RING_PAD(4 + (size_t)total);
	if (need > r->cap)
		return -E2BIG;
	if ((at = ring_room(r, need)) < 0)
		return -ENOSPC;
	memcpy(r->buf + at, &total, 4);
	memcpy(r->buf + at + 4, hdr, h);
	memcpy(r->buf + at + 4 + h, rec, len);
	r->tail = (size_t)at + need;
	if (r->tail == r->cap)
		r->tail = 0;
	r->used += need;
	r->entries++;
	return 0;
}

/* At the head, skip the end's gap (a zero length or too few bytes left). */
static void ring_skip_gap(struct ring *r)
{
	uint32_t n;

	if (!r->used)
		return;
	if (r->cap - r->head >= 4)
		memcpy(&n, r->buf + r->head, 4);
	if (r->cap - r->head < 4 || !n) {
		r->used -= r->cap - r->head;
		r->head = 0;
	}
}

size_t ring_peek(struct ring *r, const uint8_t **p)
{
	uint32_t n;

	ring_skip_gap(r);
	if (!r->used)
		return 0;
	memcpy(&n, r->buf + r->head, 4);
	*p = r->buf + r->head + 4;
	return n;
}

void ring_pop(struct ring *r)
{
	uint32_t n;
	size_t need;

	ring_skip_gap(r);
	if (!r->used)
		return;
	memcpy(&n, r->buf + r->head, 4);
	need = RING_PAD(4 + (size_t)n);
	r->head += need;
	if (r->head == r->cap)
		r->head = 0;
	r->used -= need;
	r->entries--;
}

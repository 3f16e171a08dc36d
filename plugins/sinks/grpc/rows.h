/* rows — the record stream's byte work, without gRPC: a protobufList batch split into
 * its rows (each row's bytes are already an encoded XtcpFlatRecord), and a bounded byte
 * ring per subscriber holding each row re-framed as a FlatRecordsResponse (field 1 =
 * the record: a tag and a length in front, no second encoding). */
#ifndef XTCPD_GRPC_ROWS_H
#define XTCPD_GRPC_ROWS_H

#include <stddef.h>
#include <stdint.h>

/* data = varint(len) Envelope, Envelope = repeated { field 10: XtcpFlatRecord }. Calls
 * fn for each row; returns the rows, or -EBADMSG (not a protobufList message). */
int rows_split(const uint8_t *data, size_t n,
	       void (*fn)(void *arg, const uint8_t *rec, size_t len), void *arg);
/* The record's timestamp_ns (field 10, int64), 0 when absent or malformed. */
int64_t rows_timestamp(const uint8_t *rec, size_t len);

/* A ring of whole entries: [u32 len][len bytes] padded to 4, contiguous. */
struct ring {
	uint8_t *buf;
	size_t cap, head, tail, used;
	uint32_t entries;
};

int ring_init(struct ring *r, size_t cap);     /* 0 or -ENOMEM */
void ring_fini(struct ring *r);
/* Append the FlatRecordsResponse for one record: 0, or -ENOSPC (full: nothing written;
 * -E2BIG if it could never fit). */
int ring_push_record(struct ring *r, const uint8_t *rec, size_t len);
/* The oldest entry (its bytes, contiguous) or 0 when empty; ring_pop drops it. */
size_t ring_peek(struct ring *r, const uint8_t **p);
void ring_pop(struct ring *r);

#endif

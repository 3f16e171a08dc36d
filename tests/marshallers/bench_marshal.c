/* tests/marshallers/bench_marshal.c — `make bench`: nanoseconds and bytes per record for
 * each marshaller on a fixed set of realistic records (mt_real.c; to be replaced by a
 * replay of captured dumps), against protobuf-c's generic protobuf_c_message_pack, and
 * against the kernel's own per-socket dump cost measured here (bench_kernel.c).
 * Prints numbers only: no timing assertion anywhere. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/record_fields.h"
#include "proto/xtcp_flat_record.pb-c.h"
#include "tests/marshallers/mt.h"
#include "tests/marshallers/bench.h"

#define NREC 1000
#define PASSES 40
#define ROUNDS 7   /* each figure is the best round: the machine is shared */
#define BATCH_ROWS 1000

static struct mt_rec recs[NREC];
static uint8_t data[768 << 10];
static uint8_t pcbuf[8 << 20];

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* All records PASSES times through a marshaller in 768 KiB buffers, as the core does;
 * the best of ROUNDS rounds. */
static int bench_plugin(const char *name, double *ns, double *bytes)
{
	const struct xtcpd_plugin *p = mt_load(name);
	const struct xtcpd_marshaller_ops *ops;
	struct xtcpd_buf buf = { .data = data, .cap = sizeof(data) };
	double t0, t, total;
	void *inst;
	int round, pass, rc;
	size_t i;

	if (p == NULL || mt_create(p, NULL, 0, &inst) != 0)
		return -1;
	ops = mt_ops(p);
	*ns = 1e30;
	for (round = -1; round < ROUNDS; round++) { /* round -1 warms up */
		total = 0;
		t0 = now_ns();
		for (pass = 0; pass < PASSES; pass++) {
			ops->begin(inst, &buf);
			for (i = 0; i < NREC; i++) {
				rc = ops->append(inst, &buf, &recs[i].r);
				if (rc == -ENOSPC) {
					ops->finish(inst, &buf);
					total += (double)(buf.len - buf.off);
					ops->begin(inst, &buf);
					rc = ops->append(inst, &buf, &recs[i].r);
				}
				if (rc != 0)
					return -1;
			}
			ops->finish(inst, &buf);
			total += (double)(buf.len - buf.off);
		}
		t = (now_ns() - t0) / ((double)NREC * PASSES);
		if (round >= 0 && t < *ns)
			*ns = t;
	}
	*bytes = total / ((double)NREC * PASSES);
	ops->common.destroy(inst);
	return 0;
}

/* ---- the protobuf-c baseline: fill the generated struct, protobuf_c_message_pack -------- */

typedef XtcpFlatRecord__V1__XtcpFlatRecord Row;

#define PC_U32(name, cond, val) m->name = (cond) ? (uint32_t)(val) : 0;
#define PC_U64(name, cond, val) m->name = (cond) ? (uint64_t)(val) : 0;
#define PC_I64(name, cond, val) m->name = (cond) ? (int64_t)(val) : 0;
#define PC_ENUM(name, cond, val) m->name = (cond) ? (val) : 0;
#define PC_BOOL(name, cond, val) m->name = (cond) && (val);
#define PC_STR(name, cond, val) \
	m->name = ((cond) && (val)) ? (char *)(val) : (char *)protobuf_c_empty_string;
#define PC_NAME PC_STR
#define PC_ADDR(name, cond, val) m->name.len = (cond) ? 16 : 0, m->name.data = (uint8_t *)(val);
#define PC_FIELD(num, name, camel, type, jmode, jkey, cond, val) PC_##type(name, cond, val)

static void pc_fill(Row *m, const struct xtcpd_record *r)
{
	XTCPD_RECORD_FIELDS(PC_FIELD)
}

static size_t pc_varint(uint8_t *p, size_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* fill: 1 = fill the structs inside the timed loop (what an encoder built on protobuf-c
 * must do per record), 0 = time get_packed_size + pack only. Best of ROUNDS rounds. */
static void bench_pc(int fill, double *ns, double *bytes)
{
	static Row rows[BATCH_ROWS];
	static Row *rowp[BATCH_ROWS];
	XtcpFlatRecord__V1__Envelope env = XTCP_FLAT_RECORD__V1__ENVELOPE__INIT;
	double t0, total = 0, t;
	size_t i, j, n, k;
	int pass, round;

	for (i = 0; i < BATCH_ROWS; i++) {
		xtcp_flat_record__v1__xtcp_flat_record__init(&rows[i]);
		rowp[i] = &rows[i];
	}
	env.row = rowp;
	*ns = 1e30;
	for (round = -1; round < ROUNDS; round++) {
		total = t = 0;
		for (pass = 0; pass < PASSES; pass++) {
			for (i = 0; i < NREC; i += BATCH_ROWS) {
				k = NREC - i < BATCH_ROWS ? NREC - i : BATCH_ROWS;
				if (!fill)
					for (j = 0; j < k; j++)
						pc_fill(&rows[j], &recs[i + j].r);
				t0 = now_ns();
				if (fill)
					for (j = 0; j < k; j++)
						pc_fill(&rows[j], &recs[i + j].r);
				env.n_row = k;
				n = xtcp_flat_record__v1__envelope__get_packed_size(&env);
				n = pc_varint(pcbuf, n) +
				    xtcp_flat_record__v1__envelope__pack(&env, pcbuf + 10);
				t += now_ns() - t0;
				total += (double)n;
			}
		}
		t /= (double)NREC * PASSES;
		if (round >= 0 && t < *ns)
			*ns = t;
	}
	*bytes = total / ((double)NREC * PASSES);
}

int main(void)
{
	static const char *const names[] = { "protobufList", "protoJson", "json" };
	double ns[3], bytes[3], pc_ns, pc_bytes, pk_ns, pk_bytes, k_ns;
	unsigned i, k_socks;
	int rc;

	for (i = 0; i < NREC; i++)
		mt_fill_real(&recs[i], i);
	printf("marshaller bench: %d realistic records x %d passes, best of %d rounds, "
	       "768 KiB buffers\n", NREC, PASSES, ROUNDS);
	bench_pc(1, &pc_ns, &pc_bytes);
	bench_pc(0, &pk_ns, &pk_bytes);
	for (i = 0; i < 3; i++) {
		if (bench_plugin(names[i], &ns[i], &bytes[i]) != 0) {
			fprintf(stderr, "bench %s failed\n", names[i]);
			return 1;
		}
		printf("  %-34s %8.1f ns/record %8.1f bytes/record  (%.2fx protobuf-c fill+pack)\n",
		       names[i], ns[i], bytes[i], ns[i] / pc_ns);
	}
	printf("  %-34s %8.1f ns/record %8.1f bytes/record\n",
	       "protobuf-c fill + message_pack", pc_ns, pc_bytes);
	printf("  %-34s %8.1f ns/record %8.1f bytes/record\n",
	       "protobuf-c message_pack only", pk_ns, pk_bytes);
	printf("  protobufList speedup vs protobuf-c: %.2fx (fill+pack), %.2fx (pack only)\n",
	       pc_ns / ns[0], pk_ns / ns[0]);
	rc = bench_kernel_dump(&k_ns, &k_socks);
	if (rc == 0)
		printf("  kernel sock_diag dump (INFO|CONG|SKMEMINFO|TOS|SHUTDOWN): %.1f ns/socket "
		       "over %u sockets\n  protobufList = %.1f%% of the kernel's dump time\n",
		       k_ns, k_socks, 100.0 * ns[0] / k_ns);
	else
		printf("  kernel dump not measured: %s\n", strerror(-rc));
	return 0;
}

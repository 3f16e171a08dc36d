/* tests/plugins/marshallers/test_noalloc.c — after a warm-up cycle, marshalling a cycle of
 * records with any of the marshallers (protobufList, protoJson, json, csv, tsv,
 * protoText) calls malloc/calloc/realloc zero times.
 * The allocator is interposed here (exported with default visibility and
 * --export-dynamic, so the dlopened plugins resolve to it) and counts while `counting`
 * is set. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/plugins/marshallers/mt.h"

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

static atomic_int counting;
static atomic_ulong nalloc;

__attribute__((visibility("default"))) void *malloc(size_t n)
{
	if (atomic_load_explicit(&counting, memory_order_relaxed))
		atomic_fetch_add(&nalloc, 1);
	return __libc_malloc(n);
}

__attribute__((visibility("default"))) void *calloc(size_t n, size_t size)
{
	if (atomic_load_explicit(&counting, memory_order_relaxed))
		atomic_fetch_add(&nalloc, 1);
	return __libc_calloc(n, size);
}

__attribute__((visibility("default"))) void *realloc(void *p, size_t n)
{
	if (atomic_load_explicit(&counting, memory_order_relaxed))
		atomic_fetch_add(&nalloc, 1);
	return __libc_realloc(p, n);
}

__attribute__((visibility("default"))) void free(void *p)
{
	__libc_free(p);
}

#define NREC 2000
static struct mt_rec recs[NREC + 4];
static uint8_t data[768 << 10];

/* One poll cycle's worth: every record, flushing full buffers as the core would. */
static size_t cycle(const struct xtcpd_plugin *p, void *inst)
{
	const struct xtcpd_marshaller_ops *ops = mt_ops(p);
	struct xtcpd_buf buf = { .data = data, .cap = sizeof(data) };
	size_t i, msgs = 0;
	int rc;

	ops->begin(inst, &buf);
	for (i = 0; i < NREC + 4; i++) {
		rc = ops->append(inst, &buf, &recs[i].r);
		if (rc == -ENOSPC) {
			ops->finish(inst, &buf);
			msgs++;
			ops->begin(inst, &buf);
			rc = ops->append(inst, &buf, &recs[i].r);
		}
		if (rc != 0)
			return 0;
	}
	ops->finish(inst, &buf);
	return msgs + 1;
}

static void run(const char *name)
{
	const struct xtcpd_plugin *p = mt_load(name);
	void *inst;
	size_t msgs;
	int i;

	assert_non_null(p);
	assert_int_equal(mt_create(p, NULL, &inst), 0);
	assert_true(cycle(p, inst) > 0); /* warm-up */
	atomic_store(&nalloc, 0);
	atomic_store(&counting, 1);
	for (i = 0, msgs = 0; i < 5; i++)
		msgs += cycle(p, inst);
	atomic_store(&counting, 0);
	assert_int_equal(atomic_load(&nalloc), 0);
	assert_true(msgs >= 5);
	mt_destroy(p, inst);
}

static void test_counter_counts(void **state)
{
	void *volatile p;

	(void)state;
	/* The interposed allocator does see allocations (else the tests below prove
	 * nothing). */
	atomic_store(&nalloc, 0);
	atomic_store(&counting, 1);
	p = malloc(16);
	atomic_store(&counting, 0);
	free(p);
	assert_int_equal(atomic_load(&nalloc), 1);
}

static void test_protobuf_list(void **state) { (void)state; run("protobufList"); }
static void test_proto_json(void **state) { (void)state; run("protoJson"); }
static void test_json(void **state) { (void)state; run("json"); }
static void test_csv(void **state) { (void)state; run("csv"); }
static void test_tsv(void **state) { (void)state; run("tsv"); }
static void test_proto_text(void **state) { (void)state; run("protoText"); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_counts),
		cmocka_unit_test(test_protobuf_list),
		cmocka_unit_test(test_proto_json),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_tsv),
		cmocka_unit_test(test_proto_text),
	};
	unsigned i;

	for (i = 0; i < NREC; i++)
		mt_fill_real(&recs[i], i);
	mt_fill(&recs[i++], MT_FULL, 1);
	mt_fill(&recs[i++], MT_FEW, 2);
	mt_fill(&recs[i++], MT_FULL, 3);
	mt_fill(&recs[i++], MT_FEW, 4);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

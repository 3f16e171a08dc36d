/* test_noalloc — after the first cycle, a poll cycle performs no heap allocation: the
 * synth source drives 20,000 records a cycle through each marshaller (protobufList,
 * protoJson, json, csv, tsv, protoText) into the null and
 * file sinks, and every malloc/calloc/realloc of the process (all threads, all plugins)
 * is counted by the wrappers below. Also checks every record arrived. */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/lib/skip.h"

#include "core/ops/daemon.h"
#include "core/ops/metrics.h"
#include "core/pipeline/pipeline.h"

/* The executable's definitions (exported: the build hides symbols by default) interpose for every shared object, dlopened ones too. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
static atomic_ulong n_alloc;

__attribute__((visibility("default"))) void *malloc(size_t n) { atomic_fetch_add(&n_alloc, 1); return __libc_malloc(n); }
__attribute__((visibility("default"))) void *calloc(size_t a, size_t b) { atomic_fetch_add(&n_alloc, 1); return __libc_calloc(a, b); }
__attribute__((visibility("default"))) void *realloc(void *p, size_t n) { atomic_fetch_add(&n_alloc, 1); return __libc_realloc(p, n); }
__attribute__((visibility("default"))) void *aligned_alloc(size_t al, size_t n) { atomic_fetch_add(&n_alloc, 1); return __libc_memalign(al, n); }
__attribute__((visibility("default"))) int posix_memalign(void **out, size_t al, size_t n)
{
	atomic_fetch_add(&n_alloc, 1);
	*out = __libc_memalign(al, n);
	return *out ? 0 : ENOMEM;
}

#define RECORDS 20000
#define CYCLES 30

static void run(const char *marshaller)
{
	char path[] = "/tmp/xtcpd-noalloc-XXXXXX", text[512], lab[128];
	struct daemon_opts o = { 0 };
	struct plugin_set ps = { 0 };
	struct conf c;
	struct pipeline *pl;
	unsigned long before, per_cycle[CYCLES];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	/* Every shared object (plugins, json-c, librdkafka...) resolves malloc to the
	 * counting one. (glibc's own internal calls, e.g. inside fopen, are not seen.) */
	void *(*dyn_malloc)(size_t) = (void *(*)(size_t))dlsym(RTLD_DEFAULT, "malloc");
	assert_ptr_equal(dyn_malloc, malloc);
	before = atomic_load(&n_alloc);
	free(dyn_malloc(16));
	assert_int_equal(atomic_load(&n_alloc) - before, 1);
	snprintf(text, sizeof(text),
		 "[core]\nprom_listen =\n[source synth]\nrecords = %d\nlanes = 2\n"
		 "[marshaller %s]\nflush_rows = 1000\n"
		 "[sink null]\nqueue_depth = 64\n[sink file out]\npath = /dev/null\nqueue_depth = 64\n",
		 RECORDS, marshaller);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	o.conf_path = path;
	assert_int_equal(daemon_load_conf(&o, &c, &ps), 0);
	assert_int_equal(pipeline_create(&c, &ps, &(struct pipeline_opts){ .daemon_version = "t" }, NULL, &pl), 0);
	assert_int_equal(pipeline_start(pl), 0);
	for (int i = 0; i < CYCLES; i++) {
		before = atomic_load(&n_alloc);
		assert_int_equal(pipeline_cycle(pl, (uint64_t)i + 1, NULL, 0, 5000), 0);
		per_cycle[i] = atomic_load(&n_alloc) - before;
	}
	assert_int_equal(pipeline_stop(pl, 5000), 0);
	for (int i = 1; i < CYCLES; i++) {
		if (per_cycle[i])
			fprintf(stderr, "%s: cycle %d made %lu allocations\n", marshaller, i + 1, per_cycle[i]);
		assert_int_equal(per_cycle[i], 0);
	}
	snprintf(lab, sizeof(lab), "plugin=\"sink/null\",result=\"delivered\"");
	assert_int_equal(metrics_value("xtcpd_sink_records_done_total", lab), (uint64_t)RECORDS * CYCLES);
	snprintf(lab, sizeof(lab), "plugin=\"sink/out\",result=\"delivered\"");
	assert_int_equal(metrics_value("xtcpd_sink_records_done_total", lab), (uint64_t)RECORDS * CYCLES);
	assert_int_equal(metrics_value("xtcpd_records_dropped_total",
				       "plugin=\"sink/null\",stage=\"sink_queue\",reason=\"queue_full\""), 0);
	pipeline_destroy(pl);
	conf_free(&c);
	plugin_set_fini(&ps);
	metrics_reset();
	unlink(path);
}

static int have(const char *name)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/marshaller_%s.so", getenv("XTCPD_PLUGIN_DIR"), name);
	return access(p, F_OK) == 0;
}

static void test_protobuf_list(void **state)
{
	assert_true(have("protobufList"));
	run("protobufList");
}

static void test_proto_json(void **state)
{
	if (!have("protoJson"))
		XT_SKIP("marshaller_protoJson.so not built");
	run("protoJson");
}

static void test_json(void **state)
{
	if (!have("json"))
		XT_SKIP("marshaller_json.so not built (configure --enable-json=yes)");
	run("json");
}

/* The text marshallers need no library: always built. */
static void test_csv(void **state)
{
	(void)state;
	assert_true(have("csv"));
	run("csv");
}

static void test_tsv(void **state)
{
	(void)state;
	assert_true(have("tsv"));
	run("tsv");
}

static void test_proto_text(void **state)
{
	(void)state;
	assert_true(have("protoText"));
	run("protoText");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_protobuf_list),
		cmocka_unit_test(test_proto_json),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_tsv),
		cmocka_unit_test(test_proto_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

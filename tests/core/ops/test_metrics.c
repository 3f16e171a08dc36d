/* test_metrics — label values in /metrics cannot end their label set (issue 23, item 10):
 * metrics_escape escapes \, " and newline and never cuts an escape in half; a label set
 * that is not name="value" pairs with escaped values is refused at registration; an
 * instance label made by the host and a hostile value render as one series each, which
 * promtool (when installed) accepts. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ops/metrics.h"
#include "pipeline/host.h"

#define HOSTILE "x\"} 1\nevil_metric{a=\"1"

static void test_escape(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(metrics_escape(out, sizeof(out), "a\"b\\c\nd"), 10);
	assert_string_equal(out, "a\\\"b\\\\c\\nd");
	/* 4 bytes of room: "a\"" needs 3 + NUL; "a\"b" would cut nothing in half */
	assert_int_equal(metrics_escape(out, 4, "a\"b"), 4);
	assert_string_equal(out, "a\\\"");
	assert_int_equal(metrics_escape(out, 3, "a\"b"), 4);
	assert_string_equal(out, "a");      /* never a lone backslash */
	assert_int_equal(metrics_escape(out, sizeof(out), ""), 0);
	assert_string_equal(out, "");
}

static void test_labels_ok(void **state)
{
	(void)state;
	assert_true(metrics_labels_ok(NULL));
	assert_true(metrics_labels_ok(""));
	assert_true(metrics_labels_ok("a=\"1\""));
	assert_true(metrics_labels_ok("reason=\"x\\\"y\\\\z\\n\",_b2=\"\""));
	assert_false(metrics_labels_ok("a=\"" HOSTILE "\""));
	assert_false(metrics_labels_ok("a=1"));
	assert_false(metrics_labels_ok("a=\"1"));
	assert_false(metrics_labels_ok("1a=\"1\""));
	assert_false(metrics_labels_ok("a=\"1\",,b=\"2\""));
	assert_false(metrics_labels_ok("a=\"1\"}"));
	assert_false(metrics_labels_ok("a=\"x\\q\""));
	assert_false(metrics_labels_ok("a=\"line\nbreak\""));
}

static void test_render(void **state)
{
	char esc[128], lab[160], path[] = "/tmp/xt-test-metrics-XXXXXX";
	struct conf_section sec = { .instance = HOSTILE };
	struct metrics_buf out = { 0 };
	struct xtcpd_ctx ctx = { 0 };
	_Atomic uint64_t *m;
	FILE *f;
	int fd;

	(void)state;
	metrics_reset();
	/* a plugin's malformed label set: refused, nothing registered */
	assert_null(metrics_get(XTCPD_METRIC_COUNTER, "xtcpd_t_total", "a=\"" HOSTILE "\"", "t"));
	assert_null(metrics_histogram("xtcpd_t_seconds", "a=\"" HOSTILE "\"", "t",
				      (const double[]){ 1 }, 1));
	/* escaped values render as one series */
	metrics_escape(esc, sizeof(esc), HOSTILE);
	snprintf(lab, sizeof(lab), "a=\"%s\"", esc);
	m = metrics_get(XTCPD_METRIC_COUNTER, "xtcpd_t_total", lab, "t");
	assert_non_null(m);
	metrics_add(m, 3);
	/* the host's instance label (names are checked by the configuration, and escaped) */
	host_ctx_init(&ctx, NULL, CONF_SINK, &sec, NULL);
	assert_string_equal(ctx.labels, "plugin=\"sink/x\\\"} 1\\nevil_metric{a=\\\"1\"");
	m = host_metric(&ctx, XTCPD_METRIC_GAUGE, "t_level", NULL, "g");
	assert_non_null(m);
	metrics_set(m, 5);
	assert_int_equal(metrics_render(&out), 0);
	assert_string_equal(out.buf,
		"# HELP xtcpd_t_total t\n# TYPE xtcpd_t_total counter\n"
		"xtcpd_t_total{a=\"x\\\"} 1\\nevil_metric{a=\\\"1\"} 3\n"
		"# HELP xtcpd_t_level g\n# TYPE xtcpd_t_level gauge\n"
		"xtcpd_t_level{plugin=\"sink/x\\\"} 1\\nevil_metric{a=\\\"1\"} 5\n");
	if (access("/usr/bin/promtool", X_OK) == 0) {
		char cmd[128];

		fd = mkstemp(path);
		assert_true(fd >= 0);
		f = fdopen(fd, "w");
		fwrite(out.buf, 1, out.len, f);
		fclose(f);
		snprintf(cmd, sizeof(cmd), "/usr/bin/promtool check metrics < %s", path);
		assert_int_equal(system(cmd), 0);
		unlink(path);
	}
	free(out.buf);
	metrics_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_labels_ok),
		cmocka_unit_test(test_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tests/plugins/marshallers/test_random.c — records of random bytes (random strings of random
 * length and content, random present bits, tcpi_len and enum values) into buffers of
 * random capacity, through all three marshallers: every append either fits or returns
 * -ENOSPC, nothing is written past cap, and every finished message decodes (protobuf-c
 * for protobufList, json-c for the JSON ones) with as many rows as were appended.
 * Meant to run under ASan/UBSan too. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "proto/xtcp_flat_record.pb-c.h"
#include "plugins/marshallers/common/mstr.h"
#include "tests/lib/testhost.h"
#include "tests/plugins/marshallers/mt.h"

#define GUARD 64

static uint64_t rnd_state = 42;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rnd_state >> 33);
}

static char strs[24][1500];

static const char *rnd_str(unsigned i)
{
	size_t n = rnd() % 4 == 0 ? rnd() % 1400 : rnd() % 40, k;

	if (rnd() % 5 == 0)
		return NULL;
	for (k = 0; k < n; k++)
		strs[i][k] = (char)(rnd() % 3 ? 'a' + rnd() % 26 : 1 + rnd() % 255);
	strs[i][n] = 0;
	return strs[i];
}

static void rnd_record(struct mt_rec *m)
{
	uint8_t *p = (uint8_t *)&m->r;
	size_t i;

	th_enrich_retire();  /* text rewritten at the same addresses: see mt_fill */
	for (i = 0; i < sizeof(m->r); i++)
		p[i] = (uint8_t)rnd();
	m->r.daemon_version = rnd_str(0);
	m->r.hostname = rnd_str(1);
	m->r.location = rnd_str(2);
	m->r.netns = rnd_str(3);
	m->r.container_id = rnd_str(4);
	m->r.container_runtime = rnd_str(5);
	m->r.container_name = rnd_str(6);
	m->r.container_image = rnd_str(7);
	m->r.label = rnd_str(8);
	m->r.tag = rnd_str(9);
	m->r.pod_namespace = rnd_str(12);
	m->r.pod_name = rnd_str(13);
	memset(&m->up[0], 0, sizeof(m->up[0]));
	m->up[0].ifname = rnd_str(10);
	m->up[0].lldp_port_descr = rnd_str(11);
	m->up[0].nic_speed_mbps = rnd();
	m->r.uplink[0] = rnd() % 2 ? &m->up[0] : NULL;
	m->r.uplink[1] = NULL;
	if (rnd() % 2)
		m->r.tcpi_len = (uint16_t)(rnd() % 300);
}

static void check(const char *name, size_t cap, const uint8_t *msg, size_t len, size_t rows)
{
	if (strcmp(name, "protobufList") == 0) {
		size_t i = 0, n = 0;
		int shift = 0;
		XtcpFlatRecord__V1__Envelope *env;

		do {
			n |= (size_t)(msg[i] & 0x7f) << shift;
			shift += 7;
		} while (msg[i++] & 0x80);
		assert_int_equal(n, len - i);
		env = xtcp_flat_record__v1__envelope__unpack(NULL, n, msg + i);
		assert_non_null(env);
		assert_int_equal(env->n_row, rows);
		xtcp_flat_record__v1__envelope__free_unpacked(env, NULL);
	} else {
		struct json_tokener *tok = json_tokener_new();
		size_t off = 0, objs = 0;

		while (off < len) {
			json_object *o = json_tokener_parse_ex(tok, (const char *)msg + off,
			                                       (int)(len - off));
			assert_non_null(o);
			off += json_tokener_get_parse_end(tok);
			while (off < len && msg[off] == '\n')
				off++;
			if (strcmp(name, "protoJson") == 0)
				objs += json_object_array_length(json_object_object_get(o, "row"));
			else
				objs++;
			json_object_put(o);
		}
		json_tokener_free(tok);
		assert_int_equal(objs, rows);
	}
	(void)cap;
}

static void run(const char *name)
{
	static uint8_t data[70000 + GUARD];
	static struct mt_rec rec;
	const struct xtcpd_plugin *p = mt_load(name);
	const struct xtcpd_marshaller_ops *ops;
	struct xtcpd_buf buf;
	void *inst;
	int it, rc, k;

	assert_non_null(p);
	assert_int_equal(mt_create(p, NULL, &inst), 0);
	ops = mt_ops(p);
	for (it = 0; it < 400; it++) {
		size_t cap = 16 + rnd() % 70000;

		memset(data, 0xa5, sizeof(data));
		memset(&buf, 0, sizeof(buf));
		buf.data = data;
		buf.cap = cap;
		if (ops->begin(inst, &buf) != 0)
			continue;
		for (k = 0; k < 50; k++) {
			size_t before = buf.len;

			rnd_record(&rec);
			rc = ops->append(inst, &buf, &rec.r);
			if (rc == -ENOSPC) {
				assert_int_equal(buf.len, before);
				break;
			}
			assert_int_equal(rc, 0);
			buf.rows++;
		}
		assert_int_equal(ops->finish(inst, &buf), 0);
		assert_true(buf.len <= cap && buf.off <= buf.len);
		for (k = 0; k < GUARD; k++)
			assert_int_equal(data[cap + (size_t)k], 0xa5);
		check(name, cap, data + buf.off, buf.len - buf.off, buf.rows);
	}
	mt_destroy(p, inst);
}

/* The string helpers agree with each other on random bytes: mstr_json_len is exactly
 * what mstr_json writes, mstr_copy preserves length, a cut never splits a character. */
static void test_mstr(void **state)
{
	static uint8_t out[6 * 1500];
	unsigned bad, i, k;
	int trunc;

	(void)state;
	for (i = 0; i < 2000; i++) {
		const char *s = rnd_str(0);
		size_t n, m;

		if (s == NULL)
			continue;
		trunc = 0;
		n = mstr_len(s, 64, &trunc);
		assert_true(n <= 64 && (trunc == (strlen(s) > 64)));
		if (trunc)
			assert_true(((uint8_t)s[n] & 0xc0) != 0x80);
		bad = 0;
		m = (size_t)(mstr_json(out, s, n, &bad) - out);
		assert_int_equal(m, mstr_json_len(s, n));
		bad = mstr_copy(out, s, n);
		for (k = 0; k < n; k++)
			assert_true(out[k] == (uint8_t)s[k] || out[k] == '?');
		(void)bad;
	}
}

static void test_protobuf_list(void **state) { (void)state; run("protobufList"); }
static void test_proto_json(void **state) { (void)state; run("protoJson"); }
static void test_json(void **state) { (void)state; run("json"); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mstr),
		cmocka_unit_test(test_protobuf_list),
		cmocka_unit_test(test_proto_json),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

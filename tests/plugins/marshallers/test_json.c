/* tests/plugins/marshallers/test_json.c — the json marshaller: each line parsed back by json-c
 * equals the record (every key, rendered value and nothing else), concurrent threads write
 * the same bytes as one, -ENOSPC leaves the buffer unchanged, bad strings are escaped,
 * bounded and counted (protoJson's bounds and escaping likewise), and its address
 * formatter writes exactly what inet_ntop writes. The keys, render modes and names
 * expected are the golden json_fields.tsv and the tables below, written from the schema
 * and ss(8), not the code's own tables. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <json-c/json.h>

#include <xtcpd/record_fields.h>
#include "plugins/marshallers/json/json_addr.h"
#include "plugins/marshallers/json/json_names.h"
#include "tests/lib/testhost.h"
#include "tests/plugins/marshallers/mt.h"

static const struct xtcpd_plugin *pj, *pz;  /* json, protoJson */
static void *ij, *iz;
static uint8_t data[1 << 20];
static struct mt_rec recs[8];

/* The golden keys (tests/plugins/marshallers/json_fields.tsv), read at setup. */
struct key { char key[64], mode[16]; unsigned num; };
static struct key keys[256];
static size_t NKEYS;

/* The names the json README promises: ss(8)'s long TCP state names, its timer names,
 * enum tcp_ca_state, the address family and the proto's CongestionAlgorithm. */
static const char *const state_names[] = { "UNKNOWN", "ESTABLISHED", "SYN-SENT", "SYN-RECV",
	"FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "UNCONNECTED", "CLOSE-WAIT", "LAST-ACK", "LISTEN",
	"CLOSING", "NEW-SYN-RECV" };
static const char *const timer_names[] = { "off", "on", "keepalive", "timewait", "persist" };
static const char *const ca_names[] = { "open", "disorder", "cwr", "recovery", "loss" };
static const char *const cong_names[] = { "UNSPECIFIED", "CUBIC", "DCTCP", "VEGAS", "PRAGUE",
	"BBR1", "BBR2", "BBR3" };
#define NAME(t, i) ((i) < sizeof(t) / sizeof(t[0]) ? t[i] : "?")

static int load_keys(void)
{
	char path[4096], line[256];
	const char *src = getenv("XTCPD_SRCDIR");
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/plugins/marshallers/json_fields.tsv", src ? src : ".");
	if (!(f = fopen(path, "r"))) {
		fprintf(stderr, "test_json: %s: %s\n", path, strerror(errno));
		return -1;
	}
	NKEYS = 0;
	while (fgets(line, sizeof(line), f) && NKEYS < sizeof(keys) / sizeof(keys[0])) {
		struct key *k = &keys[NKEYS];

		if (line[0] == '#')
			continue;
		if (sscanf(line, "%u\t%63s\t%15s", &k->num, k->key, k->mode) != 3) {
			fprintf(stderr, "test_json: %s: bad line: %s", path, line);
			fclose(f);
			return -1;
		}
		NKEYS++;
	}
	fclose(f);
	return NKEYS > 150 ? 0 : -1;
}

/* The json value a field must have, or NULL when the key must be absent. */
static json_object *want_value(const struct key *k, enum mt_kind kind, unsigned seed)
{
	struct mt_val v, fam;
	char txt[INET6_ADDRSTRLEN];

	if (!mt_expect(k->num, kind, seed, &v)) {
		/* The inet_diag header is always there, zero or not. */
		if (k->num >= 1001 && k->num <= 1017 && strcmp(k->mode, "N") == 0)
			return json_object_new_int64(0);
		if (k->num == 1003)
			return json_object_new_string("off");
		if (k->num == 1 || k->num == 31 || k->num == 32 || (k->num >= 60 && k->num <= 62))
			return json_object_new_int64(0);
		return NULL;
	}
	if (strcmp(k->mode, "FAMILY") == 0)
		return json_object_new_string(v.u == AF_INET ? "AF_INET" : v.u == AF_INET6 ? "AF_INET6" : "?");
	if (strcmp(k->mode, "STATE") == 0)
		return json_object_new_string(NAME(state_names, v.u));
	if (strcmp(k->mode, "TIMER") == 0)
		return json_object_new_string(NAME(timer_names, v.u));
	if (strcmp(k->mode, "CASTATE") == 0)
		return json_object_new_string(NAME(ca_names, v.u));
	if (strcmp(k->mode, "CONG") == 0)
		return json_object_new_string(NAME(cong_names, v.u));
	if (strcmp(k->mode, "BOOL") == 0)
		return json_object_new_boolean(1);
	if (v.type == MT_T_STR)
		return json_object_new_string(v.s);
	if (v.type == MT_T_BYTES) {
		mt_expect(1001, kind, seed, &fam);
		inet_ntop(fam.u == AF_INET ? AF_INET : AF_INET6, v.b, txt, sizeof(txt));
		return json_object_new_string(txt);
	}
	return json_object_new_uint64(v.u);
}

/* The line parsed by json-c has exactly the expected keys, in schema order, with
 * exactly the expected values. */
static void check_line(const char *line, size_t n, enum mt_kind kind, unsigned seed)
{
	json_object *obj, *got, *want;
	struct json_object_iterator it, end;
	size_t i, nwant = 0, k = 0;

	obj = json_tokener_parse(line);
	assert_non_null(obj);
	(void)n;
	it = json_object_iter_begin(obj);
	end = json_object_iter_end(obj);
	for (i = 0; i < NKEYS; i++) {
		want = want_value(&keys[i], kind, seed);
		if (want == NULL) {
			if (json_object_object_get_ex(obj, keys[i].key, NULL))
				fail_msg("key %s must be absent", keys[i].key);
			continue;
		}
		nwant++;
		if (!json_object_object_get_ex(obj, keys[i].key, &got))
			fail_msg("key %s missing", keys[i].key);
		if (json_object_get_type(want) == json_type_int) {
			if (json_object_get_type(got) != json_type_int ||
			    json_object_get_uint64(got) != json_object_get_uint64(want))
				fail_msg("key %s: %s != %s", keys[i].key, json_object_to_json_string(got),
				         json_object_to_json_string(want));
		} else if (!json_object_equal(got, want)) {
			fail_msg("key %s: %s != %s", keys[i].key, json_object_to_json_string(got),
			         json_object_to_json_string(want));
		}
		/* Schema order. */
		assert_false(json_object_iter_equal(&it, &end));
		assert_string_equal(json_object_iter_peek_name(&it), keys[i].key);
		json_object_iter_next(&it);
		json_object_put(want);
		k++;
	}
	assert_int_equal(json_object_object_length(obj), nwant);
	json_object_put(obj);
}

static int setup(void **state)
{
	static const char *const no_defaults[] = { "emit_defaults=false", NULL };

	(void)state;
	if (load_keys())
		return -1;
	pj = mt_load("json");
	pz = mt_load("protoJson");
	if (pj == NULL || pz == NULL || mt_create(pj, NULL, &ij) || mt_create(pz, no_defaults, &iz))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (ij)
		mt_destroy(pj, ij);
	if (iz)
		mt_destroy(pz, iz);
	return 0;
}

static void fill_set(void)
{
	unsigned i;

	for (i = 0; i < 3; i++)
		mt_fill(&recs[i], MT_FULL, i + 1);
	for (; i < 5; i++)
		mt_fill(&recs[i], MT_FEW, i + 1);
}

static void test_json_equals_record(void **state)
{
	struct xtcpd_buf buf;
	char *line, *nl;
	unsigned i;
	int rc;

	(void)state;
	fill_set();
	assert_int_equal(mt_batch(pj, ij, &buf, data, sizeof(data) - 1, recs, 5, &rc), 5);
	assert_int_equal(buf.off, 0);
	data[buf.len] = 0;
	line = (char *)data;
	for (i = 0; i < 5; i++) {
		nl = strchr(line, '\n');
		assert_non_null(nl);
		*nl = 0;
		check_line(line, (size_t)(nl - line), i < 3 ? MT_FULL : MT_FEW, i + 1);
		line = nl + 1;
	}
	assert_int_equal((uint8_t *)line - data, buf.len);
}

/* Reader threads append concurrently, each into its own buffer: same bytes as alone. */
struct thr {
	uint8_t out[256 << 10];
	size_t len;
	unsigned seed;
};

static void *thr_main(void *arg)
{
	struct thr *t = arg;
	static _Thread_local struct mt_rec r;
	struct xtcpd_buf buf = { .data = t->out, .cap = sizeof(t->out) };
	int i;

	mt_fill(&r, MT_FULL, t->seed);
	mt_ops(pj)->begin(ij, &buf);
	for (i = 0; i < 20; i++)
		if (mt_ops(pj)->append(ij, &buf, &r.r) != 0)
			return NULL;
	t->len = buf.len;
	return NULL;
}

static void test_json_threads(void **state)
{
	static struct thr t[4];
	static uint8_t one[16 << 10];
	pthread_t th[4];
	struct xtcpd_buf buf;
	int i, rc;

	(void)state;
	for (i = 0; i < 4; i++) {
		t[i].seed = (unsigned)i + 1;
		assert_int_equal(pthread_create(&th[i], NULL, thr_main, &t[i]), 0);
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < 4; i++) {
		mt_fill(&recs[0], MT_FULL, (unsigned)i + 1);
		mt_batch(pj, ij, &buf, one, sizeof(one), recs, 1, &rc);
		assert_int_equal(t[i].len, 20 * buf.len);
		assert_memory_equal(t[i].out + 19 * buf.len, one, buf.len);
	}
}

static void test_enospc(void **state)
{
	static uint8_t copy[12000];
	const struct xtcpd_plugin *ps[2] = { pj, pz };
	void *is[2] = { ij, iz };
	struct xtcpd_buf buf;
	size_t n, len;
	int rc, i;

	(void)state;
	fill_set();
	for (i = 0; i < 2; i++) {
		n = mt_batch(ps[i], is[i], &buf, data, sizeof(copy), recs, 5, &rc);
		assert_int_equal(rc, -ENOSPC);
		assert_true(n >= 1 && n < 5);
		/* The buffer is as before the refused append; finish makes a valid message. */
		len = buf.len;
		memcpy(copy, data, sizeof(copy));
		buf.len = len - (i ? 3 : 0); /* mt_batch finished it: undo protoJson's tail */
		assert_int_equal(mt_ops(ps[i])->append(is[i], &buf, &recs[n].r), -ENOSPC);
		assert_int_equal(buf.len, len - (i ? 3 : 0));
		mt_ops(ps[i])->finish(is[i], &buf);
		assert_int_equal(buf.len, len);
		assert_memory_equal(copy, data, len);
		data[len] = 0;
		json_object *o = json_tokener_parse((char *)data);
		assert_non_null(o);
		if (i == 1)
			assert_int_equal(json_object_array_length(json_object_object_get(o, "row")), n);
		json_object_put(o);
		/* Too small for even one record: -ENOSPC on an empty buffer. */
		n = mt_batch(ps[i], is[i], &buf, data, 100, recs, 1, &rc);
		assert_int_equal(rc, -ENOSPC);
		assert_int_equal(n, 0);
	}
}

/* protoJson: a row that fits only without the fast path's slack is still accepted (the
 * checked path keeps a margin of one numeric field's worst case: 64 bytes here). */
static void test_tight_fit(void **state)
{
	static char host[1001];
	static uint8_t roomy[1 << 16];
	struct xtcpd_buf buf, big;
	int rc;

	(void)state;
	memset(host, 'h', 1000);
	mt_fill(&recs[0], MT_FULL, 2);
	recs[0].r.hostname = host;
	mt_batch(pz, iz, &big, roomy, sizeof(roomy), recs, 1, &rc);
	assert_int_equal(rc, 0);
	recs[0].r.location = host;
	mt_batch(pz, iz, &big, roomy, sizeof(roomy), recs, 1, &rc);
	assert_int_equal(rc, 0);
	mt_batch(pz, iz, &buf, data, big.len + 64, recs, 1, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(buf.len, big.len);
	assert_memory_equal(buf.data, big.data, big.len);
	mt_batch(pz, iz, &buf, data, big.len - 1, recs, 1, &rc);
	assert_int_equal(rc, -ENOSPC);
}

static void test_bad_strings(void **state)
{
	static char big[3000];
	const struct xtcpd_plugin *ps[2] = { pj, pz };
	void *is[2] = { ij, iz };
	struct xtcpd_buf buf;
	json_object *o, *row;
	int rc, i;

	(void)state;
	memset(big, 'h', sizeof(big) - 1);
	memcpy(big + 1023, "\xc3\xa9", 2); /* 'é' across the 1024-byte limit */
	for (i = 0; i < 2; i++) {
		mt_metrics_reset();
		mt_fill(&recs[0], MT_FEW, 0);
		recs[0].r.hostname = big;
		recs[0].r.label = "a\"b\\c\n\x01\xff/é";
		memset(recs[0].r.cong_name, 'x', sizeof(recs[0].r.cong_name));
		recs[0].r.present |= XTCPD_HAS_CONG;
		recs[0].r.state = 200;
		recs[0].r.cong_enum = 42;
		assert_int_equal(mt_batch(ps[i], is[i], &buf, data, sizeof(data) - 1, recs, 1, &rc), 1);
		data[buf.len] = 0;
		o = json_tokener_parse((char *)data);
		assert_non_null(o);
		row = i ? json_object_array_get_idx(json_object_object_get(o, "row"), 0) : o;
		assert_int_equal(strlen(json_object_get_string(json_object_object_get(row, "hostname"))),
		                 1023);
		assert_string_equal(json_object_get_string(json_object_object_get(row, "label")),
		                    "a\"b\\c\n\x01?/é");
		assert_string_equal(json_object_get_string(json_object_object_get(row,
		                    i ? "congestionAlgorithmString" : "congestion_algorithm_string")),
		                    "xxxxxxxxxxxxxxx");
		if (i == 0) {
			assert_string_equal(json_object_get_string(json_object_object_get(row,
			                    "inet_diag_msg_state")), "UNKNOWN");
			assert_string_equal(json_object_get_string(json_object_object_get(row,
			                    "congestion_algorithm_enum")), "unknown");
		} else {
			/* Unknown enum values are numbers in proto3 JSON. */
			assert_int_equal(json_object_get_int(json_object_object_get(row,
			                 "congestionAlgorithmEnum")), 42);
		}
		json_object_put(o);
		assert_int_equal(mt_metric("marshal_truncated_total"), 1);
		assert_int_equal(mt_metric("marshal_invalid_utf8_total"), 1);
	}
}

/* json_addr.h against glibc's inet_ntop: the edge cases of "::" placement and embedded
 * IPv4, then many addresses made mostly of zero bytes (so runs of zero groups of every
 * length and position occur). */
static void addr_check(const uint8_t a[16])
{
	char want[INET6_ADDRSTRLEN], got[INET6_ADDRSTRLEN + 8];
	uint8_t *e;

	assert_non_null(inet_ntop(AF_INET6, a, want, sizeof(want)));
	e = jz_addr6((uint8_t *)got, a);
	*e = '\0';
	assert_string_equal(got, want);
	assert_non_null(inet_ntop(AF_INET, a, want, sizeof(want)));
	e = jz_addr4((uint8_t *)got, a);
	*e = '\0';
	assert_string_equal(got, want);
}

static void test_addresses(void **state)
{
	static const char *const edge[] = {
		"::", "::1", "1::", "::ffff:1.2.3.4", "::1.2.3.4", "::ffff:0:1.2.3.4", "1:0:0:1:0:0:0:1",
		"1:0:0:1:0:0:1:1", "1:0:1:0:1:0:1:0", "fe80::1:2", "2001:db8:0:0:1:0:0:1",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "0:0:1::", "::ffff:255.255.255.255",
		"::0.0.0.2", "1:2:3:4:5:6:7:0", "0:1:2:3:4:5:6:7",
	};
	uint8_t a[16];
	uint32_t x = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
		assert_int_equal(inet_pton(AF_INET6, edge[i], a), 1);
		addr_check(a);
	}
	for (int k = 0; k < 200000; k++) {
		for (int i = 0; i < 16; i++) {
			x = x * 1103515245u + 12345u;
			a[i] = (x >> 16) % 4 == 0 ? (uint8_t)(x >> 8) : 0;
		}
		if (k % 5 == 0)
			memset(a, 0, 10), a[10] = a[11] = 0xff;
		addr_check(a);
	}
}

/* One record through marshaller (p, in) as a NUL-terminated line in out. */
static const char *one_line(const struct xtcpd_plugin *p, void *in, struct mt_rec *m, char *out,
			    size_t size)
{
	struct xtcpd_buf buf;
	int rc;

	assert_int_equal(mt_batch(p, in, &buf, (uint8_t *)out, size - 1, m, 1, &rc), 1);
	assert_int_equal(rc, 0);
	out[buf.len] = 0;
	return out + buf.off;
}

/* The enrichment groups are written once per thread and copied while their text's
 * addresses, the host's enrichment generation (ABI 1.7) and the marshaller's mode stay
 * the same: interleaved namespaces each get their own text, text rewritten in place shows
 * once the generation moves, and protoJson instances with other options on the same
 * thread (emit_defaults writes empty strings, extensions the pod group) never share
 * bytes. */
static void test_enrichment_cache(void **state)
{
	static const char *const dflt_ext[] = { "emit_defaults=true", "extensions=true", NULL };
	static char a[16 << 10], b[16 << 10];
	struct xtcpd_buf buf;
	char *line, *nl;
	void *idx;
	unsigned i;
	int rc;

	(void)state;
	mt_fill(&recs[0], MT_FULL, 1);
	mt_fill(&recs[1], MT_FULL, 2);
	recs[2] = recs[0];
	recs[3] = recs[1];
	assert_int_equal(mt_batch(pj, ij, &buf, data, sizeof(data) - 1, recs, 4, &rc), 4);
	data[buf.len] = 0;
	line = (char *)data;
	for (i = 0; i < 4; i++) {
		nl = strchr(line, '\n');
		assert_non_null(nl);
		*nl = 0;
		check_line(line, (size_t)(nl - line), MT_FULL, i % 2 + 1);
		line = nl + 1;
	}
	/* protoJson: A and B differ, each A (B) row is the first A (B) row */
	snprintf(a, sizeof(a), "%s", one_line(pz, iz, &recs[0], b, sizeof(b)));
	assert_string_not_equal(one_line(pz, iz, &recs[1], b, sizeof(b)), a);
	assert_string_equal(one_line(pz, iz, &recs[2], b, sizeof(b)), a);

	/* rewritten in place: the cached bytes (A's, the last written) until the
	 * generation moves */
	one_line(pj, ij, &recs[0], a, sizeof(a));
	one_line(pz, iz, &recs[0], a, sizeof(a));
	strcpy((char *)recs[0].r.container_name, "renamed");
	strcpy((char *)recs[0].up[1].ifname, "eth9");
	assert_null(strstr(one_line(pj, ij, &recs[0], a, sizeof(a)), "\"renamed\""));
	assert_null(strstr(one_line(pz, iz, &recs[0], a, sizeof(a)), "\"renamed\""));
	th_enrich_retire();
	assert_non_null(strstr(one_line(pj, ij, &recs[0], a, sizeof(a)), "\"container_name\":\"renamed\""));
	assert_non_null(strstr(a, "\"uplink2_ifname\":\"eth9\""));
	assert_non_null(strstr(one_line(pz, iz, &recs[0], a, sizeof(a)), "\"containerName\":\"renamed\""));
	assert_non_null(strstr(a, "\"uplink2Ifname\":\"eth9\""));

	/* two protoJson modes on one thread */
	assert_int_equal(mt_create(pz, dflt_ext, &idx), 0);
	mt_fill(&recs[4], MT_FEW, 5);  /* no enrichment */
	for (i = 0; i < 2; i++) {
		assert_non_null(strstr(one_line(pz, idx, &recs[4], a, sizeof(a)), "\"containerId\":\"\""));
		assert_non_null(strstr(a, "\"uplink1LldpPortDescr\":\"\""));
		assert_non_null(strstr(a, "\"podName\":\"\""));
		assert_null(strstr(one_line(pz, iz, &recs[4], a, sizeof(a)), "containerId"));
		assert_null(strstr(a, "uplink1"));
		assert_null(strstr(one_line(pj, ij, &recs[4], a, sizeof(a)), "container_id"));
	}
	for (i = 0; i < 2; i++) {
		assert_non_null(strstr(one_line(pz, idx, &recs[0], a, sizeof(a)), "\"podName\":\""));
		assert_null(strstr(one_line(pz, iz, &recs[0], a, sizeof(a)), "podName"));
		assert_non_null(strstr(a, "\"containerName\":\"renamed\""));
	}
	/* a group partly set: emit_defaults writes the missing name as "", the other
	 * instance leaves it out, from the same addresses */
	recs[5] = recs[0];
	recs[5].r.container_name = NULL;
	for (i = 0; i < 2; i++) {
		assert_non_null(strstr(one_line(pz, idx, &recs[5], a, sizeof(a)), "\"containerName\":\"\""));
		assert_null(strstr(one_line(pz, iz, &recs[5], a, sizeof(a)), "containerName"));
		assert_non_null(strstr(a, "\"containerId\":\""));
	}
	mt_destroy(pz, idx);
}

/* csv and tsv (the shared table engine) cache the same groups in their default v1 row,
 * delimiters included and every column written, and protoText its four: the same bytes
 * as writing them, text rewritten in place shown once the generation moves, and a tsv
 * record without enrichment keeps every column (as many tabs). */
static void test_enrichment_cache_table(void **state)
{
	static char a[16 << 10], b[16 << 10];
	const char *const names[3] = { "csv", "tsv", "protoText" };
	unsigned i, k, tabs[2];

	(void)state;
	for (i = 0; i < 3; i++) {
		const struct xtcpd_plugin *p = mt_load(names[i]);
		void *in = NULL;

		assert_non_null(p);
		assert_int_equal(mt_create(p, NULL, &in), 0);
		mt_fill(&recs[0], MT_FULL, 1);
		mt_fill(&recs[1], MT_FULL, 2);
		recs[2] = recs[0];
		snprintf(a, sizeof(a), "%s", one_line(p, in, &recs[0], b, sizeof(b)));
		assert_string_not_equal(one_line(p, in, &recs[1], b, sizeof(b)), a);
		assert_string_equal(one_line(p, in, &recs[2], b, sizeof(b)), a);
		assert_non_null(strstr(a, "f42-s1 "));   /* container_name (quoted: it has '"') */
		assert_non_null(strstr(a, "f202-s1 "));  /* uplink2_nic_model */
		strcpy((char *)recs[0].r.container_name, "renamed");
		assert_null(strstr(one_line(p, in, &recs[0], b, sizeof(b)), "renamed"));
		th_enrich_retire();
		assert_non_null(strstr(one_line(p, in, &recs[0], b, sizeof(b)), "renamed"));
		if (i == 1) {
			/* tsv: as many columns with enrichment as without, before and after */
			mt_fill(&recs[4], MT_FEW, 5);
			for (k = 0; k < 2; k++) {
				const char *x = one_line(p, in, k ? &recs[4] : &recs[0], b, sizeof(b));

				tabs[k] = 0;
				for (; *x; x++)
					tabs[k] += *x == '\t';
			}
			assert_int_equal(tabs[0], tabs[1]);
			assert_true(tabs[0] > 100);
		}
		mt_destroy(p, in);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_equals_record),
		cmocka_unit_test(test_json_threads),
		cmocka_unit_test(test_enospc),
		cmocka_unit_test(test_tight_fit),
		cmocka_unit_test(test_bad_strings),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_enrichment_cache),
		cmocka_unit_test(test_enrichment_cache_table),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

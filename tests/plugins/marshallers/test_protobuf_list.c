/* tests/plugins/marshallers/test_protobuf_list.c — protobufList: every field round-trips through
 * the plugin and the generated protobuf-c decoder to exactly mt_expect()'s values, the
 * encoding is canonical (protobuf_c_message_pack of the decode gives the same bytes),
 * the prefix is right, -ENOSPC leaves the buffer unchanged, bad input is bounded,
 * valid and counted, and the enrichment groups' cache follows the host's generation. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/xtcp_flat_record.pb-c.h"
#include "tests/lib/testhost.h"
#include "tests/plugins/marshallers/mt.h"

typedef XtcpFlatRecord__V1__Envelope Envelope;
typedef XtcpFlatRecord__V1__XtcpFlatRecord Row;

static const struct xtcpd_plugin *plugin;
static void *inst;
static uint8_t data[1 << 20];
static struct mt_rec recs[8];

/* Read the varint prefix of data[off, len) and return the Envelope it frames. */
static Envelope *unpack_msg(const struct xtcpd_buf *buf)
{
	const uint8_t *p = buf->data + buf->off;
	uint64_t n = 0;
	int shift = 0;

	do {
		n |= (uint64_t)(*p & 0x7f) << shift;
		shift += 7;
	} while (*p++ & 0x80);
	assert_int_equal(n, buf->len - (size_t)(p - buf->data));
	return xtcp_flat_record__v1__envelope__unpack(NULL, n, p);
}

/* Every field of the decoded row, found through the generated descriptor (names and
 * numbers from the .proto), equals the oracle. */
static void check_row(const Row *row, enum mt_kind kind, unsigned seed)
{
	const ProtobufCMessageDescriptor *d = row->base.descriptor;
	unsigned i;

	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *at = (const char *)row + f->offset;
		struct mt_val v;
		int set = mt_expect(f->id, kind, seed, &v);

		switch (f->type) {
		case PROTOBUF_C_TYPE_STRING: {
			const char *s = *(char *const *)at;
			if (strcmp(s, set ? v.s : "") != 0)
				fail_msg("field %u %s: '%s' != '%s'", f->id, f->name, s, v.s);
			break;
		}
		case PROTOBUF_C_TYPE_BYTES: {
			const ProtobufCBinaryData *b = (const ProtobufCBinaryData *)at;
			if (b->len != v.blen || (b->len && memcmp(b->data, v.b, b->len) != 0))
				fail_msg("field %u %s: bytes differ (len %zu)", f->id, f->name, b->len);
			break;
		}
		case PROTOBUF_C_TYPE_UINT64:
		case PROTOBUF_C_TYPE_INT64:
			if (*(const uint64_t *)at != v.u)
				fail_msg("field %u %s: %llu != %llu", f->id, f->name,
				         (unsigned long long)*(const uint64_t *)at, (unsigned long long)v.u);
			break;
		case PROTOBUF_C_TYPE_BOOL:
			if ((uint64_t)*(const protobuf_c_boolean *)at != v.u)
				fail_msg("field %u %s: bool", f->id, f->name);
			break;
		default: /* uint32, enum */
			if (*(const uint32_t *)at != v.u)
				fail_msg("field %u %s: %u != %llu", f->id, f->name,
				         *(const uint32_t *)at, (unsigned long long)v.u);
		}
	}
}

static int setup(void **state)
{
	(void)state;
	plugin = mt_load("protobufList");
	if (plugin == NULL || mt_create(plugin, NULL, &inst) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mt_destroy(plugin, inst);
	return 0;
}

static void test_round_trip(void **state)
{
	struct xtcpd_buf buf;
	Envelope *env;
	uint8_t *repack;
	size_t i, n;
	int rc;

	(void)state;
	for (i = 0; i < 3; i++)
		mt_fill(&recs[i], MT_FULL, (unsigned)i + 1);
	for (; i < 5; i++)
		mt_fill(&recs[i], MT_FEW, (unsigned)i + 1);
	n = mt_batch(plugin, inst, &buf, data, sizeof(data), recs, 5, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(n, 5);
	env = unpack_msg(&buf);
	assert_non_null(env);
	assert_int_equal(env->n_row, 5);
	for (i = 0; i < 5; i++)
		check_row(env->row[i], i < 3 ? MT_FULL : MT_FEW, (unsigned)i + 1);
	/* No unknown fields: everything we wrote is in the schema. */
	for (i = 0; i < 5; i++)
		assert_int_equal(env->row[i]->base.n_unknown_fields, 0);
	/* Canonical: protobuf-c's own packing of what it decoded is byte-identical. */
	n = xtcp_flat_record__v1__envelope__get_packed_size(env);
	assert_int_equal(n, buf.len - 3); /* room for the prefix: 3 bytes at cap 1 MiB */
	repack = malloc(n);
	xtcp_flat_record__v1__envelope__pack(env, repack);
	assert_memory_equal(repack, buf.data + buf.len - n, n);
	free(repack);
	xtcp_flat_record__v1__envelope__free_unpacked(env, NULL);
	assert_int_equal(mt_metric("marshal_truncated_total"), 0);
	assert_int_equal(mt_metric("marshal_invalid_utf8_total"), 0);
}

static void test_prefix(void **state)
{
	struct xtcpd_buf buf;
	int rc;

	(void)state;
	/* cap 1 MiB: 3 bytes reserved; a 1-row Envelope < 16 KiB needs 2: off = 1. */
	mt_fill(&recs[0], MT_FULL, 1);
	mt_batch(plugin, inst, &buf, data, sizeof(data), recs, 1, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(buf.off, 1);
	assert_int_equal(buf.data[3], 0x52); /* Envelope.row tag right after the prefix */
	/* Empty batch: a zero-length Envelope, prefix 0x00 just before the room's end. */
	mt_batch(plugin, inst, &buf, data, sizeof(data), recs, 0, &rc);
	assert_int_equal(buf.off, 2);
	assert_int_equal(buf.len, 3);
	assert_int_equal(buf.data[2], 0);
	/* A row under 128 bytes takes the one-byte length path (cap 200: 2-byte room). */
	mt_fill(&recs[0], MT_FEW, 0);
	mt_batch(plugin, inst, &buf, data, 200, recs, 1, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(buf.off, 1);
	assert_true(buf.data[2] == 0x52 && buf.data[3] < 0x80);
	assert_int_equal(buf.len, 4 + buf.data[3]);
	assert_int_equal(buf.data[1], buf.len - 2);
}

static void test_enospc_leaves_buffer(void **state)
{
	static uint8_t copy[4096];
	struct xtcpd_buf buf;
	Envelope *env;
	size_t n, len;
	int rc, i;

	(void)state;
	for (i = 0; i < 8; i++)
		mt_fill(&recs[i], MT_FULL, (unsigned)i);
	n = mt_batch(plugin, inst, &buf, data, sizeof(copy), recs, 8, &rc);
	assert_int_equal(rc, -ENOSPC);
	assert_true(n >= 1 && n < 8);
	/* Retry the refused record: same answer, buffer byte for byte unchanged. */
	len = buf.len;
	memcpy(copy, data, sizeof(copy));
	buf.off = 2;
	assert_int_equal(mt_ops(plugin)->append(inst, &buf, &recs[n].r), -ENOSPC);
	assert_int_equal(buf.len, len);
	assert_memory_equal(copy, data, len);
	mt_ops(plugin)->finish(inst, &buf);
	env = unpack_msg(&buf);
	assert_non_null(env);
	assert_int_equal(env->n_row, n);
	check_row(env->row[n - 1], MT_FULL, (unsigned)n - 1);
	xtcp_flat_record__v1__envelope__free_unpacked(env, NULL);
}

static void test_too_big_for_empty_buffer(void **state)
{
	struct xtcpd_buf buf;
	size_t n;
	int rc;

	(void)state;
	/* A sink whose maximum message cannot hold even one row: refused, not a crash;
	 * the core counts the drop when append fails on an empty buffer. */
	mt_fill(&recs[0], MT_FULL, 1);
	n = mt_batch(plugin, inst, &buf, data, 300, recs, 1, &rc);
	assert_int_equal(rc, -ENOSPC);
	assert_int_equal(n, 0);
	assert_int_equal(buf.len, 2);
	assert_int_equal(buf.off, 1);
	assert_int_equal(buf.data[1], 0);
	/* Smaller than any prefix. */
	memset(&buf, 0, sizeof(buf));
	buf.data = data;
	buf.cap = 1;
	assert_int_equal(mt_ops(plugin)->begin(inst, &buf), -ENOSPC);
}

/* A row that fits only without the fast path's slack (long strings, tight buffer) is
 * still accepted, byte for byte as in a roomy buffer. */
static void test_tight_fit(void **state)
{
	static char host[1001];
	static uint8_t roomy[1 << 16];
	struct xtcpd_buf buf, big;
	size_t env;
	int rc;

	(void)state;
	memset(host, 'h', 1000);
	mt_fill(&recs[0], MT_FULL, 2);
	recs[0].r.hostname = host;
	recs[0].r.location = host;
	mt_batch(plugin, inst, &big, roomy, sizeof(roomy), recs, 1, &rc);
	assert_int_equal(rc, 0);
	env = big.len - 3; /* 64 KiB: 3 bytes of prefix room */
	assert_true(env > 2200); /* more than the fast path's numeric slack */
	/* room 2, prefix 2; the checked path keeps a margin of one numeric field (13) */
	mt_batch(plugin, inst, &buf, data, env + 2 + 13, recs, 1, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(buf.len - buf.off, env + 2);
	assert_memory_equal(buf.data + buf.off, big.data + big.off, env + 2);
}

static void test_bad_strings(void **state)
{
	static char big[5000], huge[20][1100];
	struct xtcpd_buf buf;
	struct mt_val v;
	Envelope *env;
	Row *row;
	int rc, i;

	(void)state;
	mt_metrics_reset();
	mt_fill(&recs[0], MT_FEW, 0);
	/* 1023 ASCII bytes then a 3-byte character across the 1024-byte limit. */
	memset(big, 'h', sizeof(big) - 1);
	memcpy(big + 1023, "\xe2\x82\xac", 3);
	recs[0].r.hostname = big;
	recs[0].r.label = "\xff\xfe" "ok\xc3";        /* invalid bytes and a cut sequence */
	memset(recs[0].r.cong_name, 'x', sizeof(recs[0].r.cong_name)); /* no NUL at all */
	recs[0].r.present |= XTCPD_HAS_CONG;
	recs[0].r.family = 99;                         /* impossible values pass through */
	recs[0].r.state = 200;
	recs[0].r.cong_enum = 42;
	recs[0].r.tcpi_len = 60000;
	recs[0].r.tcpi.rtt = 5;
	recs[0].r.timestamp_ns = -1;
	mt_batch(plugin, inst, &buf, data, sizeof(data), recs, 1, &rc);
	assert_int_equal(rc, 0);
	env = unpack_msg(&buf);
	assert_non_null(env);
	row = env->row[0];
	assert_int_equal(strlen(row->hostname), 1023);
	assert_string_equal(row->label, "??ok?");
	assert_string_equal(row->congestion_algorithm_string, "xxxxxxxxxxxxxxx");
	assert_int_equal(row->inet_diag_msg_family, 99);
	assert_int_equal(row->inet_diag_msg_state, 200);
	assert_int_equal(row->congestion_algorithm_enum, 42);
	assert_int_equal(row->tcp_info_rtt, 5);
	assert_int_equal(row->tcp_info_length, 60000);
	assert_int_equal(row->timestamp_ns, -1);
	xtcp_flat_record__v1__envelope__free_unpacked(env, NULL);
	assert_int_equal(mt_metric("marshal_truncated_total"), 1);
	assert_int_equal(mt_metric("marshal_invalid_utf8_total"), 1);

	/* A row over 16 KiB takes the three-byte length path. */
	mt_fill(&recs[0], MT_FULL, 3);
	for (i = 0; i < 20; i++) {
		memset(huge[i], 'a' + i, 1000);
		huge[i][1000] = 0;
	}
	recs[0].r.daemon_version = huge[0];
	recs[0].r.hostname = huge[1];
	recs[0].r.location = huge[2];
	recs[0].r.netns = huge[3];
	recs[0].r.label = huge[4];
	recs[0].r.tag = huge[5];
	recs[0].r.container_id = huge[6];
	recs[0].r.container_runtime = huge[7];
	recs[0].r.container_name = huge[8];
	recs[0].r.container_image = huge[9];
	recs[0].up[0].lldp_port_descr = huge[10];
	recs[0].up[1].lldp_port_descr = huge[11];
	recs[0].up[0].nic_model = huge[12];
	recs[0].up[1].nic_model = huge[13];
	recs[0].up[0].nic_driver = huge[14];
	recs[0].up[1].nic_driver = huge[15];
	recs[0].up[0].ifname = huge[16];
	mt_fill(&recs[1], MT_FEW, 9);
	mt_batch(plugin, inst, &buf, data, sizeof(data), recs, 2, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(buf.data[3], 0x52);
	assert_true(buf.data[5] & 0x80); /* three-byte row length */
	env = unpack_msg(&buf);
	assert_non_null(env);
	assert_int_equal(env->n_row, 2);
	row = env->row[0];
	assert_string_equal(row->daemon_version, huge[0]);
	assert_string_equal(row->hostname, huge[1]);
	assert_string_equal(row->location, huge[2]);
	assert_string_equal(row->netns, huge[3]);
	assert_string_equal(row->label, huge[4]);
	assert_string_equal(row->tag, huge[5]);
	assert_string_equal(row->container_id, huge[6]);
	assert_string_equal(row->container_runtime, huge[7]);
	assert_string_equal(row->container_name, huge[8]);
	assert_string_equal(row->container_image, huge[9]);
	assert_string_equal(row->uplink1_lldp_port_descr, huge[10]);
	assert_string_equal(row->uplink2_lldp_port_descr, huge[11]);
	assert_string_equal(row->uplink1_nic_model, huge[12]);
	assert_string_equal(row->uplink2_nic_model, huge[13]);
	assert_string_equal(row->uplink1_nic_driver, huge[14]);
	assert_string_equal(row->uplink2_nic_driver, huge[15]);
	assert_string_equal(row->uplink1_ifname, huge[16]);
	/* the fields after the long strings are intact: the cookie is record 3's */
	assert_true(mt_expect(1010, MT_FULL, 3, &v));
	assert_int_equal(row->inet_diag_msg_socket_cookie, v.u);
	assert_true(mt_expect(5003, MT_FULL, 3, &v));
	assert_int_equal(row->tcp_info_length, v.u);
	check_row(env->row[1], MT_FEW, 9);
	xtcp_flat_record__v1__envelope__free_unpacked(env, NULL);
}

/* One row of a one-record batch of recs[i], decoded (free with free_env); its bytes are
 * checked canonical (protobuf-c's repack of the decode is byte-identical). */
static Envelope *one_row(size_t i)
{
	struct xtcpd_buf buf;
	Envelope *env;
	uint8_t *repack;
	size_t n;
	int rc;

	assert_int_equal(mt_batch(plugin, inst, &buf, data, sizeof(data), &recs[i], 1, &rc), 1);
	assert_int_equal(rc, 0);
	env = unpack_msg(&buf);
	assert_non_null(env);
	assert_int_equal(env->n_row, 1);
	n = xtcp_flat_record__v1__envelope__get_packed_size(env);
	repack = malloc(n);
	assert_non_null(repack);
	xtcp_flat_record__v1__envelope__pack(env, repack);
	assert_memory_equal(repack, buf.data + buf.len - n, n);
	free(repack);
	return env;
}

/* The enrichment groups (container, uplinks, pod) are encoded once and copied while
 * their text's addresses and the host's enrichment generation stay the same (ABI 1.7):
 * records of two namespaces interleaved each get their own text; text rewritten at the
 * same address shows only once the generation moves (as the daemon moves it before it
 * frees any); a string cut at the limit is counted on every record, cached or not. */
/* The encoder's short cuts write what the general path writes: strings of plain ASCII
 * under 128 bytes in one pass (else mstr_len + mstr_copy), the tcp_info fields without
 * length tests when tcpi_len covers them all, 64-bit values of 2^56 and more 8 bytes at
 * once. Each is checked at and around its edges by value (decoded) and canonical form. */
static void test_fast_paths(void **state)
{
	static const size_t lens[] = { 1, 2, 7, 8, 9, 15, 16, 126, 127, 128, 129, 300, 1024, 1025 };
	static const uint64_t big[] = { (1ull << 56) - 1, 1ull << 56, (1ull << 56) + 1,
					(1ull << 63) - 1, 1ull << 63, UINT64_MAX - 1, UINT64_MAX,
					1796218491370307293ull, 0x7f, 0x80, 0x3fff, 0x4000 };
	static char s[1100];
	Envelope *env;
	Row *row;
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (k = 0; k < 3; k++) {
			/* k = 0: ASCII; 1: "é" (valid) at the end; 2: an invalid byte at the end */
			size_t n = lens[i], want = n > 1024 ? 1024 : n;

			memset(s, 'a' + (int)(i % 26), n);
			s[n] = 0;
			if (k == 1 && n >= 2)
				memcpy(s + n - 2, "\xc3\xa9", 2);
			if (k == 1 && n - 2 == 1023)
				want = 1023;  /* the cut lands on the character's start */
			if (k == 2)
				s[n - 1] = (char)0xff;
			mt_fill(&recs[0], MT_FEW, 1);
			mt_metrics_reset();
			recs[0].r.hostname = s;
			env = one_row(0);
			row = env->row[0];
			assert_int_equal(strlen(row->hostname), want);
			assert_memory_equal(row->hostname, s, want - (k == 2 && n <= 1024));
			if (k == 2 && n <= 1024)
				assert_int_equal((uint8_t)row->hostname[want - 1], '?');
			assert_int_equal(mt_metric("marshal_invalid_utf8_total"), k == 2 && n <= 1024);
			assert_int_equal(mt_metric("marshal_truncated_total"), n > 1024);
			xtcp_flat_record__v1__envelope__free_unpacked(env, NULL);
		}
	}
	/* The congestion name: a 16-byte array, NUL-padded or not terminated at all. */
	for (i = 0; i <= 16; i++) {
		mt_fill(&recs[0], MT_FEW, 1);
		recs[0].r.present |= XTCPD_HAS_CONG;
		memset(recs[0].r.cong_name, 0, sizeof(recs[0].r.cong_name));
		memset(recs[0].r.cong_name, 'c', i);
		env = one_row(0);
		assert_int_equal(strlen(env->row[0]->congestion_algorithm_string), i > 15 ? 15 : i);
		xtcp_flat_record__v1__envelope__free_unpacked(env, NULL);
	}
	/* tcp_info just short of, at and past the last schema field (total_rto_time ends at
	 * byte 248): only the last length leaves it out. */
	for (i = 0; i < 4; i++) {
		static const uint16_t tl[] = { 247, 248, 249, 280 };

		mt_fill(&recs[0], MT_FULL, 2);
		recs[0].r.tcpi_len = tl[i];
		env = one_row(0);
		row = env->row[0];
		assert_int_equal(row->tcp_info_total_rto_time, i == 0 ? 0 : recs[0].r.tcpi.total_rto_time);
		assert_true(recs[0].r.tcpi.total_rto_time != 0);
		assert_int_equal(row->tcp_info_total_rto_recoveries, recs[0].r.tcpi.total_rto_recoveries);
		assert_int_equal(row->tcp_info_rtt, recs[0].r.tcpi.rtt);
		assert_int_equal(row->tcp_info_length, tl[i]);
		xtcp_flat_record__v1__envelope__free_unpacked(env, NULL);
	}
	/* 64-bit varints around 2^56 and up to 10 bytes, in a u64 and in an i64 field. */
	for (i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		mt_fill(&recs[0], MT_FULL, 2);
		recs[0].r.tcpi.pacing_rate = big[i];
		recs[0].r.timestamp_ns = (int64_t)big[i];
		env = one_row(0);
		assert_int_equal(env->row[0]->tcp_info_pacing_rate, big[i]);
		assert_int_equal((uint64_t)env->row[0]->timestamp_ns, big[i]);
		xtcp_flat_record__v1__envelope__free_unpacked(env, NULL);
	}
}

static void test_enrichment_cache(void **state)
{
	static char longname[1100];
	struct xtcpd_buf buf;
	Envelope *env;
	size_t n;
	int rc;

	(void)state;
	mt_metrics_reset();
	mt_fill(&recs[0], MT_FULL, 1);
	mt_fill(&recs[1], MT_FULL, 2);
	/* A, B, A, B: the second A and B point at the first ones' text */
	recs[2] = recs[0];
	recs[3] = recs[1];
	n = mt_batch(plugin, inst, &buf, data, sizeof(data), recs, 4, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(n, 4);
	env = unpack_msg(&buf);
	assert_non_null(env);
	assert_int_equal(env->n_row, 4);
	check_row(env->row[0], MT_FULL, 1);
	check_row(env->row[1], MT_FULL, 2);
	check_row(env->row[2], MT_FULL, 1);
	check_row(env->row[3], MT_FULL, 2);
	xtcp_flat_record__v1__envelope__free_unpacked(env, NULL);

	/* Text rewritten in place, the generation unchanged: the cached bytes (this is
	 * what the cache is for, and what the host's generation guards). */
	env = one_row(0);
	assert_string_equal(env->row[0]->container_name, recs[0].r.container_name);
	xtcp_flat_record__v1__envelope__free_unpacked(env, NULL);
	char was[64];
	snprintf(was, sizeof(was), "%s", recs[0].r.container_name);
	strcpy((char *)recs[0].r.container_name, "renamed");
	strcpy((char *)recs[0].up[0].ifname, "eth9");
	strcpy((char *)recs[0].up[1].lldp_port_id, "Ethernet7");
	strcpy((char *)recs[0].r.pod_name, "pod-b");
	env = one_row(0);
	assert_string_equal(env->row[0]->container_name, was);
	assert_string_not_equal(env->row[0]->uplink1_ifname, "eth9");
	assert_string_not_equal(env->row[0]->uplink2_lldp_port_id, "Ethernet7");
	assert_string_not_equal(env->row[0]->pod_name, "pod-b");
	xtcp_flat_record__v1__envelope__free_unpacked(env, NULL);
	/* the generation moves: every group is encoded again from the new text */
	th_enrich_retire();
	env = one_row(0);
	assert_string_equal(env->row[0]->container_name, "renamed");
	assert_string_equal(env->row[0]->uplink1_ifname, "eth9");
	assert_string_equal(env->row[0]->uplink2_lldp_port_id, "Ethernet7");
	assert_string_equal(env->row[0]->pod_name, "pod-b");
	assert_string_equal(env->row[0]->container_id, recs[0].r.container_id);
	assert_string_equal(env->row[0]->pod_namespace, recs[0].r.pod_namespace);
	xtcp_flat_record__v1__envelope__free_unpacked(env, NULL);
	/* a record without enrichment after one with it: no group written */
	mt_fill(&recs[4], MT_FEW, 5);
	env = one_row(4);
	check_row(env->row[0], MT_FEW, 5);
	xtcp_flat_record__v1__envelope__free_unpacked(env, NULL);

	/* Cut at 1024 bytes: counted per record, from the cache too. */
	memset(longname, 'n', sizeof(longname) - 1);
	recs[0].r.container_name = longname;
	mt_metrics_reset();
	recs[1] = recs[0];
	n = mt_batch(plugin, inst, &buf, data, sizeof(data), recs, 2, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(n, 2);
	env = unpack_msg(&buf);
	assert_non_null(env);
	assert_int_equal(strlen(env->row[0]->container_name), 1024);
	assert_string_equal(env->row[1]->container_name, env->row[0]->container_name);
	assert_string_equal(env->row[1]->container_image, recs[0].r.container_image);
	xtcp_flat_record__v1__envelope__free_unpacked(env, NULL);
	assert_int_equal(mt_metric("marshal_truncated_total"), 2);
}

/* A host older than ABI 1.7 lends no enrichment generation: nothing is cached, so text
 * rewritten in place shows at once. */
static void test_enrichment_old_host(void **state)
{
	struct xtcpd_host old = th_host;
	struct xtcpd_ctx *ctx = th_ctx_new("old");
	struct xtcpd_buf buf = { .data = data, .cap = sizeof(data) };
	const struct xtcpd_marshaller_ops *ops = mt_ops(plugin);
	void *oi = NULL;
	Envelope *env;
	int i;

	(void)state;
	old.struct_size = offsetof(struct xtcpd_host, enrich_generation);
	old.abi_minor = 6;
	assert_int_equal(ops->common.create(&old, ctx, NULL, &oi), 0);
	mt_fill(&recs[0], MT_FULL, 1);
	for (i = 0; i < 2; i++) {
		snprintf((char *)recs[0].r.container_name, 64, "name-%d", i);
		assert_int_equal(ops->begin(oi, &buf), 0);
		assert_int_equal(ops->append(oi, &buf, &recs[0].r), 0);
		assert_int_equal(ops->finish(oi, &buf), 0);
		env = unpack_msg(&buf);
		assert_non_null(env);
		assert_string_equal(env->row[0]->container_name, i ? "name-1" : "name-0");
		xtcp_flat_record__v1__envelope__free_unpacked(env, NULL);
	}
	ops->common.destroy(oi);
	th_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_enospc_leaves_buffer),
		cmocka_unit_test(test_too_big_for_empty_buffer),
		cmocka_unit_test(test_tight_fit),
		cmocka_unit_test(test_bad_strings),
		cmocka_unit_test(test_fast_paths),
		cmocka_unit_test(test_enrichment_cache),
		cmocka_unit_test(test_enrichment_old_host),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

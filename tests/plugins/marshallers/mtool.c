/* tests/plugins/marshallers/mtool.c — drives the marshaller plugins for the shell tests:
 *   mtool encode NAME FILE [KEY=VALUE...]  the test set (3 full + 2 few records) as one
 *                                          batch of marshaller NAME (configured with the
 *                                          given keys), written to FILE
 *   mtool tricky NAME FILE [KEY=VALUE...]  the same for the records of mt_tricky.c
 *   mtool tricky-inputs                    their raw inputs, as JSON
 *   mtool expect FILE                      the oracle for that set, as JSON rows keyed by
 *                                          field number (see mt_expect)
 *   mtool keys                             json marshaller keys: "key number mode"
 *   mtool real NAME COUNT                  COUNT realistic records, batches to stdout */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xtcpd/record_fields.h>
#include "tests/plugins/marshallers/mt.h"

static uint8_t data[8 << 20];
static struct mt_rec recs[5];

static void mt_test_set(void)
{
	unsigned i;

	for (i = 0; i < 3; i++)
		mt_fill(&recs[i], MT_FULL, i + 1);
	for (; i < 5; i++)
		mt_fill(&recs[i], MT_FEW, i + 1);
}

static int write_all(FILE *f, const struct xtcpd_buf *buf)
{
	return fwrite(buf->data + buf->off, 1, buf->len - buf->off, f) ==
	       buf->len - buf->off ? 0 : -EIO;
}

static int cmd_encode(const char *name, const char *path, const char *const *kv, int tricky)
{
	const struct xtcpd_plugin *p = mt_load(name);
	static struct mt_rec many[64];
	struct mt_rec *set = recs;
	struct xtcpd_buf buf;
	size_t n = 5;
	void *inst;
	FILE *f;
	int rc;

	if (p == NULL || mt_create(p, kv, &inst) != 0)
		return 1;
	mt_test_set();
	if (tricky) {
		n = mt_tricky_count();
		for (size_t i = 0; i < n; i++)
			mt_fill_tricky(&many[i], (unsigned)i);
		set = many;
	}
	if (mt_batch(p, inst, &buf, data, sizeof(data), set, n, &rc) != n)
		return 1;
	f = fopen(path, "wb");
	if (f == NULL || write_all(f, &buf) != 0 || fclose(f) != 0)
		return 1;
	mt_destroy(p, inst);
	return 0;
}

static void put_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static int cmd_expect(void)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned row, num, i;
	struct mt_val v;

	printf("[");
	for (row = 0; row < 5; row++) {
		enum mt_kind k = row < 3 ? MT_FULL : MT_FEW;
		int first = 1;

		printf("%s{", row ? ",\n" : "");
		for (num = 1; num < 6000; num++) {
			if (!mt_expect(num, k, row + 1, &v))
				continue;
			printf("%s\"%u\":", first ? "" : ",", num);
			first = 0;
			if (v.type == MT_T_STR) {
				put_json_str(v.s);
			} else if (v.type == MT_T_BYTES) {
				putchar('"');
				for (i = 0; i + 3 <= 15; i += 3) {
					uint32_t w = (uint32_t)v.b[i] << 16 | v.b[i + 1] << 8 | v.b[i + 2];
					printf("%c%c%c%c", b64[w >> 18], b64[(w >> 12) & 63],
					       b64[(w >> 6) & 63], b64[w & 63]);
				}
				printf("%c%c==\"", b64[v.b[15] >> 2], b64[(v.b[15] & 3) << 4]);
			} else if (v.type == MT_T_BOOL) {
				printf("%s", v.u ? "true" : "false");
			} else {
				printf("%llu", (unsigned long long)v.u);
			}
		}
		printf("}");
	}
	printf("]\n");
	return 0;
}

#define KEY(num, name, camel, type, jmode, jkey, cond, val) \
	printf("%s %u %s %s\n", #jkey, num, #jmode, #type);

static int cmd_keys(void)
{
	XTCPD_RECORD_FIELDS(KEY)
	return 0;
}

static int cmd_real(const char *name, unsigned count)
{
	const struct xtcpd_plugin *p = mt_load(name);
	static struct mt_rec r;
	struct xtcpd_buf buf;
	void *inst;
	unsigned i;

	if (p == NULL || mt_create(p, NULL, &inst) != 0)
		return 1;
	for (i = 0; i < count; i++) {
		mt_fill_real(&r, i);
		if (mt_batch(p, inst, &buf, data, sizeof(data), &r, 1, &(int){ 0 }) != 1 ||
		    write_all(stdout, &buf) != 0)
			return 1;
	}
	mt_destroy(p, inst);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "encode") == 0)
		return cmd_encode(argv[2], argv[3], (const char *const *)argv + 4, 0);
	if (argc >= 4 && strcmp(argv[1], "tricky") == 0)
		return cmd_encode(argv[2], argv[3], (const char *const *)argv + 4, 1);
	if (argc == 2 && strcmp(argv[1], "tricky-inputs") == 0) {
		mt_tricky_json();
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "expect") == 0)
		return cmd_expect();
	if (argc == 2 && strcmp(argv[1], "keys") == 0)
		return cmd_keys();
	if (argc == 4 && strcmp(argv[1], "real") == 0)
		return cmd_real(argv[2], (unsigned)strtoul(argv[3], NULL, 10));
	fprintf(stderr, "usage: mtool encode|tricky NAME FILE [KEY=VALUE...] | tricky-inputs | "
	        "expect | keys | real NAME COUNT\n");
	return 2;
}

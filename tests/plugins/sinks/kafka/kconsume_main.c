/* kconsume (program) — read a whole topic from the mock cluster for shell tests.
 *
 *   kconsume BOOTSTRAP TOPIC [DIR]
 *
 * Prints "partition offset keylen len key" per message, then "total N". With DIR,
 * also writes each payload to DIR/<partition>-<offset>.bin. Exit 1 on a timeout. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "tests/plugins/sinks/kafka/kconsume.h"

static const char *outdir;

static void show(void *arg, const rd_kafka_message_t *m)
{
	char path[4096];
	FILE *f;

	(void)arg;
	printf("%d %lld %zu %zu %.*s\n", (int)m->partition, (long long)m->offset, m->key_len,
	       m->len, (int)m->key_len, m->key ? (const char *)m->key : "");
	if (!outdir)
		return;
	snprintf(path, sizeof(path), "%s/%d-%lld.bin", outdir, (int)m->partition,
		 (long long)m->offset);
	f = fopen(path, "w");
	if (!f || fwrite(m->payload, 1, m->len, f) != m->len) {
		perror(path);
		exit(1);
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	long n;

	if (argc < 3) {
		fprintf(stderr, "usage: kconsume BOOTSTRAP TOPIC [DIR]\n");
		return 2;
	}
	outdir = argc > 3 ? argv[3] : NULL;
	n = kc_consume(argv[1], argv[2], show, NULL, 30000);
	if (n < 0)
		return 1;
	printf("total %ld\n", n);
	return 0;
}

/* valkey_sub — test helper: subscribes to a channel of the test's redis-server and writes
 * every message to DIR/NNNNNNNN.bin, resubscribing at once when the server goes away and
 * comes back (each subscription adds a line "subscribed" to READY). A message "END"
 * ends it: it prints "messages N bytes B". Gives up after 300 s.
 *
 *   valkey_sub HOST PORT CHANNEL DIR READY */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

int main(int argc, char **argv)
{
	unsigned long long n = 0, bytes = 0;

	if (argc != 6) {
		fprintf(stderr, "usage: valkey_sub HOST PORT CHANNEL DIR READY\n");
		return 2;
	}
	alarm(300);
	for (;;) {
		redisContext *c = redisConnect(argv[1], atoi(argv[2]));
		redisReply *r;
		FILE *ready;

		if (!c || c->err) {
			redisFree(c);
			usleep(20000);
			continue;
		}
		r = redisCommand(c, "SUBSCRIBE %s", argv[3]);
		if (!r) {
			redisFree(c);
			continue;
		}
		freeReplyObject(r);
		ready = fopen(argv[5], "a");
		if (ready) {
			fputs("subscribed\n", ready);
			fclose(ready);
		}
		while (redisGetReply(c, (void **)&r) == REDIS_OK) {
			if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
			    r->element[2]->type == REDIS_REPLY_STRING) {
				const redisReply *m = r->element[2];
				char path[4200];
				FILE *f;

				if (m->len == 3 && !memcmp(m->str, "END", 3)) {
					printf("messages %llu bytes %llu\n", n, bytes);
					freeReplyObject(r);
					redisFree(c);
					return 0;
				}
				snprintf(path, sizeof(path), "%s/%08llu.bin", argv[4], ++n);
				f = fopen(path, "wb");
				if (!f || fwrite(m->str, 1, m->len, f) != m->len || fclose(f)) {
					perror(path);
					return 1;
				}
				bytes += m->len;
			}
			freeReplyObject(r);
		}
		redisFree(c);
	}
}

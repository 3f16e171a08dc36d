/* caps_probe — runs caps_check (and optionally caps_drop_except) in a fresh process so a
 * shell test can start it with capabilities removed (setpriv) and compare what it prints:
 *   rc=<caps_check result>
 *   sock_diag=N sys_admin=N sys_ptrace=N net_admin=N
 *   <the message, one line per missing piece>
 * --fd-limit: first lower RLIMIT_NOFILE to the three standard streams, so that opening the
 *             sock_diag socket fails (error injection).
 * --drop:     first caps_drop_except(CAPS_KEEP_RUNTIME), print its result as drop=N. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "core/ops/caps.h"

int main(int argc, char **argv)
{
	struct caps_report r;
	char msg[1024];
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--fd-limit")) {
			struct rlimit rl = { 3, 3 };

			if (setrlimit(RLIMIT_NOFILE, &rl)) {
				perror("setrlimit");
				return 2;
			}
		} else if (!strcmp(argv[i], "--drop")) {
			static const int keep[] = CAPS_KEEP_RUNTIME;

			printf("drop=%d\n", caps_drop_except(keep, sizeof(keep) / sizeof(keep[0])));
		} else {
			fprintf(stderr, "usage: %s [--fd-limit] [--drop]\n", argv[0]);
			return 2;
		}
	}
	rc = caps_check(&r, msg, sizeof(msg));
	printf("rc=%d\nsock_diag=%d sys_admin=%d sys_ptrace=%d net_admin=%d\n", rc, r.sock_diag,
	       r.sys_admin, r.sys_ptrace, r.net_admin);
	if (*msg)
		printf("%s\n", msg);
	return 0;
}

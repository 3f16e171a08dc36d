/* sockstat — is a namespace worth an iterator? An iterator walks the host-wide TCP
 * tables whatever its namespace holds, so an empty namespace costs a whole walk; its
 * /proc/net/sockstat counters say for the price of a small read. The files are opened
 * inside the namespace through the host's ns_run (an open /proc/thread-self/net file stays
 * bound to the opener's namespace). */
#include "bisrc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct bpfi_ss_job {
	int fd4, fd6;
};

static int bpfi_ss_open(void *arg)
{
	struct bpfi_ss_job *j = arg;

	j->fd4 = open("/proc/thread-self/net/sockstat", O_RDONLY | O_CLOEXEC);
	j->fd6 = open("/proc/thread-self/net/sockstat6", O_RDONLY | O_CLOEXEC);
	return j->fd4 < 0 ? -errno : 0;
}

void bpfi_sockstat_open(struct bpfi *s, struct bpfi_ns *n)
{
	struct bpfi_ss_job j = { -1, -1 };

	s->host->ns_run(s->ctx, n->ns, bpfi_ss_open, &j);
	n->ss4 = j.fd4;
	n->ss6 = j.fd6;
}

void bpfi_sockstat_close(struct bpfi_ns *n)
{
	if (n->ss4 >= 0)
		close(n->ss4);
	if (n->ss6 >= 0)
		close(n->ss6);
	n->ss4 = n->ss6 = -1;
}

/* The number after `key` on the line starting with `line`, -1 if absent. */
static long bpfi_ss_field(const char *text, const char *line, const char *key)
{
	const char *p = strstr(text, line);
	const char *eol, *k;

	if (!p)
		return -1;
	eol = strchr(p, '\n');
	k = strstr(p, key);
	if (!k || (eol && k > eol))
		return -1;
	return strtol(k + strlen(key), NULL, 10);
}

static long bpfi_ss_count(int fd, const char *line, int tw)
{
	char buf[512];
	ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);
	long inuse, t = 0;

	if (r <= 0)
		return -1;
	buf[r] = '\0';
	inuse = bpfi_ss_field(buf, line, " inuse ");
	if (tw)
		t = bpfi_ss_field(buf, line, " tw ");
	return inuse < 0 || t < 0 ? -1 : inuse + t;
}

int bpfi_sockstat_has_tcp(const struct bpfi_ns *n)
{
	long v4, v6 = 0;

	if (n->ss4 < 0 || (v4 = bpfi_ss_count(n->ss4, "TCP:", 1)) < 0)
		return 1; /* cannot tell: walk it */
	if (n->ss6 >= 0 && (v6 = bpfi_ss_count(n->ss6, "TCP6:", 0)) < 0)
		return 1;
	return v4 + v6 > 0;
}

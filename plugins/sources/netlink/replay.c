/* replay — feed captured dumps (--capture files: raw netlink datagrams back to back)
 * through the same decoding as live answers. For tests and offline analysis; it runs
 * in poll() on the main thread and emits on lane 0. */
#include "nlsrc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int nls_replay_file(struct nls *s, int dfd, const char *name)
{
	struct stat st;
	uint8_t *buf;
	size_t off = 0;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	/* Not the data path: one allocation per file is fine here. */
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (off < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + off, (size_t)st.st_size - off);

		if (r <= 0) {
			err = r < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)r;
	}
	close(fd);
	if (!err) {
		NLS_ADD(s, NLS_M_BYTES, off);
		nls_process(s, NULL, buf, off, 0, 0, 1);
	}
	free(buf);
	return err;
}

static int nls_replay_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 6 && strcmp(d->d_name + n - 6, ".nlraw") == 0;
}

int nls_replay(struct nls *s, const struct xtcpd_cycle *cyc)
{
	struct dirent **names;
	int dfd, n, err = 0;

	(void)cyc;
	dfd = open(s->replay_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		s->host->log(s->ctx, XTCPD_LOG_ERR, "replay_dir %s: %s", s->replay_dir, strerror(errno));
		return -errno;
	}
	n = scandir(s->replay_dir, &names, nls_replay_filter, alphasort);
	if (n < 0) {
		err = -errno;
		close(dfd);
		return err;
	}
	for (int i = 0; i < n; i++) {
		int e = nls_replay_file(s, dfd, names[i]->d_name);

		if (e && !err) {
			s->host->log(s->ctx, XTCPD_LOG_ERR, "replay %s: %s", names[i]->d_name, strerror(-e));
			err = e;
		}
		free(names[i]);
	}
	free(names);
	close(dfd);
	return err;
}

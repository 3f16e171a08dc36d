/* sink file — appends each batch to a file (or stdout), with size-based rotation, reopen
 * on SIGHUP for external log rotation, and an fsync policy. The file is opened in a folder
 * held open (never through a link, mode 0640, only a file of the daemon's own user with a
 * single link), and rotation renames inside that folder then creates the new file
 * exclusively, so nobody else's file is ever written or truncated. A write error (full disk,
 * EIO) is counted, logged at most once per interval and retried for up to retry_timeout;
 * then the batch is dropped (counted), and until a write succeeds again each batch gets
 * a single attempt, so a dead disk never holds the pipeline (or the shutdown). Standard
 * output into a pipe whose reader left (EPIPE) is final: send() says so (-EPIPE) and
 * the host stops using the sink. A batch's header line (csv, XTCPD_BUF_HEADER) is
 * written only at the start of a file. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xtcpd/plugin.h>

#include "plugins/sinks/common/header.h"
#include "plugins/sinks/common/sink_stats.h"

#define FILE_LOG_INTERVAL_MS 10000
#define FILE_RETRY_STEP_MS 100

enum file_key { K_PATH, K_APPEND, K_ROTATE_BYTES, K_ROTATE_KEEP, K_FSYNC, K_FSYNC_INTERVAL,
		K_RETRY_TIMEOUT };
enum file_fsync { FSYNC_NEVER, FSYNC_BATCH, FSYNC_INTERVAL };

static const struct xtcpd_key file_keys[] = {
	[K_PATH] = { "path", XTCPD_KEY_STRING, NULL, 0, 4095, NULL,
		     XTCPD_KEY_REQUIRED | XTCPD_KEY_OUTPUT,
		     "file to append to (one sink per file), or - for standard output" },
	[K_APPEND] = { "append", XTCPD_KEY_BOOL, "yes", 0, 0, NULL, 0,
		       "append to an existing file at start (no: truncate it once at start)" },
	[K_ROTATE_BYTES] = { "rotate_bytes", XTCPD_KEY_SIZE, "0", 0, INT64_MAX, NULL, 0,
			     "rotate before a batch would grow the file past this size (0 = never)" },
	[K_ROTATE_KEEP] = { "rotate_keep", XTCPD_KEY_INT, "5", 0, 1000, NULL, 0,
			    "rotated files kept as PATH.1 (newest) .. PATH.N" },
	[K_FSYNC] = { "fsync", XTCPD_KEY_ENUM, "never", 0, 0, "never|batch|interval", 0,
		      "when to fdatasync: never, after every batch, or every fsync_interval" },
	[K_FSYNC_INTERVAL] = { "fsync_interval", XTCPD_KEY_DURATION, "1s", 1, 3600000, NULL, 0,
			       "fdatasync period with fsync = interval" },
	[K_RETRY_TIMEOUT] = { "retry_timeout", XTCPD_KEY_DURATION, "1s", 0, 60000, NULL, 0,
			      "keep retrying a failed write this long, then drop the batch" },
	XTCPD_KEYS_END,
};

/* Failure reasons (label values of xtcpd_sink_failed_total). */
enum file_reason { R_ENOSPC, R_EIO, R_OPEN, R_ROTATE, R_FSYNC, R_EPIPE, R_OTHER, R_N };
static const char *const file_reasons[R_N] = {
	"enospc", "eio", "open", "rotate", "fsync", "epipe", "other",
};

struct file_sink {
	const struct xtcpd_host *host;
	struct xtcpd_ctx *ctx;
	struct sink_stats st;
	_Atomic uint64_t *failed[R_N];

	char *path;
	char *dir;                      /* the folder of path ("." for a bare name) */
	const char *base;               /* the file name in it (points into path) */
	int dirfd;                      /* the folder the current file is in, -1 = none */
	char *rot_from, *rot_to;        /* scratch names for rotation, sized at create */
	size_t rot_len;
	int is_stdout;
	uint64_t rotate_bytes;
	unsigned rotate_keep;
	int fsync_mode;
	int64_t fsync_interval_ns, retry_timeout_ns;

	pthread_mutex_t lock;           /* send (sink thread) vs reopen (main thread) */
	int fd;                         /* -1 while closed (after a failed reopen) */
	int seekable;                   /* regular file: a torn batch can be cut off */
	uint64_t size;                  /* bytes in the current file */
	int dirty;                      /* written since the last fdatasync */
	int failing;                    /* the last batch was dropped */
	int gone;                       /* standard output is a pipe whose reader left */
	int hdr_sent;                   /* a header line went into this output */
	size_t skip;                    /* header bytes the batch being written leaves out */
	atomic_int cancelled;           /* shutdown deadline passed: stop retrying */
	int64_t last_sync_ns;
	char rl_write, rl_open, rl_rotate, rl_fsync; /* rate-limit keys */
};

static int64_t file_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void file_sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static unsigned file_reason_of(int err)
{
	switch (-err) {
	case ENOSPC:
	case EDQUOT:
		return R_ENOSPC;
	case EIO:
		return R_EIO;
	case EPIPE:
		return R_EPIPE;
	default:
		return R_OTHER;
	}
}

/* A folder others could write to without the sticky bit, or one owned by another user,
 * lets them put a file or a link where ours goes: refused. */
static int file_dir_ok(struct file_sink *fs, int dirfd)
{
	struct stat st;

	if (fstat(dirfd, &st) < 0)
		return -errno;
	if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))) {
		fs->host->log_ratelimited(fs->ctx, &fs->rl_open, FILE_LOG_INTERVAL_MS, XTCPD_LOG_ERR,
			"%s: the folder %s is %s: refused", fs->path, fs->dir,
			(st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX) ? "writable by others" :
									    "owned by another user");
		return -EPERM;
	}
	return 0;
}

/* The file just opened is ours to write: a regular file of this daemon's user with no
 * other name (a hard link would send our output, or our truncation, elsewhere). */
static int file_fd_ok(struct file_sink *fs, int fd, struct stat *sb)
{
	if (fstat(fd, sb) < 0)
		return -errno;
	if (!S_ISREG(sb->st_mode))
		return 0;   /* a FIFO or a device (/dev/null): written, never rotated */
	if (sb->st_uid != geteuid() || sb->st_nlink != 1) {
		fs->host->log_ratelimited(fs->ctx, &fs->rl_open, FILE_LOG_INTERVAL_MS, XTCPD_LOG_ERR,
			"%s: refused: %s", fs->path, sb->st_uid != geteuid() ?
			"owned by another user" : "it has other names (hard links)");
		return -EPERM;
	}
	return 0;
}

/* Open base in dirfd (no link followed; `excl`: only a file created now). */
static int file_openat(struct file_sink *fs, int dirfd, int excl, struct stat *sb)
{
	int fd = openat(dirfd, fs->base, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NOCTTY |
			O_CLOEXEC | (excl ? O_EXCL : 0), 0640);
	int err;

	if (fd < 0)
		return -errno;
	if ((err = file_fd_ok(fs, fd, sb))) {
		close(fd);
		return err;
	}
	return fd;
}

/* Take fd (of a file in dirfd) as the output. */
static void file_use(struct file_sink *fs, int dirfd, int fd, const struct stat *sb)
{
	if (fs->dirfd >= 0 && fs->dirfd != dirfd)
		close(fs->dirfd);
	fs->dirfd = dirfd;
	fs->fd = fd;
	fs->seekable = S_ISREG(sb->st_mode);
	fs->size = fs->seekable ? (uint64_t)sb->st_size : 0;
}

/* Open the output by its path; `trunc` only for the very first open with append = no. */
static int file_open(struct file_sink *fs, int trunc)
{
	struct stat sb;
	int dirfd, fd, err;

	if (fs->is_stdout) {            /* one stream for the whole run */
		fs->fd = STDOUT_FILENO;
		fs->seekable = 0;
		return 0;
	}
	fs->hdr_sent = 0;
	dirfd = open(fs->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	if ((err = file_dir_ok(fs, dirfd)) || (fd = file_openat(fs, dirfd, 0, &sb)) < 0) {
		err = err ? err : fd;
		close(dirfd);
		return err;
	}
	/* truncated only once it is known to be ours (O_TRUNC would act before the checks) */
	if (trunc && S_ISREG(sb.st_mode) && ftruncate(fd, 0) < 0) {
		err = -errno;
		close(fd);
		close(dirfd);
		return err;
	}
	if (trunc)
		sb.st_size = 0;
	file_use(fs, dirfd, fd, &sb);
	return 0;
}

static void file_close(struct file_sink *fs)
{
	if (fs->fd >= 0 && !fs->is_stdout)
		close(fs->fd);
	fs->fd = -1;
	if (fs->dirfd >= 0)
		close(fs->dirfd);
	fs->dirfd = -1;
}

static int file_sync(struct file_sink *fs)
{
	if (!fs->dirty || fs->fd < 0 || !fs->seekable)
		return 0;
	fs->last_sync_ns = file_now_ns();
	if (fdatasync(fs->fd) < 0) {
		int err = -errno;

		sink_stats_fail(&fs->st, R_FSYNC);
		fs->host->log_ratelimited(fs->ctx, &fs->rl_fsync, FILE_LOG_INTERVAL_MS,
					  XTCPD_LOG_WARN, "fdatasync %s: %s", fs->path,
					  strerror(-err));
		return err;
	}
	fs->dirty = 0;
	return 0;
}

/* PATH -> PATH.1 -> ... -> PATH.keep (the oldest is removed), then a fresh PATH, all
 * inside the folder the current file is in. The new file is created exclusively: if
 * something took its name meanwhile, we keep writing to the current one (now PATH.1). */
static int file_rotate(struct file_sink *fs)
{
	struct stat sb;
	int err = 0, fd;

	if (fs->fsync_mode != FSYNC_NEVER)
		file_sync(fs);
	if (fs->rotate_keep == 0) {
		if (unlinkat(fs->dirfd, fs->base, 0) < 0 && errno != ENOENT)
			err = -errno;
	} else {
		snprintf(fs->rot_to, fs->rot_len, "%s.%u", fs->base, fs->rotate_keep);
		if (unlinkat(fs->dirfd, fs->rot_to, 0) < 0 && errno != ENOENT)
			err = -errno;
		for (unsigned i = fs->rotate_keep; i > 1 && !err; i--) {
			snprintf(fs->rot_from, fs->rot_len, "%s.%u", fs->base, i - 1);
			snprintf(fs->rot_to, fs->rot_len, "%s.%u", fs->base, i);
			if (renameat(fs->dirfd, fs->rot_from, fs->dirfd, fs->rot_to) < 0 && errno != ENOENT)
				err = -errno;
		}
		snprintf(fs->rot_to, fs->rot_len, "%s.1", fs->base);
		if (!err && renameat(fs->dirfd, fs->base, fs->dirfd, fs->rot_to) < 0 && errno != ENOENT)
			err = -errno;
	}
	if (!err && (fd = file_openat(fs, fs->dirfd, 1, &sb)) < 0)
		err = fd;
	if (err) {
		/* Keep writing to the current file rather than lose data. */
		sink_stats_fail(&fs->st, R_ROTATE);
		fs->host->log_ratelimited(fs->ctx, &fs->rl_rotate, FILE_LOG_INTERVAL_MS,
					  XTCPD_LOG_WARN, "rotating %s: %s", fs->path,
					  strerror(-err));
		return 0;
	}
	close(fs->fd);
	file_use(fs, fs->dirfd, fd, &sb);
	return 0;
}

/* One attempt at writing data[*done, n). On a regular file a failed attempt is cut off
 * again (ftruncate), so the file only ever holds whole batches and the retry rewrites
 * the batch; elsewhere (pipe, tty) the retry resumes at *done. The first `hdr` bytes (a
 * header line) are written only when the output is at its start: an empty file, or a
 * pipe or standard output that has not had one yet. */
static int file_write(struct file_sink *fs, const uint8_t *data, size_t n, size_t hdr,
		      size_t *done)
{
	uint64_t start;
	int err;

	if (fs->fd < 0) {
		err = file_open(fs, 0);
		if (err) {
			sink_stats_fail(&fs->st, R_OPEN);
			fs->host->log_ratelimited(fs->ctx, &fs->rl_open, FILE_LOG_INTERVAL_MS,
						  XTCPD_LOG_WARN, "open %s: %s", fs->path,
						  strerror(-err));
			return err;
		}
	}
	if (fs->rotate_bytes && fs->seekable && fs->size > 0 && fs->size + n > fs->rotate_bytes) {
		err = file_rotate(fs);
		if (err) {
			sink_stats_fail(&fs->st, R_OPEN);
			return err;
		}
	}
	if (*done == 0)
		fs->skip = hdr && (fs->seekable ? fs->size > 0 : fs->hdr_sent) ? hdr : 0;
	data += fs->skip;
	n -= fs->skip;
	start = fs->size;
	while (*done < n) {
		ssize_t w = write(fs->fd, data + *done, n - *done);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out_fail;
		}
		*done += (size_t)w;
		fs->dirty = 1;
	}
	if (fs->seekable)
		fs->size = start + n;
	fs->hdr_sent |= hdr != 0;
	return 0;

out_fail:
	sink_stats_fail(&fs->st, file_reason_of(err));
	if (fs->seekable) {
		if (ftruncate(fs->fd, (off_t)start) == 0)
			*done = 0;
		else    /* cannot cut it off: resume where we stopped */
			fs->size = start + *done;
	}
	if (err != -ENOSPC && err != -EDQUOT)
		file_close(fs);     /* EIO, ESTALE...: a fresh descriptor may help */
	return err;
}

static int file_send(void *inst, struct xtcpd_buf *buf)
{
	struct file_sink *fs = inst;
	const uint8_t *data = buf->data + buf->off;
	size_t n = buf->len - buf->off, done = 0;
	int64_t deadline = file_now_ns() + fs->retry_timeout_ns;
	int err;

	pthread_mutex_lock(&fs->lock);
	for (;;) {
		int64_t left;

		err = fs->gone ? -EPIPE : file_write(fs, data, n, sink_header_len(buf), &done);
		if (!err)
			break;
		if (err == -EPIPE && fs->is_stdout) {
			/* Nobody reads our standard output any more, and nobody ever will:
			 * final, like a filter whose reader left (the host stops sending). */
			if (!fs->gone)
				fs->host->log(fs->ctx, XTCPD_LOG_WARN, "standard output closed (%s)",
					      strerror(EPIPE));
			fs->gone = 1;
			break;
		}
		fs->host->log_ratelimited(fs->ctx, &fs->rl_write, FILE_LOG_INTERVAL_MS,
					  XTCPD_LOG_WARN, "write %s: %s (retrying)", fs->path,
					  strerror(-err));
		/* While failing (the previous batch was dropped), one attempt per batch:
		 * recovery still shows at the next batch, but a dead disk does not cost
		 * retry_timeout per queued batch (nor at shutdown). */
		left = fs->failing || atomic_load(&fs->cancelled) ? 0 : deadline - file_now_ns();
		if (left <= 0)
			break;
		sink_count(fs->st.retried, 1);
		/* Let reopen() in while we wait. */
		pthread_mutex_unlock(&fs->lock);
		file_sleep_ns(left < FILE_RETRY_STEP_MS * 1000000LL ? left
							      : FILE_RETRY_STEP_MS * 1000000LL);
		pthread_mutex_lock(&fs->lock);
	}
	fs->failing = err != 0;
	if (!err && (fs->fsync_mode == FSYNC_BATCH ||
		     (fs->fsync_mode == FSYNC_INTERVAL &&
		      file_now_ns() - fs->last_sync_ns >= fs->fsync_interval_ns)))
		file_sync(fs);
	pthread_mutex_unlock(&fs->lock);
	sink_stats_done(&fs->st, fs->host, fs->ctx, buf, !err);
	return err == -EPIPE && fs->gone ? -EPIPE : 0;
}

static int file_reopen(void *inst)
{
	struct file_sink *fs = inst;
	int err;

	if (fs->is_stdout)
		return 0;
	pthread_mutex_lock(&fs->lock);
	if (fs->fsync_mode != FSYNC_NEVER)
		file_sync(fs);
	file_close(fs);
	err = file_open(fs, 0);
	pthread_mutex_unlock(&fs->lock);
	if (err) {
		/* The next send retries the open. */
		sink_stats_fail(&fs->st, R_OPEN);
		fs->host->log(fs->ctx, XTCPD_LOG_WARN, "reopen %s: %s", fs->path, strerror(-err));
	}
	return err;
}

/* Shutdown deadline passed while send() retries: give up within one retry step. */
static void file_cancel(void *inst)
{
	struct file_sink *fs = inst;

	atomic_store(&fs->cancelled, 1);
}

static int file_flush(void *inst, int timeout_ms)
{
	struct file_sink *fs = inst;

	(void)timeout_ms;   /* writes are synchronous: nothing is ever in flight */
	pthread_mutex_lock(&fs->lock);
	if (fs->fsync_mode != FSYNC_NEVER)
		file_sync(fs);
	pthread_mutex_unlock(&fs->lock);
	return 0;
}

static size_t file_max_message(void *inst)
{
	(void)inst;
	return 0;
}

static void file_destroy(void *inst)
{
	struct file_sink *fs = inst;

	if (!fs)
		return;
	if (fs->fd >= 0 && fs->fsync_mode != FSYNC_NEVER)
		file_sync(fs);
	file_close(fs);
	pthread_mutex_destroy(&fs->lock);
	free(fs->path);
	free(fs->dir);
	free(fs->rot_from);
	free(fs->rot_to);
	free(fs);
}

/* Everything create() could refuse, without creating anything: the file's folder must
 * exist and be writable, the file (if there) a writable non-folder. */
static int file_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	const char *path, *base;
	char dir[4200], *slash;
	struct stat st;

	if (cfg->n_values < K_RETRY_TIMEOUT + 1)
		return XTCPD_CHECK_FAIL(res, NULL, "configuration has %zu keys, this plugin needs %d",
					cfg->n_values, K_RETRY_TIMEOUT + 1);
	path = cfg->values[K_PATH].str;
	if (!path || !*path)
		return XTCPD_CHECK_FAIL(res, "path", "empty: a file name, or - for standard output");
	if (!strcmp(path, "-"))
		return 0;
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return XTCPD_CHECK_FAIL(res, "path", "'%s' names a folder, not a file", path);
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return XTCPD_CHECK_FAIL(res, "path", "'%s' is a folder", path);
		if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) < 0)
			return XTCPD_CHECK_FAIL(res, "path", "'%s': %s", path, strerror(errno));
		return 0;
	}
	if (errno != ENOENT)
		return XTCPD_CHECK_FAIL(res, "path", "'%s': %s", path, strerror(errno));
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st) < 0)
		return XTCPD_CHECK_FAIL(res, "path", "'%s': folder %s: %s", path, dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return XTCPD_CHECK_FAIL(res, "path", "'%s': %s is not a folder", path, dir);
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0)
		return XTCPD_CHECK_FAIL(res, "path", "'%s': cannot create a file in %s: %s", path, dir,
					strerror(errno));
	return 0;
}

/* path -> dir (the folder held open) + base (the name in it). */
static int file_split(struct file_sink *fs)
{
	char *slash = strrchr(fs->path, '/');

	fs->base = slash ? slash + 1 : fs->path;
	fs->dir = slash ? strndup(fs->path, slash == fs->path ? 1 : (size_t)(slash - fs->path))
			: strdup(".");
	return fs->dir ? 0 : -ENOMEM;
}

static int file_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		       const struct xtcpd_config *cfg, void **inst)
{
	const struct xtcpd_value *v = cfg->values;
	struct file_sink *fs;
	char msg[600];
	struct xtcpd_check res = { .struct_size = sizeof(res), .msg = msg, .msg_size = sizeof(msg) };
	int err;

	*inst = NULL;
	if (file_check(cfg, &res)) {
		host->log(ctx, XTCPD_LOG_ERR, "%s%s%s", res.key ? res.key : "", res.key ? ": " : "", msg);
		return -EINVAL;
	}
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->fd = fs->dirfd = -1;
	pthread_mutex_init(&fs->lock, NULL);
	*inst = fs;
	fs->host = host;
	fs->ctx = ctx;
	fs->path = strdup(v[K_PATH].str);
	fs->rot_len = strlen(v[K_PATH].str) + 16;
	fs->rot_from = malloc(fs->rot_len);
	fs->rot_to = malloc(fs->rot_len);
	if (!fs->path || !fs->rot_from || !fs->rot_to || file_split(fs))
		return -ENOMEM;
	fs->is_stdout = strcmp(fs->path, "-") == 0;
	fs->rotate_bytes = (uint64_t)v[K_ROTATE_BYTES].num;
	fs->rotate_keep = (unsigned)v[K_ROTATE_KEEP].num;
	fs->fsync_mode = (int)v[K_FSYNC].num;
	fs->fsync_interval_ns = v[K_FSYNC_INTERVAL].num * 1000000;
	fs->retry_timeout_ns = v[K_RETRY_TIMEOUT].num * 1000000;
	if (fs->is_stdout && fs->rotate_bytes)
		host->log(ctx, XTCPD_LOG_WARN, "rotate_bytes ignored: path is standard output");
	err = sink_stats_init(&fs->st, host, ctx, file_reasons, R_N, fs->failed);
	if (err) {
		host->log(ctx, XTCPD_LOG_ERR, "cannot register metrics");
		return err;
	}
	err = file_open(fs, !v[K_APPEND].num);
	if (err) {
		host->log(ctx, XTCPD_LOG_ERR, "cannot open %s: %s", fs->path, strerror(-err));
		return err;
	}
	fs->last_sync_ns = file_now_ns();
	return 0;
}

static const struct xtcpd_sink_ops file_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_sink_ops),
		.create = file_create,
		.destroy = file_destroy,
	},
	.max_message = file_max_message,
	.send = file_send,
	.flush = file_flush,
	.reopen = file_reopen,
	.cancel = file_cancel,
};

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_SINK, "file", PACKAGE_VERSION,
		     "append batches to a file or stdout, with rotation and fsync policy",
		     file_keys, &file_ops, file_check);

/* sink file — appends each batch to a file (or stdout), with size-based rotation, reopen
 * on SIGHUP for external log rotation, and an fsync policy. A write error (full disk,
 * EIO) is counted, logged at most once per interval and retried for up to retry_timeout;
 * then the batch is dropped (counted), and until a write succeeds again each batch gets
 * a single attempt, so a dead disk never holds the pipeline (or the shutdown). */
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

#include "plugins/sinks/common/sink_stats.h"

#define FILE_LOG_INTERVAL_MS 10000
#define FILE_RETRY_STEP_MS 100

enum file_key { K_PATH, K_APPEND, K_ROTATE_BYTES, K_ROTATE_KEEP, K_FSYNC, K_FSYNC_INTERVAL,
		K_RETRY_TIMEOUT };
enum file_fsync { FSYNC_NEVER, FSYNC_BATCH, FSYNC_INTERVAL };

static const struct xtcpd_key file_keys[] = {
	[K_PATH] = { "path", XTCPD_KEY_STRING, NULL, 0, 4095, NULL, XTCPD_KEY_REQUIRED,
		     "file to append to, or - for standard output" },
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
enum file_reason { R_ENOSPC, R_EIO, R_OPEN, R_ROTATE, R_FSYNC, R_OTHER, R_N };
static const char *const file_reasons[R_N] = {
	"enospc", "eio", "open", "rotate", "fsync", "other",
};

struct file_sink {
	const struct xtcpd_host *host;
	struct xtcpd_ctx *ctx;
	struct sink_stats st;
	_Atomic uint64_t *failed[R_N];

	char *path;
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
	default:
		return R_OTHER;
	}
}

/* Open the output; `trunc` only for the very first open with append = no. */
static int file_open(struct file_sink *fs, int trunc)
{
	struct stat sb;
	int fd;

	if (fs->is_stdout) {
		fs->fd = STDOUT_FILENO;
		fs->seekable = 0;
		return 0;
	}
	fd = open(fs->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (trunc ? O_TRUNC : 0),
		  0644);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	fs->fd = fd;
	fs->seekable = S_ISREG(sb.st_mode);
	fs->size = fs->seekable ? (uint64_t)sb.st_size : 0;
	return 0;
}

static void file_close(struct file_sink *fs)
{
	if (fs->fd >= 0 && !fs->is_stdout)
		close(fs->fd);
	fs->fd = -1;
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

/* PATH -> PATH.1 -> ... -> PATH.keep (the oldest is removed), then a fresh PATH. */
static int file_rotate(struct file_sink *fs)
{
	int err = 0;

	if (fs->fsync_mode != FSYNC_NEVER)
		file_sync(fs);
	file_close(fs);
	if (fs->rotate_keep == 0) {
		if (unlink(fs->path) < 0 && errno != ENOENT)
			err = -errno;
	} else {
		snprintf(fs->rot_to, fs->rot_len, "%s.%u", fs->path, fs->rotate_keep);
		if (unlink(fs->rot_to) < 0 && errno != ENOENT)
			err = -errno;
		for (unsigned i = fs->rotate_keep; i > 1 && !err; i--) {
			snprintf(fs->rot_from, fs->rot_len, "%s.%u", fs->path, i - 1);
			snprintf(fs->rot_to, fs->rot_len, "%s.%u", fs->path, i);
			if (rename(fs->rot_from, fs->rot_to) < 0 && errno != ENOENT)
				err = -errno;
		}
		snprintf(fs->rot_to, fs->rot_len, "%s.1", fs->path);
		if (!err && rename(fs->path, fs->rot_to) < 0 && errno != ENOENT)
			err = -errno;
	}
	if (err) {
		/* Keep writing to the current file rather than lose data. */
		sink_stats_fail(&fs->st, R_ROTATE);
		fs->host->log_ratelimited(fs->ctx, &fs->rl_rotate, FILE_LOG_INTERVAL_MS,
					  XTCPD_LOG_WARN, "rotating %s: %s", fs->path,
					  strerror(-err));
	}
	return file_open(fs, 0);
}

/* One attempt at writing data[*done, n). On a regular file a failed attempt is cut off
 * again (ftruncate), so the file only ever holds whole batches and the retry rewrites
 * the batch; elsewhere (pipe, tty) the retry resumes at *done. */
static int file_write(struct file_sink *fs, const uint8_t *data, size_t n, size_t *done)
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

		err = file_write(fs, data, n, &done);
		if (!err)
			break;
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
	return 0;
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
	free(fs->rot_from);
	free(fs->rot_to);
	free(fs);
}

static int file_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		       const struct xtcpd_config *cfg, void **inst)
{
	const struct xtcpd_value *v = cfg->values;
	struct file_sink *fs;
	int err;

	*inst = NULL;
	if (cfg->n_values < K_RETRY_TIMEOUT + 1 || !v[K_PATH].str || !v[K_PATH].str[0]) {
		host->log(ctx, XTCPD_LOG_ERR, "path is required");
		return -EINVAL;
	}
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->fd = -1;
	pthread_mutex_init(&fs->lock, NULL);
	*inst = fs;
	fs->host = host;
	fs->ctx = ctx;
	fs->path = strdup(v[K_PATH].str);
	fs->rot_len = strlen(v[K_PATH].str) + 16;
	fs->rot_from = malloc(fs->rot_len);
	fs->rot_to = malloc(fs->rot_len);
	if (!fs->path || !fs->rot_from || !fs->rot_to)
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

XTCPD_PLUGIN(XTCPD_KIND_SINK, "file", PACKAGE_VERSION,
	     "append batches to a file or stdout, with rotation and fsync policy",
	     file_keys, &file_ops);

/* test_file — the file and null sinks through their ops tables: exact bytes written,
 * append/truncate, rotation, reopen after an external rename, standard output, the csv
 * header line once per file (XTCPD_BUF_HEADER), a full disk (a small tmpfs mounted in a
 * private mount namespace) with retry and drop, and files it must never write: a link or
 * a hard link to a victim at the path, at a reopen or at a rotation's name, another
 * user's file, a folder others can write to (issue 23). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/lib/skip.h"

#include "tests/lib/testhost.h"

static struct th_plugin file_plugin, null_plugin;
static char tmpdir[] = "/tmp/xt-test-file-XXXXXX";

/* Batch i: `len` bytes of a line pattern that names the batch, so misplaced or torn
 * batches show up in a byte comparison. */
static void batch_fill(char *p, size_t len, unsigned i)
{
	for (size_t j = 0; j < len; j++)
		p[j] = (j + 1) % 64 == 0 ? '\n' : (char)('a' + (i + j) % 26);
}

static void send_batch(struct th_inst *in, unsigned i, size_t len)
{
	char data[20000];

	assert_true(len <= sizeof(data));
	batch_fill(data, len, i);
	assert_int_equal(in->ops->send(in->sink, th_buf(data, len, i + 1)), 0);
}

/* Assert that file `path` holds exactly batches first..last of `len` bytes each. */
static void expect_file(const char *path, unsigned first, unsigned last, size_t len)
{
	char want[20000], *got;
	struct stat sb;
	FILE *f;

	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, (off_t)((last - first + 1) * len));
	got = malloc(sb.st_size + 1);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(got, 1, sb.st_size, f), (size_t)sb.st_size);
	fclose(f);
	for (unsigned i = first; i <= last; i++) {
		batch_fill(want, len, i);
		assert_memory_equal(got + (i - first) * len, want, len);
	}
	free(got);
}

static void path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmpdir, name);
}

static void test_null(void **state)
{
	struct th_released r;
	struct th_inst in;

	(void)state;
	assert_int_equal(th_inst_create(&in, &null_plugin, NULL), 0);
	assert_int_equal(in.ops->max_message(in.sink), 0);
	for (unsigned i = 0; i < 100; i++)
		send_batch(&in, i, 100);
	assert_int_equal(in.ops->flush(in.sink, 100), 0);
	th_released_get(in.ctx, &r);
	assert_int_equal(r.ok, 100);
	assert_int_equal(r.failed, 0);
	assert_int_equal(r.twice, 0);
	assert_int_equal(r.rows_ok, 100 * 101 / 2);
	assert_int_equal(th_outcome(in.ctx, TH_SENT), 100);
	assert_int_equal(th_outcome(in.ctx, TH_OK), 100);
	assert_int_equal(th_outcome(in.ctx, TH_ROWS_OK), 5050);
	assert_int_equal(th_outcome(in.ctx, TH_BYTES_OK), 10000);
	assert_int_equal(th_outcome(in.ctx, TH_FAILED), 0);
	th_inst_destroy(&in);
}

static void test_write_append_truncate(void **state)
{
	char path[256], kv_path[300];
	const char *kv[] = { kv_path, NULL, NULL };
	struct th_released r;
	struct th_inst in;

	(void)state;
	path_of(path, sizeof(path), "plain.out");
	snprintf(kv_path, sizeof(kv_path), "path=%s", path);
	assert_int_equal(th_inst_create(&in, &file_plugin, kv), 0);
	assert_int_equal(in.ops->max_message(in.sink), 0);
	for (unsigned i = 0; i < 10; i++)
		send_batch(&in, i, 640);
	assert_int_equal(in.ops->flush(in.sink, 100), 0);
	expect_file(path, 0, 9, 640);
	th_released_get(in.ctx, &r);
	assert_int_equal(r.ok, 10);
	assert_int_equal(r.failed + r.twice, 0);
	assert_int_equal(th_outcome(in.ctx, TH_BYTES_OK), 6400);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), 0);
	th_inst_destroy(&in);

	/* append = yes (default): a new instance continues the file. */
	assert_int_equal(th_inst_create(&in, &file_plugin, kv), 0);
	send_batch(&in, 10, 640);
	th_inst_destroy(&in);
	expect_file(path, 0, 10, 640);

	/* append = no: truncated once at start. */
	kv[1] = "append=no";
	assert_int_equal(th_inst_create(&in, &file_plugin, kv), 0);
	send_batch(&in, 20, 640);
	send_batch(&in, 21, 640);
	th_inst_destroy(&in);
	expect_file(path, 20, 21, 640);
}

static void test_rotate(void **state)
{
	char path[256], kv_path[300], name[300];
	const char *kv[] = { kv_path, "rotate_bytes=1000", "rotate_keep=2", "fsync=batch", NULL };
	struct th_inst in;

	(void)state;
	path_of(path, sizeof(path), "rot.out");
	snprintf(kv_path, sizeof(kv_path), "path=%s", path);
	assert_int_equal(th_inst_create(&in, &file_plugin, kv), 0);
	/* 3 batches of 300 bytes fit in 1000; the 4th starts a new file. */
	for (unsigned i = 0; i < 10; i++)
		send_batch(&in, i, 300);
	expect_file(path, 9, 9, 300);
	snprintf(name, sizeof(name), "%s.1", path);
	expect_file(name, 6, 8, 300);
	snprintf(name, sizeof(name), "%s.2", path);
	expect_file(name, 3, 5, 300);
	snprintf(name, sizeof(name), "%s.3", path);
	assert_int_equal(access(name, F_OK), -1);
	/* A batch larger than rotate_bytes gets a file of its own, never split. */
	send_batch(&in, 10, 1500);
	send_batch(&in, 11, 300);
	expect_file(path, 11, 11, 300);
	snprintf(name, sizeof(name), "%s.1", path);
	expect_file(name, 10, 10, 1500);
	assert_int_equal(th_outcome(in.ctx, TH_OK), 12);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), 0);
	th_inst_destroy(&in);
}

static void test_reopen(void **state)
{
	char dir[256], old[300], path[300], kv_path[320], moved[300];
	const char *kv[] = { kv_path, NULL };
	struct th_inst in;

	(void)state;
	path_of(dir, sizeof(dir), "rd");
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/reopen.out", dir);
	snprintf(moved, sizeof(moved), "%s/reopen.moved", dir);
	snprintf(kv_path, sizeof(kv_path), "path=%s", path);
	assert_int_equal(th_inst_create(&in, &file_plugin, kv), 0);
	send_batch(&in, 0, 128);
	send_batch(&in, 1, 128);
	/* logrotate renames the file; until the reopen the sink keeps the old one. */
	assert_int_equal(rename(path, moved), 0);
	send_batch(&in, 2, 128);
	assert_int_equal(in.ops->reopen(in.sink), 0);
	send_batch(&in, 3, 128);
	send_batch(&in, 4, 128);
	expect_file(moved, 0, 2, 128);
	expect_file(path, 3, 4, 128);
	/* The directory is gone: reopen fails (counted); once it is back, the next send
	 * opens the file again. */
	snprintf(old, sizeof(old), "%s.old", dir);
	assert_int_equal(rename(dir, old), 0);
	assert_int_equal(in.ops->reopen(in.sink), -ENOENT);
	assert_int_equal(th_metric(in.ctx, "sink_failed_total", "reason=\"open\""), 1);
	assert_int_equal(mkdir(dir, 0700), 0);
	send_batch(&in, 5, 128);
	expect_file(path, 5, 5, 128);
	snprintf(path, sizeof(path), "%s/reopen.out", old);
	expect_file(path, 3, 4, 128);
	assert_int_equal(th_outcome(in.ctx, TH_OK), 6);
	assert_int_equal(th_outcome(in.ctx, TH_FAILED), 0);
	th_inst_destroy(&in);
}

static void test_stdout(void **state)
{
	char path[256];
	const char *kv[] = { "path=-", NULL };
	struct th_inst in;
	int saved, fd;

	(void)state;
	path_of(path, sizeof(path), "stdout.out");
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0 && saved >= 0);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	assert_int_equal(th_inst_create(&in, &file_plugin, kv), 0);
	send_batch(&in, 7, 200);
	send_batch(&in, 8, 200);
	assert_int_equal(in.ops->reopen(in.sink), 0);
	send_batch(&in, 9, 200);
	th_inst_destroy(&in);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	expect_file(path, 7, 9, 200);
}

/* A csv batch: the header line, then three rows naming the batch. */
static struct xtcpd_buf *hdr_batch(unsigned i)
{
	char data[64];
	struct xtcpd_buf *b;

	snprintf(data, sizeof(data), "a,b\nr%02u,x\nr%02u,y\nr%02u,z\n", i, i, i);
	b = th_buf(data, strlen(data), 3);
	b->flags |= XTCPD_BUF_HEADER;
	return b;
}

/* The expected text of a file holding batches first..last, header first when `hdr`. */
static void expect_rows(const char *path, int hdr, unsigned first, unsigned last)
{
	char want[1024] = "", got[1024];
	size_t n = 0;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	n = fread(got, 1, sizeof(got) - 1, f);
	fclose(f);
	got[n] = 0;
	if (hdr)
		strcat(want, "a,b\n");
	for (unsigned i = first; i <= last; i++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
			 "r%02u,x\nr%02u,y\nr%02u,z\n", i, i, i);
	assert_string_equal(got, want);
}

/* XTCPD_BUF_HEADER: the header line starts every file (after each rotation too) and
 * nothing else; a reopened file that already has content does not get it again, a new
 * one does; standard output gets it once per run. */
static void test_header(void **state)
{
	char path[256], kv_path[300], name[300], moved[300];
	const char *kv[] = { kv_path, "rotate_bytes=70", "rotate_keep=5", NULL };
	const char *kv_stdout[] = { "path=-", NULL };
	struct th_inst in;
	int saved, fd;

	(void)state;
	path_of(path, sizeof(path), "hdr.csv");
	snprintf(kv_path, sizeof(kv_path), "path=%s", path);
	assert_int_equal(th_inst_create(&in, &file_plugin, kv), 0);
	/* 22-byte batches (18 without the header): 22 + 18 + 18 = 58, and the next one
	 * could pass 70 (58 + 22), so three a file. */
	for (unsigned i = 0; i < 7; i++)
		assert_int_equal(in.ops->send(in.sink, hdr_batch(i)), 0);
	snprintf(name, sizeof(name), "%s.2", path);
	expect_rows(name, 1, 0, 2);
	snprintf(name, sizeof(name), "%s.1", path);
	expect_rows(name, 1, 3, 5);
	expect_rows(path, 1, 6, 6);
	assert_int_equal(in.ops->reopen(in.sink), 0);       /* same, non-empty file */
	assert_int_equal(in.ops->send(in.sink, hdr_batch(7)), 0);
	expect_rows(path, 1, 6, 7);
	snprintf(moved, sizeof(moved), "%s.moved", path);
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(in.ops->reopen(in.sink), 0);       /* a new, empty file */
	assert_int_equal(in.ops->send(in.sink, hdr_batch(8)), 0);
	expect_rows(path, 1, 8, 8);
	assert_int_equal(th_outcome(in.ctx, TH_OK), 9);
	th_inst_destroy(&in);

	path_of(path, sizeof(path), "hdr-stdout.csv");
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0 && saved >= 0);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	assert_int_equal(th_inst_create(&in, &file_plugin, kv_stdout), 0);
	assert_int_equal(in.ops->send(in.sink, hdr_batch(0)), 0);
	assert_int_equal(in.ops->reopen(in.sink), 0);
	assert_int_equal(in.ops->send(in.sink, hdr_batch(1)), 0);
	th_inst_destroy(&in);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	expect_rows(path, 1, 0, 1);
}

static void test_create_fails(void **state)
{
	char kv_path[300];
	const char *kv[] = { kv_path, NULL };
	struct th_logs logs;
	struct th_inst in;

	(void)state;
	snprintf(kv_path, sizeof(kv_path), "path=%s/no/such/dir/x", tmpdir);
	assert_int_equal(th_inst_create(&in, &file_plugin, kv), -EINVAL);
	th_logs_get(in.ctx, &logs);
	assert_int_equal(logs.lines, 1);
	th_inst_destroy(&in);
}

/* ---- files it must not write ------------------------------------------------------ */

static char victim[300];

static void make_victim(void)
{
	int fd;

	path_of(victim, sizeof(victim), "victim");
	fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "secret\n", 7), 7);
	close(fd);
}

static void expect_victim(void)
{
	char b[16] = "";
	struct stat sb;
	int fd = open(victim, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(read(fd, b, sizeof(b) - 1), 7);
	close(fd);
	assert_string_equal(b, "secret\n");
	assert_int_equal(stat(victim, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
}

static void test_never_through_links(void **state)
{
	char dir[300], path[320], kv_path[340], name[340];
	const char *kv[] = { kv_path, "append=no", NULL, NULL };
	struct th_inst in;
	struct stat sb;
	ino_t first;
	mode_t old;

	(void)state;
	make_victim();
	path_of(dir, sizeof(dir), "links");
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/out", dir);
	snprintf(kv_path, sizeof(kv_path), "path=%s", path);
	/* a symbolic link at the path, and a hard link (append = no would truncate it) */
	assert_int_equal(symlink(victim, path), 0);
	assert_int_equal(th_inst_create(&in, &file_plugin, kv), -ELOOP);
	th_inst_destroy(&in);
	expect_victim();
	assert_int_equal(unlink(path), 0);
	assert_int_equal(link(victim, path), 0);
	assert_int_equal(th_inst_create(&in, &file_plugin, kv), -EPERM);
	th_inst_destroy(&in);
	expect_victim();
	assert_int_equal(unlink(path), 0);
	/* created 0640 whatever the umask */
	old = umask(0);
	assert_int_equal(th_inst_create(&in, &file_plugin, kv), 0);
	umask(old);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
	send_batch(&in, 0, 100);
	/* moved away (logrotate), a link planted before the reopen: refused, counted */
	snprintf(name, sizeof(name), "%s.moved", path);
	assert_int_equal(rename(path, name), 0);
	assert_int_equal(symlink(victim, path), 0);
	assert_int_equal(in.ops->reopen(in.sink), -ELOOP);
	assert_int_equal(th_metric(in.ctx, "sink_failed_total", "reason=\"open\""), 1);
	send_batch(&in, 1, 100);  /* each send tries the open again: still a link */
	expect_victim();
	assert_int_equal(unlink(path), 0);
	send_batch(&in, 2, 100);
	expect_file(path, 2, 2, 100);
	th_inst_destroy(&in);

	/* rotation: a link planted at PATH.1 is replaced, never written through; the new
	 * file is a fresh one (another inode), 0640 */
	kv[1] = "rotate_bytes=150";
	kv[2] = "rotate_keep=1";
	assert_int_equal(unlink(path), 0);
	assert_int_equal(th_inst_create(&in, &file_plugin, kv), 0);
	send_batch(&in, 3, 100);
	assert_int_equal(stat(path, &sb), 0);
	first = sb.st_ino;
	snprintf(name, sizeof(name), "%s.1", path);
	assert_int_equal(symlink(victim, name), 0);
	send_batch(&in, 4, 100);
	expect_victim();
	expect_file(name, 3, 3, 100);
	expect_file(path, 4, 4, 100);
	assert_int_equal(lstat(name, &sb), 0);
	assert_true(S_ISREG(sb.st_mode) && sb.st_ino == first);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(sb.st_ino != first);
	assert_int_equal(sb.st_mode & 07777, 0640);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), 0);
	th_inst_destroy(&in);
}

static void test_not_others_files(void **state)
{
	char dir[300], path[320], kv_path[340];
	const char *kv[] = { kv_path, NULL };
	struct th_inst in;

	(void)state;
	path_of(dir, sizeof(dir), "open");
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	snprintf(path, sizeof(path), "%s/out", dir);
	snprintf(kv_path, sizeof(kv_path), "path=%s", path);
	/* a folder anyone can write to (not sticky): anyone could plant the name */
	assert_int_equal(th_inst_create(&in, &file_plugin, kv), -EPERM);
	th_inst_destroy(&in);
	assert_int_equal(access(path, F_OK), -1);
	/* sticky, as /tmp: nobody can replace our file there */
	assert_int_equal(chmod(dir, 01777), 0);
	assert_int_equal(th_inst_create(&in, &file_plugin, kv), 0);
	send_batch(&in, 0, 100);
	th_inst_destroy(&in);
	expect_file(path, 0, 0, 100);
	/* another user's file (one planted beforehand in a sticky folder) */
	if (getuid() != 0)
		XT_SKIP("needs root: a file of another user");
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(th_inst_create(&in, &file_plugin, kv), -EPERM);
	th_inst_destroy(&in);
	expect_file(path, 0, 0, 100);
}

/* check (ABI 1.3) refuses what create would, and creates nothing. */
static void test_check(void **state)
{
	char kv_path[300], out[600], want[700], path[300];
	const char *kv[] = { kv_path, NULL };
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/checked.out", tmpdir);
	snprintf(kv_path, sizeof(kv_path), "path=%s", path);
	assert_int_equal(th_check(file_plugin.desc, kv, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(stat(path, &st), -1);  /* nothing created */
	snprintf(kv_path, sizeof(kv_path), "path=%s/no/such/dir/x", tmpdir);
	assert_int_equal(th_check(file_plugin.desc, kv, out, sizeof(out)), -EINVAL);
	snprintf(want, sizeof(want), "path: '%s/no/such/dir/x': folder %s/no/such/dir: No such file "
		 "or directory", tmpdir, tmpdir);
	assert_string_equal(out, want);
	snprintf(kv_path, sizeof(kv_path), "path=%s", tmpdir);
	assert_int_equal(th_check(file_plugin.desc, kv, out, sizeof(out)), -EINVAL);
	snprintf(want, sizeof(want), "path: '%s' is a folder", tmpdir);
	assert_string_equal(out, want);
	snprintf(kv_path, sizeof(kv_path), "path=-");
	assert_int_equal(th_check(file_plugin.desc, kv, out, sizeof(out)), 0);
}

/* ---- full disk ------------------------------------------------------------------- */

static char tmpfs_dir[300];

static int mount_small_tmpfs(void)
{
	snprintf(tmpfs_dir, sizeof(tmpfs_dir), "%s/tmpfs", tmpdir);
	if (mkdir(tmpfs_dir, 0700) < 0)
		return -1;
	/* A private mount namespace: the tmpfs vanishes with this process. */
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -1;
	return mount("xt-test-file", tmpfs_dir, "tmpfs", 0, "size=128k,mode=0700");
}

static void *free_space_later(void *arg)
{
	usleep(300 * 1000);
	unlink(arg);
	return NULL;
}

static void *cancel_later(void *arg)
{
	struct th_inst *in = arg;

	usleep(300 * 1000);
	in->ops->cancel(in->sink);
	return NULL;
}

/* Take every free block of the file system. */
static void fill_up(const char *path)
{
	static const char page[4096];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	while (write(fd, page, sizeof(page)) > 0)
		;
	close(fd);
}

static void make_filler(const char *path, size_t n)
{
	char *b = calloc(1, n);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0 && b);
	assert_int_equal(write(fd, b, n), (ssize_t)n);
	close(fd);
	free(b);
}

static void test_enospc(void **state)
{
	char path[400], filler[400], kv_path[420];
	const char *kv[] = { kv_path, "retry_timeout=300ms", "fsync=interval",
			     "fsync_interval=10ms", NULL };
	struct th_released r;
	struct th_logs logs;
	struct th_inst in;
	pthread_t th;

	(void)state;
	if (mount_small_tmpfs() < 0)
		XT_SKIP("cannot mount a small tmpfs (needs root): %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/out", tmpfs_dir);
	snprintf(filler, sizeof(filler), "%s/filler", tmpfs_dir);
	/* 128 KiB tmpfs, 64 KiB of filler: the sink has 16 pages = 65536 bytes. */
	make_filler(filler, 65536);
	snprintf(kv_path, sizeof(kv_path), "path=%s", path);
	assert_int_equal(th_inst_create(&in, &file_plugin, kv), 0);
	for (unsigned i = 0; i < 6; i++)
		send_batch(&in, i, 10000);
	/* The 7th batch does not fit: the torn write is cut off, retried for 300 ms, then
	 * dropped. The 8th, while the sink is failing, gets one attempt and no wait. */
	send_batch(&in, 6, 10000);
	expect_file(path, 0, 5, 10000);
	assert_true(th_metric(in.ctx, "sink_retried_total", NULL) >= 2);
	assert_int_equal(th_metric(in.ctx, "sink_failed_total", "reason=\"enospc\""),
			 th_metric(in.ctx, "sink_retried_total", NULL) + 1);
	send_batch(&in, 7, 10000);
	expect_file(path, 0, 5, 10000);
	th_released_get(in.ctx, &r);
	assert_int_equal(r.ok, 6);
	assert_int_equal(r.failed, 2);
	assert_int_equal(r.rows_failed, 7 + 8);
	assert_int_equal(th_outcome(in.ctx, TH_FAILED), 2);
	assert_int_equal(th_outcome(in.ctx, TH_ROWS_FAILED), 15);
	assert_int_equal(th_metric(in.ctx, "sink_failed_total", "reason=\"enospc\""),
			 th_metric(in.ctx, "sink_retried_total", NULL) + 2);
	th_logs_get(in.ctx, &logs);
	assert_int_equal(logs.lines, 1);
	assert_true(logs.suppressed >= 2);

	/* Space comes back while the sink retries: the batch is delivered, not dropped. */
	th_inst_destroy(&in);
	kv[1] = "retry_timeout=20s";
	assert_int_equal(th_inst_create(&in, &file_plugin, kv), 0);
	pthread_create(&th, NULL, free_space_later, filler);
	send_batch(&in, 6, 10000);
	pthread_join(th, NULL);
	send_batch(&in, 7, 10000);
	expect_file(path, 0, 7, 10000);
	th_released_get(in.ctx, &r);
	assert_int_equal(r.ok, 2);
	assert_int_equal(r.failed, 0);
	assert_true(th_metric(in.ctx, "sink_retried_total", NULL) >= 1);
	assert_int_equal(th_outcome(in.ctx, TH_FAILED), 0);

	/* Full again, retry_timeout 20 s: cancel (the shutdown deadline) ends the retries
	 * at once and the batch comes back failed. */
	fill_up(filler);
	pthread_create(&th, NULL, cancel_later, &in);
	send_batch(&in, 8, 10000);
	pthread_join(th, NULL);
	th_released_get(in.ctx, &r);
	assert_int_equal(r.failed, 1);
	assert_int_equal(th_outcome(in.ctx, TH_FAILED), 1);
	expect_file(path, 0, 7, 10000);
	th_inst_destroy(&in);
	umount(tmpfs_dir);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	if (th_load(XTCPD_KIND_SINK, "file", &file_plugin) ||
	    th_load(XTCPD_KIND_SINK, "null", &null_plugin))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	umount(tmpfs_dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		return -1;
	th_unload(&file_plugin);
	th_unload(&null_plugin);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_write_append_truncate),
		cmocka_unit_test(test_rotate),
		cmocka_unit_test(test_reopen),
		cmocka_unit_test(test_stdout),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_create_fails),
		cmocka_unit_test(test_never_through_links),
		cmocka_unit_test(test_not_others_files),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_enospc),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

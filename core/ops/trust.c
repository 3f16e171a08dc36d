/* trust — a walk from / to a file, one openat() per component on the folder fd reached so
 * far, so what is checked is what is opened: no name is looked up twice. Folders are
 * checked on their fd (owner, group/other write); a symbolic link is followed only when
 * its owner is trusted, and the walk goes on through its target under the same checks. */
#include "config.h"
#include "ops/trust.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <xtcpd/plugin.h> /* XTCPD_PRINTF */

#define TRUST_MAX_LINKS 40

static atomic_int trust_priv = -1;

int trust_secure_exec(void)
{
	return getauxval(AT_SECURE) != 0;
}

static int trust_have_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { { 0 } };

	if (syscall(SYS_capget, &hdr, d) < 0)
		return 1;   /* cannot tell: assume the stricter case */
	return (d[0].permitted | d[1].permitted) != 0;
}

int trust_privileged(void)
{
	int p = atomic_load(&trust_priv);

	if (p < 0) {
		p = trust_secure_exec() || (geteuid() != 0 && trust_have_caps());
		atomic_store(&trust_priv, p);
	}
	return p;
}

int trust_owner_ok(uid_t uid)
{
	return uid == 0 || (uid == geteuid() && !trust_privileged());
}

struct walk {
	char cur[PATH_MAX];     /* the path of dirfd, for messages */
	int dirfd;
	char *err;
	size_t n;
};

static const char *trust_type(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device" :
	       S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : S_ISLNK(m) ? "a link" :
	       "not a regular file";
}

/* err = "WHAT PATH<how>" where PATH is the folder walked so far, plus name if given. */
static int walk_fail(struct walk *w, int rc, const char *what, const char *name, const char *how, ...)
	XTCPD_PRINTF(5, 6);
static int walk_fail(struct walk *w, int rc, const char *what, const char *name, const char *how, ...)
{
	va_list ap;
	int len = snprintf(w->err, w->n, "%s %s%s%s", what, w->cur,
			   name && strcmp(w->cur, "/") ? "/" : "", name ? name : "");

	va_start(ap, how);
	if (len > 0 && (size_t)len < w->n)
		vsnprintf(w->err + len, w->n - (size_t)len, how, ap);
	va_end(ap);
	return rc;
}

/* Owner and mode of a folder or file of the walk; `lenient` lets a root-owned sticky
 * folder be writable by all (entries in it still belong to their owners). */
static int walk_check(struct walk *w, const struct stat *st, const char *what, const char *name,
		      int lenient)
{
	if (!trust_owner_ok(st->st_uid))
		return walk_fail(w, -EPERM, what, name, trust_privileged() ?
				 " is owned by uid %u, not root (xtcpd runs with elevated privileges)" :
				 " is owned by uid %u, neither root nor this daemon's user",
				 (unsigned)st->st_uid);
	if (S_ISLNK(st->st_mode) || !(st->st_mode & (S_IWGRP | S_IWOTH)))
		return 0;   /* a link's mode means nothing: its folder guards it */
	if (lenient && S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) && st->st_uid == 0)
		return 0;
	return walk_fail(w, -EPERM, what, name, " is writable by %s (chmod go-w)",
			 (st->st_mode & S_IWOTH) ? "others" : "its group");
}

/* dirfd becomes fd, the folder `name` ("/", ".." or a name) of the current one. */
static void walk_enter(struct walk *w, int fd, const char *name)
{
	size_t len = strlen(w->cur);

	if (!strcmp(name, "..")) {
		char *slash = strrchr(w->cur, '/');
		if (slash)
			slash[slash == w->cur ? 1 : 0] = '\0';
	} else if (!strcmp(name, "/")) {
		snprintf(w->cur, sizeof(w->cur), "/");
	} else {
		snprintf(w->cur + len, sizeof(w->cur) - len, "%s%s", len > 1 ? "/" : "", name);
	}
	close(w->dirfd);
	w->dirfd = fd;
}

/* Step into folder `name` (".." or a name that is not a link). */
static int walk_dir(struct walk *w, const char *name)
{
	struct stat st;
	int fd = openat(w->dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), rc;

	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		return walk_fail(w, rc, "folder", name, ": %s", strerror(-rc));
	}
	if ((rc = walk_check(w, &st, "folder", name, 1))) {
		close(fd);
		return rc;
	}
	walk_enter(w, fd, name);
	return 0;
}

/* Open the last component (with TRUST_PRIVATE_PARENT, in a folder nobody else can write
 * to at all, sticky or not). */
static int walk_last(struct walk *w, const char *name, const char *what, unsigned flags)
{
	struct stat st;
	int fd, rc;

	if (fstat(w->dirfd, &st) < 0)
		return walk_fail(w, -errno, "folder", NULL, ": %s", strerror(errno));
	if ((flags & TRUST_PRIVATE_PARENT) && (rc = walk_check(w, &st, "folder", NULL, 0)))
		return rc;
	fd = openat(w->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
		    ((flags & TRUST_DIR) ? O_DIRECTORY : O_NONBLOCK));
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		if (rc == -ELOOP)
			return walk_fail(w, rc, what, name, " is a symbolic link");
		return walk_fail(w, rc, what, strcmp(name, ".") ? name : NULL, ": %s", strerror(-rc));
	}
	if (!(flags & TRUST_DIR) && !S_ISREG(st.st_mode))
		rc = walk_fail(w, -EINVAL, what, name, " is %s, not a regular file", trust_type(st.st_mode));
	else
		rc = walk_check(w, &st, what, strcmp(name, ".") ? name : NULL, 0);
	if (rc) {
		close(fd);
		return rc;
	}
	/* O_NONBLOCK only kept a FIFO from blocking the open: reads of the file block. */
	if (!(flags & TRUST_DIR))
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/* Link `name` of the folder walked: its owner must be trusted; the walk goes on with its
 * target followed by `rest` (copied first: it may point into todo). */
static int walk_link(struct walk *w, const char *name, const struct stat *st, char *todo,
		     size_t cap, const char *rest)
{
	char target[PATH_MAX], tail[PATH_MAX];
	ssize_t len;
	int rc;

	if ((rc = walk_check(w, st, "link", name, 0)))
		return rc;
	len = readlinkat(w->dirfd, name, target, sizeof(target) - 1);
	if (len < 0)
		return walk_fail(w, -errno, "link", name, ": %s", strerror(errno));
	target[len] = '\0';
	snprintf(tail, sizeof(tail), "%s", rest);
	if ((size_t)snprintf(todo, cap, "%s%s%s", target, *tail ? "/" : "", tail) >= cap)
		return walk_fail(w, -ENAMETOOLONG, "link", name, ": target too long");
	if (target[0] == '/') {
		int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return walk_fail(w, -errno, "folder", NULL, ": %s", strerror(errno));
		walk_enter(w, fd, "/");
	}
	return 0;
}

/* Is name (followed by rest) the last component? A trailing '/' only ends a folder. */
static int walk_is_last(const char *rest, unsigned flags)
{
	return !rest[strspn(rest, "/")] && (!*rest || (flags & TRUST_DIR));
}

int trust_open(const char *path, const char *what, unsigned flags, char *err, size_t n)
{
	struct walk w = { .cur = "/", .err = err, .n = n };
	char todo[2 * PATH_MAX], name[NAME_MAX + 1], cwd[PATH_MAX] = "";
	struct stat st;
	int links = 0, rc;

	if (path[0] != '/' && !getcwd(cwd, sizeof(cwd))) {
		rc = -errno;
		snprintf(err, n, "%s %s: cannot tell the working folder: %s", what, path, strerror(-rc));
		return rc;
	}
	if ((size_t)snprintf(todo, sizeof(todo), "%s/%s", cwd, path) >= sizeof(todo)) {
		snprintf(err, n, "%s %s: path too long", what, path);
		return -ENAMETOOLONG;
	}
	w.dirfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (w.dirfd < 0 || fstat(w.dirfd, &st) < 0) {
		rc = -errno;
		snprintf(err, n, "folder /: %s", strerror(-rc));
		return rc;
	}
	if ((rc = walk_check(&w, &st, "folder", NULL, 1)))
		goto out;
	for (char *p = todo;;) {
		size_t len;
		char *rest;
		int last;

		p += strspn(p, "/");
		len = strcspn(p, "/");
		if (!len) {  /* the path names a folder: "/", "x/." */
			rc = (flags & TRUST_DIR) ? walk_last(&w, ".", what, flags)
						 : walk_fail(&w, -EISDIR, what, NULL, " is a folder");
			break;
		}
		if (len > NAME_MAX) {
			rc = walk_fail(&w, -ENAMETOOLONG, what, NULL, "/%.*s...: name too long", 32, p);
			break;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		rest = p + len;
		last = walk_is_last(rest, flags);
		p = rest;
		if (!strcmp(name, ".") && !last)
			continue;
		if (!strcmp(name, "..") || !strcmp(name, ".")) {
			if (!strcmp(name, "..") && (rc = walk_dir(&w, name)))
				break;
			if (last) {
				rc = walk_last(&w, ".", what, flags);
				break;
			}
			continue;
		}
		if (fstatat(w.dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
			if (last && (flags & TRUST_NOFOLLOW)) {
				rc = walk_fail(&w, -ELOOP, what, name, " is a symbolic link");
				break;
			}
			if (++links > TRUST_MAX_LINKS) {
				rc = walk_fail(&w, -ELOOP, what, name, ": too many levels of symbolic links");
				break;
			}
			if ((rc = walk_link(&w, name, &st, todo, sizeof(todo), last ? "" : rest)))
				break;
			p = todo;
			continue;
		}
		if (last) {
			rc = walk_last(&w, name, what, flags);
			break;
		}
		if ((rc = walk_dir(&w, name)))
			break;
	}
out:
	close(w.dirfd);
	return rc;
}

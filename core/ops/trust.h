/* trust — opening the files the daemon takes code or configuration from so that nobody
 * but root (or, when the daemon holds no privilege, its own user) could have put them
 * there: every folder from / down is checked on an open fd, links are followed only
 * where their owner is trusted too, and the caller gets the fd it must then use. */
#ifndef XTCPD_TRUST_H
#define XTCPD_TRUST_H

#include <stddef.h>
#include <sys/types.h>

enum trust_flag {
	TRUST_NOFOLLOW = 1u << 0,   /* the last component must not be a symbolic link */
	TRUST_DIR = 1u << 1,        /* the last component must be a folder (else a regular file) */
	TRUST_PRIVATE_PARENT = 1u << 2, /* its folder may not be writable by others even when
	                             * sticky: every name in it counts (a plugin folder) */
};

/* 1 when the process runs with more privilege than its user has: AT_SECURE (file
 * capabilities, setuid) or, for a user other than root, any permitted capability. Then
 * only root's files are trusted; otherwise root's and the effective user's. Decided at
 * the first call (call it before capabilities are dropped). */
int trust_privileged(void);
/* 1 when AT_SECURE is set: the caller chose neither this binary's privileges nor its
 * environment, so no option may point the daemon at other files. */
int trust_secure_exec(void);
/* 1 when files owned by uid may hold code or configuration. */
int trust_owner_ok(uid_t uid);

/* Open `what` at `path` (absolute, or relative to the working directory) read-only
 * with O_CLOEXEC, refusing it when the last component or any folder above it is owned
 * by an untrusted user, or writable by group or others (a folder above the last one may
 * be writable by all when it is root's and sticky, as /tmp is: nobody else can replace
 * what root or we own in it; see TRUST_PRIVATE_PARENT). Returns the fd, or
 * -errno with a one-line reason in err: "folder /x is writable by others (chmod go-w)",
 * "file /x/y is owned by uid 1000, neither root nor this daemon's user", "file /x/y is a
 * symbolic link", or "/x/y: No such file or directory" (-ENOENT). */
int trust_open(const char *path, const char *what, unsigned flags, char *err, size_t n);

#endif

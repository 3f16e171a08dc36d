/* compat — xtcp2 command-line compatibility: a pure pre-pass that rewrites xtcp2's Go-flag
 * spellings (-frequency 10s, --netlinkers=8, -dest kafka:h:9092, ...) into xtcpd's own
 * options (-o core.frequency=10s, -o source.netlink.netlinkers=8, --dest kafka:h:9092), so
 * an existing xtcp2 unit file keeps working. Everything else passes through untouched. */
#ifndef XTCPD_COMPAT_H
#define XTCPD_COMPAT_H

#include <stddef.h>

/* Rewrite xtcp2 spellings in argv[0..argc) into xtcpd's; argv[0] is copied as is and
 * nothing after "--" is looked at. Returns 0, -EINVAL with a one-line reason in err
 * (a value missing or malformed), or -ENOMEM. On success *out_argv (returns owned,
 * NULL-terminated, *out_argc entries) must be freed with compat_free(*out_argc, *out_argv).
 * xtcp2 options that do not apply are dropped and reported through warn (may be NULL),
 * one line each, naming the xtcpd equivalent when there is one. */
int compat_rewrite(int argc, char **argv, int *out_argc, char ***out_argv, char *err,
		   size_t errn, void (*warn)(const char *line));

/* Frees what compat_rewrite returned; NULL argv is fine. */
void compat_free(int argc, char **argv);

#endif /* XTCPD_COMPAT_H */

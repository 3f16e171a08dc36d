/* compat — xtcp2 compatibility: a pure pre-pass that rewrites xtcp2's Go-flag spellings
 * (-frequency 10s, --netlinkers=8, -dest kafka:h:9092, ...), its environment (POLL_FREQUENCY,
 * DEST, ...) and XTCP_CONFIG_JSON into xtcpd's own options (-o core.frequency=10s,
 * --dest kafka:h:9092, ...), so an existing xtcp2 unit file or container keeps working.
 * Everything else passes through untouched, after them: xtcpd's own -o has the last word. */
#ifndef XTCPD_COMPAT_H
#define XTCPD_COMPAT_H

#include <stddef.h>
#include <stdio.h>

/* Rewrite xtcp2 spellings in argv[0..argc) into xtcpd's; argv[0] is copied as is and
 * nothing after "--" is looked at. env (may be NULL: no environment) gives the value of
 * an environment variable or NULL. xtcp2's precedence: its flags < its environment <
 * XTCP_CONFIG_JSON; xtcpd's own options come after all of them. Returns 0, -EINVAL with a
 * one-line reason in err (a value missing or malformed), or -ENOMEM. On success *out_argv
 * (owned, NULL-terminated, *out_argc entries) must be freed with compat_free(). xtcp2
 * settings that do not apply are dropped and reported through warn (may be NULL), one
 * line each, naming the xtcpd equivalent when there is one. */
int compat_rewrite(int argc, char **argv, const char *(*env)(const char *name),
		   int *out_argc, char ***out_argv, char *err, size_t errn,
		   void (*warn)(const char *line));

/* Frees what compat_rewrite returned; NULL argv is fine. */
void compat_free(int argc, char **argv);

/* The migration table (Markdown): every xtcp2 flag and environment variable and what
 * xtcpd does with it, from the tables the rewrite uses. */
void compat_print_migration(FILE *out);

#endif /* XTCPD_COMPAT_H */

/* conf_text — the INI syntax of one configuration file (see conf_text.c). */
#ifndef XTCPD_CONF_TEXT_H
#define XTCPD_CONF_TEXT_H

#include <stddef.h>

enum conf_line_kind { CONF_LINE_SECTION, CONF_LINE_KEY };

/* One meaningful line; a and b point into the text (NUL-terminated in place). */
struct conf_line {
	int line;                  /* 1-based */
	enum conf_line_kind kind;
	char *a;                   /* the words inside [ ], or the key */
	char *b;                   /* the value (CONF_LINE_KEY) */
};

typedef int (*conf_line_fn)(void *arg, const struct conf_line *l);

/* Parse text[0, len) in place (text[len] must be writable) and call fn for each section
 * header and key. Returns 0, fn's first error, or -EINVAL with err = "FILE:LINE: what". */
int conf_text_parse(const char *file, char *text, size_t len, conf_line_fn fn, void *arg,
		    char *err, size_t n);

#endif

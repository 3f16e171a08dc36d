/* conf_int — what conf.c shares with the other parts of the configuration reader
 * (conf_cli.c): building sections and entries, interning file names. Not for the rest
 * of the core, which goes through conf.h. */
#ifndef XTCPD_CONF_INT_H
#define XTCPD_CONF_INT_H

#include "conf/conf.h"

/* The "file" of everything set on the command line, in messages. */
#define CONF_CMDLINE "command line"

extern const char *const conf_kind_names[];

const char *conf_intern_file(struct conf *c, const char *name);
struct conf_section *conf_section_add(struct conf *c, enum conf_kind kind, const char *plugin,
				      const char *instance, const char *file, int line);
int conf_entry_add(struct conf *c, struct conf_section *s, const char *key, const char *value,
		   const char *file, int line);
void conf_section_free(struct conf_section *s);

#endif

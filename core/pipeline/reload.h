/* pipeline/reload — check, build, swap: what a pipeline being built keeps of the running
 * one, and the swap from the running pipeline to the new one (see reload.c). */
#ifndef XTCPD_PIPELINE_RELOAD_H
#define XTCPD_PIPELINE_RELOAD_H

#include <stddef.h>
#include <xtcpd/plugin.h>

#include "conf/conf.h"
#include "plugin/plugin.h"

struct pipeline;
struct sinkinst;
struct srcinst;
struct marsh;

/* The namespaces the sources hold, for the swap: retiring sources release each, new
 * ones are given each (refused: a new source could not take it). */
struct reload_ns {
	struct xtcpd_netns *const *list;
	size_t n;
	void *arg;
	void (*refused)(void *arg, struct xtcpd_netns *ns, int rc);
};

struct reload_stats {
	unsigned kept, created, retired;   /* instances */
	int undelivered;                   /* batches the retired sinks did not deliver */
	int stuck;                         /* a retired sink's thread is stuck: the old
	                                    * configuration must stay allocated */
};

/* Between two cycles (main thread): retire what p (built and started beside old by
 * pipeline_create(..., old, ...) and pipeline_start) does not adopt from old, hand the
 * adopted instances over to p, give the new sources the namespaces. Retiring sinks get
 * up to timeout_ms to deliver. old is freed (unless st->stuck); its configuration is
 * the caller's to free after (the adopted sections have moved to p's). Cannot fail. */
void reload_swap(struct pipeline *old, struct pipeline *p, int timeout_ms,
		 const struct reload_ns *ns, struct reload_stats *st);

/* Internal to the pipeline. */
int reload_same_section(const struct conf_section *a, const struct conf_section *b);
/* An instance of `old` with section s's configuration, marked as adopted by p; NULL if
 * none. A marshaller must also have buffers of buf_cap bytes, nbuf of them. */
struct sinkinst *reload_adopt_sink(struct pipeline *old, struct pipeline *p,
				   const struct conf_section *s, const struct plugin *pl);
struct srcinst *reload_adopt_src(struct pipeline *old, struct pipeline *p,
				 const struct conf_section *s, const struct plugin *pl);
struct marsh *reload_adopt_marsh(struct pipeline *old, struct pipeline *p,
				 const struct conf_section *s, const struct plugin *pl,
				 size_t buf_cap, unsigned nbuf);
/* Free the retired marshallers whose buffers all came back (all = 1: every one; those
 * a stuck sink still holds stay allocated). */
void reload_reap(struct pipeline *p, int all);

#endif

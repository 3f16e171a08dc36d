/* pipeline — plugin instances wired together: sources emit records, each marshaller
 * appends them to the emitting lane's batch, full batches go through a bounded queue to
 * every sink that uses that marshaller, sinks give buffers back to the pool. */
#ifndef XTCPD_PIPELINE_H
#define XTCPD_PIPELINE_H

#include <stdint.h>
#include <xtcpd/plugin.h>

#include "conf/conf.h"
#include "plugin/plugin.h"

struct pipeline;

struct pipeline_opts {
	const char *capture_dir;    /* --capture, or NULL */
	const char *daemon_version;
	const struct xtcpd_uplink *uplink[2]; /* stamped on every record (borrowed: the
	                                       * caller keeps them past the pipeline); NULL */
};

/* Create every instance of the validated configuration (sources, marshallers, sinks),
 * their pools and queues. With `old` (a reload), the instances of old whose
 * configuration is the same are adopted instead, still running (see reload.h); old keeps
 * running untouched until reload_swap(). Logs the reason and returns -errno on failure;
 * *out is set either way (pipeline_destroy undoes a failed or abandoned build, giving
 * adopted instances back to old). */
int pipeline_create(struct conf *c, struct plugin_set *ps, const struct pipeline_opts *o,
		    struct pipeline *old, struct pipeline **out);
/* Threads the configuration needs: main + source lanes + one per sink (+ extra). */
unsigned pipeline_threads(const struct pipeline *p);
/* Start what pipeline_create made (adopted instances run already). */
int pipeline_start(struct pipeline *p);
/* Run one poll cycle over the namespaces given. Returns 0 or the first source error. */
int pipeline_cycle(struct pipeline *p, uint64_t seq, struct xtcpd_netns *const *ns, size_t n_ns,
		   int64_t timeout_ms);
/* Namespaces come and go (main thread, between cycles). */
/* Flush the partial batches of continuous sources whose flush_interval has passed (main
 * thread, between cycles); returns when to call again (CLOCK_MONOTONIC ns, INT64_MAX:
 * no continuous source). */
int64_t pipeline_tick(struct pipeline *p, int64_t now_ns);
int pipeline_ns_add(struct pipeline *p, struct xtcpd_netns *ns);
void pipeline_ns_del(struct pipeline *p, struct xtcpd_netns *ns);
/* SIGHUP without a new configuration: sinks reopen their outputs. */
void pipeline_reopen(struct pipeline *p);
/* Stop sources, flush batches, let sinks deliver for up to timeout_ms, join threads.
 * Returns the number of batches not delivered. */
int pipeline_stop(struct pipeline *p, int timeout_ms);
void pipeline_destroy(struct pipeline *p);   /* NULL and half-built ok */
/* Sinks whose output is still open (a sink's send() returning -EPIPE closes it for
 * good); fn runs (from that sink's thread) when none is left. */
int pipeline_outputs_open(void);
void pipeline_on_no_output(void (*fn)(void));

#endif

/* daemon_int — what the main thread's parts share (daemon.c: start-up and the cycle loop;
 * daemon_ns.c: the namespace manager's callbacks and the open-files budget;
 * daemon_reload.c: building a generation, SIGHUP and the control services' requests). */
#ifndef XTCPD_DAEMON_INT_H
#define XTCPD_DAEMON_INT_H

#include <stdint.h>

#include "conf/conf.h"
#include "ops/daemon.h"

struct netns_mgr;
struct plugin_set;
struct docker;
struct uplink_set;
struct pipeline;
struct xtcpd_netns;

/* One configuration generation: the parsed files and the plugins they loaded. A daemon_reload
 * builds the next one beside the running one. */
struct daemon {
	const struct daemon_opts *o;
	struct plugin_set *ps;
	struct conf *conf;
	struct pipeline *pl;
	struct netns_mgr *ns;
	struct docker *docker;          /* enrich_docker's client, NULL when off */
	struct uplink_set *up;          /* enrich_nic: the uplinks records point at */
	struct uplink_set *up_next;     /* those of the pipeline just built, not swapped in */
	_Atomic uint64_t *m_left_out;   /* namespaces the last scan left out for a limit */
	uint64_t seq;
	int64_t sched_start_ns;     /* when the last scheduled cycle started (0: none yet) */
	unsigned fds_per_ns;        /* measured on the first namespace (the host's) */
	unsigned long long nofile;  /* the open-files limit */
	unsigned long long max_ns;  /* namespaces that fit in it (0 = not known yet) */
};

/* core.log_level's choices (error|warning|info|debug), in order. */
extern const int daemon_log_levels[];
/* No CAP_SYS_ADMIN: only the host namespace can be collected. */
extern int daemon_no_setns;

/* daemon_ns.c */
int daemon_ns_start(struct daemon *d);
void daemon_ns_stop(struct daemon *d);
int daemon_ns_changed(const struct conf *a, const struct conf *b);
void daemon_ns_refused(void *arg, struct xtcpd_netns *ns, int rc);
void daemon_report_budget(struct daemon *d, unsigned long long from);

/* daemon_reload.c */
int daemon_build(struct daemon *d, struct conf *c, struct plugin_set *ps, struct pipeline *old,
		 struct pipeline **out);
void daemon_tear_down(struct daemon *d, int timeout_ms);
void daemon_generation_free(struct conf *c, struct plugin_set *ps);
int daemon_load_generation(const struct daemon_opts *o, struct conf **c, struct plugin_set **ps);
void daemon_reload(struct daemon *d);
void daemon_publish_conf(const struct conf *c);
void daemon_serve_control(struct daemon *d, int64_t *next);

#endif

/* nlpoll — drives the netlink source plugin and the namespace manager without the
 * daemon, printing one line per socket (key=value) for the shell tests to compare with
 * ss. Options: -o key=value (plugin key), -d DIRS (bind-mount folders, ':'-separated),
 * -p (scan /proc too), -H (host only), -c CYCLES, -i INTERVAL_MS, -r RECONCILE_MS,
 * -C CAPTURE_DIR, -q (count only), -t (print the thread count), -T TIMEOUT_MS (default 60000),
 * -w FILE (after the first cycle, create FILE; keep cycling until it is removed),
 * -L TIMEOUT_MS for the last cycle (default -T), -A (count heap calls after cycle 1),
 * -F (every kernel field of the schema, by its proto name, instead of the usual few).
 * Built around the netlink source (nlpoll) and the bpf_iter source (bipoll). Prints
 * "cycle=N emitted=M rc=R" after each cycle (R: what poll() returned) and the counters at
 * the end; exits 1 when any cycle's poll() failed. */
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <xtcpd/record_fields.h>

#include "core/netns/netns.h"
#include "ops/clock.h"
#include "tests/lib/testhost.h"

extern const struct xtcpd_plugin xtcpd_plugin;

/* Heap calls of every thread, counted once `count_allocs` is set (-A): after the first
 * cycle a cycle must not allocate. Forwarded to glibc's own entry points. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static _Atomic int count_allocs;
static _Atomic unsigned long n_allocs;

void *malloc(size_t n);
void *calloc(size_t a, size_t b);
void *realloc(void *p, size_t n);

void *malloc(size_t n)
{
	if (count_allocs)
		n_allocs++;
	return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	if (count_allocs)
		n_allocs++;
	return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	if (count_allocs)
		n_allocs++;
	return __libc_realloc(p, n);
}

static int quiet, full;
static _Atomic unsigned long n_records;
static _Atomic int in_poll;                 /* emits are allowed only inside poll() */
static _Atomic unsigned long outside_poll;  /* emits seen outside: a contract breach */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static void *src_inst;
static const struct xtcpd_source_ops *ops;

static void addr(char *out, size_t n, int family, const uint8_t *a, uint16_t port)
{
	char t[INET6_ADDRSTRLEN];

	inet_ntop(family, a, t, sizeof(t));
	if (family == AF_INET6)
		snprintf(out, n, "[%s]:%u", t, port);
	else
		snprintf(out, n, "%s:%u", t, port);
}

/* -F: "name=value" for every kernel field (numbers >= 1000) the record carries. */
#define PF_U32(n, v) printf(" %s=%llu", n, (unsigned long long)(v))
#define PF_U64 PF_U32
#define PF_ENUM PF_U32
#define PF_BOOL PF_U32
#define PF_I64(n, v) printf(" %s=%lld", n, (long long)(v))
#define PF_STR(n, v) printf(" %s=%s", n, (v) ? (v) : "")
#define PF_NAME(n, v) printf(" %s=%.*s", n, (int)sizeof(v) - 1, v)
#define PF_ADDR(n, v) do { printf(" %s=", n); for (int i_ = 0; i_ < 16; i_++) printf("%02x", (v)[i_]); } while (0)

static void print_full(const struct xtcpd_record *r)
{
	printf("ns=%s cookie=%llx present=%#x", r->netns, (unsigned long long)r->cookie, r->present);
#define F(num, name, camel, type, jm, jk, present, value) \
	if ((num) >= 1000 && (present)) PF_##type(#name, value);
	XTCPD_RECORD_FIELDS(F)
#undef F
	printf("\n");
}

static int on_emit(void *arg, unsigned lane, struct xtcpd_record *r)
{
	char l[64], p[64];
	const struct xtcpd_tcp_info *t = &r->tcpi;

	n_records++;
	if (!in_poll)
		outside_poll++;
	if (quiet)
		return 0;
	if (full) {
		pthread_mutex_lock(&out_lock);
		print_full(r);
		pthread_mutex_unlock(&out_lock);
		return 0;
	}
	addr(l, sizeof(l), r->family, r->src, r->sport);
	addr(p, sizeof(p), r->family, r->dst, r->dport);
	pthread_mutex_lock(&out_lock);
	printf("ns=%s ino=%llu nsid=%u lane=%u family=%u state=%u local=%s peer=%s inode=%u cookie=%llx "
	       "uid=%u present=%#x flags=%#x rq=%u wq=%u",
	       r->netns, (unsigned long long)r->netns_inode, r->nsid, lane, r->family, r->state, l, p,
	       r->inode, (unsigned long long)r->cookie, r->uid, r->present, r->flags, r->rqueue, r->wqueue);
	if (r->present & XTCPD_HAS_CONG)
		printf(" cong=%s", r->cong_name);
	if (r->present & XTCPD_HAS_INFO)
		printf(" tcpi_len=%u wscale=%u,%u rto=%u ato=%u mss=%u pmtu=%u rcvmss=%u advmss=%u cwnd=%u"
		       " bytes_sent=%llu bytes_acked=%llu bytes_received=%llu segs_out=%u segs_in=%u"
		       " data_segs_out=%u data_segs_in=%u rcv_space=%u rcv_ssthresh=%u minrtt=%u"
		       " snd_wnd=%u rcv_wnd=%u delivered=%u",
		       r->tcpi_len, XTCPD_TCPI_SND_WSCALE(t), XTCPD_TCPI_RCV_WSCALE(t), t->rto, t->ato,
		       t->snd_mss, t->pmtu, t->rcv_mss, t->advmss, t->snd_cwnd,
		       (unsigned long long)t->bytes_sent, (unsigned long long)t->bytes_acked,
		       (unsigned long long)t->bytes_received, t->segs_out, t->segs_in, t->data_segs_out,
		       t->data_segs_in, t->rcv_space, t->rcv_ssthresh, t->min_rtt, t->snd_wnd, t->rcv_wnd,
		       t->delivered);
	if (r->present & XTCPD_HAS_SKMEM)
		printf(" skmem=r%u,rb%u,t%u,tb%u,f%u,w%u,o%u,bl%u,d%u", r->skmem[0], r->skmem[1],
		       r->skmem[2], r->skmem[3], r->skmem[4], r->skmem[5], r->skmem[6], r->skmem[7],
		       r->skmem[8]);
	if (r->present & XTCPD_HAS_MEMINFO)
		printf(" mem=%u,%u,%u,%u", r->mem_rmem, r->mem_wmem, r->mem_fmem, r->mem_tmem);
	printf("\n");
	pthread_mutex_unlock(&out_lock);
	return 0;
}

static int ns_add(void *arg, struct xtcpd_netns *ns)
{
	(void)arg;
	return ops->ns_add(src_inst, ns);
}

static void ns_del(void *arg, struct xtcpd_netns *ns)
{
	(void)arg;
	fprintf(stderr, "nlpoll: namespace %s gone\n", ns->name);
	ops->ns_del(src_inst, ns);
}

static int64_t cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_usec;
}

static int count_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	const char *kv[33];
	int nkv = 0, opt, cycles = 1, interval = 0, threads = 0, timeout = 60000, last_timeout = -1;
	int allocs = 0;
	unsigned long before;
	struct netns_conf nc = { .dirs = "/run/netns", .reconcile_ms = 30000 };
	struct netns_ops no = { .add = ns_add, .del = ns_del };
	struct th_plugin plugin = { NULL, &xtcpd_plugin };
	struct th_inst in;
	const char *capture = NULL;
	struct xtcpd_ctx *ctx;
	struct netns_mgr *m;
	const char *wait_file = NULL;
	int err, prc, rc = 0;
	int64_t cpu0 = 0, wall_ns = 0; /* wall: the time spent in poll() over the cycles */

	while ((opt = getopt(argc, argv, "o:d:pHc:i:r:C:qtT:w:L:AF")) != -1) {
		switch (opt) {
		case 'o': if (nkv < 32) kv[nkv++] = optarg; break;
		case 'd': nc.dirs = optarg; break;
		case 'p': nc.proc_scan = 1; break;
		case 'H': nc.host_only = 1; break;
		case 'c': cycles = atoi(optarg); break;
		case 'i': interval = atoi(optarg); break;
		case 'r': nc.reconcile_ms = atoi(optarg); break;
		case 'C': capture = optarg; break;
		case 'q': quiet = 1; break;
		case 't': threads = 1; break;
		case 'T': timeout = atoi(optarg); break;
		case 'w': wait_file = optarg; break;
		case 'L': last_timeout = atoi(optarg); break;
		case 'A': allocs = 1; break;
		case 'F': full = 1; break;
		default: return 2;
		}
	}
	ops = xtcpd_plugin.ops;
	kv[nkv] = NULL;
	ctx = th_ctx_new("source/netlink");
	th_ctx_on_emit(ctx, on_emit, NULL);
	th_ctx_set_capture(ctx, capture);
	err = th_inst_create_in(&in, ctx, &plugin, kv);
	if (err == -EINVAL && !in.cfg)
		return 2; /* the key or value, named by the core's checker */
	src_inst = in.obj;
	if (err) {
		fprintf(stderr, "nlpoll: source: %s\n", strerror(-err));
		th_inst_destroy(&in);
		return 1;
	}
	err = netns_mgr_create(&nc, &no, &m);
	if (err) {
		fprintf(stderr, "nlpoll: netns: %s\n", strerror(-err));
		return 1;
	}
	netns_mgr_tick(m, clock_mono_ns() / 1000000);
	cpu0 = cpu_us();
	for (int c = 1; c <= cycles || (wait_file && access(wait_file, F_OK) == 0); c++) {
		struct xtcpd_cycle cyc = { .seq = (uint64_t)c };
		struct timespec rt;

		netns_mgr_tick(m, clock_mono_ns() / 1000000);
		clock_gettime(CLOCK_REALTIME, &rt);
		cyc.start_ns = (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec;
		cyc.deadline_ns = clock_mono_ns() +
			(int64_t)(c == cycles && last_timeout >= 0 ? last_timeout : timeout) * 1000000;
		cyc.n_ns = netns_mgr_list(m, &cyc.ns);
		before = n_records;
		in_poll = 1;
		wall_ns -= clock_mono_ns();
		prc = ops->poll(src_inst, &cyc);
		wall_ns += clock_mono_ns();
		in_poll = 0;
		if (prc < 0)
			rc = 1;
		printf("cycle=%d emitted=%lu rc=%d\n", c, n_records - before, prc);
		if (c == 1 && allocs) {
			fflush(stdout);
			count_allocs = 1; /* warm-up done */
		}
		fflush(stdout);
		if (c == 1 && wait_file) {
			FILE *f = fopen(wait_file, "w");

			if (f)
				fclose(f);
		}
		if (interval)
			usleep((useconds_t)interval * 1000);
	}
	if (allocs) {
		count_allocs = 0;
		printf("allocs_after_first_cycle=%lu\n", n_allocs);
	}
	if (interval)
		usleep((useconds_t)interval * 1000); /* late answers now arrive outside poll() */
	printf("emits_outside_poll=%lu\n", outside_poll);
	/* CPU of every thread of the process (readers included) over the cycles. */
	printf("cycles=%d cpu_us_per_cycle=%lld wall_us_per_cycle=%lld\n", cycles,
	       (long long)((cpu_us() - cpu0) / (cycles ? cycles : 1)),
	       (long long)(wall_ns / 1000 / (cycles ? cycles : 1)));
	if (threads)
		printf("threads=%d namespaces=%zu\n", count_threads(), netns_mgr_count(m));
	printf("records=%lu dumps=%llu sockets_total=%llu skipped=%llu missed=%llu errors_seq=%llu nlmsg_error=%llu\n",
	       n_records, (unsigned long long)th_metric(in.ctx, "netlink_dumps_total", NULL),
	       (unsigned long long)th_metric(in.ctx, "netlink_sockets_total", NULL),
	       (unsigned long long)th_metric(in.ctx, "netlink_namespaces_skipped_total", NULL),
	       (unsigned long long)th_metric(in.ctx, "netlink_dumps_missed_total", NULL),
	       (unsigned long long)th_metric(in.ctx, "netlink_errors_total", "reason=\"seq\""),
	       (unsigned long long)th_metric(in.ctx, "netlink_errors_total", "reason=\"nlmsg_error\""));
	th_metrics_print(in.ctx, stdout);
	netns_mgr_destroy(m);
	th_inst_destroy(&in);
	return rc;
}

/* netns/docker — container names and images from the Docker Engine API
 * (GET /containers/<id>/json on its unix socket, libcurl; the answer read with json-c).
 * One thread of its own asks, one container at a time, each request bounded by
 * docker_timeout and cut short at shutdown; the manager only reads the cache, so a dead
 * or slow daemon costs a scan nothing. The thread holds no capability: the socket's
 * permissions decide. A daemon that cannot be reached is counted,
 * logged once (and once more when it answers again), and asked again later. libcurl is
 * loaded (dlopen) only when enrich_docker is on: linked, it and the TLS, Kerberos and LDAP
 * libraries it pulls in cost every daemon ~3 MiB of resident memory. */
#include "config.h"
#include "netns/docker.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "netns/ident.h"
#include "ops/caps.h"
#include "ops/log.h"
#include "ops/metrics.h"
#include "ops/threads.h"

#define DOCKER_CACHE 1024          /* containers remembered (then the oldest answer goes) */
#define DOCKER_BODY_MAX (1u << 20) /* larger answers are refused */
#define DOCKER_RETRY_S 30          /* an unreachable daemon is asked again after this */

/* The part of libcurl used here, resolved at docker_create. */
#define DOCKER_LIBCURL "libcurl.so.4"
static struct {
	void *lib;
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
} dk_curl;

enum docker_state { DK_FREE, DK_QUEUED, DK_DONE, DK_GONE, DK_RETRY };
enum docker_result { DR_OK, DR_NOT_FOUND, DR_UNREACHABLE, DR_ERROR, DR__COUNT };

struct docker_ent {
	char id[IDENT_ID_MAX];
	char name[256], image[256];
	enum docker_state state;
	time_t when;               /* answered (DONE: age for eviction; RETRY: next try) */
};

struct docker {
	char *sock;
	long timeout_ms;
	pthread_t thread;
	int started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
	_Atomic int aborting;      /* cuts a request in flight short (docker_destroy) */
	_Atomic unsigned gen;
	int down;                  /* the daemon was unreachable at the last request */
	struct docker_ent ents[DOCKER_CACHE];
	_Atomic uint64_t *m_req[DR__COUNT];
	char *body;
	size_t body_len;
};

static const char *const docker_result_label[DR__COUNT] = {
	"result=\"ok\"", "result=\"not_found\"", "result=\"unreachable\"", "result=\"error\"",
};

static size_t docker_write(char *p, size_t size, size_t n, void *arg)
{
	struct docker *d = arg;
	size_t len = size * n;

	if (d->body_len + len > DOCKER_BODY_MAX)
		return 0;  /* libcurl fails the transfer: counted as an error */
	memcpy(d->body + d->body_len, p, len);
	d->body_len += len;
	return len;
}

static int docker_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t e)
{
	struct docker *d = arg;

	(void)a; (void)b; (void)c; (void)e;
	return atomic_load(&d->aborting);  /* non-zero aborts the transfer */
}

/* Name (without Docker's leading '/') and Config.Image of one answer. */
static int docker_parse(struct docker *d, struct docker_ent *out)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o, *v, *cfg;
	int rc = -EINVAL;

	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, d->body, (int)d->body_len);
	json_tokener_free(tok);
	if (!o || !json_object_is_type(o, json_type_object))
		goto out;
	if (json_object_object_get_ex(o, "Name", &v) && json_object_is_type(v, json_type_string)) {
		const char *n = json_object_get_string(v);

		snprintf(out->name, sizeof(out->name), "%s", *n == '/' ? n + 1 : n);
		rc = 0;
	}
	if (json_object_object_get_ex(o, "Config", &cfg) &&
	    json_object_object_get_ex(cfg, "Image", &v) && json_object_is_type(v, json_type_string)) {
		snprintf(out->image, sizeof(out->image), "%s", json_object_get_string(v));
		rc = 0;
	}
out:
	json_object_put(o);
	return rc;
}

/* Ask for one container (the lock is not held). */
static enum docker_result docker_ask(struct docker *d, CURL *c, struct docker_ent *e)
{
	char url[128];
	long status = 0;
	CURLcode cc;

	snprintf(url, sizeof(url), "http://localhost/containers/%s/json", e->id);
	d->body_len = 0;
	dk_curl.easy_setopt(c, CURLOPT_URL, url);
	cc = dk_curl.easy_perform(c);
	if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT ||
	    cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_GOT_NOTHING || cc == CURLE_RECV_ERROR ||
	    cc == CURLE_SEND_ERROR)
		return DR_UNREACHABLE;
	if (cc != CURLE_OK)
		return DR_ERROR;
	dk_curl.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status == 404)
		return DR_NOT_FOUND;
	if (status != 200)
		return DR_ERROR;
	return docker_parse(d, e) ? DR_ERROR : DR_OK;
}

static void docker_said(struct docker *d, enum docker_result r, const char *id)
{
	metrics_add(d->m_req[r], 1);
	if (r == DR_UNREACHABLE && !d->down)
		log_warn("enrich_docker: Docker API on %s unreachable (container %.12s): names and "
			 "images stay empty; asked again every %d s", d->sock, id, DOCKER_RETRY_S);
	else if (r != DR_UNREACHABLE && d->down)
		log_info("enrich_docker: Docker API on %s answers again", d->sock);
	if (r == DR_ERROR)
		log_ratelimited(docker_said, 600000, XTCPD_LOG_WARN, NULL,
				"enrich_docker: container %.12s: unusable answer from %s", id, d->sock);
	d->down = r == DR_UNREACHABLE;
}

static struct docker_ent *docker_next(struct docker *d)
{
	for (size_t i = 0; i < DOCKER_CACHE; i++)
		if (d->ents[i].state == DK_QUEUED)
			return &d->ents[i];
	return NULL;
}

static void *docker_main(void *arg)
{
	struct docker *d = arg;
	CURL *c = dk_curl.easy_init();
	struct docker_ent *e, got;

	threads_name_self("docker");
	if (c) {
		dk_curl.easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, d->sock);
		dk_curl.easy_setopt(c, CURLOPT_TIMEOUT_MS, d->timeout_ms);
		dk_curl.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, d->timeout_ms);
		dk_curl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		dk_curl.easy_setopt(c, CURLOPT_WRITEFUNCTION, docker_write);
		dk_curl.easy_setopt(c, CURLOPT_WRITEDATA, d);
		dk_curl.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		dk_curl.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, docker_progress);
		dk_curl.easy_setopt(c, CURLOPT_XFERINFODATA, d);
#if LIBCURL_VERSION_NUM >= 0x075500
		dk_curl.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
#endif
	}
	pthread_mutex_lock(&d->lock);
	for (;;) {
		enum docker_result r;

		while (!d->stop && !(e = docker_next(d)))
			pthread_cond_wait(&d->cond, &d->lock);
		if (d->stop)
			break;
		memset(&got, 0, sizeof(got));
		memcpy(got.id, e->id, sizeof(got.id));
		pthread_mutex_unlock(&d->lock);
		r = c ? docker_ask(d, c, &got) : DR_ERROR;
		pthread_mutex_lock(&d->lock);
		docker_said(d, r, got.id);
		/* e is still this id's: only lookups (which never drop a queued entry) ran */
		memcpy(e->name, got.name, sizeof(e->name));
		memcpy(e->image, got.image, sizeof(e->image));
		e->state = r == DR_OK ? DK_DONE : r == DR_UNREACHABLE ? DK_RETRY : DK_GONE;
		e->when = time(NULL) + (r == DR_UNREACHABLE ? DOCKER_RETRY_S : 0);
		atomic_fetch_add(&d->gen, 1);
	}
	pthread_mutex_unlock(&d->lock);
	dk_curl.easy_cleanup(c);
	return NULL;
}

/* The entry of id, or a free / the oldest answered one to reuse (NULL: all queued). */
static struct docker_ent *docker_slot(struct docker *d, const char *id, int *found)
{
	struct docker_ent *victim = NULL;

	for (size_t i = 0; i < DOCKER_CACHE; i++) {
		struct docker_ent *e = &d->ents[i];

		if (e->state != DK_FREE && !strcmp(e->id, id))
			return *found = 1, e;
		if (e->state == DK_FREE) {
			if (!victim || victim->state != DK_FREE)
				victim = e;
		} else if (e->state != DK_QUEUED && (!victim || (victim->state != DK_FREE &&
							     e->when < victim->when))) {
			victim = e;
		}
	}
	*found = 0;
	return victim;
}

int docker_lookup(struct docker *d, struct netns_ident *id)
{
	struct docker_ent *e;
	int found, rc = -EAGAIN;

	if (!d || !id->s_id[0])
		return -ENOENT;
	pthread_mutex_lock(&d->lock);
	e = docker_slot(d, id->s_id, &found);
	if (found && e->state == DK_DONE) {
		memcpy(id->s_name, e->name, sizeof(id->s_name));
		memcpy(id->s_image, e->image, sizeof(id->s_image));
		rc = 0;
	} else if (found && e->state == DK_GONE) {
		rc = -ENOENT;
	} else if (e && (!found || (e->state == DK_RETRY && time(NULL) >= e->when))) {
		memset(e, 0, sizeof(*e));
		memcpy(e->id, id->s_id, sizeof(e->id));
		e->state = DK_QUEUED;
		pthread_cond_signal(&d->cond);
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}

unsigned docker_generation(struct docker *d)
{
	return d ? atomic_load(&d->gen) : 0;
}

/* On a thread without capabilities (caps_run_confined): the one it starts holds none. */
static int docker_spawn(void *arg)
{
	struct docker *d = arg;

	return -pthread_create(&d->thread, NULL, docker_main, d);
}

/* POSIX's idiom for a function pointer out of dlsym. */
#define DK_SYM(lib, field, name) (*(void **)&dk_curl.field = dlsym(lib, name))

/* libcurl, once per process (a reload keeps it): 0, or -ENOENT logged with the reason. */
static int docker_load_curl(void)
{
	void *lib;

	if (dk_curl.lib)
		return 0;
	lib = dlopen(DOCKER_LIBCURL, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		log_warn("enrich_docker: cannot load libcurl: %s (Debian package libcurl4): names "
			 "and images stay empty", dlerror());
		return -ENOENT;
	}
	if (!DK_SYM(lib, global_init, "curl_global_init") ||
	    !DK_SYM(lib, global_cleanup, "curl_global_cleanup") ||
	    !DK_SYM(lib, easy_init, "curl_easy_init") ||
	    !DK_SYM(lib, easy_setopt, "curl_easy_setopt") ||
	    !DK_SYM(lib, easy_perform, "curl_easy_perform") ||
	    !DK_SYM(lib, easy_getinfo, "curl_easy_getinfo") ||
	    !DK_SYM(lib, easy_cleanup, "curl_easy_cleanup")) {
		log_warn("enrich_docker: %s lacks a function this client needs (%s): names and "
			 "images stay empty", DOCKER_LIBCURL, dlerror());
		dlclose(lib);
		return -ENOENT;
	}
	dk_curl.lib = lib;
	return 0;
}

int docker_create(const char *socket, int64_t timeout_ms, struct docker **out)
{
	struct docker *d = calloc(1, sizeof(*d));
	int rc;

	*out = NULL;
	if (!d)
		return -ENOMEM;
	if ((rc = docker_load_curl())) {
		free(d);
		return rc;
	}
	d->sock = strdup(socket);
	d->body = malloc(DOCKER_BODY_MAX);
	if (!d->sock || !d->body) {
		free(d->sock);
		free(d->body);
		free(d);
		return -ENOMEM;
	}
	d->timeout_ms = (long)timeout_ms;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	for (int r = 0; r < DR__COUNT; r++)
		d->m_req[r] = metrics_get(XTCPD_METRIC_COUNTER, "xtcpd_docker_requests_total",
					  docker_result_label[r],
					  "Docker Engine API requests (enrich_docker), by result");
	dk_curl.global_init(CURL_GLOBAL_NOTHING);
	rc = caps_run_confined(0, docker_spawn, d, NULL);
	if (rc) {
		dk_curl.global_cleanup();
		docker_destroy(d);
		return rc;
	}
	d->started = 1;
	*out = d;
	return 0;
}

void docker_destroy(struct docker *d)
{
	if (!d)
		return;
	if (d->started) {
		pthread_mutex_lock(&d->lock);
		d->stop = 1;
		atomic_store(&d->aborting, 1);
		pthread_cond_signal(&d->cond);
		pthread_mutex_unlock(&d->lock);
		pthread_join(d->thread, NULL);
		dk_curl.global_cleanup();
	}
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
	free(d->body);
	free(d->sock);
	free(d);
}

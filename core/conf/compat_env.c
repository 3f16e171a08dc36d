/* compat_env — xtcp2's environment variables and XTCP_CONFIG_JSON (its XtcpConfig message
 * in protojson, read with json-c), each setting applied through the flag table of compat.c;
 * and the migration table printed from the same tables. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_JSONC
#include <json-c/json.h>
#endif

#include "conf/compat.h"
#include "conf/compat_int.h"

/* xtcp2's environment variables (cmd/xtcp2/xtcp2.go environmentOverride*) and the flag
 * each one overrides; NULL: no flag (and no xtcpd equivalent). */
static const struct { const char *env, *flag; } compat_envs[] = {
	{ "NLTIMEOUTMS", "nltimeout" }, { "POLL_FREQUENCY", "frequency" },
	{ "POLL_TIMEOUT", "timeout" }, { "MAX_LOOPS", "maxLoops" }, { "MODULUS", "modulus" },
	{ "POLL_JITTER_PCT", "pollJitterPct" }, { "NETLINKERS", "netlinkers" },
	{ "NETLINKERS_DONE_CHAN_SIZE", NULL }, { "NLMSQSEQ", "nlmsgSeq" },
	{ "PACKET_SIZE", "packetSize" }, { "PACKETSIZEMPLY", "packetSizeMply" },
	{ "WRITEFILES", "writeFiles" }, { "CAPTUREPATH", "capturePath" },
	{ "DESERIALIZERS", "deserializers" }, { "MARSHAL", "marshal" },
	{ "PROTOBUF_LIST_LENGTH_DELIMIT", "protobufListLengthDelimit" },
	{ "ENVELOPE_FLUSH_BYTES", "envelopeFlushBytes" },
	{ "ENVELOPE_FLUSH_ROWS", "envelopeFlushRows" },
	{ "KAFKA_COMPRESSION", "kafkaCompression" }, { "S3_ENDPOINT", "s3Endpoint" },
	{ "S3_BUCKET", "s3Bucket" }, { "S3_PREFIX", "s3Prefix" },
	{ "S3_ACCESS_KEY", "s3AccessKey" }, { "S3_SECRET_KEY", "s3SecretKey" },
	{ "S3_ACCESS_KEY_FILE", "s3AccessKey" }, { "S3_SECRET_KEY_FILE", "s3SecretKey" },
	{ "S3_REGION", "s3Region" }, { "S3_SKIP_BUCKET_PROBE", "s3SkipBucketProbe" },
	{ "S3_PARQUET_FLUSH_BYTES", "s3ParquetFlushBytes" },
	{ "S3_FLUSH_INTERVAL", "s3FlushInterval" }, { "S3_FLUSH_JITTER_PCT", "s3FlushJitterPct" },
	{ "S3_FLUSH_THRESHOLD_JITTER_PCT", "s3FlushThresholdJitterPct" },
	{ "S3_UPLOAD_MAX_ATTEMPTS", "s3UploadMaxAttempts" },
	{ "S3_UPLOAD_BACKOFF_CAP", "s3UploadBackoffCap" },
	{ "RECONCILE_FREQUENCY", "reconcileFrequency" },
	{ "RECONCILE_BEFORE_POLL", "reconcileBeforePoll" }, { "DEST", "dest" },
	{ "DEST_WRITE_FILES", "destWriteFiles" }, { "TOPIC", "topic" },
	{ "XTCP_PROTO_FILE", "xtcpProtoFile" }, { "KAFKA_SCHEMA_URL", "kafkaSchemaUrl" },
	{ "KAFKA_PRODUCE_TIMEOUT", "produceTimeout" }, { "LABEL", "label" }, { "TAG", "tag" },
	{ "LOCATION", "location" }, { "XTCP_HOSTNAME", "hostname" },
	{ "CONTAINER_ID_RESOLVE", "resolveContainerId" },
	{ "ENRICH_CONTAINER", "enrichContainer" }, { "DOCKER_SOCKET", "dockerSocket" },
	{ "ENRICH_LLDP", "enrichLldp" }, { "LLDPD_SOCKET", "lldpdSocket" },
	{ "LLDPD_VERSION_HINT", "lldpdVersionHint" }, { "ENRICH_NIC", "enrichNic" },
	{ "ENRICH_ASN", "enrichAsn" }, { "ASN_DB_PATH", "asnDbPath" },
	{ "ASN_REFRESH_INTERVAL", "asnRefreshInterval" },
	{ "IPMETA_BOOTSTRAP_PATH", "ipmetaBootstrapPath" },
	{ "IPMETA_CACHE_PATH", "ipmetaCachePath" }, { "ENRICH_LOCALITY", "enrichLocality" },
	{ "LOCALITY_REFRESH_INTERVAL", "localityRefreshInterval" },
	{ "UPLINK_COUNT", "uplinkCount" }, { "UPLINK_INTERFACES", "uplinkInterfaces" },
	{ "POPULATE_NSID", "populateNsid" }, { "GRPC_LISTEN_NETWORK", "grpcListenNetwork" },
	{ "GRPC_LISTEN_ADDRESS", "grpcListenAddress" },
	{ "GRPC_UNIX_SOCKET_MODE", "grpcUnixSocketMode" },
	{ "GRPC_UNLINK_STALE_UNIX_SOCKET", "grpcUnlinkStaleUnixSocket" },
	{ "GRPC_PORT", "grpcPort" }, { "PROM_LISTEN", "promListen" },
	{ "PROM_LISTEN_NETWORK", "promListenNetwork" }, { "PROM_PATH", "promPath" },
	{ "PROM_UNIX_SOCKET_MODE", "promUnixSocketMode" },
	{ "PROM_UNLINK_STALE_UNIX_SOCKET", "promUnlinkStaleUnixSocket" },
	{ "IPV4_TTL", "ipv4Ttl" }, { "IPV6_HOP_LIMIT", "ipv6HopLimit" },
	{ "LISTENER_AUTH_MODE", "listenerAuthMode" },
	{ "LISTENER_RAW_TOKEN", "listenerRawToken" }, { "LISTENER_RAW_TOKEN_FILE", "listenerRawToken" },
	{ "LISTENER_HMAC_SHARED_KEY", "listenerHMACSharedKey" },
	{ "LISTENER_HMAC_SHARED_KEY_FILE", "listenerHMACSharedKey" },
	{ "LISTENER_SIGNED_SKEW_MINUTES", "listenerSignedSkewMinutes" },
	{ "LISTENER_AUTH_FAILURE_JITTER_MIN", "listenerAuthFailureJitterMin" },
	{ "LISTENER_AUTH_FAILURE_JITTER_MAX", "listenerAuthFailureJitterMax" },
	{ "PYROSCOPE_URL", "pyroscopeUrl" }, { "PYROSCOPE_APP_NAME", "pyroscopeAppName" },
	{ "DEBUG_LEVEL", "d" }, { "GOMAXPROCS", "goMaxProcs" },
};

/* XtcpConfig's fields (proto/xtcp_config/v1/xtcp_config.proto) and the flag each one is;
 * NULL: no flag. enabled_deserializers and prometheus_listener are messages, read below. */
static const struct { const char *field, *flag; } compat_fields[] = {
	{ "nl_timeout_milliseconds", "nltimeout" }, { "poll_frequency", "frequency" },
	{ "poll_timeout", "timeout" }, { "poll_jitter_pct", "pollJitterPct" },
	{ "max_loops", "maxLoops" }, { "netlinkers", "netlinkers" },
	{ "netlinkers_done_chan_size", NULL }, { "nlmsg_seq", "nlmsgSeq" },
	{ "packet_size", "packetSize" }, { "packet_size_mply", "packetSizeMply" },
	{ "modulus", "modulus" }, { "enabled_deserializers", "deserializers" },
	{ "io_uring", "ioUring" }, { "io_uring_recv_batch_size", "ioUringRecvBatch" },
	{ "io_uring_cqe_batch_size", "ioUringCqeBatch" },
	{ "reconcile_frequency", "reconcileFrequency" },
	{ "reconcile_before_poll", "reconcileBeforePoll" }, { "write_files", "writeFiles" },
	{ "capture_path", "capturePath" }, { "dest_write_files", "destWriteFiles" },
	{ "debug_level", "d" }, { "dest", "dest" }, { "marshal_to", "marshal" },
	{ "csv_columns", "columns" }, { "xtcp_proto_file", "xtcpProtoFile" },
	{ "envelope_flush_threshold_bytes", "envelopeFlushBytes" },
	{ "envelope_flush_threshold_rows", "envelopeFlushRows" }, { "topic", "topic" },
	{ "kafka_schema_url", "kafkaSchemaUrl" }, { "kafka_produce_timeout", "produceTimeout" },
	{ "kafka_compression", "kafkaCompression" }, { "s3_endpoint", "s3Endpoint" },
	{ "s3_region", "s3Region" }, { "s3_bucket", "s3Bucket" }, { "s3_prefix", "s3Prefix" },
	{ "s3_access_key", "s3AccessKey" }, { "s3_secret_key", "s3SecretKey" },
	{ "s3_skip_bucket_probe", "s3SkipBucketProbe" },
	{ "s3_parquet_flush_threshold_bytes", "s3ParquetFlushBytes" },
	{ "s3_flush_interval", "s3FlushInterval" }, { "s3_flush_jitter_pct", "s3FlushJitterPct" },
	{ "s3_flush_threshold_jitter_pct", "s3FlushThresholdJitterPct" },
	{ "s3_upload_max_attempts", "s3UploadMaxAttempts" },
	{ "s3_upload_backoff_cap", "s3UploadBackoffCap" }, { "hostname", "hostname" },
	{ "location", "location" }, { "label", "label" }, { "tag", "tag" },
	{ "daemon_version", NULL }, { "ipv4_ttl", "ipv4Ttl" },
	{ "ipv6_hop_limit", "ipv6HopLimit" }, { "listener_auth", NULL },
	{ "prometheus_listener", "promListen" }, { "grpc_port", "grpcPort" },
	{ "grpc_listener", NULL }, { "pyroscope_url", "pyroscopeUrl" },
	{ "pyroscope_app_name", "pyroscopeAppName" },
	{ "pyroscope_sample_hz", "pyroscopeSampleHz" },
	{ "pyroscope_upload_interval_sec", "pyroscopeUploadSec" },
	{ "resolve_container_id", "resolveContainerId" },
	{ "enrich_container_enable", "enrichContainer" }, { "docker_socket_path", "dockerSocket" },
	{ "enrich_lldp_enable", "enrichLldp" }, { "lldpd_socket_path", "lldpdSocket" },
	{ "lldpd_version_hint", "lldpdVersionHint" }, { "enrich_nic_enable", "enrichNic" },
	{ "uplink_count", "uplinkCount" }, { "uplink_interfaces", "uplinkInterfaces" },
	{ "populate_nsid", "populateNsid" }, { "enrich_asn_enable", "enrichAsn" },
	{ "asn_db_path", "asnDbPath" }, { "asn_refresh_interval", "asnRefreshInterval" },
	{ "ipmeta_bootstrap_path", "ipmetaBootstrapPath" },
	{ "ipmeta_cache_path", "ipmetaCachePath" },
	{ "enrich_locality_enable", "enrichLocality" },
	{ "locality_refresh_interval", "localityRefreshInterval" },
};

#define N_ENVS (sizeof(compat_envs) / sizeof(compat_envs[0]))
#define N_FIELDS (sizeof(compat_fields) / sizeof(compat_fields[0]))

static const struct compat_opt compat_noeq = { NULL, ACT_IGNORE, VAL_STR, NULL };

static const struct compat_opt *compat_by_flag(const char *flag)
{
	const struct compat_opt *opt = flag ? compat_opt_find(flag, strlen(flag)) : NULL;

	return opt ? opt : &compat_noeq;
}

/* protojson's name of a field: lowerCamelCase. */
static void compat_camel(const char *field, char *out, size_t n)
{
	size_t j = 0;

	for (size_t i = 0; field[i] && j + 1 < n; i++) {
		if (field[i] == '_' && field[i + 1]) {
			i++;
			out[j++] = (char)(field[i] >= 'a' && field[i] <= 'z' ? field[i] - 32 : field[i]);
		} else {
			out[j++] = field[i];
		}
	}
	out[j] = '\0';
}

#ifdef HAVE_JSONC
/* One field's JSON value as the text its flag takes (protojson: 64-bit integers may be
 * strings, durations are strings like "10s" or "1.500s"). 1 = null (skip). */
static int compat_json_text(struct compat_out *o, const struct compat_opt *opt,
			    struct json_object *v, const char *where, char *buf, size_t n,
			    const char **text)
{
	enum json_type t = json_object_get_type(v);

	*text = buf;
	if (t == json_type_null)
		return 1;
	if (opt->act == ACT_IGNORE) {
		*text = "";
		return 0;
	}
	if (t == json_type_string && opt->val != VAL_BOOL) {
		*text = json_object_get_string(v);
		return 0;
	}
	if (t == json_type_int && opt->val == VAL_UINT && json_object_get_int64(v) >= 0) {
		snprintf(buf, n, "%lld", (long long)json_object_get_int64(v));
		return 0;
	}
	if (t == json_type_boolean && opt->val == VAL_BOOL) {
		*text = json_object_get_boolean(v) ? "true" : "false";
		return 0;
	}
	return compat_fail(o, "%s: %s is not %s", where, json_object_to_json_string(v),
			   opt->val == VAL_UINT ? "a whole number" : opt->val == VAL_BOOL ?
			   "true or false" : opt->val == VAL_DUR ? "a duration string (like \"10s\")" :
			   "a string");
}

/* enabled_deserializers {"enabled": {"info": true, ...}} -> "info,..." */
static int compat_json_deser(struct compat_out *o, struct json_object *v, const char *where,
			     char *buf, size_t n)
{
	struct json_object *map;
	size_t used = 0;

	if (!json_object_is_type(v, json_type_object) ||
	    (json_object_object_get_ex(v, "enabled", &map) &&
	     !json_object_is_type(map, json_type_object)))
		return compat_fail(o, "%s: expected {\"enabled\": {\"NAME\": true, ...}}", where);
	buf[0] = '\0';
	if (!json_object_object_get_ex(v, "enabled", &map))
		return 0;
	json_object_object_foreach(map, name, on) {
		if (!json_object_is_type(on, json_type_boolean))
			return compat_fail(o, "%s: \"%s\": %s is not true or false", where, name,
					   json_object_to_json_string(on));
		if (json_object_get_boolean(on))
			used += (size_t)snprintf(buf + used, used < n ? n - used : 0, "%s%s",
						 used ? "," : "", name);
	}
	return used < n ? 0 : compat_fail(o, "%s: too long", where);
}

static int compat_json_field(struct compat_out *o, const char *key, struct json_object *v)
{
	char where[200], ignored[200], camel[64], buf[1024];
	const struct compat_opt *opt;
	const char *text;
	size_t i;
	int r;

	for (i = 0; i < N_FIELDS; i++) {
		compat_camel(compat_fields[i].field, camel, sizeof(camel));
		if (!strcmp(key, compat_fields[i].field) || !strcmp(key, camel))
			break;
	}
	snprintf(where, sizeof(where), "XTCP_CONFIG_JSON field \"%s\"", key);
	if (i == N_FIELDS) {
		compat_warn(o, "ignoring %s: not a field of xtcp2's XtcpConfig", where);
		return 0;
	}
	snprintf(ignored, sizeof(ignored), "%s", where);
	opt = compat_by_flag(compat_fields[i].flag);
	if (!strcmp(compat_fields[i].field, "enabled_deserializers")) {
		if ((r = compat_json_deser(o, v, where, buf, sizeof(buf))))
			return r;
		return buf[0] ? compat_apply(o, opt, buf, where, ignored) : 0;
	}
	if (!strcmp(compat_fields[i].field, "uplink_interfaces") &&
	    json_object_is_type(v, json_type_array)) {
		/* repeated string: ["eth0", "eth1"] -> "eth0,eth1" */
		size_t used = 0;

		buf[0] = '\0';
		for (size_t k = 0; k < json_object_array_length(v); k++) {
			struct json_object *e = json_object_array_get_idx(v, k);

			if (!json_object_is_type(e, json_type_string))
				return compat_fail(o, "%s: %s is not a list of interface names", where,
						   json_object_to_json_string(v));
			used += (size_t)snprintf(buf + used, used < sizeof(buf) ? sizeof(buf) - used : 0,
						 "%s%s", k ? "," : "", json_object_get_string(e));
		}
		if (used >= sizeof(buf))
			return compat_fail(o, "%s: too long", where);
		return compat_apply(o, opt, buf, where, ignored);
	}
	if (!strcmp(compat_fields[i].field, "prometheus_listener")) {
		struct json_object *addr;

		if (!json_object_is_type(v, json_type_object))
			return compat_fail(o, "%s: expected {\"address\": \"HOST:PORT\", ...}", where);
		json_object_object_foreach(v, sub, sv) {
			(void)sv;
			if (strcmp(sub, "address"))
				compat_warn(o, "ignoring %s.%s: xtcpd has no equivalent", where, sub);
		}
		if (!json_object_object_get_ex(v, "address", &addr))
			return 0;
		v = addr;
	}
	if ((r = compat_json_text(o, opt, v, where, buf, sizeof(buf), &text)))
		return r < 0 ? r : 0;
	return compat_apply(o, opt, text, where, ignored);
}

static int compat_json(struct compat_out *o, const char *text)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root;
	enum json_tokener_error e;
	int r = 0;

	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, text, (int)strlen(text));
	e = json_tokener_get_error(tok);
	if (!root || e != json_tokener_success || tok->char_offset < (int)strlen(text)) {
		r = compat_fail(o, "XTCP_CONFIG_JSON: not valid JSON: %s (at byte %d)",
				e == json_tokener_success ? "text after the value" :
				e == json_tokener_continue ? "it ends too early" :
				json_tokener_error_desc(e), (int)tok->char_offset);
	} else if (!json_object_is_type(root, json_type_object)) {
		r = compat_fail(o, "XTCP_CONFIG_JSON: expected a JSON object (xtcp2's XtcpConfig "
				"in protojson)");
	} else {
		json_object_object_foreach(root, key, v)
			if ((r = compat_json_field(o, key, v)))
				break;
	}
	json_object_put(root);
	json_tokener_free(tok);
	return r;
}
#else
static int compat_json(struct compat_out *o, const char *text)
{
	(void)text;
	return compat_fail(o, "XTCP_CONFIG_JSON: this xtcpd was built without json-c "
			   "(configure --enable-json=yes)");
}
#endif

int compat_env_apply(struct compat_out *o, const char *(*env)(const char *name))
{
	const char *json;
	int r;

	for (size_t i = 0; i < N_ENVS; i++) {
		const char *v = env(compat_envs[i].env);
		char where[160], ignored[200];

		if (!v)
			continue;
		snprintf(where, sizeof(where), "environment %s", compat_envs[i].env);
		if (compat_envs[i].flag)
			snprintf(ignored, sizeof(ignored), "%s (xtcp2 -%s)", where, compat_envs[i].flag);
		else
			snprintf(ignored, sizeof(ignored), "%s", where);
		if ((r = compat_apply(o, compat_by_flag(compat_envs[i].flag), v, where, ignored)))
			return r;
	}
	/* xtcp2: an empty XTCP_CONFIG_JSON is no configuration */
	json = env("XTCP_CONFIG_JSON");
	return json && *json ? compat_json(o, json) : 0;
}

/* What xtcpd does with a setting, for the migration table. */
static void compat_does(FILE *out, const struct compat_opt *opt)
{
	switch (opt->act) {
	case ACT_KEY: fprintf(out, "`%s`", opt->target); break;
	case ACT_SOFT:
		fprintf(out, "`%s` when that sink is configured (off by default)", opt->target);
		break;
	case ACT_KEY0: fprintf(out, "`%s` (0: xtcpd's default)", opt->target); break;
	case ACT_THREADS: fprintf(out, "`%s` (capped at 1024; 0: xtcpd's default)", opt->target); break;
	case ACT_DEST: fprintf(out, "`--dest` (nsq and s3parquet refused)"); break;
	case ACT_MARSHAL:
		fprintf(out, "`--marshal` with a destination (jsonl: protoJson with "
			"`layout = jsonl`); warned without one");
		break;
	case ACT_TOPIC:
		fprintf(out, "the destination's topic, subject or channel (default `xtcp`); "
			"without a destination `%s`", opt->target);
		break;
	case ACT_PTIMEOUT: fprintf(out, "`sink.http.timeout` with an http(s) destination; warned otherwise"); break;
	case ACT_FLUSH: fprintf(out, "`marshaller.*.%s`: every marshaller (0: its default)", opt->target); break;
	case ACT_COLUMNS: fprintf(out, "`marshaller.csv.columns` / `marshaller.tsv.columns`; warned otherwise"); break;
	case ACT_DESER:
		fprintf(out, "`%s` (`default` and not given: xtcp2's set, every attribute but meminfo)",
			opt->target);
		break;
	case ACT_KCOMP: fprintf(out, "`%s` (empty and `auto`: zstd)", opt->target); break;
	case ACT_PKT: fprintf(out, "`%s` = packetSize (0: 4096) x packetSizeMply (8)", opt->target); break;
	case ACT_WFILES: fprintf(out, "`--capture` into -capturePath when above 0 (every dump)"); break;
	case ACT_CAPDIR: fprintf(out, "the `--capture` folder"); break;
	case ACT_DEBUG: fprintf(out, "`%s`: debug (info when 0)", opt->target); break;
	case ACT_NATIVE: fprintf(out, "`%s`", opt->target); break;
	case ACT_URING:
		if (opt->target)
			fprintf(out, "`source.io_uring.%s` with -ioUring; warned otherwise", opt->target);
		else
			fprintf(out, "`--source io_uring`: the io_uring source, with the netlink keys "
				"set here");
		break;
	case ACT_IGNORE: fprintf(out, "warned: %s", opt->target ? opt->target : "no equivalent"); break;
	}
}

static void compat_row(FILE *out, const char *flag, const struct compat_opt *opt)
{
	char camel[64];
	int n = 0;

	if (flag)
		fprintf(out, "| `-%s` | ", flag);
	else
		fprintf(out, "| | ");
	for (size_t i = 0; i < N_ENVS; i++)
		if (flag ? compat_envs[i].flag && !strcmp(compat_envs[i].flag, flag) :
			   compat_by_flag(compat_envs[i].flag) == opt && !compat_envs[i].flag)
			fprintf(out, "%s`%s`", n++ ? ", " : "", compat_envs[i].env);
	fprintf(out, " | ");
	n = 0;
	for (size_t i = 0; i < N_FIELDS; i++)
		if (flag ? compat_fields[i].flag && !strcmp(compat_fields[i].flag, flag) :
			   !compat_fields[i].flag) {
			compat_camel(compat_fields[i].field, camel, sizeof(camel));
			fprintf(out, "%s`%s`", n++ ? ", " : "", camel);
		}
	fprintf(out, " | ");
	compat_does(out, opt);
	fprintf(out, " |\n");
}

void compat_print_migration(FILE *out)
{
	const struct compat_opt *opt;

	fprintf(out, "| xtcp2 flag | environment | XTCP_CONFIG_JSON field | xtcpd |\n");
	fprintf(out, "|---|---|---|---|\n");
	for (size_t i = 0; (opt = compat_opt_at(i)); i++)
		compat_row(out, opt->name, opt);
	compat_row(out, NULL, &compat_noeq);
	fprintf(out, "| | `XTCP_CONFIG_JSON` | | the whole XtcpConfig (protojson, read with "
		"json-c): each field as its flag; unknown fields warned, bad values refused |\n");
}

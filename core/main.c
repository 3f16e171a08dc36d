/* main — the command line: options, --help-plugin / --help-core, --list-plugins,
 * then daemon_run(). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "conf/conf.h"
#include "ops/caps.h"
#include "ops/daemon.h"
#include "ops/trust.h"
#include "plugin/plugin.h"
#ifdef XTCPD_WITH_COMPAT
#include "conf/compat.h"
#endif

#ifdef XTCPD_WITH_COMPAT
static void compat_warn_stderr(const char *line)
{
	fprintf(stderr, "xtcpd: warning: %s\n", line);
}

/* xtcp2's environment is read only when the caller is trusted (no file capabilities,
 * no setuid): secure_getenv then gives nothing. */
static const char *compat_env(const char *name)
{
	return secure_getenv(name);
}
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: xtcpd [options]\n"
		"  -c, --config FILE        main configuration (default %s/xtcpd/xtcpd.conf)\n"
		"  -C, --confdir DIR        conf.d folder (default: conf.d beside the main file)\n"
		"  -o, --set SEC.KEY=VALUE  override a key: core.frequency=5s, sink.stdout.path=/tmp/x\n"
		"  -n, --check              check the configuration, print 'configuration OK'\n"
		"      --print-config       print the effective configuration as a file -c takes\n"
		"      --healthcheck        probe the running daemon's /readyz (core.prom_listen):\n"
		"                           exit 0 when ready, 1 otherwise\n"
		"      --once               run one poll cycle and exit\n"
		"      --dest URI           one destination instead of the configured sinks:\n"
		"                           kafka:HOST:PORT, udp:HOST:PORT, tcp:HOST:PORT,\n"
		"                           unix:PATH, unixgram:PATH, file:PATH, stdout, stderr, null,\n"
		"                           http[s]://HOST[:PORT]/PATH, nats:HOST:PORT, valkey:HOST:PORT\n"
		"      --marshal NAME       marshaller for --dest: protobufList, protoJson, jsonl,\n"
		"                           protoText, json, csv, tsv\n"
		"      --source NAME        this source plugin instead of the configured sources\n"
		"                           (xtcp2's -ioUring: --source io_uring)\n"
		"      --capture DIR        write every raw netlink dump into DIR\n"
		"      --help-plugin NAME   list a plugin's configuration keys\n"
		"      --help-core          list the core's configuration keys\n"
		"      --list-plugins       load every plugin of the plugin folder and report\n"
		"      --help-xtcp2         every xtcp2 flag and variable and what xtcpd does with it\n"
		"  -d                       debug logging (core.log_level=debug)\n"
		"  -V, --version            print the version\n"
		"  -h, --help               this text\n"
		"Plugins are loaded from core.plugin_dir (default %s; env XTCPD_PLUGIN_DIR).\n",
		SYSCONFDIR, PLUGINDIR);
}

static const char *plugin_dir(void)
{
	const char *d = secure_getenv("XTCPD_PLUGIN_DIR");

	return d ? d : PLUGINDIR;
}

/* With file capabilities or setuid (AT_SECURE) the caller is not trusted: nothing they
 * choose may point the daemon at other code or configuration. 0, or 1 with a message. */
static int refuse_secure_exec(const struct daemon_opts *o, int explicit_conf)
{
	const char *what = NULL;

	if (!trust_secure_exec())
		return 0;
	if (getenv("XTCPD_PLUGIN_DIR"))
		what = "XTCPD_PLUGIN_DIR";
	else if (explicit_conf)
		what = "-c";
	else if (o && o->confdir)
		what = "-C";
	for (size_t i = 0; o && !what && i < o->n_overrides; i++)
		if (!strncmp(o->overrides[i], "core.plugin_dir=", 16))
			what = "-o core.plugin_dir";
	if (!what)
		return 0;
	fprintf(stderr, "xtcpd: %s refused: xtcpd runs with privileges its caller does not have "
		"(file capabilities or setuid), so it reads only %s/xtcpd and loads plugins only "
		"from %s\n", what, SYSCONFDIR, PLUGINDIR);
	return 1;
}

/* --help-plugin and --list-plugins load plugins and need no privilege at all. */
static void drop_all_caps(void)
{
	int rc = caps_drop_except(NULL, 0);

	if (rc && rc != -EPERM)
		fprintf(stderr, "xtcpd: warning: cannot drop capabilities: %s\n", strerror(-rc));
}

static int help_plugin(const char *name)
{
	struct plugin_set ps;
	const struct plugin *pl = NULL;
	char err[600] = "";
	unsigned kind;

	plugin_set_init(&ps, plugin_dir());
	for (kind = XTCPD_KIND_SOURCE; kind <= XTCPD_KIND_SINK; kind++) {
		int rc = plugin_load(&ps, kind, name, &pl, err, sizeof(err));
		if (!rc)
			break;
		if (rc != -ENOENT) {
			fprintf(stderr, "xtcpd: %s\n", err);
			plugin_set_fini(&ps);
			return 1;
		}
	}
	if (!pl) {
		fprintf(stderr, "xtcpd: no plugin named '%s' in %s\n", name, ps.dir);
		plugin_set_fini(&ps);
		return 1;
	}
	printf("# %s %s %s: %s\n", plugin_kind_name(kind), pl->desc->name, pl->desc->version,
	       pl->desc->description);
	printf("# name\ttype\tdefault\tallowed\thelp\n");
	conf_print_keys(stdout, pl->desc->keys);
	if (kind == XTCPD_KIND_SOURCE)
		conf_print_keys(stdout, conf_source_keys);
	else if (kind == XTCPD_KIND_MARSHALLER)
		conf_print_keys(stdout, conf_marshaller_keys);
	else if (kind == XTCPD_KIND_SINK)
		conf_print_keys(stdout, conf_sink_keys);
	plugin_set_fini(&ps);
	return 0;
}

static int so_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 3 && !strcmp(d->d_name + n - 3, ".so");
}

static int list_plugins(void)
{
	struct plugin_set ps;
	struct dirent **names;
	int n, bad = 0;

	plugin_set_init(&ps, plugin_dir());
	n = scandir(ps.dir, &names, so_filter, alphasort);
	if (n < 0) {
		fprintf(stderr, "xtcpd: %s: %s\n", ps.dir, strerror(errno));
		return 1;
	}
	for (int i = 0; i < n; i++) {
		char path[4400], err[600];
		const struct plugin *pl;

		snprintf(path, sizeof(path), "%s/%s", ps.dir, names[i]->d_name);
		if (plugin_load_file(&ps, path, 0, NULL, &pl, err, sizeof(err))) {
			fprintf(stderr, "xtcpd: %s\n", err);
			bad++;
		} else {
			printf("%s\t%s\t%s\t%s\n", plugin_kind_name(pl->desc->kind), pl->desc->name,
			       pl->desc->version, pl->desc->description);
		}
		free(names[i]);
	}
	free(names);
	plugin_set_fini(&ps);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	enum { O_ONCE = 256, O_DEST, O_MARSHAL, O_CAPTURE, O_HELP_PLUGIN, O_HELP_CORE, O_LIST,
	       O_PRINT, O_HEALTH, O_HELP_XTCP2, O_SOURCE };
	static const struct option lopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "confdir", required_argument, NULL, 'C' },
		{ "set", required_argument, NULL, 'o' },
		{ "check", no_argument, NULL, 'n' },
		{ "once", no_argument, NULL, O_ONCE },
		{ "dest", required_argument, NULL, O_DEST },
		{ "marshal", required_argument, NULL, O_MARSHAL },
		{ "source", required_argument, NULL, O_SOURCE },
		{ "capture", required_argument, NULL, O_CAPTURE },
		{ "help-plugin", required_argument, NULL, O_HELP_PLUGIN },
		{ "help-core", no_argument, NULL, O_HELP_CORE },
		{ "list-plugins", no_argument, NULL, O_LIST },
		{ "print-config", no_argument, NULL, O_PRINT },
		{ "healthcheck", no_argument, NULL, O_HEALTH },
		{ "help-xtcp2", no_argument, NULL, O_HELP_XTCP2 },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon_opts o = { 0 };
	char *confdir_buf = NULL, **args = argv;
	int opt, rc, nargs = argc;

	/* Nothing this process or its threads exec may gain a privilege (nor does it exec). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0)
		fprintf(stderr, "xtcpd: warning: cannot set no_new_privs: %s\n", strerror(errno));
	trust_privileged();  /* decided now, with the capabilities we were started with */
	if (refuse_secure_exec(NULL, 0))
		return EXIT_CONFIG;

#ifdef XTCPD_WITH_COMPAT
	char cerr[512];
	if (compat_rewrite(argc, argv, compat_env, &nargs, &args, cerr, sizeof(cerr),
			   compat_warn_stderr)) {
		fprintf(stderr, "xtcpd: %s\n", cerr);
		return EXIT_CONFIG;
	}
#endif
	o.overrides = calloc((size_t)nargs + 2, sizeof(char *));
	if (!o.overrides)
		return 1;
	while ((opt = getopt_long(nargs, args, "c:C:o:ndVh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'c': o.conf_path = optarg; break;
		case 'C': o.confdir = optarg; break;
		case 'o': o.overrides[o.n_overrides++] = optarg; break;
		case 'n': o.check_only = 1; break;
		case 'd': o.overrides[o.n_overrides++] = "core.log_level=debug"; break;
		case O_ONCE: o.once = 1; break;
		case O_PRINT: o.print_config = 1; break;
		case O_HEALTH: o.healthcheck = 1; break;
		case O_HELP_XTCP2:
#ifdef XTCPD_WITH_COMPAT
			compat_print_migration(stdout);
#endif
			rc = 0;
			goto out;
		case O_DEST: o.dest = optarg; break;
		case O_MARSHAL: o.marshal = optarg; break;
		case O_SOURCE: o.source = optarg; break;
		case O_CAPTURE: o.capture_dir = optarg; break;
		case O_HELP_PLUGIN:
			drop_all_caps();
			rc = help_plugin(optarg);
			goto out;
		case O_HELP_CORE:
			printf("# core\n# name\ttype\tdefault\tallowed\thelp\n");
			conf_print_keys(stdout, conf_core_keys);
			rc = 0;
			goto out;
		case O_LIST:
			drop_all_caps();
			rc = list_plugins();
			goto out;
		case 'V':
			printf("xtcpd %s (plugin ABI %d.%d)\n", PACKAGE_VERSION, XTCPD_ABI_MAJOR, XTCPD_ABI_MINOR);
			rc = 0;
			goto out;
		case 'h': usage(stdout); rc = 0; goto out;
		default: usage(stderr); rc = EXIT_CONFIG; goto out;
		}
	}
	rc = EXIT_CONFIG;
	if (optind < nargs) {
		fprintf(stderr, "xtcpd: unexpected argument '%s'\n", args[optind]);
		goto out;
	}
	if (o.marshal && !o.dest) {
		fprintf(stderr, "xtcpd: --marshal needs --dest\n");
		goto out;
	}
	if (refuse_secure_exec(&o, o.conf_path != NULL))
		goto out;
	if (!o.conf_path)
		o.conf_path = SYSCONFDIR "/xtcpd/xtcpd.conf";
	if (!o.confdir) {
		char *tmp = strdup(o.conf_path);
		if (!tmp || asprintf(&confdir_buf, "%s/conf.d", dirname(tmp)) < 0)
			confdir_buf = NULL;
		free(tmp);
		o.confdir = confdir_buf;
	}
	rc = daemon_run(&o);
out:
	free(confdir_buf);
	free(o.overrides);
#ifdef XTCPD_WITH_COMPAT
	if (args != argv)
		compat_free(nargs, args);
#endif
	return rc;
}

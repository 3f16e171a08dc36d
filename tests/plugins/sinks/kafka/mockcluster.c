/* mockcluster — a test-only Kafka cluster: librdkafka's mock brokers (real Kafka
 * protocol on loopback) in a process of their own, so a test can start it, produce and
 * consume against it, and take brokers down and up.
 *
 *   mockcluster [-b BROKERS] [-t TOPIC] [-p PARTITIONS] [-r REPLICAS]
 *
 * Prints the bootstrap address as the first line of stdout, then obeys one command per
 * line on stdin, answering "ok" or "error: ..." on stdout:
 *   down N | up N        broker N (1..BROKERS) down/up
 *   down all | up all    every broker
 *   rtt N MS             add MS of round-trip time to broker N
 *   topic NAME PARTS     create another topic
 *   quit                 exit
 * Signals: SIGUSR1 = down all, SIGUSR2 = up all (each printing "signal: down all" or
 * "signal: up all" once done), SIGTERM/SIGINT = exit. End of stdin
 * is not an exit (a test may run it in the background with stdin from /dev/null). */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static int brokers = 3;

static void set_all(rd_kafka_mock_cluster_t *mc, int up)
{
	for (int id = 1; id <= brokers; id++) {
		if (up)
			rd_kafka_mock_broker_set_up(mc, id);
		else
			rd_kafka_mock_broker_set_down(mc, id);
	}
}

/* One command line; returns 1 to quit. */
static int command(rd_kafka_mock_cluster_t *mc, char *line)
{
	char word[64], arg[256];
	int n, id, ms;

	n = sscanf(line, "%63s %255s %d", word, arg, &ms);
	if (n < 1)
		return 0;
	if (!strcmp(word, "quit"))
		return 1;
	if ((!strcmp(word, "down") || !strcmp(word, "up")) && n >= 2) {
		int up = word[0] == 'u';

		if (!strcmp(arg, "all")) {
			set_all(mc, up);
		} else {
			id = atoi(arg);
			if (id < 1 || id > brokers) {
				printf("error: no broker %s\n", arg);
				return 0;
			}
			if (up)
				rd_kafka_mock_broker_set_up(mc, id);
			else
				rd_kafka_mock_broker_set_down(mc, id);
		}
	} else if (!strcmp(word, "rtt") && n == 3) {
		rd_kafka_mock_broker_set_rtt(mc, atoi(arg), ms);
	} else if (!strcmp(word, "topic") && n == 3) {
		if (rd_kafka_mock_topic_create(mc, arg, ms, brokers < 3 ? brokers : 3)) {
			printf("error: cannot create topic %s\n", arg);
			return 0;
		}
	} else {
		printf("error: unknown command: %s", line);
		return 0;
	}
	printf("ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *topic = "xtcpd";
	int partitions = 3, replicas = 3, opt, sfd, quit = 0, stdin_open = 1;
	rd_kafka_mock_cluster_t *mc;
	char errstr[512], line[512];
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	sigset_t set;

	while ((opt = getopt(argc, argv, "b:t:p:r:")) != -1) {
		switch (opt) {
		case 'b': brokers = atoi(optarg); break;
		case 't': topic = optarg; break;
		case 'p': partitions = atoi(optarg); break;
		case 'r': replicas = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-b brokers] [-t topic] [-p partitions] "
				"[-r replicas]\n", argv[0]);
			return 2;
		}
	}
	if (replicas > brokers)
		replicas = brokers;
	setvbuf(stdin, NULL, _IONBF, 0);       /* poll() must see every pending line */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);    /* before librdkafka starts its threads */
	sfd = signalfd(-1, &set, SFD_CLOEXEC);

	/* The mock cluster needs a client handle to live in; this one never connects. */
	conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		fprintf(stderr, "mockcluster: %s\n", errstr);
		return 1;
	}
	mc = rd_kafka_mock_cluster_new(rk, brokers);
	if (!mc || rd_kafka_mock_topic_create(mc, topic, partitions, replicas)) {
		fprintf(stderr, "mockcluster: cannot create the cluster\n");
		return 1;
	}
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);

	while (!quit) {
		struct pollfd pfd[2] = { { .fd = sfd, .events = POLLIN },
					 { .fd = stdin_open ? 0 : -1, .events = POLLIN } };

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGUSR1 || si.ssi_signo == SIGUSR2) {
					set_all(mc, si.ssi_signo == SIGUSR2);
					/* the cue a test waits for */
					printf("signal: %s all\n", si.ssi_signo == SIGUSR2 ? "up" : "down");
					fflush(stdout);
				} else
					quit = 1;
			}
		}
		if (pfd[1].revents & (POLLIN | POLLHUP)) {
			if (!fgets(line, sizeof(line), stdin))
				stdin_open = 0;
			else
				quit = command(mc, line);
			fflush(stdout);
		}
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}

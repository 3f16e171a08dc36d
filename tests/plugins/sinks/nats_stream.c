/* nats_stream — test helper: a JetStream stream on the test's nats-server records every
 * message the server accepted on a subject, whoever was subscribed, and survives a server
 * restart. So what the nats sink calls delivered can be checked against what the server
 * really has.
 *
 *   nats_stream URL create STREAM SUBJECT   file-backed stream capturing SUBJECT
 *   nats_stream URL dump STREAM DIR         every message as DIR/NNNNNNNN.bin;
 *                                           prints "messages N bytes B" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

static int fail(const char *what, natsStatus s, jsErrCode jerr)
{
	fprintf(stderr, "nats_stream: %s: %s (JetStream error %d)\n", what, natsStatus_GetText(s),
		(int)jerr);
	return 1;
}

static int create(jsCtx *js, const char *name, const char *subject)
{
	const char *subjects[] = { subject };
	jsStreamInfo *si = NULL;
	jsStreamConfig cfg;
	jsErrCode jerr = 0;
	natsStatus s;

	jsStreamConfig_Init(&cfg);
	cfg.Name = name;
	cfg.Subjects = subjects;
	cfg.SubjectsLen = 1;
	cfg.Storage = js_FileStorage;
	cfg.MaxMsgSize = 8 << 20;
	s = js_AddStream(&si, js, &cfg, NULL, &jerr);
	if (s != NATS_OK)
		return fail("add stream", s, jerr);
	jsStreamInfo_Destroy(si);
	return 0;
}

static int dump(jsCtx *js, const char *name, const char *dir)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	uint64_t n = 0, bytes = 0;
	natsStatus s;

	s = js_GetStreamInfo(&si, js, name, NULL, &jerr);
	if (s != NATS_OK)
		return fail("stream info", s, jerr);
	for (uint64_t seq = si->State.FirstSeq; si->State.Msgs && seq <= si->State.LastSeq; seq++) {
		natsMsg *m = NULL;
		char path[4200];
		FILE *f;

		s = js_GetMsg(&m, js, name, seq, NULL, &jerr);
		if (s != NATS_OK)
			return fail("get message", s, jerr);
		snprintf(path, sizeof(path), "%s/%08llu.bin", dir, (unsigned long long)seq);
		f = fopen(path, "wb");
		if (!f || fwrite(natsMsg_GetData(m), 1, (size_t)natsMsg_GetDataLength(m), f) !=
			  (size_t)natsMsg_GetDataLength(m) || fclose(f)) {
			perror(path);
			return 1;
		}
		n++;
		bytes += (uint64_t)natsMsg_GetDataLength(m);
		natsMsg_Destroy(m);
	}
	printf("messages %llu bytes %llu\n", (unsigned long long)n, (unsigned long long)bytes);
	jsStreamInfo_Destroy(si);
	return 0;
}

int main(int argc, char **argv)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	natsStatus s;
	int rc;

	if (argc != 5 || (strcmp(argv[2], "create") && strcmp(argv[2], "dump"))) {
		fprintf(stderr, "usage: nats_stream URL create STREAM SUBJECT | URL dump STREAM DIR\n");
		return 2;
	}
	s = natsConnection_ConnectTo(&nc, argv[1]);
	if (s == NATS_OK)
		s = natsConnection_JetStream(&js, nc, NULL);
	if (s != NATS_OK)
		return fail(argv[1], s, 0);
	rc = !strcmp(argv[2], "create") ? create(js, argv[3], argv[4]) : dump(js, argv[3], argv[4]);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	nats_Close();
	return rc;
}

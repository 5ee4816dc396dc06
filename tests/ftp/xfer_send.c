/*
 * xfer_send.c - test driver: copies stdin to an upload (xfer_upload_*),
 * with the transfer options given as --key[=value] arguments, then prints
 * the summary line and the statistics. Exit 0 when published, 2 on end of
 * medium (ENOSPC), 1 on any other failure. Used by the pytest cases and
 * the benchmark; it never takes a password in argv (the library refuses).
 *
 *   xfer_send URL [--block-size N] [--abort-after N] [--direct]
 *             [--sync] [--sync-each] [transfer options]
 *
 * --direct reads stdin straight into the upload queue (xfer_upload_reserve
 * and commit) instead of into a block buffer first. --sync calls
 * xfer_upload_sync once all of stdin is queued (before finish), --sync-each
 * after every block too; each prints "sync: rc=R queued=Q sent=S", and a
 * last line "syncs: N in T s". A failed sync ends the run like a failed
 * write.
 */
#include "xfer.h"
#include "log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static unsigned nsyncs;
static double sync_secs;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One xfer_upload_sync, and what the statistics say right after it. */
static int do_sync(struct xfer_upload *u)
{
	struct xfer_stats s;
	double t0 = now();
	int rc = xfer_upload_sync(u);

	sync_secs += now() - t0;
	nsyncs++;
	xfer_upload_stats(u, &s);
	printf("sync: rc=%d queued=%llu sent=%llu\n", rc,
	       (unsigned long long)s.queued, (unsigned long long)s.sent);
	return rc;
}

static void print_stats(struct xfer_upload *u)
{
	struct xfer_stats s;
	char line[256];

	xfer_upload_stats(u, &s);
	xfer_summary(&s, line, sizeof(line));
	printf("%s\n", line);
	printf("stats: queued=%llu sent=%llu confirmed=%llu reconnects=%u "
	       "crc=%08x published=%d verified=%d elapsed=%.3f cpu=%.3f "
	       "rate_mean=%.0f\n", (unsigned long long)s.queued,
	       (unsigned long long)s.sent, (unsigned long long)s.confirmed,
	       s.reconnects, s.crc, s.published, s.verified, s.elapsed, s.cpu,
	       s.rate_mean);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct xfer_opts o;
	struct xfer_upload *u;
	char err[XFER_ERRLEN];
	const char *url = NULL;
	uint64_t block = 1 << 20, abort_after = 0, total = 0;
	unsigned char *buf;
	bool direct = false, sync_end = false, sync_each = false;
	int rc = 0;

	rlog_set_program("xfer_send");
	xfer_opts_init(&o);
	for (int i = 1; i < argc; i++) {
		char *a = argv[i], *key, *val = NULL;

		if (strncmp(a, "--", 2)) {
			if (url) {
				fprintf(stderr, "xfer_send: one URL only\n");
				return 64;
			}
			url = a;
			continue;
		}
		key = strdup(a + 2);
		if (strchr(key, '=')) {
			val = strchr(key, '=') + 1;
			*strchr(key, '=') = '\0';
		}
		if (!strcmp(key, "direct") || !strcmp(key, "sync") ||
		    !strcmp(key, "sync-each")) {
			if (!strcmp(key, "direct"))
				direct = true;
			else if (!strcmp(key, "sync"))
				sync_end = true;
			else
				sync_each = sync_end = true;
			free(key);
			continue;
		}
		if (!strcmp(key, "block-size") || !strcmp(key, "abort-after")) {
			if (!val && i + 1 < argc)
				val = argv[++i];
			if (!val || xfer_parse_size(val, !strcmp(key, "block-size") ?
						    &block : &abort_after) || !block) {
				fprintf(stderr, "xfer_send: bad --%s\n", key);
				free(key);
				return 64;
			}
			free(key);
			continue;
		}
		if (!val && xfer_opts_takes_value(key) && i + 1 < argc)
			val = argv[++i];
		rc = xfer_opts_set(&o, key, val, err, sizeof(err));
		free(key);
		if (rc) {
			fprintf(stderr, "xfer_send: %s\n", rc == 1 ? "unknown option" : err);
			xfer_opts_free(&o);
			return 64;
		}
	}
	if (!url) {
		fprintf(stderr, "usage: xfer_send URL [options] < data\n%s",
			xfer_opts_help());
		return 64;
	}
	u = xfer_upload_open(url, &o, err, sizeof(err));
	if (!u) {
		fprintf(stderr, "xfer_send: %s\n", err);
		xfer_opts_free(&o);
		return 1;
	}
	buf = malloc(block);
	while (direct) {
		void *p;
		size_t room;
		ssize_t r;

		rc = xfer_upload_reserve(u, &p, &room);
		if (rc)
			break;
		if (room > block)
			room = block;
		do
			r = read(0, p, room);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			fprintf(stderr, "xfer_send: reading stdin: %s\n", strerror(errno));
			xfer_upload_commit(u, 0);
			rc = -EIO;
			break;
		}
		rc = xfer_upload_commit(u, (size_t)r);
		total += (uint64_t)r;
		if (rc || r == 0)
			break;
		if (abort_after && total >= abort_after) {
			xfer_upload_abort(u);
			rc = -EPIPE;
			break;
		}
	}
	for (; !direct;) {
		size_t have = 0;
		ssize_t r = 1;

		/* Fill whole blocks, as a tape writer does with records. */
		while (have < block && (r = read(0, buf + have, block - have)) > 0)
			have += (size_t)r;
		if (r < 0) {
			fprintf(stderr, "xfer_send: reading stdin: %s\n", strerror(errno));
			rc = -EIO;
			break;
		}
		if (have) {
			rc = xfer_upload_write(u, buf, have);
			if (rc)
				break;
			total += have;
			if (sync_each && (rc = do_sync(u)) != 0)
				break;
		}
		if (abort_after && total >= abort_after) {
			xfer_upload_abort(u);
			rc = -EPIPE;
			break;
		}
		if (r == 0)
			break;
	}
	if (!rc && sync_end)
		rc = do_sync(u);
	if (nsyncs)
		printf("syncs: %u in %.3f s\n", nsyncs, sync_secs);
	if (!rc)
		rc = xfer_upload_finish(u);
	else if (rc != -EPIPE)
		xfer_upload_abort(u);
	if (rc)
		fprintf(stderr, "xfer_send: %s (%s)\n", xfer_upload_error(u),
			rc == -ENOSPC ? "end of medium" : strerror(-rc));
	print_stats(u);
	xfer_upload_free(u);
	free(buf);
	xfer_opts_free(&o);
	return rc == 0 ? 0 : rc == -ENOSPC ? 2 : 1;
}

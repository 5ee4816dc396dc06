/*
 * xfer_get.c - test driver for the read side: `xfer_get cat URL [OFFSET
 * [LENGTH]]` streams a file to stdout through xfer_download_*, `fetch`
 * the same through xfer_fetch, `stat URL` prints "SIZE MTIME", `ls URL`
 * prints "d|- SIZE MTIME NAME" lines. Options as in xfer_send.
 */
#include "xfer.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int out_cb(void *ctx, const void *p, size_t n)
{
	(void)ctx;
	return fwrite(p, 1, n, stdout) == n ? 0 : -EIO;
}

int main(int argc, char **argv)
{
	struct xfer_opts o;
	char err[XFER_ERRLEN] = "";
	const char *pos[4] = { 0 };
	int npos = 0, rc = 0;

	rlog_set_program("xfer_get");
	xfer_opts_init(&o);
	for (int i = 1; i < argc; i++) {
		char *key, *val = NULL;
		if (strncmp(argv[i], "--", 2)) {
			if (npos < 4)
				pos[npos++] = argv[i];
			continue;
		}
		key = strdup(argv[i] + 2);
		if (strchr(key, '=')) {
			val = strchr(key, '=') + 1;
			*strchr(key, '=') = '\0';
		}
		if (!val && xfer_opts_takes_value(key) && i + 1 < argc)
			val = argv[++i];
		rc = xfer_opts_set(&o, key, val, err, sizeof(err));
		free(key);
		if (rc) {
			fprintf(stderr, "xfer_get: %s\n", rc == 1 ? "unknown option" : err);
			return 64;
		}
	}
	if (npos < 2) {
		fprintf(stderr, "usage: xfer_get cat|fetch|stat|ls URL [OFFSET [LENGTH]]\n");
		return 64;
	}
	uint64_t off = npos > 2 ? strtoull(pos[2], NULL, 10) : 0;
	uint64_t len = npos > 3 ? strtoull(pos[3], NULL, 10) : 0;
	if (!strcmp(pos[0], "cat")) {
		struct xfer_download *d = xfer_download_open(pos[1], &o, off, len, err,
							     sizeof(err));
		static char buf[1 << 16];
		ssize_t n;
		if (!d) {
			rc = -EIO;
		} else {
			while ((n = xfer_download_read(d, buf, sizeof(buf))) > 0)
				fwrite(buf, 1, (size_t)n, stdout);
			if (n < 0) {
				rc = (int)n;
				snprintf(err, sizeof(err), "%s", xfer_download_error(d));
			}
			xfer_download_close(d);
		}
	} else if (!strcmp(pos[0], "fetch")) {
		rc = xfer_fetch(pos[1], &o, off, len, out_cb, NULL, err, sizeof(err));
	} else if (!strcmp(pos[0], "stat")) {
		uint64_t size;
		time_t mtime;
		rc = xfer_stat(pos[1], &o, &size, &mtime, err, sizeof(err));
		if (!rc)
			printf("%" PRIu64 " %lld\n", size, (long long)mtime);
	} else if (!strcmp(pos[0], "ls")) {
		struct xfer_entry *v;
		size_t n;
		rc = xfer_list(pos[1], &o, &v, &n, err, sizeof(err));
		for (size_t i = 0; !rc && i < n; i++)
			printf("%c %" PRIu64 " %lld %s\n", v[i].is_dir ? 'd' : '-',
			       v[i].size, (long long)v[i].mtime, v[i].name);
		if (!rc)
			xfer_entries_free(v, n);
	} else {
		fprintf(stderr, "xfer_get: unknown command %s\n", pos[0]);
		return 64;
	}
	fflush(stdout);
	xfer_opts_free(&o);
	if (rc) {
		fprintf(stderr, "xfer_get: %s\n", err[0] ? err : strerror(-rc));
		return rc == -ENOENT ? 3 : 1;
	}
	return 0;
}

/*
 * test_volume.c - unit test of fs/volume*.c through a file:// target in a
 * temporary directory: capacity early warning (ENOSPC, nothing written,
 * marks still accepted), bad records, sticky state after finish, the
 * published image and its manifest (no password in it), abort leaving
 * NAME.part. Plain C, no FUSE, no server.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"
#include "volume.h"

#include "../check.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 20);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void test_capacity_and_manifest(const char *dir)
{
	char url[512], path[512], mpath[600];
	snprintf(url, sizeof(url), "file://%s/cap.tap", dir);
	snprintf(path, sizeof(path), "%s/cap.tap", dir);
	snprintf(mpath, sizeof(mpath), "%s/cap.tap.manifest.json", dir);
	struct xfer_opts o;
	xfer_opts_init(&o);
	struct vol_config c = {
		.url = url, .xfer = &o, .format = tape_format_by_name("simh"),
		.capacity = 10000, .reel = 2,
		.prev_url = "ftp://tape:s3cret@127.0.0.1/prev.tap",
		.next_url = "ftp://127.0.0.1/next.tap",
	};
	char err[XFER_ERRLEN];
	struct vol *v = vol_open(&c, err, sizeof(err));
	CHECK(v != NULL);
	if (!v) {
		fprintf(stderr, "vol_open: %s\n", err);
		return;
	}
	char rec[1000];
	memset(rec, 'x', sizeof(rec));
	CHECK(vol_record(v, rec, 0) == -EINVAL);	/* refused, usable */
	int n = 0, rc;
	while ((rc = vol_record(v, rec, sizeof(rec))) == 0)
		n++;
	CHECK(rc == -ENOSPC);
	/* 1008 image bytes per record; 16 + end marks reserved: 9 fit. */
	CHECK(n == 9);
	struct vol_status s;
	vol_get_status(v, &s);
	CHECK(s.state == VOL_FULL);
	CHECK(s.counts.records == 9);
	CHECK(s.remaining == 0);
	CHECK(vol_check_room(v, 1) == -ENOSPC);
	/* The capacity's end of medium is not the server's: the upload is
	 * healthy and nothing accepted was lost. */
	CHECK(vol_poll(v) == 0);
	CHECK(!s.server_full && s.lost_bytes == 0 && vol_lost_bytes(v) == 0);
	CHECK(vol_record(v, rec, 1) == -ENOSPC);	/* stays full */
	CHECK(vol_mark(v) == 0);			/* marks still fit */
	CHECK(vol_mark(v) == 0);
	CHECK(vol_finish(v) == 0);
	CHECK(vol_finish(v) == 0);			/* idempotent */
	CHECK(vol_record(v, rec, 10) == -EPIPE);
	CHECK(vol_poll(v) == 0);			/* published: nothing to ask */
	vol_get_status(v, &s);
	CHECK(s.state == VOL_PUBLISHED);
	CHECK(file_size(path) > 0 && file_size(path) <= 10000);
	CHECK(file_size(path) == (off_t)s.counts.image_bytes);

	size_t len = 0;
	char *json = slurp(mpath, &len);
	CHECK(json != NULL);
	if (json) {
		struct tape_manifest m;
		char perr[256];
		CHECK(tape_manifest_parse(json, len, &m, perr, sizeof(perr)) == 0);
		CHECK(strcmp(m.format, "simh") == 0);
		CHECK(m.counts.records == 9 && m.counts.payload_bytes == 9000);
		CHECK(m.reel == 2);
		CHECK(strcmp(m.storeset, vol_storeset(v)) == 0 && m.storeset[0]);
		CHECK(m.prev_url && strstr(m.prev_url, "prev.tap"));
		CHECK(m.next_url && strstr(m.next_url, "next.tap"));
		CHECK(m.end >= m.start && m.start > 0);
		CHECK(strstr(json, "s3cret") == NULL);
		tape_manifest_clear(&m);
		free(json);
	}
	vol_free(v);
	xfer_opts_free(&o);
}

static void test_abort_leaves_part(const char *dir)
{
	char url[512], path[512], part[520];
	snprintf(url, sizeof(url), "file://%s/ab.mtd", dir);
	snprintf(path, sizeof(path), "%s/ab.mtd", dir);
	snprintf(part, sizeof(part), "%s/ab.mtd.part", dir);
	struct xfer_opts o;
	xfer_opts_init(&o);
	struct vol_config c = { .url = url, .xfer = &o };
	char err[XFER_ERRLEN];
	struct vol *v = vol_open(&c, err, sizeof(err));
	CHECK(v != NULL);
	if (!v)
		return;
	CHECK(vol_record(v, "abc", 3) == 0);
	CHECK(vol_poll(v) == 0);
	/* A sync returns once the record is in the file (file://: written,
	 * not yet fsync'd), not 20 ms later when a batch would have filled. */
	CHECK(vol_sync(v) == 0);
	struct vol_status s;
	vol_get_status(v, &s);
	CHECK(s.counts.image_bytes == 3 + 8 + 1);	/* lengths, pad byte */
	CHECK(s.xfer.sent == s.counts.image_bytes);
	CHECK(file_size(part) == (off_t)s.counts.image_bytes);
	vol_abort(v);
	CHECK(vol_poll(v) < 0);				/* sticky, as a write */
	CHECK(vol_sync(v) < 0);
	CHECK(vol_record(v, "abc", 3) < 0);
	CHECK(vol_finish(v) < 0);
	CHECK(vol_error(v)[0] != '\0');
	CHECK(access(path, F_OK) != 0);
	CHECK(access(part, F_OK) == 0);
	vol_free(v);
	xfer_opts_free(&o);
}

/* A --next chain's hand-over: the reel before gives the storeset id, the
 * reel number and its URL before the first record; given options stay;
 * after a record it is refused. */
static void test_join_storeset(const char *dir)
{
	char url[512], path[512];
	snprintf(url, sizeof(url), "file://%s/j2.mtd", dir);
	snprintf(path, sizeof(path), "%s/j2.mtd.manifest.json", dir);
	struct xfer_opts o;
	xfer_opts_init(&o);
	struct vol_config c = { .url = url, .xfer = &o, .storeset_id = NULL };
	char err[XFER_ERRLEN] = "";
	struct vol *v = vol_open(&c, err, sizeof(err));
	CHECK(v != NULL);
	if (!v)
		return;
	CHECK(vol_reel(v) == 1);
	CHECK(vol_join_storeset(v, "set-x", 2, "ftp://u:pw@h/j1.mtd", err,
				sizeof(err)) == 0);
	char id[40];
	vol_get_storeset(v, id, sizeof(id));
	CHECK(strcmp(id, "set-x") == 0 && vol_reel(v) == 2);
	CHECK(vol_record(v, "abc", 3) == 0);
	CHECK(vol_join_storeset(v, "set-y", 3, "ftp://h/j0.mtd", err,
				sizeof(err)) == -EBUSY && err[0]);
	CHECK(vol_set_next_url(v, "ftp://u:pw@h/j3.mtd") == 0);
	CHECK(vol_finish(v) == 0);
	size_t len = 0;
	char *json = slurp(path, &len);
	CHECK(json != NULL);
	if (json) {
		struct tape_manifest m;
		char perr[256];
		CHECK(tape_manifest_parse(json, len, &m, perr, sizeof(perr)) == 0);
		CHECK(strcmp(m.storeset, "set-x") == 0 && m.reel == 2);
		CHECK(m.prev_url && strcmp(m.prev_url, "ftp://u@h/j1.mtd") == 0);
		CHECK(m.next_url && strcmp(m.next_url, "ftp://u@h/j3.mtd") == 0);
		CHECK(!m.truncated);
		CHECK(strstr(json, "pw") == NULL && !strstr(json, "truncated_at"));
		tape_manifest_clear(&m);
		free(json);
	}
	vol_free(v);

	/* Given options are kept. */
	snprintf(url, sizeof(url), "file://%s/j5.mtd", dir);
	struct vol_config c2 = { .url = url, .xfer = &o, .storeset_id = "mine",
				 .reel = 5 };
	v = vol_open(&c2, err, sizeof(err));
	CHECK(v != NULL);
	if (v) {
		CHECK(vol_join_storeset(v, "theirs", 2, NULL, err, sizeof(err)) == 0);
		vol_get_storeset(v, id, sizeof(id));
		CHECK(strcmp(id, "mine") == 0 && vol_reel(v) == 5);
		vol_abort(v);
		vol_free(v);
	}
	xfer_opts_free(&o);
}

/* truncated_at: written only when set, read back, optional (old manifests
 * stay readable), never beyond image_bytes. */
static void test_manifest_truncated_at(void)
{
	struct tape_manifest m;
	memset(&m, 0, sizeof(m));
	snprintf(m.format, sizeof(m.format), "mtd");
	snprintf(m.storeset, sizeof(m.storeset), "s");
	snprintf(m.version, sizeof(m.version), "t");
	m.reel = 1;
	m.counts.image_bytes = 4000000;
	char *plain = tape_manifest_to_json(&m);
	m.truncated = true;
	m.truncated_at = 3998672;
	char *cut = tape_manifest_to_json(&m);
	CHECK(plain && cut && !strstr(plain, "truncated_at"));
	CHECK(cut && strstr(cut, "\"truncated_at\": 3998672"));
	struct tape_manifest r;
	char err[256];
	if (plain) {
		CHECK(tape_manifest_parse(plain, strlen(plain), &r, err, sizeof(err)) == 0);
		CHECK(!r.truncated);
		tape_manifest_clear(&r);
	}
	if (cut) {
		CHECK(tape_manifest_parse(cut, strlen(cut), &r, err, sizeof(err)) == 0);
		CHECK(r.truncated && r.truncated_at == 3998672);
		tape_manifest_clear(&r);
		char *p = strstr(cut, "3998672");
		if (p) {
			memcpy(p, "4000001", 7);
			CHECK(tape_manifest_parse(cut, strlen(cut), &r, err,
						  sizeof(err)) == -EINVAL);
			CHECK(strstr(err, "truncated_at") != NULL);
		}
	}
	free(plain);
	free(cut);
}

int main(void)
{
	char dir[] = "/tmp/reelfs-test-volume-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_capacity_and_manifest(dir);
	test_abort_leaves_part(dir);
	test_join_storeset(dir);
	test_manifest_truncated_at();
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	if (failures)
		fprintf(stderr, "%d checks failed\n", failures);
	return failures ? 1 : 0;
}

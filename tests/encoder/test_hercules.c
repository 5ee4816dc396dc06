/*
 * test_hercules.c - known answers from an independent writer: Hercules'
 * hetinit and hetupd (Debian package "hercules") make images, our decoder
 * must read them. hetinit writes a labelled tape (VOL1 and HDR1 in EBCDIC);
 * hetupd re-frames an image its own way: zlib-compressed HET, strict AWS
 * with 4096-byte chunks (records span chunks), rechunked HET, bzip2 HET
 * (which we must refuse clearly). Skips (77) when the tools are missing.
 */
#include "testutil.h"

#include <unistd.h>

static char dir[] = "/tmp/reelfs-hercules-XXXXXX";

static int have_tool(const char *name)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

static int run(const char *args)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cd %s && %s >hercules.log 2>&1", dir, args);
	int rc = system(cmd);
	CHECK(rc == 0, "'%s' failed (see %s/hercules.log)", args, dir);
	return rc;
}

static uint8_t *slurp(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		CHECK(0, "cannot open %s", path);
		*len = 0;
		return NULL;
	}
	struct membuf m;
	mb_init(&m);
	uint8_t buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		mb_append(&m, buf, n);
	fclose(f);
	*len = m.len;
	return m.p;
}

static int file_sink(void *ctx, const struct tape_slice *v, int n)
{
	for (int i = 0; i < n; i++)
		if (fwrite(v[i].base, 1, v[i].len, ctx) != v[i].len)
			return -EIO;
	return 0;
}

static const size_t sizes[] = { 80, 65535, 1, 10001, 4096, 4097 };
#define NSIZES 6

/* Our reference image, and the payload it holds. */
static void write_ours(struct membuf *pay)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/ours.aws", dir);
	FILE *f = fopen(path, "wb");
	struct tape_enc *e = tape_enc_new(tape_format_by_name("aws"), NULL, file_sink, f);
	uint8_t d[65535];
	fill_data(d, sizeof(d), 21, 1);
	for (int i = 0; i < NSIZES; i++) {
		tape_enc_record(e, d, sizes[i]);
		mb_append(pay, d, sizes[i]);
		if (i == 1)
			tape_enc_mark(e);
	}
	tape_enc_finish(e);
	tape_enc_free(e);
	fclose(f);
}

static void check_copy(const char *name, const char *fmt, const char *auto_want,
		       const struct membuf *pay)
{
	size_t len;
	uint8_t *img = slurp(name, &len);
	if (!img)
		return;
	for (int pass = 0; pass < 3; pass++) {
		struct evlog log;
		const struct tape_format *found;
		el_init(&log, 1);
		int rc = decode_image(pass ? NULL : tape_format_by_name(fmt), img, len,
				      pass == 2 ? 1 : 0, &log, NULL, &found, NULL);
		CHECK(rc == 0, "%s: decode failed (%d)", name, rc);
		CHECK(log.payload.len == pay->len && memcmp(log.payload.p, pay->p, pay->len) == 0,
		      "%s: payload differs (%zu vs %zu bytes)", name, log.payload.len, pay->len);
		size_t r = 0;
		for (size_t i = 0; i < log.n; i++)
			if (log.ev[i].kind == TAPE_EV_RECORD) {
				CHECK(r < NSIZES && log.ev[i].len == sizes[r], "%s: record %zu is %zu bytes",
				      name, r, log.ev[i].len);
				r++;
			}
		CHECK(r == NSIZES, "%s: %zu records", name, r);
		CHECK(el_count(&log, TAPE_EV_MARK) >= 1, "%s: tape mark kept", name);
		if (pass)
			CHECK(found && strcmp(tape_format_name(found), auto_want) == 0,
			      "%s: auto says %s, want %s", name, found ? tape_format_name(found) : "?",
			      auto_want);
		el_free(&log);
	}
	free(img);
}

int main(void)
{
	if (!have_tool("hetinit") || !have_tool("hetupd")) {
		printf("test_hercules: SKIP: hetinit/hetupd are missing (Debian package hercules)\n");
		return 77;
	}
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}

	/* 1. hetinit: a labelled, uncompressed tape written by Hercules alone. */
	run("hetinit -d vol.aws VOL001 OWNER");
	size_t len;
	uint8_t *img = slurp("vol.aws", &len);
	if (img) {
		struct evlog log;
		struct tape_counts c;
		el_init(&log, 1);
		CHECK(decode_image(NULL, img, len, 0, &log, &c, NULL, NULL) == 0, "vol.aws decodes");
		/* "VOL1VOL001" in EBCDIC. */
		static const uint8_t vol1[10] = { 0xE5, 0xD6, 0xD3, 0xF1, 0xE5, 0xD6, 0xD3, 0xF0, 0xF0, 0xF1 };
		static const uint8_t hdr1[4] = { 0xC8, 0xC4, 0xD9, 0xF1 };
		CHECK(c.records == 2 && c.marks >= 1 && log.payload.len == 160,
		      "hetinit: %" PRIu64 " records, %" PRIu64 " marks", c.records, c.marks);
		CHECK(log.payload.len >= 84 && memcmp(log.payload.p, vol1, 10) == 0 &&
		      memcmp(log.payload.p + 80, hdr1, 4) == 0, "VOL1 then HDR1 labels");
		el_free(&log);
		free(img);
	}

	/* 2. hetupd re-frames our image in several ways. */
	struct membuf pay;
	mb_init(&pay);
	write_ours(&pay);
	run("hetupd -z -9 ours.aws zlib.het");
	check_copy("zlib.het", "het", "het", &pay);
	run("hetupd -s ours.aws strict.aws");
	check_copy("strict.aws", "aws", "aws", &pay);
	/* -r rechunks (4096-byte chunks) but leaves blocks uncompressed, so
	 * auto mode rightly calls it aws. */
	run("hetupd -z -c 4096 -r ours.aws rechunk.het");
	check_copy("rechunk.het", "het", "aws", &pay);
	run("hetupd -d zlib.het plain.het");
	check_copy("plain.het", "het", "aws", &pay);

	/* 3. bzip2 blocks: refused with a clear error, not misread. */
	run("hetupd -b ours.aws bzip2.het");
	img = slurp("bzip2.het", &len);
	if (img) {
		struct evlog log;
		el_init(&log, 0);
		CHECK(decode_image(tape_format_by_name("het"), img, len, 0, &log, NULL, NULL, NULL) ==
		      -EILSEQ, "bzip2 refused");
		CHECK(el_error(&log) && el_error(&log)->err == TAPE_ERR_INFLATE, "bzip2: INFLATE");
		el_free(&log);
		free(img);
	}
	mb_free(&pay);

	if (!tu_failures) {
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return tu_result("test_hercules");
}

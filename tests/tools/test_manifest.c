/*
 * test_manifest.c - round trip of NAME.manifest.json and the strict
 * reader's refusals: every malformed text must give -EINVAL and a
 * sentence, never a crash (run it under ASan too). Links only the encoder
 * library; no I/O.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

#include "../check.h"

static void sample(struct tape_manifest *m, const char *prev, const char *next)
{
	memset(m, 0, sizeof(*m));
	strcpy(m->format, "het");
	m->counts.files = 3;
	m->counts.records = 18446744073709551615ULL;	/* UINT64_MAX survives */
	m->counts.marks = 5;
	m->counts.payload_bytes = 1087492672;
	m->counts.image_bytes = 1087500000;
	m->counts.payload_crc = 0x0000abcd;	/* leading zeros kept */
	m->counts.image_crc = 0xdeadbeef;
	m->start = 1795246833;			/* 2026-11-21T07:40:33Z */
	m->end = 1795246899;
	strcpy(m->storeset, "20261121-074033-3f9a");
	m->reel = 2;
	m->prev_url = prev ? strdup(prev) : NULL;
	m->next_url = next ? strdup(next) : NULL;
	strcpy(m->version, "0.1.0");
}

static void round_trip(const char *prev, const char *next)
{
	struct tape_manifest a, b;
	char err[256];

	sample(&a, prev, next);
	char *json = tape_manifest_to_json(&a);
	CHECK(json != NULL);
	if (!json)
		return;
	CHECK(json[strlen(json) - 1] == '\n');
	CHECK(strstr(json, "\"payload_crc32\": \"0000abcd\"") != NULL);
	CHECK(strstr(json, "\"start\": \"2026-11-21T07:40:33Z\"") != NULL);
	CHECK(strstr(json, "\"reelfs_manifest\": 1") != NULL);
	int rc = tape_manifest_parse(json, strlen(json), &b, err, sizeof(err));
	if (rc)
		fprintf(stderr, "parse: %s\n%s", err, json);
	CHECK(rc == 0);
	CHECK(strcmp(a.format, b.format) == 0);
	CHECK(memcmp(&a.counts, &b.counts, sizeof(a.counts)) == 0);
	CHECK(a.start == b.start && a.end == b.end);
	CHECK(strcmp(a.storeset, b.storeset) == 0);
	CHECK(a.reel == b.reel);
	CHECK((!prev && !b.prev_url) || (prev && b.prev_url && !strcmp(prev, b.prev_url)));
	CHECK((!next && !b.next_url) || (next && b.next_url && !strcmp(next, b.next_url)));
	CHECK(strcmp(a.version, b.version) == 0);
	tape_manifest_clear(&b);

	/* Every truncation of a good text is refused, with a sentence. */
	for (size_t n = 0; n + 1 < strlen(json); n++) {
		/* Dropping only trailing whitespace leaves a valid text. */
		if (strspn(json + n, " \n") == strlen(json + n))
			continue;
		char *cut = malloc(n ? n : 1);	/* exact size: ASan catches overreads */
		memcpy(cut, json, n);
		err[0] = '\0';
		rc = tape_manifest_parse(cut, n, &b, err, sizeof(err));
		CHECK(rc == -EINVAL);
		CHECK(strstr(err, "not a reelfs manifest") != NULL);
		CHECK(b.prev_url == NULL && b.next_url == NULL);
		free(cut);
	}
	/* Every single-byte change either still parses or is refused cleanly. */
	size_t len = strlen(json);
	for (size_t i = 0; i < len; i++) {
		static const char subst[] = { '"', '\\', '{', '}', ',', ':', '0', 'x', '\0', '\x01', '\xff', ' ' };
		for (size_t k = 0; k < sizeof(subst); k++) {
			char *mut = malloc(len);
			memcpy(mut, json, len);
			mut[i] = subst[k];
			rc = tape_manifest_parse(mut, len, &b, err, sizeof(err));
			CHECK(rc == 0 || rc == -EINVAL);
			if (rc == 0)
				tape_manifest_clear(&b);
			free(mut);
		}
	}
	free(json);
	tape_manifest_clear(&a);
}

static const char *good_tail =
	"\"files\": 1, \"records\": 2, \"marks\": 3, \"payload_bytes\": 4, "
	"\"image_bytes\": 5, \"payload_crc32\": \"00000001\", \"image_crc32\": "
	"\"ABCDEF01\", \"start\": \"2026-01-31T23:59:59Z\", \"end\": null, "
	"\"storeset\": \"s\", \"reel\": 1, \"prev\": null, \"next\": "
	"\"ftp://tape@127.0.0.1:2121/dir/vol2.mtd\", \"version\": \"0.1.0\"}";

static void expect_bad(const char *head, const char *tail, const char *why)
{
	char text[4096], err[256] = "";
	struct tape_manifest m;
	snprintf(text, sizeof(text), "%s%s", head, tail);
	int rc = tape_manifest_parse(text, strlen(text), &m, err, sizeof(err));
	if (rc != -EINVAL || !strstr(err, why)) {
		fprintf(stderr, "expected refusal (%s) for: %s\n  got rc=%d err=%s\n",
			why, text, rc, err);
		failures++;
	}
	if (rc == 0)
		tape_manifest_clear(&m);
}

static void malformed(void)
{
	struct tape_manifest m;
	char err[256];
	char text[4096];

	/* The good text itself parses (so the refusals below are meaningful). */
	snprintf(text, sizeof(text), "{\"reelfs_manifest\": 1, \"format\": \"mtd\", %s", good_tail);
	CHECK(tape_manifest_parse(text, strlen(text), &m, err, sizeof(err)) == 0);
	CHECK(m.counts.image_crc == 0xabcdef01 && m.end == 0 && m.prev_url == NULL);
	CHECK(m.next_url && strcmp(m.next_url, "ftp://tape@127.0.0.1:2121/dir/vol2.mtd") == 0);
	tape_manifest_clear(&m);

	expect_bad("", "", "ends where '{'");
	expect_bad("[1,2]", "", "'{' expected");
	expect_bad("{\"reelfs_manifest\": 2, \"format\": \"mtd\", ", good_tail, "version 2");
	expect_bad("{\"format\": \"mtd\", ", good_tail, "\"reelfs_manifest\" is missing");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"format\": \"aws\", ", good_tail, "appears twice");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"a-format-name-longer-than-15\", ", good_tail, "longer than");
	expect_bad("{\"reelfs_manifest\": -1, \"format\": \"mtd\", ", good_tail, "non-negative integer");
	expect_bad("{\"reelfs_manifest\": 01, \"format\": \"mtd\", ", good_tail, "leading zero");
	expect_bad("{\"reelfs_manifest\": 1.0, \"format\": \"mtd\", ", good_tail, "must be an integer");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": mtd, ", good_tail, "'\"' expected");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"m\\qd\", ", good_tail, "unknown escape");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"m\\u0000d\", ", good_tail, "\\u0000");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"m\\ud800d\", ", good_tail, "lone high surrogate");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"m\td\", ", good_tail, "control character");
	/* Escaped control characters would reach terminals through messages. */
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"m\\u001bd\", ", good_tail, "control character");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"m\\nd\", ", good_tail, "control character");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"m\\u009bd\", ", good_tail, "control character");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"m\x7f" "d\", ", good_tail, "control character");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"\", ", good_tail, "\"format\" is empty");
	/* Numbers and CRCs. */
	snprintf(text, sizeof(text), "{\"reelfs_manifest\": 1, \"format\": \"mtd\", %s", good_tail);
	{
		static const struct { const char *from, *to, *why; } subs[] = {
			{ "\"files\": 1", "\"files\": 18446744073709551616", "too large" },
			{ "\"reel\": 1", "\"reel\": 0", "1 or more" },
			{ "\"reel\": 1", "\"reel\": 4294967296", "too large" },
			{ "\"00000001\"", "\"0000001\"", "8 hex digits" },
			{ "\"00000001\"", "\"0000000g\"", "8 hex digits" },
			{ "\"00000001\"", "1", "'\"' expected" },
			{ "2026-01-31T23:59:59Z", "2026-02-30T23:59:59Z", "UTC time" },
			{ "2026-01-31T23:59:59Z", "2026-01-31 23:59:59Z", "UTC time" },
			{ "2026-01-31T23:59:59Z", "2026-01-31T23:59:59+01:00", "UTC time" },
			{ "\"next\": \"ftp", "\"next\": \"\", \"x\": \"ftp", "is empty" },
			{ "\"0.1.0\"}", "\"0.1.0\"} x", "text follows" },
			{ "\"0.1.0\"}", "\"0.1.0\",}", "'\"' expected" },
			{ "\"0.1.0\"}", "\"0.1.0\"", "ends where '}'" },
			{ "\"reel\": 1", "\"reel\": true", "non-negative integer" },
		};
		for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
			char mut[4096];
			const char *at = strstr(text, subs[i].from);
			CHECK(at != NULL);
			if (!at)
				continue;
			snprintf(mut, sizeof(mut), "%.*s%s%s", (int)(at - text), text,
				 subs[i].to, at + strlen(subs[i].from));
			expect_bad(mut, "", subs[i].why);
		}
	}
	/* A huge text is refused before any work. */
	size_t big = TAPE_MANIFEST_MAX_TEXT + 1;
	char *huge = malloc(big);
	memset(huge, ' ', big);
	huge[0] = '{';
	CHECK(tape_manifest_parse(huge, big, &m, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "more than a manifest can hold") != NULL);
	free(huge);
	/* A URL longer than the limit is refused, not truncated. */
	size_t ul = 10000;
	char *longtext = malloc(ul + 4096);
	char *url = malloc(ul + 1);
	memset(url, 'a', ul);
	url[ul] = '\0';
	snprintf(longtext, ul + 4096,
		 "{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"prev\": \"%s\", %s", url,
		 good_tail);
	CHECK(tape_manifest_parse(longtext, strlen(longtext), &m, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "\"prev\" is longer than") != NULL);
	free(url);
	free(longtext);
	/* Escapes decode (and the writer's own escaping round-trips). */
	struct tape_manifest a, b;
	sample(&a, "file:///tmp/a \"quoted\" \\ dir/x\xc3\xa9.mtd", NULL);
	char *json = tape_manifest_to_json(&a);
	CHECK(json && tape_manifest_parse(json, strlen(json), &b, err, sizeof(err)) == 0);
	CHECK(b.prev_url && strcmp(b.prev_url, a.prev_url) == 0);
	tape_manifest_clear(&b);
	tape_manifest_clear(&a);
	free(json);
	/* Issue 9 point 4: no control character in any field, URLs included:
	 * C0 and DEL (raw or escaped), C1 raw (a lone 0x9b), in UTF-8 (C2 9B)
	 * or as \u009b. Other fields must be UTF-8 too; a URL may name a file
	 * in a legacy encoding (\xe9 alone), but not with a C1 byte. */
	sample(&a, "file:///tmp/\x01x.mtd", NULL);
	json = tape_manifest_to_json(&a);
	CHECK(json && tape_manifest_parse(json, strlen(json), &b, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "control character") != NULL);
	tape_manifest_clear(&a);
	free(json);
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"prev\": \"a\\u001b[2J\", ", good_tail, "control character");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"prev\": \"a\x7f\", ", good_tail, "control character");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"prev\": \"a\\u009b2J\", ", good_tail, "control character");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"prev\": \"a\xc2\x9b" "2J\", ", good_tail, "control character");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"prev\": \"a\x9b" "2J\", ", good_tail, "control character");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"storeset\": \"s\xc2\x9b" "2J\", ", good_tail, "control character");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"storeset\": \"s\x9b" "2J\", ", good_tail, "control character");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"version\": \"v\xc2\x85\", ", good_tail, "control character");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"storeset\": \"s\xe9\", ", good_tail, "not valid UTF-8");
	sample(&a, "/tmp/caf\xe9.mtd", NULL);
	json = tape_manifest_to_json(&a);
	CHECK(json && tape_manifest_parse(json, strlen(json), &b, err, sizeof(err)) == 0);
	CHECK(b.prev_url && strcmp(b.prev_url, a.prev_url) == 0);
	tape_manifest_clear(&b);
	tape_manifest_clear(&a);
	free(json);
	snprintf(text, sizeof(text),
		 "{\"reelfs_manifest\": 1, \"format\": \"\\u006dtd\", \"storeset\": \"\\ud83d\\ude00\\u00e9\", "
		 "\"files\": 1, \"records\": 2, \"marks\": 3, \"payload_bytes\": 4, "
		 "\"image_bytes\": 5, \"payload_crc32\": \"00000001\", \"image_crc32\": "
		 "\"ABCDEF01\", \"start\": null, \"end\": null, \"reel\": 1, \"prev\": null, \"next\": null, \"version\": \"0.1.0\"}");
	CHECK(tape_manifest_parse(text, strlen(text), &m, err, sizeof(err)) == 0);
	CHECK(strcmp(m.format, "mtd") == 0);
	CHECK(strcmp(m.storeset, "\xf0\x9f\x98\x80\xc3\xa9") == 0);
	tape_manifest_clear(&m);
	/* NULL text. */
	CHECK(tape_manifest_parse(NULL, 0, &m, err, sizeof(err)) == -EINVAL);
}

/* The optional file index: written, read back, bounded, and checked
 * against the counts; a manifest without it still reads. */
static void file_index(void)
{
	struct tape_manifest a, b;
	char err[256], text[4096];
	uint64_t off[3] = { 0, 10280, 20560 }, rec[3] = { 39, 0, 12 };

	sample(&a, NULL, NULL);
	a.nindex = 3;
	a.file_offsets = off;
	a.file_records = rec;
	char *json = tape_manifest_to_json(&a);
	a.file_offsets = a.file_records = NULL;
	a.nindex = 0;
	CHECK(json && strstr(json, "\"file_offsets\": [0, 10280, 20560]"));
	CHECK(json && strstr(json, "\"file_records\": [39, 0, 12]"));
	CHECK(tape_manifest_parse(json, strlen(json), &b, err, sizeof(err)) == 0);
	CHECK(b.nindex == 3 && b.file_offsets && b.file_records);
	if (b.nindex == 3)
		CHECK(b.file_offsets[2] == 20560 && b.file_records[0] == 39);
	tape_manifest_clear(&b);
	CHECK(b.file_offsets == NULL && b.nindex == 0);
	free(json);
	tape_manifest_clear(&a);

	const char *head = "{\"reelfs_manifest\": 1, \"format\": \"mtd\", ";
	/* files 1, records 2, image_bytes 5 (good_tail). */
	snprintf(text, sizeof(text), "%s\"file_offsets\": [0], \"file_records\": [2], %s",
		 head, good_tail);
	CHECK(tape_manifest_parse(text, strlen(text), &b, err, sizeof(err)) == 0);
	CHECK(b.nindex == 1);
	tape_manifest_clear(&b);
	snprintf(text, sizeof(text), "%s\"file_offsets\": [ ], \"file_records\": [], %s",
		 head, good_tail);
	CHECK(tape_manifest_parse(text, strlen(text), &b, err, sizeof(err)) == 0);
	CHECK(b.nindex == 0);
	tape_manifest_clear(&b);
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"file_offsets\": [0], ",
		   good_tail, "without");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"file_offsets\": [0], "
		   "\"file_records\": [1, 1], ", good_tail, "differ in length");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"file_offsets\": [0, 1], "
		   "\"file_records\": [1, 1], ", good_tail, "more files");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"file_offsets\": [5], "
		   "\"file_records\": [1], ", good_tail, "beyond the image");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"file_offsets\": [0], "
		   "\"file_records\": [3], ", good_tail, "more than");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"file_offsets\": [0,], "
		   "\"file_records\": [1], ", good_tail, "non-negative integer");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"file_offsets\": 0, "
		   "\"file_records\": [1], ", good_tail, "'[' expected");

	/* More than TAPE_MANIFEST_MAX_FILES entries: refused, bounded. */
	size_t big = 64 + 2 * (TAPE_MANIFEST_MAX_FILES + 1) * 3 + 1024;
	char *t = malloc(big);
	size_t n = (size_t)snprintf(t, big, "{\"file_offsets\": [");
	for (unsigned i = 0; i <= TAPE_MANIFEST_MAX_FILES; i++)
		n += (size_t)snprintf(t + n, big - n, "%s1", i ? "," : "");
	n += (size_t)snprintf(t + n, big - n, "]}");
	CHECK(tape_manifest_parse(t, n, &b, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "more than 100000 files") != NULL);
	free(t);
}

/* Feeds the label scan of the labels test. */
static int to_scan(void *ctx, const void *data, size_t len)
{
	return tape_label_scan_record(ctx, data, len);
}

static int mark_scan(void *ctx)
{
	return tape_label_scan_mark(ctx);
}

/* The optional labels (issue 10): recorded from a scan of what a writer
 * accepted, written, read back field by field; null for an unlabelled
 * tape; absent in older manifests; refused when malformed. */
static void labels(void)
{
	struct tape_manifest a, b;
	char err[256], text[4096];
	struct tape_label_scan *s = tape_label_scan_new(10);
	struct tape_lbl_sink sink = { to_scan, mark_scan, s };
	struct tape_lbl *l = tape_lbl_new("VOL9", "OWNER", &sink, NULL, err, sizeof(err));
	struct tape_lbl_file f1 = { .name = "short.bck", .block_len = 4096 };
	struct tape_lbl_file f2 = { .name = "a_name_longer_than_seventeen.dat",
				    .block_len = 2048, .created = 1795246833 };
	unsigned char blk[4096] = { 0 };

	CHECK(s && l);
	if (!s || !l)
		return;
	/* A saveset block header: 256 at 0, block size at 40, name at 48. */
	blk[1] = 1;
	blk[41] = 0x10;
	blk[48] = 5;
	memcpy(blk + 49, "S.BCK", 5);
	CHECK(tape_lbl_begin_file(l, &f1) == 0);
	CHECK(tape_lbl_record(l, blk, sizeof(blk)) == 0);
	CHECK(tape_lbl_record(l, blk, sizeof(blk)) == 0);
	CHECK(tape_lbl_end_file(l) == 0);
	CHECK(tape_lbl_begin_file(l, &f2) == 0);
	CHECK(tape_lbl_record(l, "x", 1) == 0);
	CHECK(tape_lbl_end_volume(l) == 0);
	tape_lbl_free(l);

	sample(&a, NULL, NULL);
	CHECK(tape_manifest_set_labels(&a, s) == 0);
	tape_label_scan_free(s);
	CHECK(a.labels_recorded && a.nlabels == 2 && a.label_total == 2);
	char *json = tape_manifest_to_json(&a);
	CHECK(json && strstr(json, "\"labels\": {\"volume\": \"VOL9\", \"owner\": \"OWNER\""));
	CHECK(tape_manifest_parse(json, strlen(json), &b, err, sizeof(err)) == 0);
	if (!b.labels_recorded || b.nlabels != 2) {
		fprintf(stderr, "labels not read back: %s\n%s\n", err, json ? json : "");
		failures++;
	} else {
		CHECK(!strcmp(b.label_volume, "VOL9") && !strcmp(b.label_owner, "OWNER"));
		CHECK(!strcmp(b.labels[0].info.name, "SHORT.BCK"));
		CHECK(!strcmp(b.labels[1].info.name, "A_NAME_LONGER_THAN_SEVENTEEN.DAT"));
		CHECK(b.labels[0].info.block_len == 4096 && b.labels[0].info.block_count == 2);
		CHECK(b.labels[1].info.block_len == 2048 && b.labels[1].info.block_count == 1);
		CHECK(b.labels[0].info.sequence == 1 && b.labels[1].info.sequence == 2);
		CHECK(b.labels[1].info.section == 1 && b.labels[1].info.record_format == 'F');
		CHECK(b.labels[1].info.created_year == 2026 &&
		      b.labels[1].info.created_yday == 325);
		CHECK(b.labels[0].has_saveset && b.labels[0].ss.block_size == 4096 &&
		      !strcmp(b.labels[0].ss.name, "S.BCK"));
		CHECK(!b.labels[1].has_saveset && !b.labels[1].info.continued);
		CHECK(!strcmp(b.labels[0].info.set_id, "VOL9"));
		char *again = tape_manifest_to_json(&b);
		CHECK(again && json && !strcmp(again, json));
		free(again);
	}
	tape_manifest_clear(&b);
	CHECK(b.labels == NULL && b.nlabels == 0);
	free(json);
	tape_manifest_clear(&a);

	/* An unlabelled tape: null; no field at all: not recorded. */
	const char *head = "{\"reelfs_manifest\": 1, \"format\": \"mtd\", ";
	snprintf(text, sizeof(text), "%s\"labels\": null, %s", head, good_tail);
	CHECK(tape_manifest_parse(text, strlen(text), &b, err, sizeof(err)) == 0);
	CHECK(b.labels_recorded && !b.label_volume[0] && b.nlabels == 0);
	tape_manifest_clear(&b);
	snprintf(text, sizeof(text), "%s%s", head, good_tail);
	CHECK(tape_manifest_parse(text, strlen(text), &b, err, sizeof(err)) == 0);
	CHECK(!b.labels_recorded);
	tape_manifest_clear(&b);
	/* Odd bytes in a foreign tape's labels are written as '?'. */
	sample(&a, NULL, NULL);
	struct tape_manifest_label odd = { .info = { .name = "A\x1b[2J\xff", .section = 1 } };
	a.labels_recorded = true;
	strcpy(a.label_volume, "V\x9b");
	a.label_total = 1;
	a.nlabels = 1;
	a.labels = &odd;
	json = tape_manifest_to_json(&a);
	a.labels = NULL;
	CHECK(json && strstr(json, "\"A?[2J?\"") && strstr(json, "\"V?\""));
	CHECK(json && tape_manifest_parse(json, strlen(json), &b, err, sizeof(err)) == 0);
	tape_manifest_clear(&b);
	free(json);
	tape_manifest_clear(&a);

	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"labels\": {\"files\": []}, ",
		   good_tail, "no \"volume\"");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"labels\": {\"volume\": "
		   "\"V\", \"file_sections\": 0, \"files\": [{\"name\": \"X\"}]}, ",
		   good_tail, "more files than");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"labels\": {\"volume\": "
		   "\"TOOLONG\"}, ", good_tail, "longer than");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"labels\": {\"volume\": "
		   "\"V\", \"file_sections\": 1, \"files\": [{\"continued\": 1}]}, ",
		   good_tail, "true or false");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"labels\": {\"volume\": "
		   "\"V\", \"file_sections\": 1, \"files\": [{\"section\": 10000}]}, ",
		   good_tail, "section");
	expect_bad("{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"labels\": [], ",
		   good_tail, "'{' expected");
}

int main(void)
{
	labels();
	file_index();
	round_trip(NULL, NULL);
	round_trip("ftp://tape@127.0.0.1:2121/set/vol1.mtd", "file:///srv/tapes/vol3.mtd");
	malformed();
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("manifest: all checks passed\n");
	return 0;
}

/*
 * test_manifest_compat.c - the manifest reader's forward compatibility: a
 * field it does not know (as a newer reelfs may add) is skipped whatever
 * its value, at the top and inside "labels", while the fields it knows
 * stay strictly checked and hostile input (deep nesting, huge values,
 * broken JSON inside a skipped value) is still refused cleanly, with
 * -EINVAL and a sentence. Links only the encoder library; run it under
 * ASan too (exact-size copies: no read past the text goes unseen).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

#include "../check.h"

static const char *head = "{\"reelfs_manifest\": 1, \"format\": \"mtd\", ";
static const char *tail =
	"\"files\": 1, \"records\": 2, \"marks\": 3, \"payload_bytes\": 4, "
	"\"image_bytes\": 5, \"payload_crc32\": \"00000001\", \"image_crc32\": "
	"\"ABCDEF01\", \"start\": \"2026-01-31T23:59:59Z\", \"end\": null, "
	"\"storeset\": \"s\", \"reel\": 1, \"prev\": null, \"next\": "
	"\"ftp://tape@127.0.0.1:2121/dir/vol2.mtd\", \"version\": \"0.1.0\"}";

/* Parses exactly len bytes from a copy of that size (ASan sees overreads);
 * returns the parser's result, m filled on success. */
static int parse(const char *text, size_t len, struct tape_manifest *m, char *err,
		 size_t errlen)
{
	char *copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, text, len);
	err[0] = '\0';
	int rc = tape_manifest_parse(copy, len, m, err, errlen);
	free(copy);
	return rc;
}

/* head + middle + tail must parse, with the known fields intact. */
static void expect_ok(const char *middle)
{
	struct tape_manifest m;
	char text[8192], err[256];
	snprintf(text, sizeof(text), "%s%s%s", head, middle, tail);
	int rc = parse(text, strlen(text), &m, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "expected to read: %s\n  got rc=%d err=%s\n", text, rc, err);
		failures++;
		return;
	}
	CHECK(strcmp(m.format, "mtd") == 0 && m.counts.files == 1 &&
	      m.counts.records == 2 && m.counts.image_crc == 0xabcdef01 &&
	      m.reel == 1 && m.next_url && strcmp(m.version, "0.1.0") == 0);
	tape_manifest_clear(&m);
}

/* head + middle + tail must be refused with a sentence holding why. */
static void expect_bad(const char *middle, const char *why)
{
	struct tape_manifest m;
	char text[8192], err[256];
	snprintf(text, sizeof(text), "%s%s%s", head, middle, tail);
	int rc = parse(text, strlen(text), &m, err, sizeof(err));
	if (rc != -EINVAL || !strstr(err, "not a reelfs manifest") || !strstr(err, why)) {
		fprintf(stderr, "expected refusal (%s) for: %s\n  got rc=%d err=%s\n",
			why, text, rc, err);
		failures++;
	}
	if (rc == 0)
		tape_manifest_clear(&m);
	CHECK(m.prev_url == NULL && m.next_url == NULL && m.labels == NULL);
}

/* Unknown fields of every JSON type are skipped; the rest reads as ever. */
static void skipped(void)
{
	expect_ok("\"added_later\": 7, ");
	expect_ok("\"added_later\": -12.5e+3, \"b\": 0, \"c\": 0.25, \"d\": 1E9, ");
	expect_ok("\"added_later\": \"a \\\"quoted\\\" \\u00e9 \\ud83d\\ude00 text\", ");
	expect_ok("\"t\": true, \"f\": false, \"n\": null, ");
	expect_ok("\"added_later\": [], \"b\": [1, \"two\", [3, [4]], {\"five\": 5}], ");
	expect_ok("\"added_later\": {}, \"b\": {\"x\": {\"y\": [1, {\"z\": null}]}, \"w\": \"v\"}, ");
	/* Blanks anywhere JSON allows them. */
	expect_ok("\"b\" : [ 1 , { \"x\" : [ ] } ] , ");
	/* A repeated unknown name is not an error: nothing of it is kept. */
	expect_ok("\"added_later\": 1, \"added_later\": [2], ");
	/* A name longer than any known one (the reader's key buffer). */
	expect_ok("\"a_field_name_longer_than_any_the_reader_knows_of\": {\"k\": 1}, ");
	/* After the known fields too, i.e. as the last member. */
	{
		struct tape_manifest m;
		char err[256], text[4096];
		snprintf(text, sizeof(text), "%s%.*s, \"zz\": [{\"a\": []}]}", head,
			 (int)strlen(tail) - 1, tail);
		int rc = parse(text, strlen(text), &m, err, sizeof(err));
		CHECK(rc == 0);
		if (rc == 0)
			tape_manifest_clear(&m);
	}
	/* Inside "labels": in the labels object, a file and a saveset. */
	struct tape_manifest m;
	char err[256], text[4096];
	snprintf(text, sizeof(text),
		 "%s\"labels\": {\"volume\": \"V1\", \"new\": [1, {\"a\": 2}], "
		 "\"file_sections\": 1, \"files\": [{\"name\": \"X.BCK\", \"new\": {\"b\": []}, "
		 "\"section\": 1, \"saveset\": {\"name\": \"X.BCK\", \"new\": \"s\", "
		 "\"block_size\": 8192}}]}, %s", head, tail);
	int rc = parse(text, strlen(text), &m, err, sizeof(err));
	CHECK(rc == 0);
	if (rc == 0) {
		CHECK(m.labels_recorded && strcmp(m.label_volume, "V1") == 0 &&
		      m.label_total == 1 && m.nlabels == 1);
		if (m.nlabels == 1)
			CHECK(strcmp(m.labels[0].info.name, "X.BCK") == 0 &&
			      m.labels[0].info.section == 1 && m.labels[0].has_saveset &&
			      m.labels[0].ss.block_size == 8192 &&
			      strcmp(m.labels[0].ss.name, "X.BCK") == 0);
		/* What is written back holds only what the reader knows. */
		char *json = tape_manifest_to_json(&m);
		CHECK(json && !strstr(json, "new"));
		free(json);
		tape_manifest_clear(&m);
	} else {
		fprintf(stderr, "labels with unknown fields: %s\n", err);
	}
}

/* What the reader knows is as strict as before, unknown fields or not. */
static void known_still_strict(void)
{
	expect_bad("\"x\": 1, \"format\": \"aws\", ", "appears twice");
	{
		/* A wrong type for a known field. */
		struct tape_manifest m;
		char err[256], text[4096];
		static const struct { const char *from, *to, *why; } subs[] = {
			{ "\"files\": 1", "\"files\": \"1\"", "non-negative integer" },
			{ "\"files\": 1", "\"files\": [1]", "non-negative integer" },
			{ "\"reel\": 1", "\"reel\": {}", "non-negative integer" },
			{ "\"reel\": 1", "\"reel\": 1.5", "must be an integer" },
			{ "\"storeset\": \"s\"", "\"storeset\": 5", "'\"' expected" },
			{ "\"prev\": null", "\"prev\": [\"a\"]", "'\"' expected" },
			{ "\"end\": null", "\"end\": true", "'\"' expected" },
			{ "\"payload_crc32\": \"00000001\"", "\"payload_crc32\": 1", "'\"' expected" },
		};
		for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
			char full[4096];
			snprintf(full, sizeof(full), "%s\"new\": 1, %s", head, tail);
			const char *at = strstr(full, subs[i].from);
			CHECK(at != NULL);
			if (!at)
				continue;
			snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - full), full,
				 subs[i].to, at + strlen(subs[i].from));
			int rc = parse(text, strlen(text), &m, err, sizeof(err));
			if (rc != -EINVAL || !strstr(err, subs[i].why)) {
				fprintf(stderr, "expected refusal (%s) for: %s\n  got rc=%d err=%s\n",
					subs[i].why, text, rc, err);
				failures++;
			}
			if (rc == 0)
				tape_manifest_clear(&m);
		}
	}
	expect_bad("\"labels\": [], ", "'{' expected");
	expect_bad("\"labels\": {\"volume\": \"V\", \"new\": 1, \"file_sections\": 1, "
		   "\"files\": [{\"continued\": 1}]}, ", "true or false");
	expect_bad("\"labels\": {\"volume\": \"V\", \"file_sections\": 1, "
		   "\"files\": [{\"new\": 1, \"section\": \"1\"}]}, ", "section");
	expect_bad("\"labels\": {\"new\": 1}, ", "no \"volume\"");
	/* A known field twice inside "labels" is refused as at the top: a
	 * second "files" once wrote past the array the first one sized (8
	 * files fill its first allocation exactly). */
	{
		char mid[4096];
		const char *eight = "{}, {}, {}, {}, {}, {}, {}, {}";
		snprintf(mid, sizeof(mid), "\"labels\": {\"volume\": \"V\", "
			 "\"file_sections\": 99, \"files\": [%s], \"x\": 1, "
			 "\"files\": [%s]}, ", eight, eight);
		expect_bad(mid, "\"files\" appears twice in \"labels\"");
	}
	expect_bad("\"labels\": {\"volume\": \"V\", \"volume\": \"W\"}, ",
		   "\"volume\" appears twice");
	expect_bad("\"labels\": {\"volume\": \"V\", \"file_sections\": 1, "
		   "\"files\": [{\"name\": \"A\", \"new\": 0, \"name\": \"B\"}]}, ",
		   "\"name\" appears twice in a file");
	expect_bad("\"labels\": {\"volume\": \"V\", \"file_sections\": 1, "
		   "\"files\": [{\"saveset\": {\"block_size\": 1, \"block_size\": 2}}]}, ",
		   "appears twice in a saveset");
	expect_bad("\"file_offsets\": [0], \"new\": [0], ", "without");
	/* A required field is still required beside unknown ones. */
	{
		struct tape_manifest m;
		char err[256];
		const char *t = "{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"files\": [1]}";
		CHECK(parse(t, strlen(t), &m, err, sizeof(err)) == -EINVAL);
		t = "{\"reelfs_manifest\": 1, \"format\": \"mtd\", \"fi1es\": 1}";
		CHECK(parse(t, strlen(t), &m, err, sizeof(err)) == -EINVAL &&
		      strstr(err, "\"files\" is missing"));
		/* The version gate still holds: a layout an older reader must
		 * not read bumps reelfs_manifest, and that is refused. */
		char text[4096];
		snprintf(text, sizeof(text), "{\"reelfs_manifest\": 2, \"new\": 1, %s", tail);
		CHECK(parse(text, strlen(text), &m, err, sizeof(err)) == -EINVAL &&
		      strstr(err, "version 2"));
	}
	/* A control character in a known name still refused (names are
	 * checked while kept), and a known name escaped still counts. */
	expect_bad("\"re\\u001bel\": 1, ", "control character");
	expect_bad("\"\\u0066iles\": 9, ", "appears twice");
}

/* Broken JSON inside a skipped value is refused, not skipped past. */
static void broken_skipped(void)
{
	expect_bad("\"new\": , ", "JSON value expected");
	expect_bad("\"new\": [1,], ", "JSON value expected");
	expect_bad("\"new\": [1 2], ", "']' expected");
	expect_bad("\"new\": [1}, ", "']' expected");
	expect_bad("\"new\": {\"a\" 1}, ", "':' expected");
	expect_bad("\"new\": {1: 2}, ", "'\"' expected");
	expect_bad("\"new\": {\"a\": 1,}, ", "'\"' expected");
	expect_bad("\"new\": 01, ", "'}' expected");
	expect_bad("\"new\": -, ", "a number expected");
	expect_bad("\"new\": 1., ", "after '.'");
	expect_bad("\"new\": 1e, ", "exponent");
	expect_bad("\"new\": +1, ", "JSON value expected");
	expect_bad("\"new\": nul, ", "JSON value expected");
	expect_bad("\"new\": 'a', ", "JSON value expected");
	expect_bad("\"new\": \"a\\qb\", ", "unknown escape");
	expect_bad("\"new\": \"a\tb\", ", "control character inside a string");
	expect_bad("\"new\": \"\\u0000\", ", "\\u0000");
	expect_bad("\"new\": \"\\udc00\", ", "lone low surrogate");
	expect_bad("\"new\": [\"\\u12\"], ", "bad \\u escape");

	/* Every cut of a text with skipped values is refused: no skipped
	 * value runs past the end. */
	char text[4096];
	snprintf(text, sizeof(text), "%s\"new\": [1, -2.5e3, \"s\\u00e9\", true, "
		 "{\"a\": [null, {}]}, []], \"z\": {\"b\": \"c\"}, %s", head, tail);
	size_t len = strlen(text);
	for (size_t n = 0; n + 1 < len; n++) {
		struct tape_manifest m;
		char err[256];
		int rc = parse(text, n, &m, err, sizeof(err));
		CHECK(rc == -EINVAL && strstr(err, "not a reelfs manifest"));
		if (rc == 0)
			tape_manifest_clear(&m);
	}
}

static void expect_read(const char *t, size_t n)
{
	struct tape_manifest m;
	char err[256];
	int rc = parse(t, n, &m, err, sizeof(err));
	CHECK(rc == 0);
	if (rc == 0)
		tape_manifest_clear(&m);
	else
		fprintf(stderr, "a large skipped value was refused: %s\n", err);
}

/* Hostile sizes: nesting beyond the bound, and values as large as the
 * text allows, cost neither stack nor memory, and are refused or read
 * within the same bounds as before. */
static void hostile(void)
{
	struct tape_manifest m;
	char err[256];
	size_t cap = TAPE_MANIFEST_MAX_TEXT + 4096;
	char *t = malloc(cap);
	CHECK(t != NULL);
	if (!t)
		return;

	/* 32 levels read, 33 are refused. */
	for (int depth = 32; depth <= 33; depth++) {
		size_t n = (size_t)snprintf(t, cap, "%s\"new\": ", head);
		/* Objects and arrays in turn: {"k":[{"k":[...]}]} */
		for (int i = 0; i < depth; i++) {
			if (i % 2) {
				t[n++] = '[';
			} else {
				memcpy(t + n, "{\"k\":", 5);
				n += 5;
			}
		}
		for (int i = depth - 1; i >= 0; i--)
			t[n++] = i % 2 ? ']' : '}';
		n += (size_t)snprintf(t + n, cap - n, ", %s", tail);
		int rc = parse(t, n, &m, err, sizeof(err));
		if (depth == 32) {
			CHECK(rc == 0);
			if (rc == 0)
				tape_manifest_clear(&m);
			else
				fprintf(stderr, "32 deep: %s\n", err);
		} else {
			CHECK(rc == -EINVAL && strstr(err, "nested more than 32 deep"));
		}
	}
	/* A million brackets: refused at the bound, without recursion. */
	size_t n = (size_t)snprintf(t, cap, "%s\"new\": ", head);
	memset(t + n, '[', 1000000);
	n += 1000000;
	CHECK(parse(t, n, &m, err, sizeof(err)) == -EINVAL &&
	      strstr(err, "nested more than 32 deep"));
	/* Large skipped values that fit the text bound are read (nothing
	 * of them is kept): a 4 MB string, a 1,000,000-element array, and a
	 * number of 100,000 digits. */
	const size_t big = 4u * 1024 * 1024;
	n = (size_t)snprintf(t, cap, "%s\"new\": \"", head);
	memset(t + n, 'a', big);
	n += big;
	n += (size_t)snprintf(t + n, cap - n, "\", %s", tail);
	CHECK(n <= TAPE_MANIFEST_MAX_TEXT);
	expect_read(t, n);
	n = (size_t)snprintf(t, cap, "%s\"new\": [0", head);
	for (int i = 1; i < 1000000; i++) {
		t[n++] = ',';
		t[n++] = '0';
	}
	n += (size_t)snprintf(t + n, cap - n, "], %s", tail);
	expect_read(t, n);
	n = (size_t)snprintf(t, cap, "%s\"new\": 1", head);
	memset(t + n, '9', 100000);
	n += 100000;
	n += (size_t)snprintf(t + n, cap - n, "e99999, %s", tail);
	expect_read(t, n);
	/* An unterminated huge string is refused at the end of the text. */
	n = (size_t)snprintf(t, cap, "%s\"new\": \"", head);
	memset(t + n, 'a', big);
	n += big;
	CHECK(parse(t, n, &m, err, sizeof(err)) == -EINVAL &&
	      strstr(err, "ends inside a string"));
	/* The size bound holds whatever the fields: one byte over is refused
	 * before any parsing. */
	n = (size_t)snprintf(t, cap, "%s\"new\": \"", head);
	size_t fill = TAPE_MANIFEST_MAX_TEXT + 1 - n - strlen(tail) - 3;
	memset(t + n, 'a', fill);
	n += fill;
	n += (size_t)snprintf(t + n, cap - n, "\", %s", tail);
	CHECK(n == TAPE_MANIFEST_MAX_TEXT + 1);
	CHECK(parse(t, n, &m, err, sizeof(err)) == -EINVAL &&
	      strstr(err, "more than a manifest can hold"));
	free(t);
}

int main(void)
{
	skipped();
	known_still_strict();
	broken_skipped();
	hostile();
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("manifest forward compatibility: all checks passed\n");
	return 0;
}

/*
 * fuzz_manifest.c - libFuzzer target for the manifest reader
 * (tape_manifest_parse), which reads NAME.manifest.json from a server
 * anyone with write access there can forge.
 *
 * Input: the file's bytes, as is. Beyond "no crash, no read past len, no
 * leak", it checks the reader's promises: a refusal is -EINVAL with a
 * sentence and no URL left allocated; an accepted manifest has terminated
 * fields without control characters (C0, DEL, C1; URLs included) and
 * names and ids in well-formed UTF-8, a reel of 1 or more and truncated_at
 * within the image; and the writer's text for it reads back to the same
 * manifest and the same text.
 */
#include "manifest.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_fail(const char *what, const char *json)
{
	fprintf(stderr, "fuzz_manifest: %s\n%s\n", what, json ? json : "");
	abort();
}

/* Where s holds a control character a terminal acts on (C0, DEL, C1 as
 * UTF-8 or as a raw byte 0x80-0x9f), or, with utf8, a byte outside
 * well-formed UTF-8: -1 when nowhere. Written apart from the reader's own
 * check (issue 9.4: every field, URLs included, refuses controls). */
static long bad_at(const char *str, bool utf8)
{
	const unsigned char *s = (const unsigned char *)str;

	for (size_t i = 0; s[i];) {
		unsigned c = s[i];
		size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 :
			     (c & 0xf8) == 0xf0 ? 4 : 0;
		uint32_t cp = len == 1 ? c : c & (0xffu >> (len + 1));
		static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };

		for (size_t k = 1; len && k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				len = 0;	/* also stops at the NUL */
			else
				cp = cp << 6 | (s[i + k] & 0x3fu);
		}
		if (len && (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)))
			len = 0;
		if (!len) {
			if (utf8 || (c >= 0x80 && c <= 0x9f))
				return (long)i;
			i++;
			continue;
		}
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return (long)i;
		i += len;
	}
	return -1;
}

static void check_field(const char *s, size_t cap, const char *name, bool url)
{
	if (!memchr(s, '\0', cap))
		fz_fail(name, "not terminated");
	if (bad_at(s, !url) >= 0)
		fz_fail("a control character or bad UTF-8 was accepted in a field", s);
}

static bool same_url(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same(const struct tape_manifest *a, const struct tape_manifest *b)
{
	return !strcmp(a->format, b->format) &&
	       !memcmp(&a->counts, &b->counts, sizeof(a->counts)) &&
	       a->start == b->start && a->end == b->end &&
	       !strcmp(a->storeset, b->storeset) && a->reel == b->reel &&
	       same_url(a->prev_url, b->prev_url) &&
	       same_url(a->next_url, b->next_url) &&
	       !strcmp(a->version, b->version) && a->truncated == b->truncated &&
	       a->truncated_at == b->truncated_at && a->nindex == b->nindex &&
	       (!a->nindex ||
		(!memcmp(a->file_offsets, b->file_offsets, a->nindex * sizeof(uint64_t)) &&
		 !memcmp(a->file_records, b->file_records, a->nindex * sizeof(uint64_t))));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tape_manifest a, b;
	char err[400];
	char *text = malloc(size ? size : 1);	/* exactly size bytes, no NUL */
	char *j1, *j2;
	int rc;

	if (!text)
		return 0;
	memcpy(text, data, size);
	rc = tape_manifest_parse(text, size, &a, err, sizeof(err));
	free(text);
	if (rc != 0) {
		if (rc != -EINVAL || !err[0] || a.prev_url || a.next_url ||
		    a.file_offsets || a.file_records)
			fz_fail("a refusal without -EINVAL, a sentence, or with URLs kept", err);
		return 0;
	}
	check_field(a.format, sizeof(a.format), "format", false);
	check_field(a.storeset, sizeof(a.storeset), "storeset", false);
	check_field(a.version, sizeof(a.version), "version", false);
	if (a.prev_url)
		check_field(a.prev_url, strlen(a.prev_url) + 1, "prev", true);
	if (a.next_url)
		check_field(a.next_url, strlen(a.next_url) + 1, "next", true);
	if (!a.format[0] || a.reel == 0)
		fz_fail("an empty format or reel 0 was accepted", NULL);
	if (a.truncated && a.truncated_at > a.counts.image_bytes)
		fz_fail("truncated_at beyond image_bytes was accepted", NULL);

	j1 = tape_manifest_to_json(&a);
	if (!j1)
		fz_fail("the writer failed on an accepted manifest", NULL);
	rc = tape_manifest_parse(j1, strlen(j1), &b, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "fuzz_manifest: %s\n", err);
		fz_fail("the reader refuses what the writer wrote", j1);
	}
	if (!same(&a, &b))
		fz_fail("the writer's text reads back as another manifest", j1);
	j2 = tape_manifest_to_json(&b);
	if (!j2 || strcmp(j1, j2) != 0)
		fz_fail("writing a manifest read back gives other text", j1);
	free(j1);
	free(j2);
	tape_manifest_clear(&a);
	tape_manifest_clear(&b);
	return 0;
}

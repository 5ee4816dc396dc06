/*
 * manifest_int.h - what the files of the manifest reader share (not part
 * of the encoder's interface): the parse state, the JSON reading steps
 * (manifest_json.c, manifest_string.c), the skipping of unknown fields
 * (manifest_skip.c), the typed values of the manifest (manifest_values.c)
 * and the "labels" field (manifest_read_labels.c).
 *
 * Every step reads only s[pos..len), never recurses, and on a refusal
 * returns -EINVAL after mp_fail filled the one error sentence.
 */
#ifndef REELFS_MANIFEST_INT_H
#define REELFS_MANIFEST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "manifest.h"

/* A manifest is a few hundred bytes plus two URLs (and the optional file
 * index and labels); anything bigger is not ours. Bounding the input
 * bounds every allocation the parser makes. */
#define MANIFEST_MAX_TEXT TAPE_MANIFEST_MAX_TEXT
#define MANIFEST_MAX_URL 4096
/* How deep the value of an unknown field may nest arrays and objects
 * (manifest_skip.c): enough for any field a newer writer may add, and
 * refused beyond, so hostile nesting is refused cleanly. */
#define MANIFEST_MAX_DEPTH 32

struct mparse {
	const char *s;
	size_t len, pos;
	char *err;
	size_t errlen;
	bool failed;		/* the first refusal's sentence is kept */
};

/* ---- JSON reading steps (manifest_json.c) ------------------------------ */

/* Fills the error sentence ("not a reelfs manifest: ... at byte N") the
 * first time; always returns -EINVAL. */
int mp_fail(struct mparse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void mp_skip_ws(struct mparse *p);
/* The next non-blank byte must be c; it is consumed. */
int mp_expect(struct mparse *p, char c);
/* Consumes lit (after blanks) when it comes next; false leaves pos. */
bool mp_literal(struct mparse *p, const char *lit);
/* A non-negative integer without sign, fraction, exponent or leading
 * zeros, that fits in max. */
int mp_uint(struct mparse *p, uint64_t max, uint64_t *out, const char *field);
int mp_u32(struct mparse *p, uint32_t max, uint32_t *out, const char *field);
int mp_bool(struct mparse *p, bool *out, const char *field);
/* {"key": value, ...} with each key handed to fn, which reads the value,
 * or skips it (mp_skip_value) when it does not know the key. */
int mp_object(struct mparse *p, int (*fn)(struct mparse *p, const char *key,
					  void *ctx), void *ctx);

/* ---- unknown fields (manifest_skip.c) ---------------------------------- */

/* Skips one JSON value of any type, nested at most MANIFEST_MAX_DEPTH
 * deep, after checking it is well-formed; nothing is kept. */
int mp_skip_value(struct mparse *p);

/* ---- strings (manifest_string.c) --------------------------------------- */

int mp_hexval(char c);		/* 0..15, or -1 for no hex digit */
/* A JSON string into out (at most cap-1 bytes plus NUL), escapes decoded,
 * control characters refused; fields but URLs (is_url) must be UTF-8. */
int mp_string(struct mparse *p, char *out, size_t cap, const char *field,
	      bool is_url);
/* A field name into key; "" when too long to be any name we know. */
int mp_key(struct mparse *p, char *key, size_t cap);
/* A string read to its end and checked as JSON, not kept. */
int mp_skip_string(struct mparse *p);

/* ---- the manifest's typed values (manifest_values.c) ------------------- */

int mp_crc(struct mparse *p, uint32_t *out, const char *field);
int mp_time(struct mparse *p, time_t *out, const char *field);
int mp_url(struct mparse *p, char **out, const char *field);
int mp_uint_array(struct mparse *p, uint64_t **out, size_t *count,
		  const char *field);

/* ---- the "labels" field (manifest_read_labels.c) ----------------------- */

int mp_labels(struct mparse *p, struct tape_manifest *m);

#endif

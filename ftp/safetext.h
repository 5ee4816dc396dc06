/*
 * safetext.h - the one renderer of untrusted text (server replies,
 * listings, manifests, file names) for terminals, logs and status files.
 * Everything that reaches a user from outside goes through it, so a
 * hostile server cannot retitle, clear or reprogram a terminal.
 */
#ifndef REELFS_SAFETEXT_H
#define REELFS_SAFETEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Renders s[0..n) into out (always NUL-terminated when cap > 0) and returns
 * the length written. Valid printable UTF-8 is kept as is. Escaped:
 *   C0 and DEL          \t \n \r, otherwise \xNN
 *   C1 as UTF-8         \u0080 .. \u009f
 *   bidi and line/paragraph separators (U+200E/F, U+2028/9, U+202A-E,
 *   U+2066-9)           \uNNNN
 *   any byte that is not part of well-formed UTF-8 (a raw C1 byte such as
 *   0x9b, a lone lead byte, an overlong form, a surrogate)   \xNN
 * A backslash stays a backslash, so rendering twice changes nothing. The
 * output never holds a byte below 0x20, 0x7f, or a lone 0x80-0xff. When
 * out is too small the text ends at a whole character or escape.
 */
size_t safetext_render(char *out, size_t cap, const char *s, size_t n);

/* The same for a NUL-terminated string (NULL renders as ""); returns buf. */
const char *safetext(const char *s, char *buf, size_t cap);

/* Renders a NUL-terminated string onto itself (at most cap bytes with the
 * NUL); for error buffers filled by snprintf. Returns s. */
char *safetext_inplace(char *s, size_t cap);

/* Offset of the first byte of s[0..n) that safetext_render would escape,
 * or n when the text is clean (for readers that refuse instead). */
size_t safetext_find(const char *s, size_t n);

/* Offset of the first control character in s[0..n): C0, DEL, C1 as UTF-8
 * (C2 80..9F) or a raw C1 byte (0x80..0x9f outside a UTF-8 sequence), or n.
 * Other bytes outside UTF-8 pass: a URL may name a file in a legacy
 * encoding. The manifest reader applies the same rule to prev/next. */
size_t safetext_find_control(const char *s, size_t n);

#endif

/*
 * cmd_verify.c - `reel verify URL|FILE`: decodes the image end to end and
 * checks it against NAME.manifest.json: framing, end of data, format,
 * counts, sizes and both CRC32s. Exits 0 only when every one agrees;
 * otherwise it names each that differs, with the offset where known.
 * It only reads: it must never repair or rewrite anything.
 */
#include "reel.h"
#include "verify_labels.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char verify_usage[] =
"usage: reel verify [--format F] [--framing-only | --require-manifest]\n"
"                   [transfer options] FILE|URL\n"
"\n"
"Streams the image through the decoder and checks that its framing is\n"
"sound, that it ends with end of data (two tape marks), and that format,\n"
"files, records, tape marks, payload and image bytes and both CRC32s equal\n"
"those in NAME.manifest.json beside it. Exit status 0 only when all agree;\n"
"each difference is named on stderr, with its byte offset where known;\n"
"a single flipped bit is located from the CRC differences. An image with\n"
"no manifest (written by another program, or stdin) gets the framing and\n"
"end-of-data checks alone, says so, and passes when they do. On a labelled\n"
"tape the ANSI labels are read too and compared with those the manifest\n"
"recorded (volume id, file sections, block counts, EOV).\n"
"\n"
"  --format F           decode as F (default: the manifest's format)\n"
"  --framing-only       ignore any manifest: framing and end of data only\n"
"  --require-manifest   fail when there is no manifest (alias --strict)\n"
"  --help               this text\n";

enum { O_FORMAT, O_FRAMING, O_STRICT };

static const struct reel_opt verify_opts[] = {
	{ "format", 0, true, O_FORMAT },
	{ "framing-only", 0, false, O_FRAMING },
	{ "require-manifest", 0, false, O_STRICT },
	{ "strict", 0, false, O_STRICT },
	{ NULL, 0, false, 0 },
};

struct verify_ctx {
	struct reel_cli *cli;
	const struct tape_format *format;
	bool framing_only;
	bool strict;		/* a missing manifest is a failure */
	int problems;
	const char *shown;
};

static int verify_opt(void *vctx, int id, const char *v)
{
	struct verify_ctx *c = vctx;
	if (id == O_FRAMING) {
		c->framing_only = true;
		return 0;
	}
	if (id == O_STRICT) {
		c->strict = true;
		return 0;
	}
	return reel_cli_format(c->cli, v, false, &c->format);
}

static void problem(struct verify_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void problem(struct verify_ctx *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reel_error("%s: %s", c->shown, msg);
	c->problems++;
}

static void say_problem(void *ctx, const char *msg)
{
	problem(ctx, "%s", msg);
}

static void compare(struct verify_ctx *c, const char *what, uint64_t got,
		    uint64_t want, uint64_t bytes)
{
	if (got != want)
		problem(c, "%s differ: the image has %" PRIu64 ", the manifest says %"
			PRIu64 " (image read to offset %" PRIu64 ").", what, got,
			want, bytes);
}

int cmd_verify(int argc, char **argv)
{
	struct xfer_opts xo;
	struct verify_ctx c = { 0 };
	struct reel_cli cli = {
		.cmd = "verify", .usage = verify_usage, .transfer = true,
		.opts = verify_opts, .fn = verify_opt, .ctx = &c, .xo = &xo,
	};
	struct tape_manifest m = { 0 };
	bool have_manifest = false;
	char err[XFER_ERRLEN] = "";
	char *shown = NULL;
	int rc;

	xfer_opts_init(&xo);
	c.cli = &cli;
	rc = reel_cli_parse(&cli, argc, argv);
	if (rc >= 0)
		goto out;
	rc = reel_cli_one(&cli, "image", "name the image to verify (a file or a URL)");
	if (rc >= 0)
		goto out;
	const char *name = cli.pos[0];
	shown = reel_display(name);
	c.shown = shown;
	rc = REEL_EXIT_FAIL;
	if (c.framing_only && c.strict) {
		rc = reel_usage_error(&cli, "--framing-only and --require-manifest "
				      "contradict each other");
		goto out;
	}
	bool no_manifest = false;	/* none to compare with (not asked away) */
	if (!c.framing_only && !strcmp(name, "-")) {
		if (c.strict) {
			reel_error("stdin has no manifest, and --require-manifest "
				   "asks for one.");
			goto out;
		}
		no_manifest = true;
	} else if (!c.framing_only) {
		int mr = reel_manifest_load(name, &xo, &m, err, sizeof(err));
		if (mr == -ENOENT) {
			/* Tell a missing image from a missing manifest. */
			if (reel_exists(name, &xo, err, sizeof(err)) < 0) {
				reel_error("%s", err);
				goto out;
			}
			if (c.strict) {
				reel_error("%s has no manifest (%s%s beside it), and "
					   "--require-manifest asks for one.", shown,
					   "NAME", TAPE_MANIFEST_SUFFIX);
				goto out;
			}
			no_manifest = true;
		} else if (mr < 0) {
			reel_error("%s", err);
			goto out;
		} else {
			have_manifest = true;
			if (!c.format) {
				c.format = tape_format_by_name(m.format);
				if (!c.format)
					problem(&c, "the manifest names an unknown "
						"format \"%s\"; sniffing instead.",
						m.format);
			}
		}
	}
	struct reel_src *src = reel_src_open(name, &xo, err, sizeof(err));
	if (!src) {
		reel_error("%s", err);
		goto out;
	}
	struct reel_scan s = { .name = name, .format = c.format, .drain = true,
			       .labels = true };
	char lbl_line[400];
	/* Cut by a full server in a storeset: valid up to truncated_at. */
	bool cut = have_manifest && m.truncated;
	s.limited = cut;
	s.limit = cut ? m.truncated_at : 0;
	int sr = reel_scan_run(&s, src);
	reel_src_close(src);
	reel_verify_labels_line(&s.lbl, lbl_line, sizeof(lbl_line));
	if (sr < 0) {
		reel_labels_free(&s.lbl);
		problem(&c, "reading stopped after %" PRIu64 " bytes: %s", s.bytes_read,
			s.io_msg);
		goto out;
	}
	if (sr > 0) {
		if (s.err_kind == TAPE_ERR_UNKNOWN && s.err_offset == 0)
			problem(&c, "not a tape image: its first bytes match none of the "
				"formats %s.", tape_format_names());
		else
			problem(&c, "framing is damaged at offset %" PRIu64 " (%s): %s",
				s.err_offset, tape_error_kind_name(s.err_kind), s.err_msg);
	} else if (!s.eod && !cut) {
		problem(&c, "end of data is missing: the image ends at offset %" PRIu64
			" without two tape marks in a row (truncated?).", s.bytes_read);
	}
	if (have_manifest) {
		if (s.used && strcmp(tape_format_name(s.used), m.format))
			problem(&c, "format differs: the image decodes as %s, the "
				"manifest says %s.", tape_format_name(s.used), m.format);
		if (s.bytes_read != m.counts.image_bytes)
			problem(&c, "size differs: the image has %" PRIu64 " bytes, the "
				"manifest says %" PRIu64 "; they differ from offset %" PRIu64 ".",
				s.bytes_read, m.counts.image_bytes,
				s.bytes_read < m.counts.image_bytes ? s.bytes_read
								    : m.counts.image_bytes);
		/* Counts and payload CRC only mean something when decoding
		 * reached the end; after damage they would just repeat it. */
		if (sr == 0) {
			compare(&c, "tape files", s.counts.files, m.counts.files, s.bytes_read);
			compare(&c, "records", s.counts.records, m.counts.records, s.bytes_read);
			compare(&c, "tape marks", s.counts.marks, m.counts.marks, s.bytes_read);
			compare(&c, "payload bytes", s.counts.payload_bytes,
				m.counts.payload_bytes, s.bytes_read);
			if (s.counts.payload_crc != m.counts.payload_crc)
				problem(&c, "payload CRC32 differs: the image gives %08" PRIx32
					", the manifest says %08" PRIx32 "; some payload byte "
					"between offset 0 and %" PRIu64 " has changed.",
					s.counts.payload_crc, m.counts.payload_crc, s.bytes_read);
			if (s.counts.image_crc != m.counts.image_crc)
				problem(&c, "image CRC32 differs: the image gives %08" PRIx32
					", the manifest says %08" PRIx32 "; some byte between "
					"offset 0 and %" PRIu64 " has changed.",
					s.counts.image_crc, m.counts.image_crc, s.bytes_read);
			/* Same sizes, sound framing, other CRC: say where. */
			if (s.counts.image_crc != m.counts.image_crc &&
			    s.bytes_read == m.counts.image_bytes &&
			    s.counts.payload_bytes == m.counts.payload_bytes)
				reel_locate_damage(name, &xo, s.used, &s.counts, &m.counts);
			/* The labels, when the writer recorded them (a reel cut by
			 * a full server has none recorded). */
			if (m.labels_recorded && !cut)
				reel_verify_labels(&s.lbl, &m, say_problem, &c);
		}
	}
	bool lbl_checked = have_manifest && m.labels_recorded && !cut && sr == 0;
	reel_labels_free(&s.lbl);
	if (c.problems) {
		reel_error("%s: verification FAILED (%d problem%s).", shown, c.problems,
			   c.problems == 1 ? "" : "s");
		goto out;
	}
	printf("%s: verified: %s, %" PRIu64 " file%s, %" PRIu64 " records, %" PRIu64
	       " payload bytes, %" PRIu64 " image bytes, CRC32 payload %08" PRIx32
	       " image %08" PRIx32 ", end of data at offset %" PRIu64 "%s\n",
	       shown, s.used ? tape_format_name(s.used) : "?", s.counts.files,
	       s.counts.files == 1 ? "" : "s", s.counts.records,
	       s.counts.payload_bytes, s.bytes_read, s.counts.payload_crc,
	       s.counts.image_crc, cut ? m.truncated_at : s.eod_offset,
	       have_manifest ? "; the manifest agrees" : " (framing only)");
	if (lbl_line[0])
		printf("%s: %s%s\n", shown, lbl_line,
		       lbl_checked ? "; the manifest agrees" : "");
	if (no_manifest)
		printf("%s: there was no manifest (%s%s) to compare with: checked "
		       "the framing and the end of data only; --require-manifest "
		       "makes that a failure\n", shown, "NAME", TAPE_MANIFEST_SUFFIX);
	if (cut)
		printf("%s: the server ran out of space under this reel: it is valid "
		       "up to offset %" PRIu64 " (truncated_at), without end of data; "
		       "the storeset goes on on the next reel\n", shown,
		       m.truncated_at);
	if (have_manifest && m.storeset[0]) {
		char set[64];
		printf("%s: reel %u of storeset %s\n", shown, m.reel,
		       safetext(m.storeset, set, sizeof(set)));
	}
	rc = reel_stdout_finish(REEL_EXIT_OK);
out:
	tape_manifest_clear(&m);
	free(shown);
	free(cli.pos);
	xfer_opts_free(&xo);
	return rc;
}

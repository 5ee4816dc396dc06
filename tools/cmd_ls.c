/*
 * cmd_ls.c - `reel ls URL/|DIR`: the tapes in a directory, local or on a
 * server. For each file: size and time from the listing, the state
 * (complete with a manifest, partial .part, unverified without a
 * manifest), and storeset, reel, files, records and CRC from the
 * manifest; the format from the manifest, else sniffed from the first
 * bytes. --deep streams each image through the decoder as well.
 *
 * One logged-in session does it all: one listing, then per tape at most
 * one small download (its manifest, else a file of at most 64 KiB read
 * whole to sniff it), so 200 tapes cost one login, not 200. A longer file
 * without a manifest is taken at its name when that names a format, and
 * sniffed from its first 64 KiB (one login more: libcurl hangs up on a
 * read cut short) only when it does not. A .part is never read: an upload may be
 * writing it, and vsftpd makes a reader wait for the writer's lock.
 *
 * It only reads. Manifests are shown as attributes of their tape, not as
 * files of their own, unless their image is missing.
 */
#include "reel.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char ls_usage[] =
"usage: reel ls [--tapes] [-l] [--deep] [--json] [transfer options] URL/|DIR\n"
"\n"
"Lists the tape images in a directory, over one login: name, size,\n"
"modification time, format (from the manifest; else sniffed from the\n"
"bytes, or for a file over 64 KiB taken from its name when that names a\n"
"format), state, and the storeset and reel number from the manifest.\n"
"States:\n"
"  complete    a manifest NAME.manifest.json agrees with the file's size\n"
"  partial     NAME.part: an upload that has not finished (or failed);\n"
"              never read, so a live upload does not make ls wait\n"
"  unverified  no manifest beside the image\n"
"  mismatch    the manifest does not agree with the file, or is unreadable\n"
"Files that are not tape images are listed apart, after the tapes.\n"
"\n"
"  --tapes      list tape images only\n"
"  -l, --long   add files, records and payload CRC32 from the manifest, and\n"
"               for an ANSI labelled tape its volume and labelled files\n"
"               (from the manifest; without one, from the image's head)\n"
"  --deep       stream each image through the decoder: count its files and\n"
"               records, check its framing and read all its labels\n"
"               (reads every byte)\n"
"  --json       one JSON object on stdout (fields in reel(1))\n"
"  --help       this text\n";

enum { O_TAPES, O_LONG, O_DEEP, O_JSON };

static const struct reel_opt ls_opts[] = {
	{ "tapes", 0, false, O_TAPES },
	{ "long", 'l', false, O_LONG },
	{ "deep", 0, false, O_DEEP },
	{ "json", 0, false, O_JSON },
	{ NULL, 0, false, 0 },
};

struct ls_opts {
	bool tapes, lng, deep, json;
};

static int ls_opt(void *vctx, int id, const char *v)
{
	struct ls_opts *o = vctx;
	(void)v;
	switch (id) {
	case O_TAPES: o->tapes = true; break;
	case O_LONG: o->lng = true; break;
	case O_DEEP: o->deep = true; break;
	case O_JSON: o->json = true; break;
	}
	return 0;
}

struct row {
	const struct xfer_entry *e;
	uint64_t size;			/* XFER_SIZE_UNKNOWN when not known */
	char *url;
	const struct tape_format *format;
	bool is_tape;
	const char *state;
	bool have_manifest;
	struct tape_manifest m;
	char note[XFER_ERRLEN];		/* why the format or manifest is unknown */
	bool deep_done;
	struct reel_scan scan;
	int deep_rc;
	struct reel_labels lbl;		/* -l: from the head of the image */
	bool lbl_read;
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

/* An upload's temporary name: NAME.part, or NAME.ID.part where uploads
 * to one name each write their own. */
static bool is_part(const char *name)
{
	return ends_with(name, ".part");
}

/* The format a .part's name promises: NAME.EXT.part or NAME.EXT.ID.part. */
static const struct tape_format *part_format(const char *name)
{
	const struct tape_format *f = tape_format_from_path(name);
	char base[1024];
	size_t n = strlen(name) - strlen(".part");

	if (f || n >= sizeof(base))
		return f;
	memcpy(base, name, n);
	base[n] = '\0';
	char *dot = strrchr(base, '.');
	if (!dot || dot == base)
		return NULL;
	*dot = '\0';
	return tape_format_from_path(base);
}

struct head {
	char buf[REEL_SNIFF_BYTES];
	size_t len;
};

/* Keeps the first bytes; stops only a file longer than the buffer, so a
 * small file is read to its end and the connection stays usable. */
static int head_cb(void *ctx, const void *p, size_t n)
{
	struct head *h = ctx;
	size_t room = sizeof(h->buf) - h->len;
	size_t take = room < n ? room : n;
	memcpy(h->buf + h->len, p, take);
	h->len += take;
	return take < n ? -ECANCELED : 0;
}

struct ls_run {
	struct xfer_session *ses;
	struct head *h;
	bool labels;			/* -l: read the labels at each image's head */
	const struct xfer_entry *all;
	size_t n;
};

static void sniff(struct row *r, struct ls_run *lr)
{
	struct head *h = lr->h;
	char err[XFER_ERRLEN] = "";
	h->len = 0;
	if (r->size == 0)
		return;
	/* A file that fits is read whole (the transfer ends as usual and the
	 * connection is kept); a longer one is cut after the first bytes,
	 * which costs the connection (the next read logs in again). */
	uint64_t want = r->size != XFER_SIZE_UNKNOWN && r->size <= sizeof(h->buf) ?
			0 : sizeof(h->buf);
	int rc = xfer_session_fetch(lr->ses, r->e->name, 0, want, head_cb, h,
				    err, sizeof(err));
	if (rc < 0 && rc != -ECANCELED) {
		snprintf(r->note, sizeof(r->note), "%s", err);
		return;
	}
	r->format = reel_pick_format(r->e->name, h->buf, h->len);
}

/* The URL or path of a listed file. A name from a listing is a name, not
 * URL text: "50%41.mtd" or "a#b.tap" on a server must be escaped, or the
 * URL would name another file; reel_sibling does that for URLs. */
static char *dir_child(const char *dir, const char *name)
{
	size_t n = strlen(dir);
	char *slashed = malloc(n + 2);
	if (!slashed)
		return NULL;
	sprintf(slashed, "%s%s", dir, n && dir[n - 1] == '/' ? "" : "/");
	char *out = reel_sibling(slashed, name);
	free(slashed);
	return out;
}

/* The listing is sorted by name (xfer_list's promise): a binary search
 * keeps a directory of thousands of files linear overall. */
static int by_name(const void *key, const void *e)
{
	return strcmp(key, ((const struct xfer_entry *)e)->name);
}

static const struct xfer_entry *find(const struct xfer_entry *v, size_t n,
				     const char *name)
{
	const struct xfer_entry *e = n ? bsearch(name, v, n, sizeof(*v), by_name)
				       : NULL;
	return e && !e->is_dir ? e : NULL;
}

static bool listed(const struct xfer_entry *v, size_t n, const char *name)
{
	return find(v, n, name) != NULL;
}

struct small {
	char *p;
	size_t len, max;
};

static int small_cb(void *ctx, const void *p, size_t n)
{
	struct small *b = ctx;
	if (b->len + n > b->max)
		return -EFBIG;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

/* The manifest mname, read whole over the session (one RETR). */
static int load_manifest(struct row *r, struct ls_run *lr, const char *mname,
			 char *err, size_t errlen)
{
	const struct xfer_entry *me = find(lr->all, lr->n, mname);
	struct small b = { .max = REEL_MANIFEST_MAX };
	char why[256], shown[1024];
	int rc;

	safetext(mname, shown, sizeof(shown));
	if (me && me->size != XFER_SIZE_UNKNOWN && me->size > b.max) {
		snprintf(err, errlen, "%.300s is larger than %zu bytes; not a manifest.",
			 shown, b.max);
		return -EFBIG;
	}
	b.p = malloc(b.max + 1);
	if (!b.p) {
		snprintf(err, errlen, "out of memory.");
		return -ENOMEM;
	}
	rc = xfer_session_fetch(lr->ses, mname, 0, 0, small_cb, &b, err, errlen);
	if (rc == -EFBIG)
		snprintf(err, errlen, "%.300s is larger than %zu bytes; not a manifest.",
			 shown, b.max);
	if (rc == 0) {
		b.p[b.len] = '\0';
		rc = tape_manifest_parse(b.p, b.len, &r->m, why, sizeof(why));
		if (rc < 0)
			snprintf(err, errlen, "%.250s: %.250s.", shown, why);
	}
	free(b.p);
	return rc;
}

static void classify(struct row *r, struct ls_run *lr)
{
	const char *name = r->e->name;

	if (is_part(name)) {
		/* Never read: a live upload may hold it (vsftpd would make us
		 * wait for the writer), and a .part is partial whatever its
		 * bytes say. The name tells the format. */
		r->format = part_format(name);
		r->is_tape = r->format != NULL;
		r->state = "partial";
		return;
	}
	char mname[1024];
	snprintf(mname, sizeof(mname), "%s%s", name, TAPE_MANIFEST_SUFFIX);
	if (!listed(lr->all, lr->n, mname)) {
		r->state = "unverified";
		/* A long file whose name names a tape format is taken at its
		 * name: cutting a read short costs the connection (libcurl
		 * hangs up), so 200 such tapes would cost 200 logins. A short
		 * file is read whole, which costs nothing extra; --deep
		 * decodes every byte. */
		const struct tape_format *byname = tape_format_from_path(name);
		if (byname && (r->size == XFER_SIZE_UNKNOWN ||
			       r->size > sizeof(lr->h->buf))) {
			r->format = byname;
			r->is_tape = true;
			return;
		}
		sniff(r, lr);
		r->is_tape = r->format != NULL;
		return;
	}
	/* A manifest beside it says it is a tape: its format and counts come
	 * from there, with no need to read the image. */
	r->is_tape = true;
	char err[XFER_ERRLEN] = "";
	if (load_manifest(r, lr, mname, err, sizeof(err)) < 0) {
		tape_manifest_clear(&r->m);
		memset(&r->m, 0, sizeof(r->m));
		r->state = "mismatch";
		snprintf(r->note, sizeof(r->note), "%s", err);
		sniff(r, lr);
		return;
	}
	r->have_manifest = true;
	if (r->size == XFER_SIZE_UNKNOWN) {
		/* The listing gave no usable size: ask for it. */
		uint64_t sz;
		if (xfer_session_stat(lr->ses, name, &sz, NULL, err, sizeof(err)) == 0)
			r->size = sz;
	}
	const struct tape_format *mf = tape_format_by_name(r->m.format);
	if (r->size == XFER_SIZE_UNKNOWN) {
		r->state = "unverified";
		snprintf(r->note, sizeof(r->note), "the server gave no size for it, "
			 "so it could not be compared with the manifest's %" PRIu64
			 " bytes", r->m.counts.image_bytes);
		r->format = mf;
	} else if (r->m.counts.image_bytes != r->size) {
		r->state = "mismatch";
		snprintf(r->note, sizeof(r->note), "the manifest says %" PRIu64
			 " bytes, the file has %" PRIu64, r->m.counts.image_bytes,
			 r->size);
		r->format = mf;
	} else if (!mf) {
		r->state = "mismatch";
		snprintf(r->note, sizeof(r->note), "the manifest names an unknown "
			 "format \"%s\"", r->m.format);
		sniff(r, lr);
	} else {
		/* The manifest knows the exact variant (mtd/simh/e11...). */
		r->state = "complete";
		r->format = mf;
	}
}

/* -l: the labels of a tape that is not being written (a .part is never
 * read), from a small read of the head of its image. */
static void labels(struct row *r, struct ls_run *lr)
{
	if (!lr->labels || !r->is_tape || !r->format || is_part(r->e->name) ||
	    r->size == 0)
		return;
	char err[XFER_ERRLEN] = "";
	r->lbl_read = true;
	/* A manifest that recorded the labels (or that there are none) is
	 * enough: no image is read. */
	if (r->have_manifest && r->m.labels_recorded) {
		reel_labels_from_manifest(&r->lbl, &r->m);
		return;
	}
	/* A small image sniffed whole is not read again. */
	const void *whole = r->size != XFER_SIZE_UNKNOWN && lr->h->len == r->size ?
			    lr->h->buf : NULL;
	if (reel_ls_labels(lr->ses, r->e->name, r->format, r->size, whole, &r->lbl,
			   err, sizeof(err)) < 0 && !r->note[0])
		snprintf(r->note, sizeof(r->note), "labels not read: %s", err);
}

static void deep(struct row *r, const struct xfer_opts *xo)
{
	char err[XFER_ERRLEN] = "";
	struct xfer_opts short_wait = *xo;
	/* A .part may be a live upload that the server makes readers wait
	 * for: give up on it after a few seconds, not after the stall timeout. */
	if (is_part(r->e->name) && (short_wait.stall_timeout <= 0 ||
				    short_wait.stall_timeout > 5))
		short_wait.stall_timeout = 5;
	struct reel_src *src = reel_src_open(r->url, &short_wait, err, sizeof(err));
	r->deep_done = true;
	memset(&r->scan, 0, sizeof(r->scan));
	r->scan.name = r->e->name;
	r->scan.format = r->format;
	r->scan.labels = true;
	if (!src) {
		r->deep_rc = -EIO;
		r->scan.io_failed = true;
		snprintf(r->scan.io_msg, sizeof(r->scan.io_msg), "%s", err);
		return;
	}
	r->deep_rc = reel_scan_run(&r->scan, src);
	reel_src_close(src);
}

static const char *deep_text(const struct row *r, char *buf, size_t len)
{
	const struct reel_scan *s = &r->scan;
	if (s->io_failed)
		snprintf(buf, len, "read failed: %s", s->io_msg);
	else if (s->damaged)
		snprintf(buf, len, "damaged at offset %" PRIu64 ": %s", s->err_offset,
			 tape_error_kind_name(s->err_kind));
	else
		snprintf(buf, len, "ok, %" PRIu64 " files, %" PRIu64 " records%s",
			 s->counts.files, s->counts.records,
			 s->eod ? "" : ", no end of data");
	return buf;
}

static void print_time(time_t t, char *buf, size_t len)
{
	struct tm tm;
	if (!t || !gmtime_r(&t, &tm))
		snprintf(buf, len, "-");
	else
		strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
}

/* A size for the text listing: "?" when the server gave none. */
static const char *size_text(uint64_t v, char *buf, size_t len)
{
	if (v == XFER_SIZE_UNKNOWN)
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

static void json_size(uint64_t v)
{
	if (v == XFER_SIZE_UNKNOWN)
		printf("null");
	else
		printf("%" PRIu64, v);
}

/* What is known of a tape's labels: from --deep's full read, else from
 * -l's read of the head; NULL when neither looked. */
static const struct reel_labels *row_labels(const struct row *r)
{
	if (r->deep_done)
		return &r->scan.lbl;
	return r->lbl.labelled || r->lbl.problem[0] || r->lbl_read ? &r->lbl : NULL;
}

static void text_row(const struct row *r, const struct ls_opts *o)
{
	char t[32], reel[16] = "-", extra[128] = "", dp[600] = "", dt[560];
	print_time(r->e->mtime, t, sizeof(t));
	if (r->have_manifest)
		snprintf(reel, sizeof(reel), "%u", r->m.reel);
	if (o->lng) {
		if (r->have_manifest)
			snprintf(extra, sizeof(extra), " %6" PRIu64 " %9" PRIu64 " %08" PRIx32,
				 r->m.counts.files, r->m.counts.records, r->m.counts.payload_crc);
		else
			snprintf(extra, sizeof(extra), " %6s %9s %8s", "-", "-", "-");
	}
	if (o->deep)
		snprintf(dp, sizeof(dp), "  %s", deep_text(r, dt, sizeof(dt)));
	char name[1024], set[64], note[XFER_ERRLEN], size[24];
	printf("%-28s %13s  %-16s %-6s %-10s %-26s %4s%s%s\n",
	       safetext(r->e->name, name, sizeof(name)),
	       size_text(r->size, size, sizeof(size)), t,
	       r->format ? tape_format_name(r->format) : "?", r->state,
	       r->have_manifest && r->m.storeset[0] ?
	       safetext(r->m.storeset, set, sizeof(set)) : "-",
	       reel, extra, dp);
	if (r->note[0])
		printf("    note: %s\n", safetext(r->note, note, sizeof(note)));
	const struct reel_labels *l = row_labels(r);
	if (l && l->labelled)
		reel_labels_text(l, "    ");
	else if (l && l->problem[0])
		printf("    note: labels: %s\n", safetext(l->problem, note, sizeof(note)));
}

static void json_u64_or_null(bool have, uint64_t v)
{
	if (have)
		printf("%" PRIu64, v);
	else
		printf("null");
}

/* A link from a manifest: shown like any name, so a hand-edited
 * manifest cannot make ls print a password. */
static void json_url_or_null(const char *url)
{
	char *shown = url ? reel_display(url) : NULL;
	if (shown)
		reel_json_str(shown);
	else
		printf("null");
	free(shown);
}

static void json_row(const struct row *r, bool first, bool labels_on, bool deep_on)
{
	char t[32];
	reel_iso_time(r->e->mtime, t, sizeof(t));
	printf("%s\n    {\"name\": ", first ? "" : ",");
	reel_json_str(r->e->name);
	printf(", \"url\": ");
	char *shown = reel_display(r->url);
	reel_json_str(shown ? shown : "");
	free(shown);
	printf(", \"size\": ");
	json_size(r->size);
	printf(", \"mtime\": ");
	if (r->e->mtime)
		reel_json_str(t);
	else
		printf("null");
	printf(", \"format\": ");
	if (r->format)
		reel_json_str(tape_format_name(r->format));
	else
		printf("null");
	printf(", \"state\": ");
	reel_json_str(r->state);
	bool m = r->have_manifest;
	printf(", \"manifest\": %s, \"storeset\": ", m ? "true" : "false");
	if (m && r->m.storeset[0])
		reel_json_str(r->m.storeset);
	else
		printf("null");
	printf(", \"reel\": ");
	json_u64_or_null(m, r->m.reel);
	printf(", \"files\": ");
	json_u64_or_null(m, r->m.counts.files);
	printf(", \"records\": ");
	json_u64_or_null(m, r->m.counts.records);
	printf(", \"payload_bytes\": ");
	json_u64_or_null(m, r->m.counts.payload_bytes);
	printf(", \"payload_crc32\": ");
	if (m)
		printf("\"%08" PRIx32 "\"", r->m.counts.payload_crc);
	else
		printf("null");
	printf(", \"image_crc32\": ");
	if (m)
		printf("\"%08" PRIx32 "\"", r->m.counts.image_crc);
	else
		printf("null");
	printf(", \"prev\": ");
	json_url_or_null(m ? r->m.prev_url : NULL);
	printf(", \"next\": ");
	json_url_or_null(m ? r->m.next_url : NULL);
	printf(", \"note\": ");
	if (r->note[0])
		reel_json_str(r->note);
	else
		printf("null");
	if (labels_on) {
		printf(", \"labels\": ");
		const struct reel_labels *l = row_labels(r);
		if (l)
			reel_labels_json(l);
		else
			printf("null");
	}
	if (deep_on) {
		const struct reel_scan *s = &r->scan;
		printf(", \"deep\": {\"ok\": %s, \"files\": %" PRIu64 ", \"records\": %" PRIu64
		       ", \"tape_marks\": %" PRIu64 ", \"payload_bytes\": %" PRIu64
		       ", \"end_of_data\": %s, \"error\": ",
		       (!s->damaged && !s->io_failed && s->eod) ? "true" : "false",
		       s->counts.files, s->counts.records, s->counts.marks,
		       s->counts.payload_bytes, s->eod ? "true" : "false");
		reel_json_scan_error(s);
		printf("}");
	}
	printf("}");
}

int cmd_ls(int argc, char **argv)
{
	struct xfer_opts xo;
	struct ls_opts o = { 0 };
	struct reel_cli cli = {
		.cmd = "ls", .usage = ls_usage, .transfer = true,
		.opts = ls_opts, .fn = ls_opt, .ctx = &o, .xo = &xo,
	};
	struct xfer_entry *ents = NULL;
	size_t n = 0;
	struct row *rows = NULL;
	struct head *h = NULL;
	struct xfer_session *ses = NULL;
	char err[XFER_ERRLEN] = "";
	int rc;

	xfer_opts_init(&xo);
	rc = reel_cli_parse(&cli, argc, argv);
	if (rc >= 0)
		goto out;
	rc = reel_cli_one(&cli, "directory",
			  "name the directory to list (a path or a URL ending in /)");
	if (rc >= 0)
		goto out;
	const char *dir = cli.pos[0];
	rc = REEL_EXIT_FAIL;
	if (xfer_session_open(dir, &xo, &ses, err, sizeof(err)) < 0 ||
	    xfer_session_list(ses, &ents, &n, err, sizeof(err)) < 0) {
		reel_error("%s", err[0] ? err : "listing failed.");
		goto out;
	}
	rows = calloc(n ? n : 1, sizeof(*rows));
	h = malloc(sizeof(*h));
	if (!rows || !h) {
		reel_error("out of memory.");
		goto out;
	}
	size_t ntapes = 0, nother = 0;
	struct ls_run lr = { .ses = ses, .h = h, .all = ents, .n = n,
			     .labels = o.lng && !o.deep };
	for (size_t i = 0; i < n; i++) {
		struct row *r = &rows[i];
		r->e = &ents[i];
		r->size = ents[i].size;
		r->state = "-";
		if (ents[i].is_dir) {
			nother++;
			continue;
		}
		r->url = dir_child(dir, ents[i].name);
		if (!r->url) {
			reel_error("out of memory.");
			goto out;
		}
		/* A manifest belongs to its image's row, when the image is here. */
		if (ends_with(ents[i].name, TAPE_MANIFEST_SUFFIX)) {
			char img[1024];
			size_t k = strlen(ents[i].name) - strlen(TAPE_MANIFEST_SUFFIX);
			snprintf(img, sizeof(img), "%.*s", (int)k, ents[i].name);
			if (listed(ents, n, img)) {
				r->state = NULL;	/* hidden */
				continue;
			}
			nother++;
			continue;
		}
		h->len = 0;
		classify(r, &lr);
		labels(r, &lr);
		if (r->is_tape)
			ntapes++;
		else
			nother++;
	}
	/* --deep reads every byte of each image, on connections of its own;
	 * the session is done with. */
	xfer_session_close(ses);
	ses = NULL;
	for (size_t i = 0; o.deep && i < n; i++)
		if (rows[i].is_tape)
			deep(&rows[i], &xo);
	char *shown = reel_display(dir);
	if (o.json) {
		printf("{\n  \"directory\": ");
		reel_json_str(shown ? shown : dir);
		printf(",\n  \"tapes\": [");
		bool first = true;
		for (size_t i = 0; i < n; i++)
			if (rows[i].is_tape) {
				json_row(&rows[i], first, o.lng || o.deep, o.deep);
				first = false;
			}
		printf("\n  ],\n  \"other\": [");
		first = true;
		for (size_t i = 0; i < n && !o.tapes; i++) {
			if (rows[i].is_tape || !rows[i].state)
				continue;
			printf("%s\n    {\"name\": ", first ? "" : ",");
			reel_json_str(ents[i].name);
			printf(", \"size\": ");
			json_size(ents[i].is_dir ? XFER_SIZE_UNKNOWN : ents[i].size);
			printf(", \"type\": \"%s\", \"mtime\": ",
			       ents[i].is_dir ? "dir" : "file");
			char t[32];
			reel_iso_time(ents[i].mtime, t, sizeof(t));
			if (ents[i].mtime)
				reel_json_str(t);
			else
				printf("null");
			/* Why it could not be sniffed (a refused download...):
			 * "not a tape" must not hide "could not be read". */
			printf(", \"note\": ");
			if (rows[i].note[0])
				reel_json_str(rows[i].note);
			else
				printf("null");
			printf("}");
			first = false;
		}
		printf("\n  ]\n}\n");
	} else {
		printf("%s: %zu tape%s\n", shown ? shown : dir, ntapes, ntapes == 1 ? "" : "s");
		if (ntapes) {
			printf("%-28s %13s  %-16s %-6s %-10s %-26s %4s%s%s\n", "NAME", "SIZE",
			       "MODIFIED (UTC)", "FORMAT", "STATE", "STORESET", "REEL",
			       o.lng ? "  FILES   RECORDS    CRC32" : "",
			       o.deep ? "  DECODED" : "");
			for (size_t i = 0; i < n; i++)
				if (rows[i].is_tape)
					text_row(&rows[i], &o);
		}
		if (nother && !o.tapes) {
			printf("\nother files (not tape images):\n");
			for (size_t i = 0; i < n; i++) {
				if (rows[i].is_tape || !rows[i].state)
					continue;
				char t[32], name[1024], size[24];
				print_time(ents[i].mtime, t, sizeof(t));
				printf("%-28s %13s  %-16s%s\n",
				       safetext(ents[i].name, name, sizeof(name)),
				       ents[i].is_dir ? "-" :
				       size_text(ents[i].size, size, sizeof(size)),
				       t, ents[i].is_dir ? "  (directory)" : "");
				if (rows[i].note[0]) {
					char note[XFER_ERRLEN];
					printf("    note: could not be read: %s\n",
					       safetext(rows[i].note, note, sizeof(note)));
				}
			}
		}
	}
	free(shown);
	rc = REEL_EXIT_OK;
	for (size_t i = 0; i < n; i++)
		if (rows[i].is_tape && o.deep && strcmp(rows[i].state, "partial") &&
		    (rows[i].scan.damaged || rows[i].scan.io_failed))
			rc = REEL_EXIT_FAIL;	/* --deep found a damaged image; a
						 * .part is expected to end short */
	rc = reel_stdout_finish(rc);
out:
	for (size_t i = 0; rows && i < n; i++) {
		free(rows[i].url);
		tape_manifest_clear(&rows[i].m);
		reel_labels_free(&rows[i].lbl);
		reel_labels_free(&rows[i].scan.lbl);
	}
	free(rows);
	free(h);
	xfer_session_close(ses);
	xfer_entries_free(ents, n);
	free(cli.pos);
	xfer_opts_free(&xo);
	return rc;
}

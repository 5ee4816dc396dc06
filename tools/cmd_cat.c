/*
 * cmd_cat.c - `reel cat URL|FILE [--file N]`: the data of tape file N as a
 * stream on stdout, records put together (or, with --records, each behind
 * a 4-byte little-endian length). On a reel of a storeset it follows the
 * reels in order (from the manifests' prev/next, or --set), joining them
 * the way `reel send --next` split them: the two end-of-data marks at the
 * end of every reel but the last are dropped, so a tape file that spans
 * reels comes out whole.
 *
 * A manifest can be forged by whoever can write beside the image, so a
 * link is followed only into the directory of the reel named (links.c),
 * to a reel whose own manifest names the same storeset, the next reel
 * number and (when set) the reel that linked to it; else cat stops with a
 * sentence, having written only what came before (docs/security.md, 6).
 *
 * On an ANSI labelled tape (its first record is VOL1) the tape files are
 * label groups and data: cat_labels.c writes the data records of one
 * labelled file only, its sections joined across reels; --raw reads such
 * a tape as any other.
 *
 * It streams: one read buffer and one output buffer, whatever the size of
 * the tape, and it stops reading as soon as file N is complete. It must
 * never print a password, and a reader that goes away (`| head`) ends it
 * quietly.
 */
#include "cat_labels.h"
#include "reel.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char cat_usage[] =
"usage: reel cat [--file N | --name NAME] [--records] [--single] [--raw]\n"
"                [transfer options] FILE|URL\n"
"       reel cat [--file N | --name NAME] [--records] [--raw] --set URL1 URL2 ...\n"
"\n"
"Writes the data of tape file N (default 1, numbered as mt fsf counts) to\n"
"stdout, its records put together: `reel cat ftp://host/vol1.mtd | tar -t`.\n"
"When the image is a reel of a storeset, its manifest names the previous\n"
"and next reels and cat follows them in order, from the first reel: only\n"
"to reels in the same directory (on the same server and login), each with\n"
"a manifest of the same storeset and the next reel number. With --set the\n"
"reels are the arguments, in order, wherever they are.\n"
"\n"
"On an ANSI labelled tape (VOL1 first) cat writes the data of one labelled\n"
"file, without its labels, the sections of a file continued over reels\n"
"(EOV) joined in order; each next section must name the same file and\n"
"file set with the next section number, else cat stops with a sentence.\n"
"\n"
"  --file N     the tape file to write (default 1); on a labelled tape the\n"
"               labelled file of sequence number N (default: the first)\n"
"  --name NAME  the first labelled file named NAME in its HDR1/HDR4\n"
"               labels (NAME converted as labels hold names: upper case)\n"
"  --raw        a labelled tape as it is: every record, labels included,\n"
"               --file N counting tape files\n"
"  --records    write each record as a 4-byte little-endian length, then\n"
"               its bytes (for tools that need the record boundaries)\n"
"  --set        the arguments are the reels of one storeset, in order\n"
"  --single     read only the image given, ignoring its manifest's links\n"
"               (a reel cut by a full server still ends at its truncated_at)\n"
"  --help       this text\n";

enum { O_FILE, O_RECORDS, O_SET, O_SINGLE, O_NAME, O_RAW };

static const struct reel_opt cat_opts[] = {
	{ "file", 0, true, O_FILE },
	{ "records", 0, false, O_RECORDS },
	{ "set", 0, false, O_SET },
	{ "single", 0, false, O_SINGLE },
	{ "name", 0, true, O_NAME },
	{ "raw", 0, false, O_RAW },
	{ NULL, 0, false, 0 },
};

#define CAT_MAX_REELS 10000

/* A reel to read: its name (as named, or a link resolved against the reel
 * that names it) and, for one reached through a link, its file name in the
 * home directory (a local one is opened there, never through a symbolic
 * link). */
struct ref {
	char *url;
	char *name;
	bool linked;
};

struct cat {
	struct reel_cli *cli;
	const struct xfer_opts *xo;
	struct reel_home home;		/* where links may lead */
	char *shown;			/* the reel named, for messages */
	uint64_t want;			/* tape file N */
	bool records, set, single;
	/* Labelled tapes: what the first record of the first reel said. */
	enum { MODE_UNKNOWN, MODE_PLAIN, MODE_LABELLED } mode;
	bool raw, file_given;
	bool lbl_failed;		/* lbl.err says why reading stopped */
	struct cat_lbl lbl;
	/* the logical tape across reels */
	uint64_t file;			/* current file number, from 1 */
	uint64_t recs;			/* records seen in the current file */
	uint64_t out_bytes;
	uint64_t pending;		/* marks not yet known to be real */
	bool last_reel;
	bool done;			/* file N ended by a tape mark */
	bool past;			/* a later file started: N ended */
	bool prev_mark;			/* the last element applied was a mark */
	bool eod;			/* end of data reached before file N */
	int out_err;			/* -EPIPE or a write error */
	/* The reel about to be read was cut by a full server (its manifest's
	 * truncated_at): read only its valid part, which has no end of data. */
	bool truncated;
	uint64_t valid;
	/* The reel about to be read is reel N of a storeset of more than one
	 * (its manifest): said on stderr as it is read, so a restore from a
	 * set shows which reel it is on. "" otherwise. */
	char set_note[96];
};

/* Notes, for the reel about to be read, the set and reel its manifest
 * records; a tape of its own (reel 1, no links) is not worth a word. */
static void note_set(struct cat *c, const struct tape_manifest *m)
{
	char set[64];
	c->set_note[0] = '\0';
	if (m->storeset[0] && (m->reel > 1 || m->prev_url || m->next_url))
		snprintf(c->set_note, sizeof(c->set_note), "reel %u of storeset %s",
			 m->reel, safetext(m->storeset, set, sizeof(set)));
}

static int cat_opt(void *vctx, int id, const char *v)
{
	struct cat *c = vctx;
	switch (id) {
	case O_FILE:
		c->file_given = true;
		return reel_cli_number(c->cli, "file", v, 1, INT64_MAX, &c->want);
	case O_NAME:
		if (!v[0] || strlen(v) > TAPE_LABEL_NAME_MAX)
			return reel_usage_error(c->cli, "--name takes a labelled file's "
						"name, 1 to %d characters", TAPE_LABEL_NAME_MAX);
		tape_label_name_convert(v, c->lbl.want_name);
		return 0;
	case O_RAW: c->raw = true; return 0;
	case O_RECORDS: c->records = true; return 0;
	case O_SET: c->set = true; return 0;
	case O_SINGLE: c->single = true; return 0;
	}
	return 0;
}

/* One mark of the logical tape. An empty file ended by a second mark in
 * a row is the end of data, not a file. */
static void apply_mark(struct cat *c)
{
	bool eod = c->prev_mark && c->recs == 0;
	c->prev_mark = true;
	if (eod) {
		c->eod = true;
		return;
	}
	if (c->file == c->want) {
		c->done = true;
		return;
	}
	c->file++;
	c->recs = 0;
}

/* An element of a labelled tape, handed to cat_labels.c. */
static int on_labelled(struct cat *c, const struct tape_event *ev)
{
	int rc = 0;
	if (ev->kind == TAPE_EV_RECORD)
		rc = cat_lbl_record(&c->lbl, ev->data, ev->len);
	else if (ev->kind == TAPE_EV_MARK)
		rc = cat_lbl_mark(&c->lbl);
	if (rc == -ECANCELED)
		c->done = true;
	else if (rc == -EPROTO)
		c->lbl_failed = true;
	else if (rc < 0)
		c->out_err = c->lbl.out_err;
	c->out_bytes = c->lbl.out_bytes;
	return rc;
}

static int on_event(void *ctx, const struct tape_event *ev)
{
	struct cat *c = ctx;
	/* The first element decides: a VOL1 label makes a labelled tape. */
	if (c->mode == MODE_UNKNOWN &&
	    (ev->kind == TAPE_EV_RECORD || ev->kind == TAPE_EV_MARK)) {
		bool vol1 = ev->kind == TAPE_EV_RECORD &&
			    tape_label_kind(ev->data, ev->len) == TAPE_LABEL_VOL1;
		c->mode = vol1 && !c->raw ? MODE_LABELLED : MODE_PLAIN;
		if (c->mode == MODE_PLAIN && c->lbl.want_name[0]) {
			snprintf(c->lbl.err, sizeof(c->lbl.err), "%s has no ANSI labels "
				 "(its first record is no VOL1 label), so no file has a "
				 "name to match --name; --file N gives tape file N.",
				 c->lbl.shown);
			c->lbl_failed = true;
			return -EPROTO;
		}
	}
	if (c->mode == MODE_LABELLED)
		return on_labelled(c, ev);
	switch (ev->kind) {
	case TAPE_EV_MARK:
		c->pending++;
		/* On the last reel nothing will be dropped; elsewhere only the
		 * final two marks of a reel may be end-of-data padding. */
		while (c->pending > (c->last_reel ? 0u : 2u) && !c->done) {
			c->pending--;
			apply_mark(c);
		}
		return c->done ? -ECANCELED : 0;
	case TAPE_EV_RECORD:
		while (c->pending && !c->done) {
			c->pending--;
			apply_mark(c);
		}
		if (c->done)
			return -ECANCELED;
		if (c->eod) {
			/* Data after two marks: the second ended an empty file. */
			c->eod = false;
			if (c->file == c->want) {
				c->done = true;
				return -ECANCELED;
			}
			c->file++;
			c->recs = 0;
		}
		c->prev_mark = false;
		if (c->file > c->want) {
			c->past = true;
			return -ECANCELED;
		}
		c->recs++;
		if (c->file < c->want)
			return 0;
		if (c->records) {
			unsigned char len[4] = {
				(unsigned char)(ev->len), (unsigned char)(ev->len >> 8),
				(unsigned char)(ev->len >> 16), (unsigned char)(ev->len >> 24),
			};
			if ((c->out_err = reel_out_write(len, 4)) < 0)
				return c->out_err;
		}
		if ((c->out_err = reel_out_write(ev->data, ev->len)) < 0)
			return c->out_err;
		c->out_bytes += ev->len;
		return 0;
	case TAPE_EV_EOM:
	case TAPE_EV_ERROR:
		return 0;	/* the decoder's sticky error is read after push */
	}
	return 0;
}

enum { CAT_ERROR = -1, CAT_NEXT = 0, CAT_DONE = 1 };

/* Streams one reel through the decoder: CAT_NEXT to go on with the next
 * reel, CAT_DONE when file N is complete (or the reader went away),
 * CAT_ERROR after a message. */
static int cat_reel(struct cat *c, const struct ref *r)
{
	char err[XFER_ERRLEN];
	const char *url = r->url;
	struct reel_src *src = r->name && !c->home.remote ?
		reel_src_open_at(c->home.dirfd, r->name, url, err, sizeof(err)) :
		reel_src_open(url, c->xo, err, sizeof(err));
	if (!src) {
		reel_error("%s", err);
		return CAT_ERROR;
	}
	char *shown = reel_display(url);
	char *buf = malloc(REEL_CHUNK);
	struct tape_dec *d = NULL;
	int rc = CAT_ERROR;
	ssize_t n = 0;
	size_t have = 0;

	if (!buf || !shown) {
		reel_error("out of memory.");
		goto out;
	}
	cat_lbl_reel(&c->lbl, shown);
	if (c->set_note[0])
		reel_note("reading %s, %s.", shown, c->set_note);
	c->set_note[0] = '\0';
	/* A fair first sample for sniffing the format. */
	n = reel_src_fill(src, buf, REEL_SNIFF_BYTES);
	if (n < 0)
		goto io_error;
	have = (size_t)n;
	const struct tape_format *f = reel_pick_format(url, buf, have);
	if (!f) {
		reel_error("%s is not a tape image: its first bytes match none of the "
			   "formats %s.", shown, tape_format_names());
		goto out;
	}
	d = tape_dec_new(f, on_event, c);
	if (!d) {
		reel_error("out of memory.");
		goto out;
	}
	n = (ssize_t)have;
	uint64_t left = c->truncated ? c->valid : UINT64_MAX;
	while (n > 0) {
		if ((uint64_t)n > left)
			n = (ssize_t)left;
		left -= (uint64_t)n;
		int pr = tape_dec_push(d, buf, (size_t)n);
		if (pr == -ECANCELED)
			break;
		if (pr == -EPIPE && c->out_err == -EPIPE) {
			rc = CAT_DONE;	/* the reader went away: quietly */
			c->done = true;
			goto out;
		}
		if (pr < 0 && c->lbl_failed) {
			reel_error("%s", c->lbl.err);
			goto out;
		}
		if (pr < 0 && c->out_err) {
			reel_error("writing to stdout failed: %s.", strerror(-c->out_err));
			goto out;
		}
		if (pr < 0) {
			reel_error("%s is damaged: %s", shown, tape_dec_error(d));
			goto out;
		}
		if (left == 0)
			break;
		n = reel_src_read(src, buf, REEL_CHUNK);
		if (n < 0)
			goto io_error;
	}
	if (c->done || c->past) {
		rc = CAT_DONE;
		goto out;
	}
	if (tape_dec_end(d) < 0) {
		reel_error("%s is damaged: %s", shown, tape_dec_error(d));
		goto out;
	}
	if (c->mode == MODE_LABELLED) {
		int lr = cat_lbl_reel_end(&c->lbl, c->last_reel);
		if (lr < 0) {
			reel_error("%s", c->lbl.err);
			goto out;
		}
		rc = CAT_NEXT;
		goto out;
	}
	/* The end-of-data pair that finish added to this reel is not data:
	 * the tape file goes on on the next reel. */
	if (!c->last_reel && !c->truncated)
		c->pending -= c->pending < 2 ? c->pending : 2;
	rc = CAT_NEXT;
	goto out;
io_error:
	reel_error("%s", reel_src_error(src));
out:
	tape_dec_free(d);
	free(buf);
	free(shown);
	reel_src_close(src);
	return rc;
}

/* A prev/next name from a manifest: absolute names as they are, relative
 * ones beside the reel that names them. */
static char *resolve(const char *base, const char *name)
{
	if (reel_is_remote(name) || !strncmp(name, "file://", 7) || name[0] == '/')
		return strdup(name);
	return reel_sibling(base, name);
}

static void ref_free(struct ref *r)
{
	if (!r)
		return;
	free(r->url);
	free(r->name);
	free(r);
}

static struct ref *ref_new(const char *url)
{
	struct ref *r = calloc(1, sizeof(*r));
	if (r && !(r->url = strdup(url))) {
		free(r);
		r = NULL;
	}
	return r;
}

static int load(struct cat *c, const struct ref *r, struct tape_manifest *m,
		char *err, size_t errlen)
{
	if (r->name && !c->home.remote)
		return reel_manifest_load_at(c->home.dirfd, r->name, r->url, m, err,
					     errlen);
	return reel_manifest_load(r->url, c->xo, m, err, errlen);
}

/* The reel a link leads to, when it stays in the home directory; NULL
 * after a message naming the reel, the link and where it leads instead. */
static struct ref *follow(struct cat *c, const struct ref *from, const char *link)
{
	char why[128];
	struct ref *r = calloc(1, sizeof(*r));
	if (!r || !(r->url = resolve(from->url, link))) {
		reel_error("out of memory.");
		ref_free(r);
		return NULL;
	}
	r->linked = true;
	if (reel_home_check(&c->home, r->url, &r->name, why, sizeof(why)) == 0)
		return r;
	char *shown = reel_display(from->url), *where = reel_display(r->url);
	reel_error("%s: its manifest links to %s, %s; cat follows a storeset's "
		   "links only to reels in the directory of %s (for a URL: the "
		   "same server, login and directory). Name the reels in order "
		   "with --set to read them anyway.", shown, where, why, c->shown);
	free(shown);
	free(where);
	ref_free(r);
	return NULL;
}

/* Whether the reel `a` is the file `name` of the home directory. */
static bool same_reel(struct cat *c, const struct ref *a, const char *name)
{
	if (c->home.remote) {
		char *an = a->name ? strdup(a->name) : reel_basename(a->url);
		bool same = an && !strcmp(an, name);
		free(an);
		return same;
	}
	struct stat sa, sb;
	int ra;
	if (a->name) {
		ra = fstatat(c->home.dirfd, a->name, &sa, AT_SYMLINK_NOFOLLOW);
	} else {
		char *path = reel_local_path(a->url);
		ra = path ? stat(path, &sa) : -1;
		free(path);
	}
	return ra == 0 && fstatat(c->home.dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The reel linked from r's manifest (next or prev); NULL when none.
 * r came from the reel `from` through a link (NULL for the reel where the
 * walk starts). A reel reached through a link must have a manifest, of the
 * same storeset, with the reel number the link expects, and its link back
 * (when set) must name `from`. *failed is set after a message. */
static struct ref *linked(struct cat *c, const struct ref *r, bool next,
			  char *storeset, unsigned *expect_reel,
			  const struct ref *from, bool *failed)
{
	struct tape_manifest m;
	char err[XFER_ERRLEN] = "";
	int rc = load(c, r, &m, err, sizeof(err));
	char *shown = reel_display(r->url);
	struct ref *out = NULL;

	*failed = true;
	if (!shown) {
		reel_error("out of memory.");
		goto out_clear;
	}
	if (next)
		c->truncated = rc == 0 && m.truncated;
	if (next && rc == 0)
		note_set(c, &m);
	else if (next)
		c->set_note[0] = '\0';
	if (next && c->truncated)
		c->valid = m.truncated_at;
	if (rc == -ENOENT && r->linked) {
		reel_error("%s has no manifest, so nothing shows it belongs to "
			   "storeset %s; cat follows a link only to a reel whose "
			   "manifest names the same storeset and the next reel "
			   "number. Name the reels in order with --set to read them "
			   "anyway.", shown, storeset);
		goto out;
	}
	if (rc == -ENOENT) {
		*expect_reel = 0;
		*failed = false;
		goto out;
	}
	if (rc < 0) {
		/* The image itself may be fine: say how to read it anyway. */
		size_t n = strlen(err);
		if (n && err[n - 1] == '.')
			err[n - 1] = '\0';
		reel_error("%s; --single reads the image alone, without its "
			   "manifest's links.", err);
		goto out;
	}
	if (storeset[0] && strcmp(storeset, m.storeset)) {
		reel_error("%s belongs to storeset %s, not %s; the chain of reels is "
			   "broken.", shown, m.storeset, storeset);
		goto out_clear;
	}
	/* Reel numbers must step by one along the links, so a manifest that
	 * points back at itself (or in a circle) stops the walk at once. */
	if (*expect_reel && m.reel != *expect_reel) {
		reel_error("%s is reel %u, but the link to it expects reel %u; the "
			   "chain of reels is broken.", shown, m.reel, *expect_reel);
		goto out_clear;
	}
	/* The link back, when there is one, names the reel we came from. */
	const char *back = next ? m.prev_url : m.next_url;
	if (from && back) {
		char why[128], *bname = NULL, *burl = resolve(r->url, back);
		bool same = burl && reel_home_check(&c->home, burl, &bname, why,
						    sizeof(why)) == 0 &&
			    same_reel(c, from, bname);
		if (!same) {
			char *fs = reel_display(from->url);
			char *bs = burl ? reel_display(burl) : NULL;
			reel_error("%s names %s as its %s reel, not %s, which links to "
				   "it; the chain of reels is broken.", shown,
				   bs ? bs : "another", next ? "previous" : "next",
				   fs ? fs : "the reel");
			free(fs);
			free(bs);
		}
		free(bname);
		free(burl);
		if (!same)
			goto out_clear;
	}
	if ((next && m.reel == UINT_MAX) || (!next && m.reel == 1))
		*expect_reel = 0;
	else
		*expect_reel = next ? m.reel + 1 : m.reel - 1;
	snprintf(storeset, 40, "%s", m.storeset);
	/* Reel 1 starts the set, whatever its prev says. */
	const char *l = next ? m.next_url : (m.reel > 1 ? m.prev_url : NULL);
	if (l && !(out = follow(c, r, l)))
		goto out_clear;
	*failed = false;
out_clear:
	tape_manifest_clear(&m);
out:
	free(shown);
	return out;
}

/* --set: the reels are the user's choice, read where they are, but those
 * with a manifest must agree with each other: one storeset, reel numbers
 * stepping by one. A reel without one is read as it is. The manifest also
 * says where a reel cut by a full server ends (truncated_at). */
static int set_reel(struct cat *c, const char *url, char *storeset, unsigned *expect)
{
	struct tape_manifest m;
	char err[XFER_ERRLEN] = "";
	int rc = reel_manifest_load(url, c->xo, &m, err, sizeof(err));
	char *shown = NULL;

	c->truncated = false;
	c->set_note[0] = '\0';
	if (rc == -ENOENT) {
		*expect = 0;
		return 0;
	}
	if (rc < 0) {
		reel_error("%s", err);
		return -1;
	}
	rc = -1;
	if (!(shown = reel_display(url))) {
		reel_error("out of memory.");
	} else if (storeset[0] && strcmp(storeset, m.storeset)) {
		reel_error("%s belongs to storeset %s, not %s like the reel before it; "
			   "--set takes the reels of one storeset, in order.", shown,
			   m.storeset, storeset);
	} else if (*expect && m.reel != *expect) {
		reel_error("%s is reel %u, but comes where reel %u belongs; --set "
			   "takes the reels of one storeset, in order.", shown, m.reel,
			   *expect);
	} else {
		snprintf(storeset, 40, "%s", m.storeset);
		note_set(c, &m);
		*expect = m.reel == UINT_MAX ? 0 : m.reel + 1;
		c->truncated = m.truncated;
		c->valid = m.truncated_at;
		rc = 0;
	}
	free(shown);
	tape_manifest_clear(&m);
	return rc;
}

/* --single reads the image alone, but a reel a full server cut still
 * ends where its manifest says (truncated_at), not inside the record the
 * server kept part of. Without a readable manifest: the image as it is. */
static void single_reel(struct cat *c, const char *url)
{
	struct tape_manifest m;
	char err[XFER_ERRLEN] = "";
	if (reel_manifest_load(url, c->xo, &m, err, sizeof(err)) < 0)
		return;
	c->truncated = m.truncated;
	c->valid = m.truncated_at;
	tape_manifest_clear(&m);
}

static int finish(struct cat *c)
{
	int rc = reel_out_flush();
	if (rc == -EPIPE)
		return REEL_EXIT_OK;
	if (rc < 0) {
		reel_error("writing to stdout failed: %s.", strerror(-rc));
		return REEL_EXIT_FAIL;
	}
	if (c->mode == MODE_LABELLED) {
		if (cat_lbl_finish(&c->lbl) < 0) {
			reel_error("%s", c->lbl.err);
			return REEL_EXIT_FAIL;
		}
		if (c->lbl.partial)
			reel_note("only this reel was read (--single, or stdin): the "
				  "labelled file goes on beyond it (it begins on an "
				  "earlier reel, or ends with EOV labels); without "
				  "--single cat joins its sections from the storeset's "
				  "reels.");
		return REEL_EXIT_OK;
	}
	if (c->done || c->past || (c->file == c->want && c->recs > 0))
		return REEL_EXIT_OK;
	{
		uint64_t have = c->file - (c->recs ? 0 : 1);
		reel_error("there is no tape file %" PRIu64 ": the tape holds %" PRIu64
			   " file%s before its end of data.", c->want, have,
			   have == 1 ? "" : "s");
		return REEL_EXIT_FAIL;
	}
	return REEL_EXIT_OK;
}

int cmd_cat(int argc, char **argv)
{
	struct xfer_opts xo;
	struct cat c = { .want = 1, .file = 1, .home = { .dirfd = -1 } };
	struct reel_cli cli = {
		.cmd = "cat", .usage = cat_usage, .transfer = true,
		.opts = cat_opts, .fn = cat_opt, .ctx = &c, .xo = &xo,
	};
	char storeset[40] = "";
	char err[XFER_ERRLEN];
	struct ref *r = NULL, *from = NULL;
	unsigned expect = 0;
	bool failed = false;
	int rc;

	xfer_opts_init(&xo);
	c.cli = &cli;
	c.xo = &xo;
	rc = reel_cli_parse(&cli, argc, argv);
	if (rc >= 0)
		goto out;
	if (cli.npos == 0) {
		rc = reel_usage_error(&cli, "name the image to read (a file or a URL)");
		goto out;
	}
	if (cli.npos > 1 && !c.set) {
		rc = reel_usage_error(&cli, "give one image, or several with --set");
		goto out;
	}
	if (c.lbl.want_name[0] && (c.file_given || c.raw)) {
		rc = reel_usage_error(&cli, "--name picks a labelled file by name; it "
				      "goes with neither --file nor --raw");
		goto out;
	}
	c.lbl.want_seq = c.file_given ? c.want : 0;
	c.lbl.records = c.records;
	rc = REEL_EXIT_FAIL;
	if (c.set) {
		for (int i = 0; i < cli.npos && !c.done && !c.past; i++) {
			struct ref one = { .url = cli.pos[i] };
			c.last_reel = i + 1 == cli.npos;
			if (set_reel(&c, one.url, storeset, &expect) < 0 ||
			    cat_reel(&c, &one) == CAT_ERROR)
				goto fail;
		}
		rc = finish(&c);
		goto out;
	}
	/* stdin has no manifest beside it to follow. */
	if (!strcmp(cli.pos[0], "-"))
		c.single = true;
	c.lbl.one_reel = c.single;
	if (!(r = ref_new(cli.pos[0])) || !(c.shown = reel_display(cli.pos[0]))) {
		reel_error("out of memory.");
		goto out;
	}
	if (!c.single && reel_home_open(&c.home, r->url, &xo, err, sizeof(err)) < 0) {
		reel_error("%s", err);
		goto out;
	}
	if (!c.single) {
		/* From the first reel, whichever one was named. */
		for (int hops = 0;; hops++) {
			struct ref *prev = linked(&c, r, false, storeset, &expect, from,
						  &failed);
			if (failed)
				goto out;
			if (!prev)
				break;
			if (hops >= CAT_MAX_REELS) {
				ref_free(prev);
				reel_error("the storeset's prev links go round in a circle.");
				goto out;
			}
			ref_free(from);
			from = r;
			r = prev;
		}
	}
	ref_free(from);
	from = NULL;
	expect = 0;
	for (int hops = 0; r; hops++) {
		struct ref *next = NULL;
		if (!c.single) {
			next = linked(&c, r, true, storeset, &expect, from, &failed);
			if (failed)
				goto fail;
		}
		if (hops >= CAT_MAX_REELS) {
			ref_free(next);
			reel_error("the storeset's next links go round in a circle.");
			goto fail;
		}
		c.last_reel = next == NULL;
		if (c.single && strcmp(cli.pos[0], "-"))
			single_reel(&c, r->url);
		int cr = cat_reel(&c, r);
		ref_free(from);
		from = r;
		r = next;
		if (cr == CAT_ERROR)
			goto fail;
		if (cr == CAT_DONE)
			break;
	}
	rc = finish(&c);
	goto out;
fail:
	/* What came before the failure is written out; the status says the
	 * rest is missing. */
	(void)reel_out_flush();	/* a write error adds nothing to it */
out:
	ref_free(r);
	ref_free(from);
	reel_home_close(&c.home);
	free(c.shown);
	free(cli.pos);
	xfer_opts_free(&xo);
	return rc;
}

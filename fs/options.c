/*
 * options.c - parses reelfs's options from a fuse_opt table (offsetof into
 * struct rfs_opts), so every option works as --key=value on the command
 * line and as -o key=value from mount(8) and /etc/fstab. Transfer options
 * are not listed here: they are forwarded to xfer_opts_set, which owns
 * them. It must never print or keep a password given on the command line.
 */
#include "options.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "log.h"
#include "magazine.h"
#include "manifest.h"
#include "reclimit.h"
#include "safetext.h"

#define RFS_OPT(t, p) { t, offsetof(struct rfs_opts, p), 1 }
#define RFS_BOTH(name, p) RFS_OPT(name "=%s", p), RFS_OPT("--" name "=%s", p)

enum { KEY_HELP, KEY_VERSION };

static const struct fuse_opt rfs_opt_table[] = {
	RFS_BOTH("format", format_name),
	RFS_BOTH("block-size", block_size_str),
	RFS_BOTH("capacity", capacity_str),
	RFS_BOTH("next", next),
	RFS_BOTH("storeset", storeset),
	RFS_BOTH("prev", prev),
	RFS_BOTH("next-url", next_url),
	RFS_BOTH("reel", reel_str),
	RFS_BOTH("changer", changer),
	RFS_OPT("magazine", magazine), RFS_OPT("--magazine", magazine),
	RFS_OPT("append", append), RFS_OPT("--append", append),
	{ "read", offsetof(struct rfs_opts, read), 1 },
	{ "--read", offsetof(struct rfs_opts, read), 1 },
	RFS_BOTH("label", label),
	RFS_BOTH("handover", handover),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_END
};

/* key=value (or a bare key) to the transfer options. Returns 0 when taken,
 * 1 when it is not a transfer option, -1 after logging a bad value. */
static int rfs_forward(struct rfs_opts *o, const char *kv)
{
	char key[64];
	const char *eq = strchr(kv, '=');
	size_t n = eq ? (size_t)(eq - kv) : strlen(kv);
	if (n == 0 || n >= sizeof(key))
		return 1;
	memcpy(key, kv, n);
	key[n] = '\0';
	/* "-o debug" is libfuse's own switch; --debug=LEVEL is ours. */
	if (!eq && strcmp(key, "debug") == 0)
		return 1;
	char err[XFER_ERRLEN] = "";
	int rc = xfer_opts_set(&o->xfer, key, eq ? eq + 1 : NULL, err, sizeof(err));
	if (rc < 0) {
		rlog(RLOG_ERR, "%s", err[0] ? err : "bad transfer option");
		o->errors++;
		return -1;
	}
	if (rc == 0 && strcmp(key, "replay") == 0)
		o->replay_given = 1;
	return rc;
}

static int rfs_opt_proc(void *data, const char *arg, int key,
			struct fuse_args *outargs)
{
	struct rfs_opts *o = data;
	(void)outargs;
	switch (key) {
	case KEY_HELP:
		o->help = 1;
		return 0;
	case KEY_VERSION:
		o->version = 1;
		return 0;
	case FUSE_OPT_KEY_NONOPT:
		if (!o->url) {
			o->url = strdup(arg);
			return 0;
		}
		return 1;	/* the mountpoint, for fuse_parse_cmdline */
	case FUSE_OPT_KEY_OPT:
		if (strncmp(arg, "--", 2) == 0) {
			int rc = rfs_forward(o, arg + 2);
			if (rc == 1) {
				rlog(RLOG_ERR, "unknown option %.*s; see reelfs --help.",
				     (int)strcspn(arg, "="), arg);
				o->errors++;
			}
			return 0;
		}
		if (arg[0] == '-')
			return 1;	/* -f, -d, -s and friends: libfuse's */
		int rc = rfs_forward(o, arg);
		return rc == 1 ? 1 : 0;	/* kernel mount options pass on */
	}
	return 1;
}

/* Our own options that take a value, for the "--key VALUE" form. */
static bool rfs_takes_value(const char *key)
{
	static const char *const keys[] = { "format", "block-size", "capacity",
		"next", "storeset", "prev", "next-url", "reel", "changer", "label",
		"handover" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return xfer_opts_takes_value(key);
}

/* "--key VALUE" becomes "--key=VALUE" (what the transfer options' help
 * shows), so both forms work; fuse_opt only knows the joined one. */
static int rfs_join_values(struct fuse_args *args)
{
	struct fuse_args out = FUSE_ARGS_INIT(0, NULL);
	for (int i = 0; i < args->argc; i++) {
		const char *a = args->argv[i];
		int rc;
		if (i > 0 && strncmp(a, "--", 2) == 0 && a[2] && !strchr(a, '=') &&
		    i + 1 < args->argc && rfs_takes_value(a + 2)) {
			size_t n = strlen(a) + strlen(args->argv[i + 1]) + 2;
			char *kv = malloc(n);
			if (!kv) {
				fuse_opt_free_args(&out);
				return -ENOMEM;
			}
			snprintf(kv, n, "%s=%s", a, args->argv[i + 1]);
			rc = fuse_opt_add_arg(&out, kv);
			free(kv);
			i++;
		} else {
			rc = fuse_opt_add_arg(&out, a);
		}
		if (rc) {
			fuse_opt_free_args(&out);
			return -ENOMEM;
		}
	}
	fuse_opt_free_args(args);
	*args = out;
	return 0;
}

/* A reel number: decimal, 1 to UINT_MAX (the manifest's range). */
static int rfs_parse_reel(const char *s, unsigned *out)
{
	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
		return -EINVAL;
	unsigned long long n = strtoull(s, NULL, 10);
	if (n == 0 || n > UINT_MAX)
		return -EINVAL;
	*out = (unsigned)n;
	return 0;
}

/* A storeset id goes into the manifest (at most 39 bytes) and into
 * messages and listings: refuse one that would be cut, and control
 * characters (C0, DEL, and C1 as UTF-8), which the manifest reader
 * refuses too. */
static int rfs_check_storeset(const char *id)
{
	size_t n = strlen(id);
	const size_t max = sizeof(((struct tape_manifest *)0)->storeset) - 1;
	if (n == 0 || n > max) {
		rlog(RLOG_ERR, "--storeset=%.*s%s is %zu bytes; a storeset id is "
		     "1 to %zu bytes (the manifest's field).", (int)(n > 60 ? 60 : n),
		     id, n > 60 ? "..." : "", n, max);
		return -EINVAL;
	}
	/* safetext decides what is printable (ftp/safetext.h); a byte
	 * outside UTF-8 counts too, since the reader refuses it. */
	size_t bad = safetext_find(id, n);
	if (bad < n) {
		rlog(RLOG_ERR, "--storeset holds a control character or a byte "
		     "that is not UTF-8 (byte %zu); give an id of printable "
		     "characters.", bad + 1);
		return -EINVAL;
	}
	return 0;
}

/* A URL that a manifest names (this reel's is the prev of the next, and
 * --prev, --next-url go in as they are): no control character, which the
 * manifest reader refuses; a byte the name needs can be given as %XX. */
static int rfs_check_link(const char *what, const char *url)
{
	size_t n = url ? strlen(url) : 0;
	size_t bad = url ? safetext_find_control(url, n) : 0;
	if (bad < n) {
		rlog(RLOG_ERR, "%s holds a control character (byte %zu); give it "
		     "%%-escaped (%%1B for ESC).", what, bad + 1);
		return -EINVAL;
	}
	return 0;
}

/* Whether dir is the mount point of a reelfs mount in /proc/mounts (its
 * type fuse.reelfs). Mount points there escape space, tab, newline and
 * backslash as \ooo octal. */
static bool rfs_is_reelfs_mount(const char *dir)
{
	FILE *f = fopen("/proc/mounts", "re");
	if (!f)
		return false;
	char line[8192];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		char *mp = sp + 1, *type = strchr(mp, ' ');
		if (!type)
			continue;
		*type++ = '\0';
		char *w = mp;
		for (char *r = mp; *r; r++) {
			if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' &&
			    r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
				*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 +
					      (r[3] - '0'));
				r += 3;
			} else {
				*w++ = *r;
			}
		}
		*w = '\0';
		found = strcmp(mp, dir) == 0 &&
			strncmp(type, "fuse.reelfs ", 12) == 0;
	}
	fclose(f);
	return found;
}

#define RFS_FUSE_SUPER_MAGIC 0x65735546

/* --next must be the tape of another reelfs mount, mounted already (the
 * later reels are mounted first): the hand-over of the storeset and the
 * chain's finishing need a reelfs drive there. */
static int rfs_check_next(const char *opt, const char *path)
{
	const char *why = NULL;
	char *real = realpath(path, NULL);
	if (!real) {
		rlog(RLOG_ERR, "--%s=%s cannot be used: %s; mount the next reel "
		     "first and give its MOUNTPOINT/tape.", opt, path, strerror(errno));
		return -EINVAL;
	}
	char *slash = strrchr(real, '/');
	struct stat st;
	struct statfs sf;
	char status[PATH_MAX + 8];
	*slash = '\0';
	const char *dir = slash == real ? "/" : real;
	snprintf(status, sizeof(status), "%s/status", dir);
	if (strcmp(slash + 1, "tape") != 0)
		why = "it is not named tape";
	else if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		why = "it is not the regular file a reelfs tape is";
	else if (statfs(dir, &sf) < 0 || sf.f_type != RFS_FUSE_SUPER_MAGIC ||
		 !rfs_is_reelfs_mount(dir))
		why = "its directory is not a reelfs mount";
	else if (stat(status, &st) < 0 || !S_ISREG(st.st_mode))
		why = "its directory has no status file";
	free(real);
	if (why) {
		rlog(RLOG_ERR, "--%s=%s is not the tape of a reelfs mount (%s); "
		     "mount the next reel first and give its MOUNTPOINT/tape.",
		     opt, path, why);
		return -EINVAL;
	}
	return 0;
}

/* --magazine makes the URL a template; the magazine names its reels, so
 * the storeset facts of single reels do not go with it. */
static int rfs_check_magazine(struct rfs_opts *o)
{
	if (!o->magazine) {
		if (o->append || o->changer) {
			rlog(RLOG_ERR, "--%s needs --magazine (a URL template "
			     "with %%d for the slot number).",
			     o->append ? "append" : "changer");
			return -EINVAL;
		}
		return 0;
	}
	char err[XFER_ERRLEN];
	if (mag_template_check(o->url, err, sizeof(err)) < 0) {
		rlog(RLOG_ERR, "%s; nothing was mounted.", err);
		return -EINVAL;
	}
	const char *bad = o->next ? "--next" : o->reel_str ? "--reel" :
			  o->prev ? "--prev" : o->next_url ? "--next-url" : NULL;
	if (bad) {
		rlog(RLOG_ERR, "--magazine loads its reels itself (slot N holds "
		     "reel N, linked to the slots beside it), so %s cannot be "
		     "given with it.", bad);
		return -EINVAL;
	}
	if (o->changer && strcmp(o->changer, "auto") != 0 &&
	    strcmp(o->changer, "manual") != 0) {
		rlog(RLOG_ERR, "--changer=%.40s: give auto (a full reel loads "
		     "the next by itself) or manual (a full reel is the end of "
		     "the tape; mt offline loads the next).", o->changer);
		return -EINVAL;
	}
	o->changer_manual = o->changer && strcmp(o->changer, "manual") == 0;
	return 0;
}

int rfs_opts_parse(struct rfs_opts *o, struct fuse_args *args)
{
	xfer_opts_init(&o->xfer);
	if (rfs_join_values(args) < 0) {
		rlog(RLOG_ERR, "out of memory.");
		return -ENOMEM;
	}
	if (fuse_opt_parse(args, o, rfs_opt_table, rfs_opt_proc) < 0) {
		rlog(RLOG_ERR, "the command line could not be parsed.");
		return -EINVAL;
	}
	if (o->errors)
		return -EINVAL;
	if (o->help || o->version)
		return 0;
	if (!o->url) {
		rlog(RLOG_ERR, "no URL given: usage is reelfs [options] URL MOUNTPOINT.");
		return -EINVAL;
	}
	if (o->format_name) {
		o->format = tape_format_by_name(o->format_name);
		if (!o->format) {
			rlog(RLOG_ERR, "unknown format \"%s\"; use one of %s.",
			     o->format_name, tape_format_names());
			return -EINVAL;
		}
	} else {
		o->format = tape_format_from_path(o->url);
		if (!o->format)
			o->format = tape_format_default();
	}
	uint64_t v = 0;
	if (o->block_size_str) {
		size_t max = rfs_max_record(o->format);
		if (xfer_parse_size(o->block_size_str, &v) < 0 || v > max) {
			rlog(RLOG_ERR, "--block-size=%s is not a size from 0 to %zu "
			     "bytes (the largest record for %s).",
			     o->block_size_str, max, tape_format_name(o->format));
			return -EINVAL;
		}
		o->block_size = (size_t)v;
	}
	if (o->capacity_str) {
		if (xfer_parse_size(o->capacity_str, &v) < 0) {
			rlog(RLOG_ERR, "--capacity=%s is not a size (like 20M or 4G).",
			     o->capacity_str);
			return -EINVAL;
		}
		o->capacity = v;
		o->xfer.size_hint = v;	/* s3:// sizes its parts to it */
	}
	if (o->reel_str && rfs_parse_reel(o->reel_str, &o->reel) < 0) {
		rlog(RLOG_ERR, "--reel=%s is not a reel number from 1 to %u.",
		     o->reel_str, UINT_MAX);
		return -EINVAL;
	}
	if (o->storeset && rfs_check_storeset(o->storeset) < 0)
		return -EINVAL;
	if (rfs_check_link("the URL", o->url) < 0 ||
	    rfs_check_link("--prev", o->prev) < 0 ||
	    rfs_check_link("--next-url", o->next_url) < 0)
		return -EINVAL;
	if (o->replay_given && o->xfer.replay_size >= o->xfer.buffer_size) {
		rlog(RLOG_ERR, "--replay (%" PRIu64 " bytes) must be smaller than "
		     "--buffer (%" PRIu64 " bytes): the replay window is kept "
		     "inside the buffer; give a smaller --replay or a larger "
		     "--buffer.", o->xfer.replay_size, o->xfer.buffer_size);
		return -EINVAL;
	}
	if (rfs_check_magazine(o) < 0)
		return -EINVAL;
	if (o->read && o->append) {
		rlog(RLOG_ERR, "--append is for writing after a magazine's last "
		     "reel; --read --magazine reads its reels from the first.");
		return -EINVAL;
	}
	if (o->read && (o->next || o->capacity_str || o->storeset || o->prev ||
			o->next_url || o->reel_str)) {
		rlog(RLOG_ERR, "--read loads an existing tape: --next, --capacity, "
		     "--storeset, --reel, --prev and --next-url are for writing one.");
		return -EINVAL;
	}
	if (o->next && rfs_check_next("next", o->next) < 0)
		return -EINVAL;
	if (o->next && o->handover) {
		rlog(RLOG_ERR, "--next and --handover exclude each other: --next "
		     "goes on writing to the next reel itself, --handover lets the "
		     "tool (tar -M) switch to it; give one.");
		return -EINVAL;
	}
	if (o->handover && (o->magazine || o->read)) {
		rlog(RLOG_ERR, "--handover is for a reel written alone (the next "
		     "volume is another mount); a magazine changes reels itself, "
		     "and --read writes nothing.");
		return -EINVAL;
	}
	if (o->handover && rfs_check_next("handover", o->handover) < 0)
		return -EINVAL;
	if (o->label && o->read) {
		rlog(RLOG_ERR, "--label is for writing labelled tapes; --read "
		     "reads a tape as it is.");
		return -EINVAL;
	}
	if (o->label && (!o->label[0] || strlen(o->label) > 6)) {
		rlog(RLOG_ERR, "--label=%s is not a volume id: give 1 to 6 "
		     "characters (letters and digits; lower case is made upper "
		     "case).", o->label);
		return -EINVAL;
	}
	return 0;
}

void rfs_opts_free(struct rfs_opts *o)
{
	free(o->url);
	free(o->format_name);
	free(o->block_size_str);
	free(o->capacity_str);
	free(o->next);
	free(o->storeset);
	free(o->prev);
	free(o->next_url);
	free(o->reel_str);
	free(o->changer);
	free(o->label);
	free(o->handover);
	xfer_opts_free(&o->xfer);
}

void rfs_opts_help(const char *prog)
{
	printf("usage: %s [options] URL MOUNTPOINT\n"
	       "   or: mount -t fuse.reelfs URL MOUNTPOINT -o key=value,...\n\n"
	       "MOUNTPOINT/tape is a tape drive whose records stream to URL as a\n"
	       "tape image; MOUNTPOINT/status shows how it goes.\n\n"
	       "Every option works as --key=value (or --key value) and as\n"
	       "-o key=value:\n"
	       "  --format=NAME       image format: %s (default: from the\n"
	       "                      URL's extension, else mtd)\n"
	       "  --block-size=N      fixed records of N bytes (0: one write()\n"
	       "                      is one record; the default)\n"
	       "  --capacity=SIZE     end of tape after SIZE image bytes (K/M/G/T)\n"
	       "  --next=PATH         once full, go on writing to PATH (the next\n"
	       "                      reel's tape file)\n"
	       "  --label=VOLID       ANSI labelled tape files (VMS): VOL1 VOLID,\n"
	       "                      MOUNTPOINT/files/NAME writes the file NAME\n"
	       "  --handover=PATH     once full, tell PATH (the next volume's tape,\n"
	       "                      that tar -M goes on to) what it continues\n"
	       "  --storeset=ID --reel=N --prev=URL --next-url=URL\n"
	       "                      storeset facts recorded in the manifest\n"
	       "  --magazine          URL is a template with %%d (or %%03d): one\n"
	       "                      mount, a magazine of reels in slots 1, 2...\n"
	       "  --changer=MODE      auto: a full reel loads the next (default);\n"
	       "                      manual: a full reel is end of tape, and\n"
	       "                      `mt offline` loads the next\n"
	       "  --append            go on after the magazine's last reel\n"
	       "  --read              load the existing image at URL for reading\n"
	       "                      (tar -x, restore, dd, mt fsf...); a storeset\n"
	       "                      reads on across its reels\n"
	       "  -f                  stay in the foreground (summary at the end)\n"
	       "  -d                  FUSE debug output (implies -f)\n"
	       "Transfer options:\n%s\n",
	       prog, tape_format_names(), xfer_opts_help());
}

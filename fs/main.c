/*
 * main.c - `reelfs [options] URL MOUNTPOINT`: parses options, does every
 * check that can fail before data (through vol_open: login, directory,
 * overwrite policy) before anything is mounted, mounts, serves FUSE until
 * unmount or a signal, finishes the volume and says how it went.
 *
 * Daemonizing: the process forks FIRST (unless -f) and the parent waits on
 * a pipe for one byte from the child: mounted, or failed (the child has
 * already printed its one sentence on the shared stderr). So the upload
 * thread that vol_open starts lives in the final process, every check
 * happens before the mount appears, and the parent's exit status tells
 * mount(8) the truth. The exit status is 0 only when every reel this
 * drive wrote was published (and verified when asked).
 *
 * It must never put a password in argv, a log line or the summary.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "drive_lbl.h"
#include "fuseio.h"
#include "landing.h"
#include "loop.h"
#include "log.h"
#include "magazine.h"
#include "ops.h"
#include "options.h"
#include "append.h"
#include "rdrive.h"
#include "readmode.h"

/* Descriptors inherited from whoever started us (tar's TAR_FD pipe, a
 * script's) are closed first thing, before any thread: a daemon that kept
 * a pipe's write end open would keep its reader waiting forever. Only
 * 0-2 stay, and a mount point passed as /dev/fd/N. */
static void rfs_close_inherited(int argc, char **argv)
{
	unsigned keep = 0;
	for (int i = 1; i < argc; i++) {
		unsigned n;
		char c;
		if (sscanf(argv[i], "/dev/fd/%u%c", &n, &c) == 1 && n > 2)
			keep = n;
	}
	if (keep) {
		if (keep > 3)
			close_range(3, keep - 1, 0);
		close_range(keep + 1, ~0U, 0);
	} else {
		close_range(3, ~0U, 0);
	}
}

/* Why the mount point cannot be used, before anything is set up (a
 * regular file would give an unusable mount that publishes an empty
 * "complete" image). 0 when it is a directory. */
static int rfs_check_mountpoint(const char *mp)
{
	struct stat st;
	if (strncmp(mp, "/dev/fd/", 8) == 0)
		return 0;
	if (stat(mp, &st) < 0) {
		rlog(RLOG_ERR, "the mount point %s cannot be used (%s); nothing "
		     "was mounted.", mp, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		rlog(RLOG_ERR, "the mount point %s is not a directory; mount "
		     "reelfs on an empty directory. Nothing was mounted.", mp);
		return -1;
	}
	return 0;
}

/* The signal that stops the daemon (0: none yet), and what the main
 * thread decides about it before the workers stop. */
static volatile sig_atomic_t rfs_signalled;
static struct fuse_session *volatile rfs_single_se;	/* -s: no pool */

static void rfs_on_signal(int sig)
{
	rfs_signalled = sig;
	if (rfs_single_se)
		fuse_session_exit(rfs_single_se);
	else
		rfs_loop_wake();
}

static int rfs_set_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = rfs_on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGHUP, &sa, NULL) < 0) {
		rlog(RLOG_ERR, "cannot install the signal handlers: %s.",
		     strerror(errno));
		return -1;
	}
	return 0;
}

struct rfs_stop {
	struct drv *drv;
	bool abandoned;		/* interrupted: the reel stays NAME.part */
};

/* A signal while a writer holds the tape with records since its last
 * mark must not publish what is, to its writer, an unfinished archive.
 * A writer that has just closed gets its release (and mark) first. */
static void rfs_before_stop(void *arg)
{
	struct rfs_stop *s = arg;
	int sig = rfs_signalled;
	if (!sig || !s->drv)
		return;		/* unmounted, or a read mount */
	drv_request_stop(s->drv);
	drv_wait_release(s->drv, 2000);
	uint64_t n;
	if (!drv_writer_unmarked(s->drv, &n))
		return;
	struct vol *v = drv_vol_hold(s->drv);	/* a magazine changes it */
	char *base = xfer_url_basename(vol_url(v));
	rlog(RLOG_ERR, "%s: interrupted (%s) while a writer had the tape open "
	     "with %" PRIu64 " record%s since the last tape mark; the reel "
	     "stays %s.part and is not published.", vol_url(v),
	     strsignal(sig), n, n == 1 ? "" : "s", base ? base : "NAME");
	free(base);
	vol_abort(v);
	drv_vol_unhold(s->drv);
	s->abandoned = true;
}

/* Child to parent through the pipe. */
enum { READY_OK = 'k', READY_FAIL = 'f' };

static int rfs_fork(int *ready_fd)
{
	int p[2];
	if (pipe(p) < 0) {
		rlog(RLOG_ERR, "cannot create a pipe to daemonize: %s.", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		rlog(RLOG_ERR, "cannot fork to daemonize: %s.", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		char c = READY_FAIL;
		ssize_t n;
		do
			n = read(p[0], &c, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1) {
			int st;
			waitpid(pid, &st, 0);
		}
		_exit(n == 1 && c == READY_OK ? 0 : 1);
	}
	close(p[0]);
	*ready_fd = p[1];
	return 0;
}

static void rfs_ready(int *ready_fd, char c)
{
	if (*ready_fd < 0)
		return;
	if (write(*ready_fd, &c, 1) != 1)
		rlog(RLOG_WARN, "could not tell the parent process how mounting went.");
	close(*ready_fd);
	*ready_fd = -1;
}

/* The daemon's stdio goes to /dev/null and its log to syslog. */
static void rfs_detach(void)
{
	/* Only now: until the mount is up the terminal is still ours, for a
	 * password prompt. */
	if (setsid() < 0)
		rlog(RLOG_WARN, "setsid failed: %s.", strerror(errno));
	int fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	if (chdir("/") < 0)
		rlog(RLOG_WARN, "chdir / failed.");
	rlog_use_syslog();
}

/* Foreground log lines say how bad they are, so a reader (and the tests)
 * can tell a failure from progress. */
static void rfs_stderr_sink(void *ctx, enum rlog_level level, const char *msg)
{
	(void)ctx;
	static const char *const tag[] = { "error: ", "warning: ", "", "debug: " };
	fprintf(stderr, "reelfs: %s%s\n", tag[level], msg);
}

static void rfs_summary(struct vol *v, bool ok)
{
	struct vol_status s;
	vol_get_status(v, &s);
	char line[256];
	xfer_summary(&s.xfer, line, sizeof(line));
	struct rusage ru;
	double cpu = 0;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		      (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	fprintf(stderr, "reelfs: %s: %s; %" PRIu64 " files, %" PRIu64
		" records; elapsed %.1f s, CPU %.1f s; %s.\n", vol_url(v), line,
		s.counts.files, s.counts.records, s.xfer.elapsed, cpu,
		ok ? "published" : "NOT published");
}

/* Names the mount in /proc/mounts as fuse.reelfs with the URL (without
 * password) as its source, unless mount.fuse3 or the user already did. */
static int rfs_name_mount(struct fuse_args *args, const char *url)
{
	bool has_fsname = false, has_subtype = false;
	for (int i = 0; i < args->argc; i++) {
		has_fsname |= strstr(args->argv[i], "fsname=") != NULL;
		has_subtype |= strstr(args->argv[i], "subtype=") != NULL;
	}
	char *opts = NULL;
	int rc = 0;
	if (!has_subtype)
		rc = fuse_opt_add_opt(&opts, "subtype=reelfs");
	if (!rc && !has_fsname) {
		char *shown = xfer_url_display(url);
		size_t n = shown ? strlen(shown) + 8 : 0;
		char *kv = shown ? malloc(n) : NULL;
		if (kv) {
			snprintf(kv, n, "fsname=%s", shown);
			rc = fuse_opt_add_opt_escaped(&opts, kv);
		}
		free(kv);
		free(shown);
	}
	if (!rc && opts)
		rc = fuse_opt_add_arg(args, "-o") || fuse_opt_add_arg(args, opts);
	free(opts);
	if (rc) {
		rlog(RLOG_ERR, "out of memory.");
		return -ENOMEM;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct rfs_opts o;
	struct fuse_cmdline_opts fo;
	struct fuse_session *se = NULL;
	struct vol *vol = NULL;
	struct drv *drv = NULL;
	struct mag *mag = NULL;
	struct rfs_ctx ctx;
	int ready_fd = -1, ret = 1;
	bool mounted = false;	/* served: finish the volume on the way out */
	char err[XFER_ERRLEN] = "";

	rfs_close_inherited(argc, argv);
	/* Before the fork and any thread: undumpable, no core, and
	 * REELFS_PASSWORD out of the environment (and /proc/PID/environ);
	 * creds.c keeps the one copy for every later login. */
	xfer_secrets_init();
	memset(&o, 0, sizeof(o));
	memset(&fo, 0, sizeof(fo));
	memset(&ctx, 0, sizeof(ctx));
	rlog_set_program("reelfs");
	rlog_set_sink(rfs_stderr_sink, NULL);
	if (rfs_opts_parse(&o, &args) < 0)
		goto out_opts;
	if (o.help) {
		rfs_opts_help(argv[0]);
		ret = 0;
		goto out_opts;
	}
	if (o.version) {
		printf("reelfs %s\n", REELFS_VERSION);
		ret = 0;
		goto out_opts;
	}
	if (rfs_name_mount(&args, o.url) < 0)
		goto out_opts;
	/* The drive is its owner's: the kernel enforces tape's 0600 (and
	 * status's 0444) at open, so -o allow_other shares what the modes
	 * allow and no more; ops.c checks the caller again (access.c). */
	if (fuse_opt_add_arg(&args, "-odefault_permissions") != 0) {
		rlog(RLOG_ERR, "out of memory.");
		goto out_opts;
	}
	if (fuse_parse_cmdline(&args, &fo) != 0)
		goto out_opts;
	if (!fo.mountpoint) {
		rlog(RLOG_ERR, "no MOUNTPOINT given: usage is reelfs [options] "
		     "URL MOUNTPOINT.");
		goto out_cmdline;
	}
	if (rfs_check_mountpoint(fo.mountpoint) < 0)
		goto out_cmdline;
	if (o.xfer.debug != XFER_DEBUG_NONE)
		rlog_set_level(RLOG_DEBUG);

	if (!fo.foreground && rfs_fork(&ready_fd) < 0)
		goto out_cmdline;

	/* Upload threads must not take SIGINT/SIGTERM: the FUSE loop does. */
	sigset_t all, old;
	sigfillset(&all);
	if (o.read) {
		/* A read mount: the loaded tape, no volume, no writing drive.
		 * A magazine's reels are read from its first slot: following
		 * their manifests (auto), or one at a time, changed by mt
		 * offline (manual). */
		char *first = NULL;
		if (o.magazine) {
			struct vol_config rvc = { .url = o.url, .xfer = &o.xfer };
			struct mag_config mc = {
				.template = o.url, .vol = &rvc, .read = true,
				.mode = o.changer_manual ? MAG_MANUAL : MAG_AUTO,
			};
			mag = mag_open(&mc, err, sizeof(err));
			first = mag ? mag_read_first(mag) : NULL;
			if (!first) {
				rlog(RLOG_ERR, "%s; nothing was mounted.",
				     err[0] ? err : "out of memory");
				goto out_ready;
			}
		}
		struct rdrive_config rc = {
			.url = first ? first : o.url, .xo = &o.xfer,
			.single = mag && o.changer_manual,
			.format = o.format_name ? o.format : NULL,
			.block_size = o.block_size, .max_request = 1u << 20,
		};
		pthread_sigmask(SIG_BLOCK, &all, &old);
		ctx.rd = rdrive_open(&rc, err, sizeof(err));
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		free(first);
		if (!ctx.rd) {
			rlog(RLOG_ERR, "%s; nothing was mounted.", err);
			goto out_ready;
		}
		if (mag && o.changer_manual) {
			struct rdrive_changer ch = {
				.next_url = mag_read_next_url,
				.loaded = mag_read_loaded, .ctx = mag,
			};
			rdrive_set_changer(ctx.rd, &ch);
		}
		goto have_drive;
	}
	pthread_sigmask(SIG_BLOCK, &all, &old);
	/* With --next, the manifest names the next reel only once this reel
	 * spills into it (chain.c learns its URL then), unless --next-url. */
	struct vol_config vc = {
		.url = o.url,
		.xfer = &o.xfer,
		.format = o.format,
		.capacity = o.capacity,
		.storeset_id = o.storeset,
		.reel = o.reel,
		.prev_url = o.prev,
		.next_url = o.next_url,
	};
	if (o.magazine) {
		/* The URL is a template: the magazine picks the slot. */
		struct mag_config mc = {
			.template = o.url, .vol = &vc, .append = o.append,
			.mode = o.changer_manual ? MAG_MANUAL : MAG_AUTO,
			.storeset = o.storeset,
		};
		mag = mag_open(&mc, err, sizeof(err));
		vol = mag ? mag_open_first(mag, err, sizeof(err)) : NULL;
	} else {
		vol = vol_open(&vc, err, sizeof(err));
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!vol) {
		rlog(RLOG_ERR, "%s", err);
		goto out_ready;
	}
	struct drv_config dc = {
		.vol = vol,
		.next_path = o.next,
		.block_size = o.block_size,
		.max_request = 1u << 20,
		.mag = mag,
	};
	drv = drv_new(&dc);
	if (!drv) {
		rlog(RLOG_ERR, "out of memory setting up the tape drive.");
		goto out_vol;
	}
	if (drv_lbl_setup(drv, o.label, o.handover, err, sizeof(err)) < 0) {
		rlog(RLOG_ERR, "%s; nothing was mounted.", err);
		goto out_drv;
	}
have_drive:
	ctx.mag = mag;
	ctx.vol = vol;
	ctx.drv = drv;
	ctx.url = o.url;
	ctx.xo = &o.xfer;
	ctx.uid = getuid();
	ctx.gid = getgid();
	ctx.mtime = time(NULL);
	ctx.max_write = 1u << 20;
	se = fuse_session_new(&args, &rfs_ops, sizeof(rfs_ops), &ctx);
	if (!se) {
		if (vol)
			rlog(RLOG_ERR, "the FUSE options could not be used; nothing "
			     "was mounted, and %s.part may hold an empty start.",
			     vol_url(vol));
		else
			rlog(RLOG_ERR, "the FUSE options could not be used; nothing "
			     "was mounted.");
		goto out_drv;
	}
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	/* Ours replace libfuse's exit handlers (SIGPIPE stays ignored). */
	if (fo.singlethread)
		rfs_single_se = se;
	if (rfs_set_signals() < 0)
		goto out_signals;
	if (fuse_session_mount(se, fo.mountpoint) != 0) {
		rlog(RLOG_ERR, "mounting on %s failed; nothing was mounted.",
		     fo.mountpoint);
		goto out_signals;
	}
	if (rfs_fuseio_install(se) != 0) {
		rlog(RLOG_ERR, "the FUSE device could not be set up; nothing "
		     "was written.");
		goto out_unmount;
	}
	mounted = true;
	rfs_ready(&ready_fd, READY_OK);
	if (!fo.foreground)
		rfs_detach();

	int lrc;
	struct rfs_stop stop = { .drv = drv };
	if (fo.singlethread) {
		lrc = fuse_session_loop(se);
		rfs_before_stop(&stop);
	} else {
		/* A fixed pool, not fuse_session_loop_mt: see loop.c. One
		 * writer, plus status and mt while it waits on the upload. */
		/* REELFS_LANDING=0: every payload copied, as before issue
		 * 12.1 (for benchmarks and for telling causes apart). */
		const char *le = getenv("REELFS_LANDING");
		struct rfs_landing land;
		rfs_landing_init(&land, &ctx);
		bool landing = drv && !(le && strcmp(le, "0") == 0);
		lrc = rfs_loop(se, 4, landing ? &land : NULL, rfs_before_stop,
			       &stop);
	}
	if (stop.abandoned && drv)
		drv_abandon(drv);
	if (lrc < 0)
		rlog(RLOG_WARN, "the FUSE loop ended with an error (%s).",
		     strerror(-lrc));

out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	if (mounted && !drv) {
		/* A read mount: fine unless a read failed (the log says where). */
		ret = rdrive_failed(ctx.rd) ? 1 : 0;
		if (rfs_append_finish(&ctx))	/* files written after reading */
			ret = 1;
	} else if (mounted) {
		/* Served: finish as offline would, if nothing did yet. */
		drv_finish(drv, "unmount");
		ret = drv_all_published(drv) ? 0 : 1;
		if (rfs_append_finish(&ctx))	/* files written after reading */
			ret = 1;
		vol = drv_vol(drv);	/* a magazine loaded others */
		if (fo.foreground)
			rfs_summary(vol, ret == 0);
		if (fo.foreground && mag) {
			char line[1024];
			mag_summary(mag, line, sizeof(line));
			fprintf(stderr, "reelfs: %s.\n", line);
		}
		if (ret)
			rlog(RLOG_ERR, "%s was not completely published; see the "
			     "messages above.", vol_url(vol));
	}
	fuse_session_destroy(se);
out_drv:
	if (!mounted && vol)
		vol_abort(vol);	/* nothing was served: leave no image */
	drv_free(drv);
	rfs_append_free();
	rfs_reader_free(&ctx);
out_vol:
	vol_free(vol);
out_ready:
	mag_free(mag);
	rfs_ready(&ready_fd, READY_FAIL);
out_cmdline:
	free(fo.mountpoint);
out_opts:
	rfs_opts_free(&o);
	fuse_opt_free_args(&args);
	return ret;
}

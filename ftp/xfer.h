/*
 * xfer.h - streaming transfers to and from a tape's home: ftp://, ftps://,
 * sftp:// (where libcurl has it) and file:// (or a plain path).
 *
 * No FUSE and no tape knowledge here: bytes in, bytes out. Memory held is
 * bounded by xfer_opts.buffer_size, never by the size of the transfer, and
 * nothing is ever spooled to local disk. Functions return 0 or a negative
 * errno and fill a caller's error buffer (XFER_ERRLEN bytes) with one
 * sentence naming the cause. No password ever appears in an error or a log
 * line unless debug is XFER_DEBUG_SENSITIVE.
 */
#ifndef REELFS_XFER_H
#define REELFS_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define XFER_ERRLEN 512

enum xfer_tls { XFER_TLS_NO, XFER_TLS_TRY, XFER_TLS_REQUIRE };
enum xfer_overwrite { XFER_OVERWRITE_NEVER, XFER_OVERWRITE_ALWAYS, XFER_OVERWRITE_ASK };
enum xfer_debug { XFER_DEBUG_NONE, XFER_DEBUG_BRIEF, XFER_DEBUG_SENSITIVE };

/* Transfer options shared by `reel` and `reelfs`. Strings are owned
 * (strdup'd) by the struct; xfer_opts_free releases them. */
struct xfer_opts {
	char *user;		/* --user; overrides a user in the URL */
	char *password_file;	/* --password-file */
	bool allow_readable_password_file; /* one group/others may read */
	enum xfer_tls tls;	/* --tls=no|try|require (explicit AUTH TLS) */
	char *cacert;		/* --cacert FILE */
	bool insecure;		/* --insecure: skip certificate and host key checks */
	char *ssh_key;		/* --ssh-key FILE: sftp login with this key */
	char *ssh_host_key;	/* --ssh-host-key=SHA256:...: the pinned host key */
	char *active;		/* --active[=ADDR]; NULL means passive */
	long connect_timeout;	/* --connect-timeout SECONDS, default 10 */
	long stall_timeout;	/* --stall-timeout SECONDS, default 60 */
	uint64_t buffer_size;	/* --buffer SIZE, default 64 MiB */
	uint64_t replay_size;	/* --replay SIZE, default 32 MiB (< buffer) */
	int retries;		/* --retries N, default 5 */
	enum xfer_overwrite overwrite;	/* --overwrite=never|always|ask */
	bool mkdir;		/* --mkdir */
	bool verify;		/* --verify: download and compare CRC32 */
	enum xfer_debug debug;	/* --debug=none|brief|sensitive */
	int progress;		/* --progress 1, --quiet 0, default -1: on a tty */
	/* s3:// targets (ftp/s3_*.c). The secret key is never an option. */
	char *s3_endpoint;	/* --s3-endpoint URL, else REELFS_S3_ENDPOINT */
	char *s3_region;	/* --s3-region, default us-east-1 */
	char *s3_profile;	/* --s3-profile: ~/.aws/credentials profile */
	uint64_t s3_part_size;	/* --s3-part-size, 0: 16 MiB */
	uint64_t size_hint;	/* the most an upload will hold (the drive's
				 * --capacity), 0: unknown; sizes S3 parts */
};

void xfer_opts_init(struct xfer_opts *o);
/* First thing in main, before any thread or fork: makes the process
 * undumpable with no core file, and takes REELFS_PASSWORD out of the
 * environment (kept once, in creds.c; wiped in place at exit). */
void xfer_secrets_init(void);
void xfer_opts_free(struct xfer_opts *o);
/* Sets one option by its long name without dashes ("tls", "buffer",
 * "insecure"...). value is NULL for a flag given bare. Returns 0, 1 when
 * the key is not a transfer option, or -EINVAL with err filled (bad value,
 * or "password": refused with the reason and what to use instead). Both
 * `reel`'s argv parser and reelfs's -o key=value parser call this. */
int xfer_opts_set(struct xfer_opts *o, const char *key, const char *value,
		  char *err, size_t errlen);
/* Whether key takes a value (so "--key VALUE" may consume the next arg). */
bool xfer_opts_takes_value(const char *key);
/* Help text for the transfer options, one per line, for --help. */
const char *xfer_opts_help(void);

/* "64M", "1.5G", "4096", "2T", "512K" -> bytes (powers of 1024).
 * -EINVAL for anything else, including a negative or empty value. */
int xfer_parse_size(const char *s, uint64_t *out);

/* ---- URLs ------------------------------------------------------------- */

/* The same URL with any password removed, for messages. Caller frees. */
char *xfer_url_display(const char *url);
/* Another file in the same directory as url. Caller frees. */
char *xfer_url_sibling(const char *url, const char *name);
/* The last path component (the file name). Caller frees. */
char *xfer_url_basename(const char *url);
/* Whether the URL names a local file (file:// or a plain path). */
bool xfer_url_is_local(const char *url);
/* The file system path a local URL names (file:// decoded, a plain path as
 * it is); NULL for a remote or malformed URL. Caller frees. */
char *xfer_url_local_path(const char *url);

/* ---- upload ----------------------------------------------------------- */

struct xfer_stats {
	uint64_t queued;	/* bytes accepted from the writer */
	uint64_t sent;		/* bytes handed to the network */
	uint64_t confirmed;	/* bytes the server said it holds (SIZE) */
	unsigned reconnects;
	double rate_now;	/* bytes/s over the last few seconds */
	double rate_mean;	/* bytes/s since open */
	double elapsed;		/* seconds since open */
	double cpu;		/* process CPU seconds since open */
	uint32_t crc;		/* zlib crc32 of the bytes accepted so far,
				 * computed only with verify (else 0) */
	bool published;		/* NAME exists and holds exactly these bytes */
	bool verified;		/* --verify read NAME back and the CRC matched */
};

struct xfer_upload;

/* Everything that can fail before data does, fails here, within seconds:
 * URL syntax, credentials, connect, login, the directory (created with
 * mkdir), the overwrite policy for an existing NAME. On success data will
 * go to NAME.part. Returns NULL with err filled. */
struct xfer_upload *xfer_upload_open(const char *url, const struct xfer_opts *o,
				     char *err, size_t errlen);
/* Queues bytes; blocks while the queue is full (back-pressure). Returns 0,
 * -ENOSPC when the server ran out of space (end of medium; see
 * xfer_upload_stats().confirmed for what it accepted), -EIO for any other
 * failure (sticky; xfer_upload_error says why), -EPIPE after finish/abort. */
int xfer_upload_write(struct xfer_upload *u, const void *data, size_t len);
/* The same for n pieces in order (a record's framing and payload): one
 * check, one queue hand-over. */
struct xfer_piece {
	const void *p;
	size_t len;
};
int xfer_upload_writev(struct xfer_upload *u, const struct xfer_piece *v, int n);
/* Frame in place (issue 12.1): the memory where a record's payload may be
 * read straight into the upload queue, `skip` bytes (its framing header)
 * past what is queued, with at least `need` bytes of room (*len: how
 * many). Never waits: -EAGAIN when the queue lacks that room now. Hand
 * the payload to xfer_upload_writev as a piece pointing there, after a
 * `skip`-byte header and with nothing else queued in between: it is
 * taken without a copy (-EFAULT, nothing queued, if it is not exactly at
 * its place). */
int xfer_upload_landing(struct xfer_upload *u, size_t skip, size_t need,
			void **buf, size_t *len);
/* The same without a copy, for a writer that can fill the queue itself
 * (read(2) straight into it): reserve gives the free contiguous space
 * (blocking while the queue is full; *len >= 1), commit queues the first
 * n bytes of it (n <= *len; 0 is allowed). Returns as xfer_upload_write.
 * One reserve/commit pair at a time, from the writer's thread. */
int xfer_upload_reserve(struct xfer_upload *u, void **buf, size_t *len);
int xfer_upload_commit(struct xfer_upload *u, size_t n);
/* Added for close/fsync: blocks until every byte accepted so far has left
 * this process (written to the file for file://; handed to the socket for
 * FTP, so it is in the kernel, not yet confirmed by the server), resuming
 * after faults as usual, and cuts short the sender's wait to fill a batch.
 * Returns 0, -ENOSPC when the server ran out of space, -EIO for any other
 * failure (sticky), -EPIPE after finish/abort. */
int xfer_upload_sync(struct xfer_upload *u);
/* The sticky failure without blocking or queueing anything: 0 when none,
 * -ENOSPC (server full), -EIO, -EPIPE after abort. */
int xfer_upload_check(struct xfer_upload *u);
/* Drains the queue, checks the server's SIZE of NAME.part equals the bytes
 * sent, renames NAME.part to NAME (replacing NAME only under
 * overwrite=always/ask), then with verify reads NAME back and compares its
 * CRC32. Returns 0 only when all of that succeeded. */
int xfer_upload_finish(struct xfer_upload *u);
/* Stops sending; whatever arrived stays as NAME.part. */
void xfer_upload_abort(struct xfer_upload *u);
void xfer_upload_stats(struct xfer_upload *u, struct xfer_stats *out);
/* The sticky error sentence, or "" when none. */
const char *xfer_upload_error(struct xfer_upload *u);
/* The URL without password, as used in messages. */
const char *xfer_upload_url(const struct xfer_upload *u);
/* Aborts if neither finish nor abort was called. */
void xfer_upload_free(struct xfer_upload *u);
/* After the server ran out of space (up_salvage.c), for a storeset that
 * carries what it did not keep onto its next reel: the size of NAME.part
 * (the sender has stopped); the queued bytes from..to, passed to cb in
 * pieces (-ERANGE when the queue no longer holds them all); and the
 * rename of NAME.part to NAME as the overwrite policy allows. */
int xfer_upload_salvage_size(struct xfer_upload *u, uint64_t *held,
			     char *err, size_t errlen);
int xfer_upload_salvage_read(struct xfer_upload *u, uint64_t from, uint64_t to,
			     int (*cb)(void *ctx, const void *p, size_t n),
			     void *ctx, char *err, size_t errlen);
int xfer_upload_salvage_publish(struct xfer_upload *u, char *err, size_t errlen);

/* "sent 1087492672 bytes (1.01 GB); the server holds 1087492672 bytes" */
void xfer_summary(const struct xfer_stats *s, char *buf, size_t len);

/* Writes a small file (a manifest) whole, via NAME.part and a rename,
 * replacing any existing NAME. */
int xfer_put_small(const char *url, const struct xfer_opts *o,
		   const void *data, size_t len, char *err, size_t errlen);
/* The same, through the session of donor, a published upload opened with
 * the same options, when the file is beside it on an FTP(S) server (no
 * second login); otherwise as xfer_put_small. donor must outlive the
 * call and is not otherwise touched. */
int xfer_put_small_after(struct xfer_upload *donor, const char *url,
			 const struct xfer_opts *o, const void *data, size_t len,
			 char *err, size_t errlen);

/* ---- read side -------------------------------------------------------- */

/* An entry's size when the listing gave none, or one that is not a
 * number (MLSD "size=-1"): shown as unknown, never as a number. */
#define XFER_SIZE_UNKNOWN UINT64_MAX

struct xfer_entry {
	char *name;
	uint64_t size;		/* XFER_SIZE_UNKNOWN when not given */
	time_t mtime;		/* 0 when the server did not say */
	bool is_dir;
};

/* Lists a directory (MLSD, falling back to LIST on any 5xx, on a closing
 * reply other than 226/250 and on a body with no MLSD line in it).
 * dir_url names the directory, with or without a trailing slash. Sorted
 * by name. */
int xfer_list(const char *dir_url, const struct xfer_opts *o,
	      struct xfer_entry **out, size_t *count, char *err, size_t errlen);
void xfer_entries_free(struct xfer_entry *v, size_t count);

/* SIZE and MDTM. -ENOENT when the file does not exist. */
int xfer_stat(const char *url, const struct xfer_opts *o, uint64_t *size,
	      time_t *mtime, char *err, size_t errlen);

/* A streamed download from offset (REST), length bytes or to the end when
 * length is 0, through the same bounded queue with back-pressure.
 * Every download is bounded: it stops with -EIO and a sentence when the
 * server sends more than the size it declared (SIZE or its 150 reply),
 * so a server that streams forever is stopped. */
struct xfer_download;
struct xfer_download *xfer_download_open(const char *url, const struct xfer_opts *o,
					 uint64_t offset, uint64_t length,
					 char *err, size_t errlen);
/* Up to len bytes; 0 at the end; negative errno on failure. */
ssize_t xfer_download_read(struct xfer_download *d, void *buf, size_t len);
const char *xfer_download_error(struct xfer_download *d);
/* Whether the server declared the file's size (so the download stops
 * there); false when no SIZE, MLST or listing told it. */
bool xfer_download_bounded(struct xfer_download *d);
void xfer_download_close(struct xfer_download *d);

/* Convenience: the bytes of [offset, offset+length) (length 0: to the end)
 * handed to cb in the caller's thread, in order. cb returns 0 or a negative
 * errno to stop. */
int xfer_fetch(const char *url, const struct xfer_opts *o, uint64_t offset,
	       uint64_t length, int (*cb)(void *ctx, const void *p, size_t n),
	       void *ctx, char *err, size_t errlen);

/* A logged-in session on one directory: a listing and many small reads
 * over one connection (libcurl reuses it while the same handle does every
 * transfer), for `reel ls`. A read stopped early (length short of the
 * file's end) costs the connection; the next call logs in again. Names
 * are file names in that directory, not URL text. */
struct xfer_session;
int xfer_session_open(const char *dir_url, const struct xfer_opts *o,
		      struct xfer_session **out, char *err, size_t errlen);
int xfer_session_list(struct xfer_session *s, struct xfer_entry **out,
		      size_t *count, char *err, size_t errlen);
int xfer_session_stat(struct xfer_session *s, const char *name,
		      uint64_t *size, time_t *mtime, char *err, size_t errlen);
int xfer_session_fetch(struct xfer_session *s, const char *name,
		       uint64_t offset, uint64_t length,
		       int (*cb)(void *ctx, const void *p, size_t n), void *ctx,
		       char *err, size_t errlen);
void xfer_session_close(struct xfer_session *s);

#endif

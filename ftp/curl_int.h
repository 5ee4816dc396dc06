/*
 * curl_int.h - the libcurl backend's private state, shared by its
 * files: curl_session.c (connection, options), curl_control.c (SIZE,
 * MDTM, rename), curl_data.c (uploads, downloads, listings) and
 * curl_errors.c (messages). Not for other files.
 */
#ifndef REELFS_CURL_INT_H
#define REELFS_CURL_INT_H

#include "xfer_int.h"

#include <curl/curl.h>

#define CS_CAP_MAX 4

struct cs_ssh;		/* curl_ssh.c: host key check, key login */

struct cs {
	CURL *h;
	struct curl_slist *quote;	/* commands of the current operation */
	char *base;		/* "ftp://host:port", no user */
	char *dir;		/* encoded "/a/b/" */
	char *dir_display;
	char *host;
	bool sftp, ftps;
	char *user;		/* NULL: anonymous */
	const char *pass;	/* borrowed from creds.c; NULL: anonymous */
	enum xfer_tls tls;
	char *cacert;
	bool insecure;
	char *active;
	struct cs_ssh *ssh;	/* sftp only; NULL otherwise */
	long connect_timeout, stall_timeout;
	enum xfer_debug debug;
	bool mkdir;
	char errbuf[CURL_ERROR_SIZE];
	char reply[256];	/* last reply line from the server */
	bool catch_late;	/* closing: read a reply left in the socket */
	char late[256];		/* such a reply ("552 ..."), or "" */

	/* The transfer in progress (one at a time). */
	struct xq *q;
	struct xsend_hooks *hooks;	/* a copy owned by cs_send */
	bool eof;		/* the read callback said end of data */
	bool stalled;		/* we aborted: no progress for stall_timeout */
	double last_move;
	double last_tick;
	int (*fcb)(void *ctx, const void *p, size_t n);
	void *fctx;
	bool limited;		/* fetch: stop after `left` bytes */
	uint64_t left;
	bool limit_hit;
	int cb_rc;
	char *lbuf;		/* listing being received */
	size_t llen, lcap;

	/* Replies to our own control commands (cs_command): the debug
	 * callback pairs each command sent with the reply that follows. */
	const char *const *cap_cmds;	/* NULL: not capturing */
	int cap_n, cap_at;		/* cap_at: index sent last, or -1 */
	char cap_reply[CS_CAP_MAX][256];	/* final line ("213 12") */
	char cap_fact[CS_CAP_MAX][512];	/* MLST's " facts; name" line */
};

/* Drops the connections; with catch, first reads a reply the server sent
 * as it hung up (the 552 after a reset data connection) into c->late. */
void cs_hangup(struct cs *c, bool catch);
/* Resets the handle for one operation on base+path (path encoded, from
 * the root "/"). */
int cs_setup(struct cs *c, const char *path);
/* Same, for a file in the target directory. */
int cs_setup_file(struct cs *c, const char *name);
/* Turns a failed operation into a sentence and an errno; -EAGAIN when a
 * new connection may help, -ENOSPC when the server is full. */
int cs_error(struct cs *c, CURLcode res, const char *what, char *err,
	     size_t errlen);
/* Runs up to CS_CAP_MAX FTP commands on the control connection after
 * changing to the directory; a refusal does not fail the operation (each
 * command's reply is left in c->cap_reply[i], "" when none came). */
int cs_command(struct cs *c, const char *const *cmds, int n, char *err,
	       size_t errlen);
/* Capture hook for the debug callback: t is CURLINFO_HEADER_IN/OUT. */
void cs_capture(struct cs *c, curl_infotype t, const char *line, size_t l);
int cs_stat(void *st, const char *name, uint64_t *size, time_t *mtime,
	    char *err, size_t errlen);
int cs_rename(void *st, const char *from, const char *to, bool replace,
	      char *err, size_t errlen);
int cs_send(void *st, const char *name, uint64_t offset, struct xq *q,
	    const struct xsend_hooks *h, char *err, size_t errlen);
int cs_fetch(void *st, const char *name, uint64_t offset, uint64_t length,
	     int (*cb)(void *ctx, const void *p, size_t n), void *ctx,
	     char *err, size_t errlen);
int cs_list(void *st, struct xfer_entry **v, size_t *n, char *err,
	    size_t errlen);
/* SFTP (curl_ssh.c): cs_ssh_open reads --ssh-key, --ssh-host-key and
 * --insecure into c->ssh (freed by cs_ssh_free, also after a failure);
 * cs_ssh_setup sets the host key check and the login method on c->h after
 * each reset; cs_ssh_keyauth says a key logs in (no password wanted);
 * cs_ssh_error turns a refused host key or login into a sentence (0: not
 * an SSH matter); cs_ssh_path writes the quoted path of a file in the
 * target directory for quote commands ("/~/" made relative). */
int cs_ssh_open(struct cs *c, const struct xfer_opts *o, char *err,
		size_t errlen);
void cs_ssh_setup(struct cs *c);
bool cs_ssh_keyauth(const struct cs *c);
void cs_ssh_free(struct cs *c);
int cs_ssh_error(struct cs *c, CURLcode res, const char *detail, char *err,
		 size_t errlen);
int cs_ssh_path(const struct cs *c, const char *name, char *out, size_t len);
/* "SHA256:" + 43 base64 characters (padding allowed) -> the 43; -EINVAL. */
int cs_ssh_parse_pin(const char *v, char *out, size_t len);
int cs_xferinfo(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		curl_off_t un);

#endif

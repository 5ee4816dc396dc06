/*
 * curl_control.c - control-connection commands of the libcurl backend:
 * our own commands with their replies (cs_command), SIZE and MDTM of a
 * file (MLST, else the listing, when SIZE is refused), and RNFR/RNTO
 * (SFTP: rename/rm) to publish. It never takes a refusal for absence and
 * never replaces a file unless the caller asked for it.
 */
#include "curl_int.h"
#include "safetext.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- our own commands and their replies -------------------------------- */

void cs_capture(struct cs *c, curl_infotype t, const char *line, size_t l)
{
	while (l && (line[l - 1] == '\r' || line[l - 1] == '\n'))
		l--;
	if (t == CURLINFO_HEADER_OUT) {
		/* Ours (in order), or one libcurl sends itself. */
		c->cap_at = -1;
		for (int i = 0; i < c->cap_n; i++) {
			size_t cl = strlen(c->cap_cmds[i]);
			if (cl == l && !memcmp(line, c->cap_cmds[i], l) &&
			    !c->cap_reply[i][0]) {
				c->cap_at = i;
				break;
			}
		}
		return;
	}
	if (t != CURLINFO_HEADER_IN || c->cap_at < 0)
		return;
	if (l && line[0] == ' ') {	/* MLST: " type=file;size=12; name" */
		snprintf(c->cap_fact[c->cap_at], sizeof(c->cap_fact[0]), "%.*s",
			 (int)(l - 1), line + 1);
		return;
	}
	if (l >= 4 && line[0] >= '1' && line[0] <= '5' && line[1] >= '0' &&
	    line[1] <= '9' && line[2] >= '0' && line[2] <= '9' && line[3] == ' ') {
		/* Quoted in messages: kept as safetext renders it (the MLST
		 * facts above stay raw: they are parsed, not shown). */
		safetext_render(c->cap_reply[c->cap_at], sizeof(c->cap_reply[0]),
				line, l);
		c->cap_at = -1;
	}
}

int cs_command(struct cs *c, const char *const *cmds, int n, char *err,
	       size_t errlen)
{
	char q[CS_CAP_MAX][4200];
	CURLcode res;
	int rc;

	if (n > CS_CAP_MAX)
		return -EINVAL;
	rc = cs_setup(c, c->dir);
	if (rc)
		return rc;
	for (int i = 0; i < n; i++) {
		/* Names with a line break cannot be said on a control line. */
		if (strpbrk(cmds[i], "\r\n"))
			return xerr(err, errlen, -EINVAL, "a file name with a line "
				    "break cannot be used over FTP");
		snprintf(q[i], sizeof(q[i]), "*%s", cmds[i]);	/* '*': may fail */
		struct curl_slist *l = curl_slist_append(c->quote, q[i]);
		if (!l)
			return -ENOMEM;
		c->quote = l;
		c->cap_reply[i][0] = c->cap_fact[i][0] = '\0';
	}
	c->cap_cmds = cmds;
	c->cap_n = n;
	c->cap_at = -1;
	curl_easy_setopt(c->h, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c->h, CURLOPT_POSTQUOTE, c->quote);
	curl_easy_setopt(c->h, CURLOPT_VERBOSE, 1L);
	res = curl_easy_perform(c->h);
	c->cap_cmds = NULL;
	if (res != CURLE_OK)
		return cs_error(c, res, "asking about a file", err, errlen);
	return 0;
}

static int reply_code(const char *r)
{
	return r[0] ? atoi(r) : 0;
}

/* "213 20231121074400" (or with .sss) -> time; 0 when not that. */
static time_t parse_mdtm(const char *r)
{
	struct tm tm = { 0 };

	if (strncmp(r, "213 ", 4) || sscanf(r + 4, "%4d%2d%2d%2d%2d%2d",
					     &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
					     &tm.tm_hour, &tm.tm_min,
					     &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

/* A 550 to MLST that reads as a refusal (ProFTPD's <Limit>: "Permission
 * denied"), not as "no such file". */
static bool sounds_refused(const char *r)
{
	return strcasestr(r, "denied") || strcasestr(r, "ermission") ||
	       strcasestr(r, "not allowed") || strcasestr(r, "refused");
}

/* The directory listing as the last resort (MLSD, else LIST). */
static int stat_by_listing(struct cs *c, const char *name, uint64_t *size,
			   time_t *mtime, const char *why, char *err,
			   size_t errlen)
{
	struct xfer_entry *v = NULL;
	size_t n = 0;
	char e[XFER_ERRLEN];
	int rc = cs_list(c, &v, &n, e, sizeof(e));

	if (rc)
		return xerr(err, errlen, rc == -EAGAIN ? -EAGAIN : -EIO, "%s, and "
			    "listing the directory to find %s failed: %s", why,
			    name, e);
	rc = xerr(err, errlen, -ENOENT, "%s does not exist", name);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].name, name))
			continue;
		if (v[i].size == XFER_SIZE_UNKNOWN) {
			rc = xerr(err, errlen, -EIO, "%s, and the listing gives no "
				  "size for %s", why, name);
			break;
		}
		if (size)
			*size = v[i].size;
		if (mtime)
			*mtime = v[i].mtime;
		rc = 0;
		break;
	}
	xfer_entries_free(v, n);
	return rc;
}

/* SFTP: libcurl's own stat (there is no SIZE to refuse). */
static int sftp_stat(struct cs *c, const char *name, uint64_t *size,
		     time_t *mtime, char *err, size_t errlen)
{
	curl_off_t len = -1, ft = -1;
	CURLcode res;
	long code = 0;
	int rc = cs_setup_file(c, name);

	if (rc)
		return rc;
	curl_easy_setopt(c->h, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c->h, CURLOPT_FILETIME, 1L);
	res = curl_easy_perform(c->h);
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	if (res == CURLE_REMOTE_FILE_NOT_FOUND)
		return xerr(err, errlen, -ENOENT, "%s does not exist", name);
	if (res != CURLE_OK)
		return cs_error(c, res, "asking the size", err, errlen);
	curl_easy_getinfo(c->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
	curl_easy_getinfo(c->h, CURLINFO_FILETIME_T, &ft);
	if (len < 0)
		return xerr(err, errlen, -EIO, "the server did not tell the size "
			    "of %s", name);
	if (size)
		*size = (uint64_t)len;
	if (mtime)
		*mtime = ft > 0 ? (time_t)ft : 0;
	return 0;
}

/*
 * SIZE, and MDTM for the time. A refused SIZE is not taken for absence
 * (ProFTPD's <Limit SIZE> answers 550, aioftp 502): MLST tells the size or
 * the absence, and where MLST is missing too, the directory listing does.
 */
int cs_stat(void *st, const char *name, uint64_t *size, time_t *mtime,
	    char *err, size_t errlen)
{
	struct cs *c = st;
	char a[4200], b[4200], why[700];
	int rc;

	if (c->sftp)
		return sftp_stat(c, name, size, mtime, err, errlen);
	snprintf(a, sizeof(a), "SIZE %s", name);
	snprintf(b, sizeof(b), "MDTM %s", name);
	/* Binary first: some servers refuse SIZE in ASCII mode. */
	const char *cmds[] = { "TYPE I", a, b };
	rc = cs_command(c, cmds, 3, err, errlen);
	if (rc)
		return rc;
	const char *rs = c->cap_reply[1];
	unsigned long long n;
	char tail;
	/* Digits only: sscanf's %llu would take "-1" as 2^64-1, and a size
	 * that large would lift the bound a declared size puts on reads. */
	if (!strncmp(rs, "213 ", 4) && isdigit((unsigned char)rs[4]) &&
	    sscanf(rs + 4, "%llu%c", &n, &tail) >= 1 && n <= INT64_MAX) {
		if (size)
			*size = n;
		if (mtime)
			*mtime = parse_mdtm(c->cap_reply[2]);
		return 0;
	}
	if (rs[0])
		snprintf(why, sizeof(why), "the server refused SIZE (\"%s\")", rs);
	else
		snprintf(why, sizeof(why), "the server did not answer SIZE");

	/* MLST: "250-" facts " type=file;size=N;modify=...; NAME" "250 End". */
	snprintf(a, sizeof(a), "MLST %s", name);
	const char *mlst[] = { a };
	rc = cs_command(c, mlst, 1, err, errlen);
	if (rc)
		return rc;
	const char *rm = c->cap_reply[0];
	int mlst_code = reply_code(rm);
	if (mlst_code == 250 && c->cap_fact[0][0]) {
		struct xfer_entry e;
		int pr = xlist_parse_mlsd(c->cap_fact[0], &e);
		if (pr > 0)
			free(e.name);
		if (pr >= 0 && e.size != XFER_SIZE_UNKNOWN && !e.is_dir) {
			if (size)
				*size = e.size;
			if (mtime)
				*mtime = e.mtime;
			return 0;
		}
	}
	/* MLST is there and says "no such file" (not "denied"): absent. */
	if (mlst_code == 550 && !sounds_refused(rm))
		return xerr(err, errlen, -ENOENT, "%s does not exist", name);
	if (rm[0]) {
		size_t l = strlen(why);
		snprintf(why + l, sizeof(why) - l, " and MLST (\"%s\")", rm);
	}
	return stat_by_listing(c, name, size, mtime, why, err, errlen);
}

static int quote_run(struct cs *c, const char *const *cmds, const char *what,
		     char *err, size_t errlen)
{
	CURLcode res;
	int rc = cs_setup(c, c->dir);

	if (rc)
		return rc;
	for (; *cmds; cmds++) {
		struct curl_slist *n = curl_slist_append(c->quote, *cmds);
		if (!n)
			return -ENOMEM;
		c->quote = n;
	}
	curl_easy_setopt(c->h, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c->h, CURLOPT_POSTQUOTE, c->quote);
	res = curl_easy_perform(c->h);
	if (res == CURLE_OK)
		return 0;
	if (res == CURLE_QUOTE_ERROR) {
		long code = 0;
		curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
		if (code == 421)
			return xerr(err, errlen, -EAGAIN, "%s: %s", what, c->reply);
		return xerr(err, errlen, -EIO, "%s: the server said \"%s\"", what,
			    c->reply);
	}
	return cs_error(c, res, what, err, errlen);
}

int cs_rename(void *st, const char *from, const char *to, bool replace,
		     char *err, size_t errlen)
{
	struct cs *c = st;
	char a[4200], b[4200], d[4200];
	const char *cmds[4] = { a, b, NULL, NULL };
	int rc;

	rc = cs_stat(c, to, NULL, NULL, err, errlen);
	if (rc == 0 && !replace)
		return xerr(err, errlen, -EEXIST, "%s exists", to);
	if (rc && rc != -ENOENT)
		return rc;
	bool existed = rc == 0;
	if (c->sftp) {
		/* SFTP quote commands take paths, and "rename" will not replace.
		 * cs_ssh_path: quoted, and "/~/" as libcurl read it. */
		char pf[2048], pt[2048];
		if (cs_ssh_path(c, from, pf, sizeof(pf)) ||
		    cs_ssh_path(c, to, pt, sizeof(pt)))
			return xerr(err, errlen, -ENAMETOOLONG, "renaming: the path "
				    "of %s is too long", to);
		snprintf(d, sizeof(d), "rm %s", pt);
		snprintf(a, sizeof(a), "rename %s %s", pf, pt);
		cmds[0] = existed ? d : a;
		cmds[1] = existed ? a : NULL;
		return quote_run(c, cmds, "renaming", err, errlen);
	}
	snprintf(a, sizeof(a), "RNFR %s", from);
	snprintf(b, sizeof(b), "RNTO %s", to);
	rc = quote_run(c, cmds, "renaming", err, errlen);
	if (rc == -EIO && existed) {
		/* Servers that will not rename over a file: delete it, then
		 * rename. NAME is missing only for that moment. */
		snprintf(d, sizeof(d), "DELE %s", to);
		const char *retry[] = { d, a, b, NULL };
		rc = quote_run(c, retry, "replacing", err, errlen);
	}
	return rc;
}

/*
 * listparse.c - turns directory listings into entries: MLSD facts
 * (RFC 3659) and the LIST formats servers actually send (Unix `ls -l`,
 * DOS/IIS). It only parses text: no I/O, no allocation beyond the names.
 */
#include "xfer_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int xlist_sort_cmp(const void *a, const void *b)
{
	return strcmp(((const struct xfer_entry *)a)->name,
		      ((const struct xfer_entry *)b)->name);
}

void xfer_entries_free(struct xfer_entry *v, size_t count)
{
	for (size_t i = 0; v && i < count; i++)
		free(v[i].name);
	free(v);
}

static bool skip_name(const char *n)
{
	return !*n || !strcmp(n, ".") || !strcmp(n, "..");
}

/* A size as the server wrote it: decimal digits that fit in 63 bits, or
 * XFER_SIZE_UNKNOWN ("-1", "", "12k", a number too large to be true). */
static uint64_t parse_size(const char *s, size_t n)
{
	uint64_t v = 0;

	if (n == 0 || n > 19)
		return XFER_SIZE_UNKNOWN;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return XFER_SIZE_UNKNOWN;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	return v > (uint64_t)INT64_MAX ? XFER_SIZE_UNKNOWN : v;
}

/* "YYYYMMDDHHMMSS[.sss]" in UTC -> time_t; 0 when malformed. */
static time_t parse_mdtm(const char *s, size_t n)
{
	struct tm tm = { 0 };
	char b[15];

	if (n < 14)
		return 0;
	for (int i = 0; i < 14; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	memcpy(b, s, 14);
	b[14] = '\0';
	tm.tm_sec = atoi(b + 12); b[12] = '\0';
	tm.tm_min = atoi(b + 10); b[10] = '\0';
	tm.tm_hour = atoi(b + 8); b[8] = '\0';
	tm.tm_mday = atoi(b + 6); b[6] = '\0';
	tm.tm_mon = atoi(b + 4) - 1; b[4] = '\0';
	tm.tm_year = atoi(b) - 1900;
	return timegm(&tm);
}

int xlist_parse_mlsd(const char *line, struct xfer_entry *e)
{
	const char *sp = strchr(line, ' ');
	const char *f = line;
	bool have_type = false;

	memset(e, 0, sizeof(*e));
	e->size = XFER_SIZE_UNKNOWN;	/* until a size fact says otherwise */
	if (!sp)
		return -EINVAL;
	/* facts: "type=file;size=12;modify=20231121074400; name" */
	while (f < sp) {
		const char *semi = memchr(f, ';', (size_t)(sp - f));
		const char *eq;
		size_t klen;

		if (!semi)
			semi = sp;
		eq = memchr(f, '=', (size_t)(semi - f));
		if (eq) {
			const char *v = eq + 1;
			size_t vlen = (size_t)(semi - v);
			klen = (size_t)(eq - f);
			if (klen == 4 && !strncasecmp(f, "type", 4)) {
				have_type = true;
				if ((vlen == 3 && !strncasecmp(v, "dir", 3)))
					e->is_dir = true;
				else if ((vlen == 4 && (!strncasecmp(v, "cdir", 4) ||
							!strncasecmp(v, "pdir", 4))))
					return 0;
			} else if (klen == 4 && !strncasecmp(f, "size", 4)) {
				e->size = parse_size(v, vlen);
			} else if (klen == 6 && !strncasecmp(f, "modify", 6)) {
				e->mtime = parse_mdtm(v, vlen);
			}
		}
		f = semi + 1;
	}
	if (!have_type)
		return -EINVAL;
	if (skip_name(sp + 1))
		return 0;
	e->name = strdup(sp + 1);
	return e->name ? 1 : -ENOMEM;
}

static int month_of(const char *m)
{
	static const char *names[] = { "jan", "feb", "mar", "apr", "may", "jun",
				       "jul", "aug", "sep", "oct", "nov", "dec" };
	for (int i = 0; i < 12; i++)
		if (!strncasecmp(m, names[i], 3) && strlen(m) == 3)
			return i;
	return -1;
}

/* Splits off the next blank-separated field; returns its end. */
static const char *field(const char *s, const char **start)
{
	while (*s == ' ' || *s == '\t')
		s++;
	*start = s;
	while (*s && *s != ' ' && *s != '\t')
		s++;
	return s;
}

static bool all_digits(const char *s, const char *e)
{
	if (s == e)
		return false;
	for (; s < e; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int parse_unix(const char *line, time_t now, struct xfer_entry *e)
{
	const char *f[8], *end[8], *p = line, *name;
	struct tm tm = { 0 }, nowtm;
	char tmp[32];
	int nf = 0, k = -1, m = -1;
	bool when = true;

	/* perms links owner [group] size month day time-or-year name... */
	while (nf < 8) {
		p = end[nf] = field(p, &f[nf]);
		if (f[nf] == end[nf])
			break;
		nf++;
	}
	for (int i = 4; i >= 3 && k < 0; i--) {
		if (i + 3 >= nf || !all_digits(f[i], end[i]))
			continue;
		snprintf(tmp, sizeof(tmp), "%.*s", (int)(end[i + 1] - f[i + 1]), f[i + 1]);
		m = month_of(tmp);
		if (m >= 0)
			k = i;
	}
	if (k < 0)
		return -EINVAL;
	/* The name is everything after the time field, less one blank. */
	name = end[k + 3];
	if (*name != ' ' && *name != '\t')
		return -EINVAL;
	name++;
	e->is_dir = line[0] == 'd';
	e->size = parse_size(f[k], (size_t)(end[k] - f[k]));
	tm.tm_mon = m;
	tm.tm_mday = atoi(f[k + 2]);
	snprintf(tmp, sizeof(tmp), "%.*s", (int)(end[k + 3] - f[k + 3]), f[k + 3]);
	gmtime_r(&now, &nowtm);
	if (strchr(tmp, ':')) {
		tm.tm_hour = atoi(tmp);
		tm.tm_min = atoi(strchr(tmp, ':') + 1);
		tm.tm_year = nowtm.tm_year;
		/* Year-less dates are within the last six months. */
		if (timegm(&tm) > now + 86400)
			tm.tm_year--;
	} else {
		/* A year we cannot place leaves the time unknown (0), and
		 * atoi(tmp) - 1900 cannot overflow (UBSan in tests/fuzz/fuzz_listing.c). */
		long y = strtol(tmp, NULL, 10);
		when = y >= 1900 && y <= 9999;
		tm.tm_year = when ? (int)(y - 1900) : 0;
	}
	e->mtime = when ? timegm(&tm) : 0;
	if (line[0] == 'l' && strstr(name, " -> "))
		e->name = strndup(name, (size_t)(strstr(name, " -> ") - name));
	else
		e->name = strdup(name);
	if (!e->name)
		return -ENOMEM;
	if (skip_name(e->name)) {
		free(e->name);
		e->name = NULL;
		return 0;
	}
	return 1;
}

/* "11-21-26  07:42AM       <DIR>          name" or "... 12345 name" */
static int parse_dos(const char *line, struct xfer_entry *e)
{
	int mo, d, y, h, mi;
	char ampm[3] = "", what[32];
	int off = 0;
	struct tm tm = { 0 };

	if (sscanf(line, "%d-%d-%d %d:%d%2[AaPp]%*[Mm] %31s %n", &mo, &d, &y, &h,
		   &mi, ampm, what, &off) < 7 || !off)
		return -EINVAL;
	/* Not a date (and mo - 1 of INT_MIN would overflow: UBSan in
	 * tests/fuzz/fuzz_listing.c). */
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || y < 0 || y > 9999 ||
	    h < 0 || h > 23 || mi < 0 || mi > 59)
		return -EINVAL;
	if (y < 70)
		y += 2000;
	else if (y < 100)
		y += 1900;
	if ((ampm[0] == 'P' || ampm[0] == 'p') && h < 12)
		h += 12;
	if ((ampm[0] == 'A' || ampm[0] == 'a') && h == 12)
		h = 0;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	e->mtime = timegm(&tm);
	if (!strcmp(what, "<DIR>"))
		e->is_dir = true;
	else
		e->size = parse_size(what, strlen(what));
	if (skip_name(line + off))
		return 0;
	e->name = strdup(line + off);
	return e->name ? 1 : -ENOMEM;
}

int xlist_parse_list(const char *line, time_t now, struct xfer_entry *e)
{
	memset(e, 0, sizeof(*e));
	if (!strncmp(line, "total ", 6) || !*line)
		return 0;
	if (isdigit((unsigned char)line[0]))
		return parse_dos(line, e);
	if (strchr("-dlbcps", line[0]))
		return parse_unix(line, now, e);
	return -EINVAL;
}

bool xlist_mlsd_plausible(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = (size_t)((nl ? nl : end) - p);
		struct xfer_entry e;
		char *line;
		int rc;

		if (l && p[l - 1] == '\r')
			l--;
		line = strndup(p, l);
		if (!line)
			return false;
		p = nl ? nl + 1 : end;
		rc = l ? xlist_parse_mlsd(line, &e) : 0;
		free(line);
		if (rc > 0)
			free(e.name);
		if (rc < 0)
			return false;
	}
	return true;
}

int xlist_parse(const char *buf, size_t len, bool mlsd, struct xfer_entry **out,
		size_t *count)
{
	struct xfer_entry *v = NULL;
	size_t n = 0, cap = 0;
	time_t now = time(NULL);
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = (size_t)((nl ? nl : end) - p);
		char *line;
		struct xfer_entry e;
		int rc;

		if (l && p[l - 1] == '\r')
			l--;
		line = strndup(p, l);
		if (!line)
			goto nomem;
		p = nl ? nl + 1 : end;
		rc = mlsd ? xlist_parse_mlsd(line, &e) : xlist_parse_list(line, now, &e);
		free(line);
		if (rc == -ENOMEM)
			goto nomem;
		if (rc <= 0)
			continue;	/* lines we do not understand are skipped */
		if (n == cap) {
			struct xfer_entry *nv;
			cap = cap ? 2 * cap : 32;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(e.name);
				goto nomem;
			}
			v = nv;
		}
		v[n++] = e;
	}
	if (n)
		qsort(v, n, sizeof(*v), xlist_sort_cmp);
	*out = v;
	*count = n;
	return 0;
nomem:
	xfer_entries_free(v, n);
	return -ENOMEM;
}

/*
 * s3_xml.c - the XML the gateway answers with, parsed by expat (a real
 * XML parser: entities, CDATA, namespaces and encodings are its job, not
 * ours): error documents, the UploadId of a new multipart upload, and
 * ListObjectsV2 pages. Text is collected per element, bounded in length.
 */
#include "s3_int.h"

#include <errno.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TEXT_MAX 4096

struct px {
	int depth;
	char path[8][48];	/* element names from the root */
	char text[TEXT_MAX];
	size_t tlen;
	bool overflow;
	void (*end)(struct px *p, const char *name);
	void *ctx;
};

/* Element names without a namespace prefix ("s3:Key" -> "Key"). */
static const char *local(const char *n)
{
	const char *c = strrchr(n, ':');

	return c ? c + 1 : n;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct px *p = ud;
	(void)atts;

	if (p->depth < 8)
		snprintf(p->path[p->depth], sizeof(p->path[0]), "%s", local(name));
	p->depth++;
	p->tlen = 0;
	p->overflow = false;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct px *p = ud;

	p->text[p->tlen] = '\0';
	if (p->end)
		p->end(p, local(name));
	p->depth--;
	p->tlen = 0;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct px *p = ud;

	if (p->tlen + (size_t)len >= TEXT_MAX) {
		p->overflow = true;
		len = (int)(TEXT_MAX - 1 - p->tlen);
	}
	memcpy(p->text + p->tlen, s, (size_t)len);
	p->tlen += (size_t)len;
}

/* Parses body; 0, or -EBADMSG when it is not well-formed XML. */
static int parse(struct px *p, const char *body, size_t len)
{
	XML_Parser x = XML_ParserCreate(NULL);
	int ok;

	if (!x)
		return -ENOMEM;
	XML_SetUserData(x, p);
	XML_SetElementHandler(x, on_start, on_end);
	XML_SetCharacterDataHandler(x, on_text);
	ok = XML_Parse(x, body, (int)len, 1) == XML_STATUS_OK;
	XML_ParserFree(x);
	return ok ? 0 : -EBADMSG;
}

/* ---- <Error> ------------------------------------------------------------ */

static void error_end(struct px *p, const char *name)
{
	struct xs3_error *e = p->ctx;

	if (p->depth != 2 || strcmp(p->path[0], "Error"))
		return;
	if (!strcmp(name, "Code"))
		snprintf(e->code, sizeof(e->code), "%.63s", p->text);
	else if (!strcmp(name, "Message"))
		snprintf(e->message, sizeof(e->message), "%.255s", p->text);
}

int xs3_parse_error(const char *body, size_t len, struct xs3_error *e)
{
	struct px p = { .end = error_end, .ctx = e };

	memset(e, 0, sizeof(*e));
	if (!body || !len || parse(&p, body, len))
		return 0;
	return e->code[0] != '\0';
}

/* ---- UploadId ----------------------------------------------------------- */

static void upload_id_end(struct px *p, const char *name)
{
	char **id = p->ctx;

	if (p->depth == 2 && !strcmp(name, "UploadId") && !*id && p->tlen &&
	    !p->overflow)
		*id = strdup(p->text);
}

char *xs3_parse_upload_id(const char *body, size_t len)
{
	char *id = NULL;
	struct px p = { .end = upload_id_end, .ctx = &id };

	if (parse(&p, body, len)) {
		free(id);
		return NULL;
	}
	return id;
}

/* ---- ListObjectsV2 ------------------------------------------------------ */

struct list_ctx {
	const char *prefix;
	struct xfer_entry **v;
	size_t *n, *cap;
	char *next;
	bool truncated;
	struct xfer_entry cur;	/* the <Contents> being read */
	bool bad;
	int rc;
};

/* "2026-11-30T09:50:00.123Z" -> time_t (UTC); 0 when it is not that. */
static time_t iso8601(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return 0;
	return timegm(&tm);
}

static int push(struct list_ctx *c, struct xfer_entry *e)
{
	if (*c->n == *c->cap) {
		size_t nc = *c->cap ? 2 * *c->cap : 64;
		struct xfer_entry *nv = realloc(*c->v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		*c->v = nv;
		*c->cap = nc;
	}
	(*c->v)[(*c->n)++] = *e;
	return 0;
}

/* The part of a key after the listing's prefix; NULL when it does not
 * start with it (the gateway misbehaving) or nothing is left. */
static const char *after_prefix(struct list_ctx *c, const char *key)
{
	size_t l = strlen(c->prefix);

	if (strncmp(key, c->prefix, l) || !key[l])
		return NULL;
	return key + l;
}

static void list_end(struct px *p, const char *name)
{
	struct list_ctx *c = p->ctx;
	const char *top = p->path[0];

	if (c->rc || strcmp(top, "ListBucketResult"))
		return;
	if (p->overflow) {
		c->bad = true;
		return;
	}
	if (p->depth == 2) {
		if (!strcmp(name, "IsTruncated"))
			c->truncated = !strcmp(p->text, "true");
		else if (!strcmp(name, "NextContinuationToken") && !c->next)
			c->next = strdup(p->text);
		else if (!strcmp(name, "Contents")) {
			if (c->cur.name && !c->bad)
				c->rc = push(c, &c->cur);
			else
				free(c->cur.name);
			memset(&c->cur, 0, sizeof(c->cur));
			c->cur.size = XFER_SIZE_UNKNOWN;
			c->bad = false;
		}
		return;
	}
	if (p->depth != 3)
		return;
	if (!strcmp(p->path[1], "Contents")) {
		if (!strcmp(name, "Key")) {
			const char *n = after_prefix(c, p->text);
			free(c->cur.name);
			c->cur.name = n && !strchr(n, '/') ? strdup(n) : NULL;
		} else if (!strcmp(name, "Size")) {
			char *end;
			unsigned long long v = strtoull(p->text, &end, 10);
			c->cur.size = *p->text && !*end ? v : XFER_SIZE_UNKNOWN;
		} else if (!strcmp(name, "LastModified")) {
			c->cur.mtime = iso8601(p->text);
		}
	} else if (!strcmp(p->path[1], "CommonPrefixes") && !strcmp(name, "Prefix")) {
		const char *n = after_prefix(c, p->text);
		if (!n)
			return;
		struct xfer_entry e = { 0 };
		e.name = strndup(n, strlen(n) - (n[strlen(n) - 1] == '/'));
		e.size = XFER_SIZE_UNKNOWN;
		e.is_dir = true;
		if (!e.name || (c->rc = push(c, &e)))
			free(e.name);
	}
}

static void list_start_reset(struct list_ctx *c)
{
	memset(&c->cur, 0, sizeof(c->cur));
	c->cur.size = XFER_SIZE_UNKNOWN;
}

int xs3_parse_list(const char *body, size_t len, const char *prefix,
		   struct xfer_entry **v, size_t *n, size_t *cap,
		   char **next_token, char *err, size_t errlen)
{
	struct list_ctx c = { .prefix = prefix, .v = v, .n = n, .cap = cap };
	struct px p = { .end = list_end, .ctx = &c };
	int rc;

	*next_token = NULL;
	list_start_reset(&c);
	rc = parse(&p, body, len);
	free(c.cur.name);
	if (rc == -EBADMSG || (!rc && strcmp(p.path[0], "ListBucketResult")))
		rc = xerr(err, errlen, -EBADMSG, "the gateway's listing is not a "
			  "ListBucketResult XML document");
	else if (!rc && c.rc)
		rc = xerr(err, errlen, c.rc, "out of memory");
	else if (!rc && c.truncated && (!c.next || !*c.next))
		rc = xerr(err, errlen, -EBADMSG, "the gateway's listing is "
			  "truncated but gives no continuation token");
	if (rc || !c.truncated) {
		free(c.next);
		return rc;
	}
	*next_token = c.next;
	return 0;
}

/* ---- ListMultipartUploads and ListParts --------------------------------- */

struct uploads_ctx {
	const char *key;
	char *id;		/* the first upload of exactly key */
	time_t when;
	char cur_key[1024], cur_id[512], cur_when[64];
	uint64_t sum;		/* ListParts: the parts' sizes */
};

static void uploads_end(struct px *p, const char *name)
{
	struct uploads_ctx *c = p->ctx;

	if (p->overflow)
		return;
	if (p->depth == 3 && !strcmp(p->path[1], "Upload")) {
		if (!strcmp(name, "Key"))
			snprintf(c->cur_key, sizeof(c->cur_key), "%.1023s", p->text);
		else if (!strcmp(name, "UploadId"))
			snprintf(c->cur_id, sizeof(c->cur_id), "%.511s", p->text);
		else if (!strcmp(name, "Initiated"))
			snprintf(c->cur_when, sizeof(c->cur_when), "%.63s", p->text);
	} else if (p->depth == 2 && !strcmp(name, "Upload")) {
		if (!c->id && !strcmp(c->cur_key, c->key) && c->cur_id[0]) {
			c->id = strdup(c->cur_id);
			c->when = iso8601(c->cur_when);
		}
		c->cur_key[0] = c->cur_id[0] = c->cur_when[0] = '\0';
	} else if (p->depth == 3 && !strcmp(p->path[1], "Part") &&
		   !strcmp(name, "Size")) {
		c->sum += strtoull(p->text, NULL, 10);
	}
}

char *xs3_parse_uploads(const char *body, size_t len, const char *key,
			time_t *initiated)
{
	struct uploads_ctx c = { .key = key };
	struct px p = { .end = uploads_end, .ctx = &c };

	if (parse(&p, body, len)) {
		free(c.id);
		return NULL;
	}
	*initiated = c.when;
	return c.id;
}

uint64_t xs3_parse_parts_size(const char *body, size_t len)
{
	struct uploads_ctx c = { .key = "" };
	struct px p = { .end = uploads_end, .ctx = &c };

	return parse(&p, body, len) ? 0 : c.sum;
}

/*
 * test_s3_units.c - the S3 backend's pure parts: the part size plan
 * (--s3-part-size, --buffer, --capacity and the 10,000-part limit), the
 * SigV4 path/query encoding, and expat's reading of the gateway's XML
 * (errors, UploadId, ListObjectsV2 with entities, folders, pages).
 */
#include "s3_int.h"
#include "../check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MiB (1ULL << 20)

static void plan(void)
{
	struct xfer_opts o;
	uint64_t part, replay;
	char err[XFER_ERRLEN];

	xfer_opts_init(&o);
	CHECK(xs3_plan(&o, &part, &replay, err, sizeof(err)) == 0);
	CHECK(part == 16 * MiB && replay == 17 * MiB);
	/* 10,000 parts of 16 MiB are 156 GiB: a 1 TiB capacity needs more. */
	o.size_hint = 1ULL << 40;
	o.buffer_size = 512 * MiB;
	CHECK(xs3_plan(&o, &part, &replay, err, sizeof(err)) == 0);
	CHECK(part * 10000 >= (1ULL << 40) && part % MiB == 0 && part < 110 * MiB);
	/* ... and a buffer too small for two such parts is refused. */
	o.buffer_size = 64 * MiB;
	CHECK(xs3_plan(&o, &part, &replay, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "--buffer of at least"));
	/* A small buffer without a part size gets smaller parts, not < 5 MiB. */
	o.size_hint = 0;
	o.buffer_size = 20 * MiB;
	CHECK(xs3_plan(&o, &part, &replay, err, sizeof(err)) == 0 && part == 9 * MiB);
	o.buffer_size = 8 * MiB;
	CHECK(xs3_plan(&o, &part, &replay, err, sizeof(err)) == -EINVAL);
	/* A manifest: all of it in one part, all of it held. */
	o.size_hint = 500;
	o.buffer_size = 1 * MiB;
	CHECK(xs3_plan(&o, &part, &replay, err, sizeof(err)) == 0 && replay == 500);
	/* The option itself. */
	CHECK(xfer_opts_set(&o, "s3-part-size", "4M", err, sizeof(err)) == -EINVAL);
	CHECK(xfer_opts_set(&o, "s3-part-size", "8M", err, sizeof(err)) == 0 &&
	      o.s3_part_size == 8 * MiB);
	CHECK(xfer_opts_set(&o, "s3-region", "eu west", err, sizeof(err)) == -EINVAL);
	xfer_opts_free(&o);
}

static void encode(void)
{
	char *e = xs3_encode("dir/a b+c~d_é.tap", true);
	CHECK(e && !strcmp(e, "dir/a%20b%2Bc~d_%C3%A9.tap"));
	free(e);
	e = xs3_encode("dir/", false);
	CHECK(e && !strcmp(e, "dir%2F"));
	free(e);
}

static void xml(void)
{
	struct xs3_error er;
	const char *doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>"
			  "QuotaExceeded</Code><Message>a &amp; b</Message></Error>";
	CHECK(xs3_parse_error(doc, strlen(doc), &er) == 1);
	CHECK(!strcmp(er.code, "QuotaExceeded") && !strcmp(er.message, "a & b"));
	CHECK(xs3_parse_error("<Error><Code>x", 14, &er) == 0);	/* not well-formed */
	CHECK(xs3_parse_error("garbage", 7, &er) == 0);

	const char *up = "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/"
			 "doc/2006-03-01/\"><Bucket>b</Bucket><Key>k</Key><UploadId>"
			 "2~Ab_c-D</UploadId></InitiateMultipartUploadResult>";
	char *id = xs3_parse_upload_id(up, strlen(up));
	CHECK(id && !strcmp(id, "2~Ab_c-D"));
	free(id);

	const char *page1 = "<ListBucketResult><Name>t</Name><Prefix>v/</Prefix>"
		"<IsTruncated>true</IsTruncated><NextContinuationToken>tok/1=="
		"</NextContinuationToken><Contents><Key>v/b&amp;c.tap</Key>"
		"<LastModified>2026-11-30T09:50:00.123Z</LastModified><Size>20000"
		"</Size></Contents><Contents><Key>v/a.tap</Key><Size>7</Size>"
		"</Contents><CommonPrefixes><Prefix>v/sub/</Prefix></CommonPrefixes>"
		"</ListBucketResult>";
	const char *page2 = "<ListBucketResult><IsTruncated>false</IsTruncated>"
		"<Contents><Key>v/z.tap</Key><Size>x</Size></Contents>"
		"<Contents><Key>elsewhere</Key><Size>1</Size></Contents>"
		"</ListBucketResult>";
	struct xfer_entry *v = NULL;
	size_t n = 0, cap = 0;
	char *next = NULL, err[XFER_ERRLEN];
	CHECK(xs3_parse_list(page1, strlen(page1), "v/", &v, &n, &cap, &next, err,
			     sizeof(err)) == 0);
	CHECK(next && !strcmp(next, "tok/1=="));
	free(next);
	CHECK(xs3_parse_list(page2, strlen(page2), "v/", &v, &n, &cap, &next, err,
			     sizeof(err)) == 0 && !next);
	CHECK(n == 4);
	if (n == 4) {
		CHECK(!strcmp(v[0].name, "b&c.tap") && v[0].size == 20000 &&
		      v[0].mtime == 1796032200 && !v[0].is_dir);
		CHECK(!strcmp(v[1].name, "a.tap") && v[1].size == 7);
		CHECK(!strcmp(v[2].name, "sub") && v[2].is_dir);
		CHECK(!strcmp(v[3].name, "z.tap") && v[3].size == XFER_SIZE_UNKNOWN);
	}
	xfer_entries_free(v, n);
	v = NULL;
	n = cap = 0;
	CHECK(xs3_parse_list("<Error/>", 8, "", &v, &n, &cap, &next, err,
			     sizeof(err)) == -EBADMSG);
	const char *trunc = "<ListBucketResult><IsTruncated>true</IsTruncated>"
			    "</ListBucketResult>";
	CHECK(xs3_parse_list(trunc, strlen(trunc), "", &v, &n, &cap, &next, err,
			     sizeof(err)) == -EBADMSG);
	xfer_entries_free(v, n);
}

int main(void)
{
	plan();
	encode();
	xml();
	return failures ? 1 : 0;
}

/*
 * test_units.c - unit tests of ftp/ without a network: sizes, URLs, option
 * parsing, the bounded queue (back-pressure, the replay window), listing
 * lines and the summary sentence. Exit 0 when all pass.
 */
#include "xfer_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../check.h"

#define CHECK_STR(a, b)                                                      \
	do {                                                                 \
		const char *a_ = (a), *b_ = (b);                             \
		if (!a_ || strcmp(a_, b_)) {                                 \
			fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__, \
				__LINE__, a_ ? a_ : "(null)", b_);           \
			failures++;                                          \
		}                                                            \
	} while (0)

static void test_sizes(void)
{
	uint64_t v;

	CHECK(xfer_parse_size("4096", &v) == 0 && v == 4096);
	CHECK(xfer_parse_size("64M", &v) == 0 && v == 64ULL << 20);
	CHECK(xfer_parse_size("512K", &v) == 0 && v == 512ULL << 10);
	CHECK(xfer_parse_size("1.5G", &v) == 0 && v == 3ULL << 29);
	CHECK(xfer_parse_size("2T", &v) == 0 && v == 2ULL << 40);
	CHECK(xfer_parse_size("64MiB", &v) == 0 && v == 64ULL << 20);
	CHECK(xfer_parse_size("0", &v) == 0 && v == 0);
	CHECK(xfer_parse_size("", &v) == -EINVAL);
	CHECK(xfer_parse_size(NULL, &v) == -EINVAL);
	CHECK(xfer_parse_size("-1", &v) == -EINVAL);
	CHECK(xfer_parse_size("-1M", &v) == -EINVAL);
	CHECK(xfer_parse_size("1.5", &v) == -EINVAL);
	CHECK(xfer_parse_size("12Q", &v) == -EINVAL);
	CHECK(xfer_parse_size("M", &v) == -EINVAL);
	CHECK(xfer_parse_size(" 5", &v) == -EINVAL);
	CHECK(xfer_parse_size("5 M", &v) == -EINVAL);
	CHECK(xfer_parse_size("99999999999999999999", &v) == -EINVAL);
	CHECK(xfer_parse_size("1e3", &v) == -EINVAL);
}

static void test_urls(void)
{
	struct xurl u;
	char err[XFER_ERRLEN];
	char *s;

	CHECK(xurl_parse("ftp://tape@host.example:2121/dir/sub/vol%201.tap", &u,
			 err, sizeof(err)) == 0);
	CHECK_STR(u.scheme, "ftp");
	CHECK_STR(u.user, "tape");
	CHECK_STR(u.host, "host.example");
	CHECK_STR(u.hostport, "host.example:2121");
	CHECK_STR(u.dir, "/dir/sub/");
	CHECK_STR(u.dir_display, "/dir/sub");
	CHECK_STR(u.name, "vol 1.tap");
	CHECK(!u.local);
	xurl_free(&u);

	CHECK(xurl_parse("ftps://[::1]:990/a.tap", &u, err, sizeof(err)) == 0);
	CHECK_STR(u.host, "::1");
	CHECK_STR(u.dir, "/");
	CHECK_STR(u.name, "a.tap");
	CHECK(u.user == NULL);
	xurl_free(&u);

	CHECK(xurl_parse("ftp://h/dir/", &u, err, sizeof(err)) == 0);
	CHECK_STR(u.name, "");
	CHECK_STR(u.dir, "/dir/");
	xurl_free(&u);

	CHECK(xurl_parse("ftp://u:pw@h/x", &u, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "other users") && !strstr(err, "pw@"));
	CHECK(xurl_parse("http://h/x", &u, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "unsupported scheme"));
	CHECK(xurl_parse("ftp:///x", &u, err, sizeof(err)) == -EINVAL);
	CHECK(xurl_parse("ftp://h/a%0d%0aDELE%20x", &u, err, sizeof(err)) == -EINVAL);
	CHECK(xurl_parse("ftp://h/a%4", &u, err, sizeof(err)) == -EINVAL);

	CHECK(xurl_parse("file:///srv/tapes/a.tap", &u, err, sizeof(err)) == 0);
	CHECK(u.local);
	CHECK_STR(u.path, "/srv/tapes/a.tap");
	CHECK_STR(u.dir_display, "/srv/tapes");
	CHECK_STR(u.name, "a.tap");
	xurl_free(&u);
	CHECK(xurl_parse("a.tap", &u, err, sizeof(err)) == 0);
	CHECK(u.local);
	CHECK_STR(u.dir_display, ".");
	xurl_free(&u);
	CHECK(xurl_parse("file://relative/a", &u, err, sizeof(err)) == -EINVAL);

	s = xfer_url_display("ftp://u:secret@h:21/d/x.tap");
	CHECK_STR(s, "ftp://u@h:21/d/x.tap");
	free(s);
	s = xfer_url_display("ftp://u@h/d/x.tap");
	CHECK_STR(s, "ftp://u@h/d/x.tap");
	free(s);
	s = xfer_url_sibling("ftp://u@h/d/x.tap", "x.tap.manifest.json");
	CHECK_STR(s, "ftp://u@h/d/x.tap.manifest.json");
	free(s);
	s = xfer_url_sibling("ftp://h/d/x.tap", "a b");
	CHECK_STR(s, "ftp://h/d/a%20b");
	free(s);
	s = xfer_url_sibling("/srv/x.tap", "y b");
	CHECK_STR(s, "/srv/y b");
	free(s);
	s = xfer_url_sibling("x.tap", "y");
	CHECK_STR(s, "y");
	free(s);
	s = xfer_url_basename("ftp://h/d/vol%201.tap");
	CHECK_STR(s, "vol 1.tap");
	free(s);
	s = xfer_url_basename("/a/b/c.tap");
	CHECK_STR(s, "c.tap");
	free(s);
	CHECK(xfer_url_is_local("/a/b"));
	CHECK(xfer_url_is_local("file:///a/b"));
	CHECK(xfer_url_is_local("FILE:///a/b"));
	CHECK(!xfer_url_is_local("ftp://h/a"));
	CHECK(!xfer_url_is_local("sftp://h/a"));
	s = xurl_encode("a b/c%");
	CHECK_STR(s, "a%20b%2Fc%25");
	free(s);
}

static void test_opts(void)
{
	struct xfer_opts o;
	char err[XFER_ERRLEN];

	xfer_opts_init(&o);
	CHECK(o.buffer_size == 64ULL << 20 && o.replay_size == 32ULL << 20);
	CHECK(o.retries == 5 && o.connect_timeout == 10 && o.stall_timeout == 60);
	CHECK(o.overwrite == XFER_OVERWRITE_NEVER && o.progress == -1);
	CHECK(xfer_opts_set(&o, "tls", "require", err, sizeof(err)) == 0 &&
	      o.tls == XFER_TLS_REQUIRE);
	CHECK(xfer_opts_set(&o, "tls", "maybe", err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "no, try or require"));
	CHECK(xfer_opts_set(&o, "buffer", "128M", err, sizeof(err)) == 0 &&
	      o.buffer_size == 128ULL << 20);
	CHECK(xfer_opts_set(&o, "buffer", "10K", err, sizeof(err)) == -EINVAL);
	CHECK(xfer_opts_set(&o, "replay", "lots", err, sizeof(err)) == -EINVAL);
	CHECK(xfer_opts_set(&o, "retries", "0", err, sizeof(err)) == 0 && o.retries == 0);
	CHECK(xfer_opts_set(&o, "retries", "-2", err, sizeof(err)) == -EINVAL);
	CHECK(xfer_opts_set(&o, "overwrite", "ask", err, sizeof(err)) == 0 &&
	      o.overwrite == XFER_OVERWRITE_ASK);
	CHECK(xfer_opts_set(&o, "debug", "brief", err, sizeof(err)) == 0 &&
	      o.debug == XFER_DEBUG_BRIEF);
	CHECK(xfer_opts_set(&o, "insecure", NULL, err, sizeof(err)) == 0 && o.insecure);
	CHECK(xfer_opts_set(&o, "insecure", "x", err, sizeof(err)) == -EINVAL);
	CHECK(xfer_opts_set(&o, "active", NULL, err, sizeof(err)) == 0);
	CHECK_STR(o.active, "-");
	CHECK(xfer_opts_set(&o, "active", "127.0.0.1", err, sizeof(err)) == 0);
	CHECK_STR(o.active, "127.0.0.1");
	CHECK(xfer_opts_set(&o, "quiet", NULL, err, sizeof(err)) == 0 && o.progress == 0);
	CHECK(xfer_opts_set(&o, "progress", NULL, err, sizeof(err)) == 0 && o.progress == 1);
	CHECK(xfer_opts_set(&o, "user", "tape", err, sizeof(err)) == 0);
	CHECK_STR(o.user, "tape");
	CHECK(xfer_opts_set(&o, "user", NULL, err, sizeof(err)) == -EINVAL);
	CHECK(xfer_opts_set(&o, "connect-timeout", "3", err, sizeof(err)) == 0 &&
	      o.connect_timeout == 3);
	CHECK(xfer_opts_set(&o, "stall-timeout", "0", err, sizeof(err)) == -EINVAL);
	CHECK(xfer_opts_set(&o, "password", "hunter2", err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "other users") && strstr(err, "--password-file") &&
	      !strstr(err, "hunter2"));
	CHECK(xfer_opts_set(&o, "format", "mtd", err, sizeof(err)) == 1);
	CHECK(xfer_opts_takes_value("buffer") && xfer_opts_takes_value("user"));
	CHECK(!xfer_opts_takes_value("verify") && !xfer_opts_takes_value("active"));
	CHECK(strstr(xfer_opts_help(), "--overwrite=never|always|ask"));
	CHECK(strstr(xfer_opts_help(), "sftp://"));
	xfer_opts_free(&o);
	CHECK(o.user == NULL && o.active == NULL);
}

/* ---- the queue ----------------------------------------------------------- */

static void test_queue_bookkeeping(void)
{
	struct xq q;
	unsigned char data[100], out[100];
	const void *p;
	size_t n;

	for (int i = 0; i < 100; i++)
		data[i] = (unsigned char)i;
	CHECK(xq_init(&q, 64, 64) == -EINVAL);	/* replay must be < cap */
	CHECK(xq_init(&q, 64, 16) == 0);
	/* Empty, nothing sent: the writer may fill cap - 0 (keep_from is 0). */
	CHECK(xq_put(&q, data, 48) == 0);
	CHECK(xq_peek_nowait(&q, &p, &n) == 0 && n == 48);
	CHECK(memcmp(p, data, 48) == 0);
	xq_advance(&q, 40);
	/* high 40, replay 16: keep from 24, so head may reach 24 + 64 = 88 */
	CHECK(xq_put(&q, data + 48, 40) == 0);
	CHECK(q.head == 88);
	/* A rewind inside what is held works; before it does not. */
	CHECK(xq_oldest(&q) == 24);
	CHECK(xq_rewind(&q, 23) == -ERANGE);
	CHECK(xq_rewind(&q, 41) == -ERANGE);	/* beyond what was sent */
	CHECK(xq_rewind(&q, 24) == 0);
	/* The wrap: the bytes from 24 on come back in two contiguous pieces. */
	size_t got = 0;
	while (got < 64) {
		CHECK(xq_peek_nowait(&q, &p, &n) == 0);
		if (n == 0)
			break;
		memcpy(out + got, p, n);
		xq_advance(&q, n);
		got += n;
	}
	CHECK(got == 64 && memcmp(out, data + 24, 64) == 0);
	CHECK(xq_peek_nowait(&q, &p, &n) == -EAGAIN);
	xq_close(&q);
	CHECK(xq_peek(&q, &p, &n) == 0 && n == 0);	/* the end */
	uint64_t head, high;
	xq_counts(&q, &head, &high);
	CHECK(head == 88 && high == 88);
	xq_fail(&q, -ENOSPC);
	CHECK(xq_put(&q, data, 1) == -ENOSPC);
	xq_destroy(&q);

	/* reserve/commit: the free contiguous space, then exactly what was
	 * filled; the same replay bookkeeping as xq_put. */
	void *w;
	CHECK(xq_init(&q, 64, 16) == 0);
	CHECK(xq_reserve(&q, &w, &n) == 0 && n == 64 && w == q.buf);
	memcpy(w, data, 50);
	xq_commit(&q, 50);
	CHECK(xq_peek_nowait(&q, &p, &n) == 0 && n == 50);
	xq_advance(&q, 50);	/* high 50: keep from 34, room to 98 */
	CHECK(xq_reserve(&q, &w, &n) == 0 && n == 14);	/* up to the ring's end */
	xq_commit(&q, 14);
	CHECK(xq_reserve(&q, &w, &n) == 0 && n == 34 && w == q.buf);
	xq_commit(&q, 0);
	CHECK(q.head == 64);
	xq_cancel(&q);
	CHECK(xq_reserve(&q, &w, &n) == -ECANCELED);
	xq_destroy(&q);
}

/* Issue 8, 5d: a rewind never reaches back past the replay window, even
 * when the ring has not wrapped yet (the writer may be copying over those
 * bytes outside the lock). xq_compare checks the same bounds. */
static void test_queue_replay_bound(void)
{
	struct xq q;
	unsigned char data[64];
	uint64_t bad = 0;
	const void *p;
	size_t n;

	for (int i = 0; i < 64; i++)
		data[i] = (unsigned char)(i * 7);
	CHECK(xq_init(&q, 64, 16) == 0);
	CHECK(xq_put(&q, data, 40) == 0);
	CHECK(xq_peek_nowait(&q, &p, &n) == 0 && n == 40);
	xq_advance(&q, 40);
	/* high 40, replay 16: held from 24; head - cap would allow 0. */
	CHECK(xq_oldest(&q) == 24);
	CHECK(xq_rewind(&q, 0) == -ERANGE);
	CHECK(xq_rewind(&q, 23) == -ERANGE);
	/* The writer may now use the room up to 24 + 64 = 88: bytes 0..23
	 * are overwritten by 64..87 in the ring. */
	CHECK(xq_put(&q, data, 24) == 0);
	CHECK(q.head == 64);
	CHECK(xq_compare(&q, 24, data + 24, 16, &bad) == 0);
	CHECK(xq_compare(&q, 23, data + 23, 2, &bad) == -ERANGE);
	CHECK(xq_compare(&q, 36, data + 36, 8, &bad) == -ERANGE); /* not sent */
	unsigned char other[16];
	memcpy(other, data + 24, 16);
	other[5] ^= 1;
	CHECK(xq_compare(&q, 24, other, 16, &bad) == 1 && bad == 29);
	CHECK(xq_rewind(&q, 24) == 0);
	CHECK(xq_peek_nowait(&q, &p, &n) == 0 && n == 40);
	CHECK(memcmp(p, data + 24, 16) == 0);
	/* Before anything was sent past the window, all of it is held. */
	xq_destroy(&q);
	CHECK(xq_init(&q, 64, 16) == 0);
	CHECK(xq_put(&q, data, 10) == 0);
	CHECK(xq_peek_nowait(&q, &p, &n) == 0 && n == 10);
	xq_advance(&q, 10);
	CHECK(xq_oldest(&q) == 0 && xq_rewind(&q, 0) == 0);
	xq_destroy(&q);
}

struct prod {
	struct xq *q;
	volatile int done;
	int rc;
};

static void *producer(void *arg)
{
	struct prod *p = arg;
	static unsigned char block[4096];

	p->rc = xq_put(p->q, block, sizeof(block));
	p->done = 1;
	return NULL;
}

static void test_queue_backpressure(void)
{
	struct xq q;
	struct prod p = { &q, 0, 0 };
	pthread_t t;
	const void *ptr;
	size_t n;
	static unsigned char fill[8192];

	CHECK(xq_init(&q, 8192, 1024) == 0);
	CHECK(xq_put(&q, fill, sizeof(fill)) == 0);	/* full now */
	pthread_create(&t, NULL, producer, &p);
	usleep(100 * 1000);
	CHECK(!p.done);		/* blocked: no room */
	/* Sending 2048 frees only 1024: the replay window keeps the rest. */
	CHECK(xq_peek(&q, &ptr, &n) == 0 && n == 8192);
	xq_advance(&q, 2048);
	usleep(100 * 1000);
	CHECK(!p.done);		/* 1024 of 4096 fit; still waiting */
	xq_advance(&q, 4096);	/* high 6144: keep from 5120, room to 13312 */
	pthread_join(t, NULL);
	CHECK(p.done && p.rc == 0);
	CHECK(q.head == 8192 + 4096);
	/* cancel wakes a blocked producer */
	p.done = 0;
	pthread_create(&t, NULL, producer, &p);
	usleep(50 * 1000);
	CHECK(!p.done);
	xq_cancel(&q);
	pthread_join(t, NULL);
	CHECK(p.rc == -ECANCELED);
	xq_destroy(&q);
}

/* A consumer that batches as the libcurl read callback does, with a wait
 * so long that only a sync can cut it short (a broken sync hangs the test
 * until meson's timeout). It counts what it handed on. */
struct batcher {
	struct xq *q;
	size_t took;
	int rounds;
};

static void *batcher(void *arg)
{
	struct batcher *b = arg;
	const void *p;
	size_t n;

	for (;;) {
		if (xq_peek_batch(b->q, &p, &n, 1 << 20, 600000) || n == 0)
			return NULL;
		xq_advance(b->q, n);
		b->took += n;
		b->rounds++;
	}
}

static void test_queue_sync(void)
{
	struct xq q;
	struct batcher b = { &q, 0, 0 };
	pthread_t t;
	static unsigned char rec[100];

	CHECK(xq_init(&q, 1 << 22, 1 << 20) == 0);
	CHECK(xq_sync(&q, 0) == 0);		/* nothing queued: at once */
	pthread_create(&t, NULL, batcher, &b);
	CHECK(xq_put(&q, rec, sizeof(rec)) == 0);
	/* 100 bytes, far below the 1 MiB batch: the sync makes the consumer
	 * hand them on now, and returns once it came back for more. */
	CHECK(xq_sync(&q, 100) == 0);
	CHECK(q.wire == 100 && b.took == 100);
	CHECK(xq_put(&q, rec, sizeof(rec)) == 0);
	CHECK(xq_put(&q, rec, sizeof(rec)) == 0);
	CHECK(xq_sync(&q, 300) == 0);
	CHECK(q.wire == 300 && b.took == 300);
	/* A rewind (resume) sends bytes again: a sync waits for them anew. */
	CHECK(xq_rewind(&q, 150) == 0);
	CHECK(q.wire == 150);
	/* The consumer failing wakes a waiting sync with its error. */
	xq_fail(&q, -ENOSPC);
	CHECK(xq_sync(&q, 300) == -ENOSPC);
	xq_cancel(&q);
	pthread_join(t, NULL);
	xq_destroy(&q);
}

/* ---- listings ------------------------------------------------------------ */

/* The sender's stream CRC (--verify, issue 12.2): each byte once, across
 * a resume that sends bytes again and the ring's wrap; putv as put. */
static void test_queue_crc(void)
{
	struct xq q;
	unsigned char data[200];
	const void *p;
	size_t n;

	for (int i = 0; i < 200; i++)
		data[i] = (unsigned char)(i * 37 + 5);
	CHECK(xq_init(&q, 64, 32) == 0);
	q.crc_on = true;
	q.crc = (uint32_t)crc32(0L, Z_NULL, 0);
	struct xq_piece v[3] = { { data, 4 }, { data + 4, 30 }, { data + 34, 6 } };
	CHECK(xq_putv(&q, v, 3) == 0);
	CHECK(xq_peek_nowait(&q, &p, &n) == 0 && n == 40);
	xq_advance(&q, 40);
	CHECK(xq_rewind(&q, 20) == 0);		/* a resume: 20..40 again */
	CHECK(xq_peek_nowait(&q, &p, &n) == 0 && n == 20);
	xq_advance(&q, 20);
	CHECK(xq_put(&q, data + 40, 30) == 0);	/* wraps the 64-byte ring */
	uint64_t left = 30;
	while (left && xq_peek_nowait(&q, &p, &n) == 0 && n) {
		xq_advance(&q, n);
		left -= n;
	}
	CHECK(left == 0);
	CHECK(xq_crc(&q) == (uint32_t)crc32(crc32(0L, Z_NULL, 0), data, 70));
	xq_destroy(&q);
}

static void test_listing(void)
{
	struct xfer_entry e, *v;
	size_t n;
	time_t now = 1795247400;	/* 2026-11-21 */

	CHECK(xlist_parse_mlsd("type=file;size=1234;modify=20261121074400; a b.tap", &e) == 1);
	CHECK_STR(e.name, "a b.tap");
	CHECK(e.size == 1234 && !e.is_dir && e.mtime == 1795247040);
	free(e.name);
	CHECK(xlist_parse_mlsd("Type=dir;Modify=20250101000000;UNIX.mode=0755; sub", &e) == 1);
	CHECK(e.is_dir);
	free(e.name);
	CHECK(xlist_parse_mlsd("type=cdir; .", &e) == 0);
	CHECK(xlist_parse_mlsd("type=pdir; ..", &e) == 0);
	CHECK(xlist_parse_mlsd("garbage", &e) == -EINVAL);
	/* A size that is not a number is unknown, never a huge number. */
	CHECK(xlist_parse_mlsd("type=file;size=-1; neg.tap", &e) == 1);
	CHECK(e.size == XFER_SIZE_UNKNOWN);
	free(e.name);
	CHECK(xlist_parse_mlsd("type=file;size=99999999999999999999; big.tap", &e) == 1);
	CHECK(e.size == XFER_SIZE_UNKNOWN);
	free(e.name);
	CHECK(xlist_parse_mlsd("type=file;modify=20261121074400; nosize.tap", &e) == 1);
	CHECK(e.size == XFER_SIZE_UNKNOWN);
	free(e.name);
	CHECK(xlist_parse_mlsd("type=file;size=0; empty.tap", &e) == 1);
	CHECK(e.size == 0);
	free(e.name);
	/* An MLSD body: plausible when every line is facts, not LIST text. */
	CHECK(xlist_mlsd_plausible("type=cdir; .\r\ntype=pdir; ..\r\n", 29));
	CHECK(!xlist_mlsd_plausible("-rw-r--r-- 1 u g 5 Nov 20 10:00 zz\r\n", 36));

	CHECK(xlist_parse_list("-rw-r--r--    1 1000     1000      2097155 Nov 21 07:42 r.tap",
			       now, &e) == 1);
	CHECK_STR(e.name, "r.tap");
	CHECK(e.size == 2097155 && !e.is_dir && e.mtime == 1795246920);
	free(e.name);
	CHECK(xlist_parse_list("drwxr-xr-x    2 0        0            4096 Jan 02  2024 old dir",
			       now, &e) == 1);
	CHECK_STR(e.name, "old dir");
	CHECK(e.is_dir && e.mtime == 1704153600);
	free(e.name);
	/* A year-less date in the future is last year's. */
	CHECK(xlist_parse_list("-rw-r--r-- 1 u g 5 Dec 25 10:00 x", now, &e) == 1);
	CHECK(e.mtime == 1766656800);
	free(e.name);
	/* no group column */
	CHECK(xlist_parse_list("-rw-r--r-- 1 ftp 77 Nov 20 10:00 y", now, &e) == 1);
	CHECK_STR(e.name, "y");
	CHECK(e.size == 77);
	free(e.name);
	CHECK(xlist_parse_list("lrwxrwxrwx 1 u g 4 Nov 20 10:00 l -> t", now, &e) == 1);
	CHECK_STR(e.name, "l");
	free(e.name);
	CHECK(xlist_parse_list("11-21-26  07:42AM       <DIR>          Tapes", now, &e) == 1);
	CHECK(e.is_dir);
	CHECK_STR(e.name, "Tapes");
	free(e.name);
	CHECK(xlist_parse_list("11-21-26  07:42PM             123456 v1.tap", now, &e) == 1);
	CHECK(e.size == 123456 && e.mtime == 1795290120);
	free(e.name);
	CHECK(xlist_parse_list("total 12", now, &e) == 0);
	CHECK(xlist_parse_list("drwxr-xr-x 2 0 0 4096 Jan 02 2024 .", now, &e) == 0);
	CHECK(xlist_parse_list("what is this", now, &e) == -EINVAL);

	const char buf[] = "-rw-r--r-- 1 u g 5 Nov 20 10:00 zz\r\n"
		"total 3\r\n-rw-r--r-- 1 u g 7 Nov 20 10:00 aa\r\nnonsense\r\n";
	CHECK(xlist_parse(buf, sizeof(buf) - 1, false, &v, &n) == 0);
	CHECK(n == 2);
	if (n == 2) {
		CHECK_STR(v[0].name, "aa");
		CHECK_STR(v[1].name, "zz");
	}
	xfer_entries_free(v, n);
}

static void test_summary(void)
{
	struct xfer_stats s = { .sent = 1087492672, .confirmed = 1087492672 };
	char buf[200];

	xfer_summary(&s, buf, sizeof(buf));
	CHECK_STR(buf, "sent 1087492672 bytes (1.01 GB); the server holds "
		  "1087492672 bytes");
	s.sent = 10;
	s.confirmed = 3;
	xfer_summary(&s, buf, sizeof(buf));
	CHECK_STR(buf, "sent 10 bytes (10 bytes); the server holds 3 bytes");
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	test_sizes();
	test_urls();
	test_opts();
	test_queue_bookkeeping();
	test_queue_replay_bound();
	test_queue_backpressure();
	test_queue_sync();
	test_queue_crc();
	test_listing();
	test_summary();
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures ? 1 : 0;
}

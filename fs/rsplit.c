/*
 * rsplit.c - what each piece of a split read() gets of a tape record
 * (rsplit.h). Pure: no I/O, no locks (rdrive.c holds its io lock).
 */
#include "rsplit.h"

#include <string.h>

void rsplit_reset(struct rsplit *s)
{
	memset(s, 0, sizeof(*s));
}

/* The first request of a read() whose buffer is larger than size: the
 * read() is known to hold the record (count), or, not knowing, the
 * request is as large as the kernel makes them (within a page: a buffer
 * that is not page-aligned gives a shorter first piece) and the record
 * was not cut before. */
static bool may_hold(const struct rsplit *s, size_t size, long long count,
		     size_t len, size_t max_request)
{
	if (count >= 0)
		return (unsigned long long)count >= len;
	return !s->cut && size + 4096 > max_request;
}

struct rsplit_step rsplit_request(struct rsplit *s, uint64_t id, size_t size,
				  off_t off, long long count, bool is_record,
				  size_t len, size_t max_request)
{
	struct rsplit_step st = { .act = RS_NOTHING };
	if (off > 0) {
		/* A continuation: more of the record begun, from the same
		 * open and exactly where the last piece ended; else the
		 * read() ends (the record ended at a piece's end, or a mark
		 * follows). */
		if (!s->partial || !is_record || s->owner != id ||
		    (unsigned long long)off != s->used || s->used >= len)
			return st;
		st.act = RS_SERVE;
		st.from = s->used;
		st.n = len - s->used < size ? len - s->used : size;
		s->used += st.n;
		if (s->used == len) {
			st.pass = true;
			rsplit_reset(s);
		}
		return st;
	}
	if (s->partial) {
		/* The read() before ended inside the record (a buffer of
		 * one piece, or a signal): it got part of it. The record
		 * stays; it goes out again only whole. */
		st.was_cut = true;
		st.taken = s->used;
		s->partial = false;
		s->used = 0;
		s->cut = true;
	}
	if (!is_record) {
		rsplit_reset(s);
		return st;
	}
	if (len <= size) {
		st.act = RS_SERVE;
		st.n = len;
		st.pass = true;
		rsplit_reset(s);
		return st;
	}
	if (!may_hold(s, size, count, len, max_request)) {
		/* Not knowing the read()'s size, a cut record is refused
		 * once (that reader's buffer was shown one piece large),
		 * then served in pieces again. */
		if (count < 0)
			s->cut = false;
		st.act = RS_TOO_SHORT;
		return st;
	}
	s->partial = true;
	s->owner = id;
	s->used = size;
	st.act = RS_SERVE;
	st.n = size;
	return st;
}

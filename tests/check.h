/*
 * check.h - the CHECK macro the plain C unit tests share: a failed check
 * prints where and what, counts, and lets the test go on so one run shows
 * every failure. main() ends with `return failures ? 1 : 0;`.
 */
#ifndef REELFS_TESTS_CHECK_H
#define REELFS_TESTS_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                            \
			failures++;                                          \
		}                                                            \
	} while (0)

#endif

/*
 * Tiny unit-test helpers in the spirit of OpenSSH's regress/unittests:
 * each CHECK prints one "ok - " or "not ok - " line for regress/run.
 */
#ifndef REGRESS_TEST_H
#define REGRESS_TEST_H

#include <stdio.h>
#include <string.h>

static int	test_failed;

#define CHECK(cond, what) do {						\
	if (cond)							\
		printf("ok - %s\n", (what));				\
	else {								\
		printf("not ok - %s (%s:%d: %s)\n", (what),		\
		    __FILE__, __LINE__, #cond);				\
		test_failed = 1;					\
	}								\
	fflush(stdout);							\
} while (0)

#define TEST_EXIT()	return (test_failed ? 1 : 0)

#endif

/* tap: the smallest TAP producer, for the C unit tests. */
#ifndef PM_TAP_H
#define PM_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

/* cond is evaluated once: it may have effects. */
#define ok(cond, ...)                                                                    \
	do {                                                                             \
		int tap_ok_ = !!(cond);                                                  \
		tap_count++;                                                             \
		if (!tap_ok_)                                                            \
			tap_failed++;                                                    \
		printf("%sok %d - ", tap_ok_ ? "" : "not ", tap_count);                  \
		printf(__VA_ARGS__);                                                     \
		printf("\n");                                                            \
		if (!tap_ok_)                                                            \
			printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);      \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif

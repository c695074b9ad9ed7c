/* tap: the smallest TAP producer, for the C unit tests. */
#ifndef PM_TAP_H
#define PM_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

#define ok(cond, ...)                                                                    \
	do {                                                                             \
		tap_count++;                                                             \
		if (!(cond)) {                                                           \
			tap_failed++;                                                    \
			printf("not ok %d - ", tap_count);                               \
		} else {                                                                 \
			printf("ok %d - ", tap_count);                                   \
		}                                                                        \
		printf(__VA_ARGS__);                                                     \
		printf("\n");                                                            \
		if (!(cond))                                                             \
			printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);      \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif

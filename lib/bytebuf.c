#include "bytebuf.h"
#include <stdlib.h>

#include "pm_error.h"

void bytebuf_reserve(struct bytebuf *b, size_t extra)
{
	size_t need = b->len + extra;
	size_t cap = b->cap ? b->cap : 256;

	if (need < b->len)
		pm_die(PM_EXIT_IO, "out of memory (buffer overflow)");
	while (cap < need)
		cap *= 2;
	if (cap != b->cap) {
		b->data = pm_realloc(b->data, cap);
		b->cap = cap;
	}
}

void bytebuf_free(struct bytebuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

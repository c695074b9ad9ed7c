/* bytebuf: a growable byte buffer, reused across records so the hot loops allocate nothing. */
#ifndef PM_BYTEBUF_H
#define PM_BYTEBUF_H

#include <stddef.h>
#include <string.h>

struct bytebuf {
	char *data;
	size_t len;
	size_t cap;
};

void bytebuf_reserve(struct bytebuf *b, size_t extra);
void bytebuf_free(struct bytebuf *b);

static inline void bytebuf_append(struct bytebuf *b, const void *p, size_t n)
{
	if (n == 0) /* data may still be NULL: memcpy must not see it */
		return;
	if (b->cap - b->len < n)
		bytebuf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static inline void bytebuf_putc(struct bytebuf *b, char c)
{
	if (b->cap == b->len)
		bytebuf_reserve(b, 1);
	b->data[b->len++] = c;
}

static inline void bytebuf_puts(struct bytebuf *b, const char *s)
{
	bytebuf_append(b, s, strlen(s));
}

/* Append a NUL without counting it, so data can be used as a C string. */
static inline const char *bytebuf_cstr(struct bytebuf *b)
{
	bytebuf_putc(b, '\0');
	b->len--;
	return b->data;
}

#endif

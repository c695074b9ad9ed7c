/*
 * printable: text made safe for a terminal.  A message can echo a name from a hostile
 * stream, a mapping file or the server; a raw ESC, CR or invalid UTF-8 byte in it could
 * rewrite the terminal or hide what the message says.  Every byte below 0x20, DEL,
 * every byte of invalid UTF-8, the C1 controls (U+0080-U+009F) and the invisible
 * byte-order mark (U+FEFF) are written as \xHH; valid UTF-8 text passes as it is.
 */
#ifndef PM_PRINTABLE_H
#define PM_PRINTABLE_H

#include <stddef.h>

/* The room printable_escape needs for len bytes, its NUL included. */
#define PRINTABLE_SIZE(len) (4 * (len) + 1)

/* Write in[0..len) escaped into out (PRINTABLE_SIZE(len) bytes), NUL-terminated; returns its length. */
size_t printable_escape(char *out, const char *in, size_t len);

#endif

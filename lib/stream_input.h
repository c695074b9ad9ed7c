/*
 * stream_input: the CSV bytes of a pm stream, from its file descriptor: a plain
 * stream's bytes as read, a gzip stream's inflated member by member (pm's own
 * members whole through libdeflate, any other through zlib's streaming inflate).
 * Member by member, so that what gzread hides is seen: junk after the last member,
 * a stream of pm's cut between two members, and the boundaries between members
 * that the reader needs to find a whole stream appended to another.
 *
 * It knows nothing of CSV: stream_reader parses what it gives.  Errors of the
 * data are handed back, for the reader to say at which record; I/O errors are fatal.
 */
#ifndef PM_STREAM_INPUT_H
#define PM_STREAM_INPUT_H

#include <stdbool.h>
#include <stddef.h>

struct stream_input;

/* Read fd (taken: closed by stream_input_close); name is for messages and must outlive it. */
struct stream_input *stream_input_open(int fd, const char *name);

/* What stream_input_next gave. */
struct stream_piece {
	const unsigned char *data; /* valid until the next call */
	size_t len;                /* 0 is not the end: a gzip member may hold nothing */
	bool begins_member; /* these bytes begin a gzip member */
	/* ... after the first, and one that may start a stream of its own (any member but one
	 * of pm's that says it goes on with the CSV before it). */
	bool may_start_stream;
	bool member_ended; /* a gzip member ends with these bytes */
};

enum stream_input_result {
	STREAM_INPUT_BYTES, /* *piece holds the next bytes */
	STREAM_INPUT_END,   /* the input ended where a stream may end */
	STREAM_INPUT_BAD,   /* corrupt or truncated gzip: stream_input_error says what */
};
enum stream_input_result stream_input_next(struct stream_input *in, struct stream_piece *piece);

/* What was wrong, after STREAM_INPUT_BAD. */
const char *stream_input_error(const struct stream_input *in);

void stream_input_close(struct stream_input *in);

#endif

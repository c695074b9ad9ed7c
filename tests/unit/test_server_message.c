/* Unit tests of server_message: the values PostgreSQL quotes are left out, the names it quotes kept. */
#include <stdlib.h>
#include <string.h>

#include "server_message.h"
#include "tap.h"

static const char *safe(const char *primary, const char *known_name)
{
	static struct bytebuf b;
	const char *known[1] = { known_name };
	char *names[1] = { "ping" };

	b.len = 0;
	server_message_append_text(&b, primary, known, 1, names, 1);
	return bytebuf_cstr(&b);
}

int main(void)
{
	static const struct {
		const char *in, *known, *out;
	} cases[] = {
		{ "invalid input syntax for type boolean: \"C81E728D9D4C2F636F067F89CC14862C\"", NULL,
		  "invalid input syntax for type boolean" },
		{ "invalid input syntax for type integer: \"a \"quoted\" value\"", NULL, "invalid input syntax for type integer" },
		{ "value \"99999999999\" is out of range for type integer", NULL, "value is out of range for type integer" },
		{ "invalid byte sequence for encoding \"UTF8\": 0xff", NULL, "invalid byte sequence for encoding" },
		{ "value too long for type character varying(8)", NULL, "value too long for type character varying(8)" },
		{ "null value in column \"ping\" of relation \"t\" violates not-null constraint", "t",
		  "null value in column \"ping\" of relation \"t\" violates not-null constraint" },
		{ "duplicate key value violates unique constraint \"a\"b\"", "a\"b",
		  "duplicate key value violates unique constraint \"a\"b\"" },
		{ "new row for relation \"t\" violates check constraint \"c\"", "t",
		  "new row for relation \"t\" violates check constraint" },
		{ "", NULL, "" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *got = safe(cases[i].in, cases[i].known);
		ok(strcmp(got, cases[i].out) == 0, "%s -> %s", cases[i].in, got);
	}
	return tap_done();
}

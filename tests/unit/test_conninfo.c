/* Unit tests of db's password rules: libpq decides what a connection string holds, and a
 * message that echoes one has its user:password@ and password=value masked. */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "tap.h"

static int masks_to(const char *msg, const char *want)
{
	char *got = db_mask_secrets(msg);
	int same = strcmp(got, want) == 0;

	if (!same)
		printf("#   got \"%s\"\n", got);
	free(got);
	return same;
}

int main(void)
{
	static const char *const holds[] = {
		"dbname=x password=s3cret",
		"dbname=x password = 's3 cret'",
		"postgresql://u:s3cret@/db",
		"postgres://u:s3cret@localhost:5432/db",
		"postgresql:///db?password=s3cret",
		"postgresql:///db?sslmode=disable&pass%77ord=s3cret",
		"postgresql:///db?%70%61%73%73%77%6f%72%64=s3cret",
		"dbname='host=x password=s3cret'",
		"dbname=postgresql://u:s3cret@/db",
		"dbname=postgresql:///db?pass%77ord=s3cret",
		"postgresql:///postgresql%3A%2F%2Fu%3As3cret%40%2Fdb",
	};
	static const char *const none[] = {
		"", "mydb", "dbname=x", "dbname=x user=u host=localhost port=5432 passfile=/p",
		"postgresql://pm@localhost:5432/x?sslmode=disable", "postgresql:///db", "dbname=postgresql:///db",
		"password=", "postgresql://u:@/db",
	};
	static const char *const malformed[] = {
		"password=sec ret", "password='s3cret", "postgresql://u:s3cret%zz@/db", "dbname='password=sec ret'",
		"PASSWORD=s3cret",
	};

	for (size_t i = 0; i < sizeof holds / sizeof *holds; i++)
		ok(db_conninfo_has_password(holds[i]) == 1, "holds a password: %s", holds[i]);
	for (size_t i = 0; i < sizeof none / sizeof *none; i++)
		ok(db_conninfo_has_password(none[i]) == 0, "holds none: %s", none[i]);
	for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++)
		ok(db_conninfo_has_password(malformed[i]) == -1, "libpq cannot parse it: %s", malformed[i]);
	ok(db_conninfo_has_password(NULL) == 0, "NULL holds none");

	ok(masks_to("database \"postgresql://u:s3cret@/db\" does not exist",
		    "database \"postgresql://u:***@/db\" does not exist"), "a URI's userinfo");
	ok(masks_to("database \"postgres://u:a b\"c@host/db\" does not exist",
		    "database \"postgres://u:***@host/db\" does not exist"), "userinfo up to the '@', as libpq reads it");
	ok(masks_to("database \"postgresql://:s3cret@/db\"", "database \"postgresql://:***@/db\""), "no user");
	ok(masks_to("role u:s3cret@host", "role u:***@host"), "user:password@ without a scheme");
	ok(masks_to("database \"x password=s3cret\" does not exist", "database \"x password=***\" does not exist"),
	   "password=value");
	ok(masks_to("database \"x password = 's3 cret' y\"", "database \"x password =*** y\""), "a quoted value");
	ok(masks_to("database \"postgresql:///db?a=b&pass%77ord=s3cret&c=d\"",
		    "database \"postgresql:///db?a=b&pass%77ord=***&c=d\""), "a percent-encoded keyword");
	ok(masks_to("password authentication failed for user \"u\"", "password authentication failed for user \"u\""),
	   "the word password alone is kept");
	ok(masks_to("connection to server at \"localhost\" (::1), port 5432 failed",
		    "connection to server at \"localhost\" (::1), port 5432 failed"), "host and port are kept");
	ok(masks_to("postgresql://pm@localhost:5432/x", "postgresql://pm@localhost:5432/x"), "a user alone is kept");
	ok(masks_to("", ""), "an empty message");
	return tap_done();
}

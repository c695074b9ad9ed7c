/* Unit tests of name_index: positions found, duplicates told, names with NUL bytes kept apart. */
#include <stdio.h>

#include "name_index.h"
#include "tap.h"

int main(void)
{
	static char names[20000][16];
	struct name_index ix = { 0 };
	int added = 0, found = 0;

	ok(name_index_find(&ix, "x", 1) == -1, "an empty index finds nothing");
	for (int i = 0; i < 20000; i++) {
		snprintf(names[i], sizeof names[i], "c%d", i);
		added += name_index_add(&ix, names[i], strlen(names[i]), i) == -1;
	}
	ok(added == 20000, "20000 distinct names are added");
	for (int i = 0; i < 20000; i++)
		found += name_index_find(&ix, names[i], strlen(names[i])) == i;
	ok(found == 20000, "each is found at its position");
	ok(name_index_add(&ix, "c123", 4, 99999) == 123, "a duplicate gives the first one's position");
	ok(name_index_find(&ix, "c20000", 6) == -1, "a name not added is not found");
	ok(name_index_add(&ix, "a\0b", 3, 1) == -1 && name_index_add(&ix, "a\0c", 3, 2) == -1 &&
		   name_index_find(&ix, "a\0c", 3) == 2,
	   "names that differ after a NUL are two names");
	name_index_free(&ix);
	return tap_done();
}

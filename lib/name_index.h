/*
 * name_index: column names to their positions in a hash table, so that a header of
 * n names is matched and checked for duplicates in O(n), not O(n^2).  Every place
 * that looks a name up among many (headers, mapping files, tables) goes through it.
 * Names are not copied: each must outlive the index.  Names may hold NUL bytes.
 */
#ifndef PM_NAME_INDEX_H
#define PM_NAME_INDEX_H

#include <stddef.h>

struct name_index_slot;

struct name_index {
	struct name_index_slot *slots;
	size_t mask; /* slots - 1, a power of two minus one; 0 while empty */
	size_t n;
};

/* Add name as position; returns the position of an equal name already there (nothing added), or -1. */
int name_index_add(struct name_index *ix, const char *name, size_t len, int position);
/* The position of name, or -1. */
int name_index_find(const struct name_index *ix, const char *name, size_t len);
void name_index_free(struct name_index *ix);

#endif

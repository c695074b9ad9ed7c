/*
 * namelist: a comma-separated list from the command line (column names, key
 * values), read as one CSV record so that a name holding a comma can be quoted:
 * -c 'id,"a,b"'.
 */
#ifndef PM_NAMELIST_H
#define PM_NAMELIST_H

#include <stddef.h>

struct namelist {
	char **items;
	size_t n;
};

/* Parse arg for option (named in messages); an empty item is a usage error (exit 2). */
void namelist_parse(struct namelist *list, const char *arg, const char *option);
int namelist_find(const struct namelist *list, const char *name);
void namelist_free(struct namelist *list);

#endif

#include <stdlib.h>
#include <string.h>

#include "csv_record.h"
#include "namelist.h"
#include "pm_error.h"

void namelist_parse(struct namelist *list, const char *arg, const char *option)
{
	struct bytebuf store = { 0 };
	struct csv_field *fields;
	const char *why;
	int n = csv_split(arg, &store, &fields, &why);

	if (n < 0)
		pm_die(PM_EXIT_USAGE, "%s: cannot read list \"%s\": %s", option, arg, why);
	namelist_free(list);
	list->items = pm_malloc((size_t)n * sizeof *list->items);
	list->n = (size_t)n;
	for (int i = 0; i < n; i++) {
		if (fields[i].null || fields[i].len == 0 || strlen(fields[i].data) != fields[i].len)
			pm_die(PM_EXIT_USAGE, "%s: item %d of \"%s\" is empty", option, i + 1, arg);
		list->items[i] = pm_strdup(fields[i].data);
	}
	bytebuf_free(&store);
}

int namelist_find(const struct namelist *list, const char *name)
{
	for (size_t i = 0; i < list->n; i++)
		if (strcmp(list->items[i], name) == 0)
			return (int)i;
	return -1;
}

void namelist_free(struct namelist *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->n = 0;
}

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "name_index.h"
#include "pm_error.h"

struct name_index_slot {
	const char *name; /* NULL: empty */
	size_t len;
	int position;
};

/* FNV-1a: names are short, and a header is hashed once. */
static size_t hash(const char *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 0x100000001b3u;
	return (size_t)(h ^ (h >> 32));
}

static struct name_index_slot *slot_of(const struct name_index *ix, const char *name, size_t len)
{
	for (size_t s = hash(name, len) & ix->mask;; s = (s + 1) & ix->mask) {
		struct name_index_slot *slot = &ix->slots[s];
		if (!slot->name || (slot->len == len && memcmp(slot->name, name, len) == 0))
			return slot;
	}
}

/* At most half full, so that a probe ends soon at an empty slot. */
static void grow(struct name_index *ix)
{
	size_t cap = ix->mask ? 2 * (ix->mask + 1) : 16;
	struct name_index old = *ix;

	ix->slots = pm_malloc(cap * sizeof *ix->slots);
	memset(ix->slots, 0, cap * sizeof *ix->slots);
	ix->mask = cap - 1;
	for (size_t s = 0; old.mask && s <= old.mask; s++)
		if (old.slots[s].name)
			*slot_of(ix, old.slots[s].name, old.slots[s].len) = old.slots[s];
	free(old.slots);
}

int name_index_add(struct name_index *ix, const char *name, size_t len, int position)
{
	if (2 * (ix->n + 1) > ix->mask + 1)
		grow(ix);
	struct name_index_slot *slot = slot_of(ix, name, len);
	if (slot->name)
		return slot->position;
	*slot = (struct name_index_slot){ name, len, position };
	ix->n++;
	return -1;
}

int name_index_find(const struct name_index *ix, const char *name, size_t len)
{
	if (!ix->mask)
		return -1;
	const struct name_index_slot *slot = slot_of(ix, name, len);
	return slot->name ? slot->position : -1;
}

void name_index_free(struct name_index *ix)
{
	free(ix->slots);
	*ix = (struct name_index){ 0 };
}

/*
 * keymap: an old-id to new-id map loaded from a key-map stream (header
 * old_key,new_key, as pm-load --keymap-out writes it), for re-pointing foreign
 * keys.  Dense old keys (ids of one sequence) become an array indexed by the old
 * key, about 16 bytes a key; others a hash index over the pairs, at most 32.
 */
#ifndef PM_KEYMAP_H
#define PM_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>

struct keymap;

/* Load path (a stream); a malformed stream, a non-integer or a repeated old key exits 3. */
struct keymap *keymap_load(const char *name, const char *path);

/*
 * The same from pairs of another source: keymap_new, keymap_add each pair, then
 * keymap_build before any lookup.  A repeated old key or more than 2^32 - 2 pairs
 * exits 3, the message starting with where.
 */
struct keymap *keymap_new(const char *name);
void keymap_add(struct keymap *m, long long old_key, long long new_key, const char *where);
void keymap_build(struct keymap *m, const char *where);

bool keymap_lookup(const struct keymap *m, long long old_key, long long *new_key);
/* Start fetching old_key's entry into the cache: a lookup soon after finds it there. */
void keymap_prefetch(const struct keymap *m, long long old_key);

const char *keymap_name(const struct keymap *m);
size_t keymap_size(const struct keymap *m);
void keymap_free(struct keymap *m);

#endif

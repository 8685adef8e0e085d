/* store/copy.h — one-block copies (see store.h, "Ownership"): a record and
 * all its strings in one allocation, freed with lsn_free(). Shared by the
 * back-ends and the writer. Not for use outside src/store. */
#ifndef STORE_COPY_H
#define STORE_COPY_H

#include <stddef.h>

#include "store/store.h"

/* The size of a string with its NUL; 0 for NULL. */
size_t copy_ssize(const char *s);
/* Copy s (with its NUL) to *cur, advance *cur, return the copy; NULL for
 * NULL. */
const char *copy_put(char **cur, const char *s);
/* An item copied whole (strings and attachment bytes) into one block; NULL
 * when out of memory. An attachment present but empty keeps a non-NULL
 * pointer; without a media type there is no attachment. */
void *copy_item(const store_item *it);
/* A release request copied whole (its strings) into one block; NULL when
 * out of memory. */
struct store_release;
struct store_release *copy_release_request(const struct store_release *r);

#endif

/* store/store.c — choosing a back-end by name, and closing. */
#include "store/store.h"

#include <string.h>

#include "core/error.h"

lsn_err store_open(const char *where, store **out, lsn_error *err)
{
    *out = NULL;
    if (!where || !*where)
        return lsn_fail(err, LSN_ERR_ARG, "no store named");
    if (strncmp(where, "sqlite:", 7) == 0)
        return store_sqlite_open(where + 7, out, err);
    if (strncmp(where, "postgresql:", 11) == 0 || strncmp(where, "postgres:", 9) == 0)
        return lsn_fail(err, LSN_ERR_ARG, "the PostgreSQL store is not built in");
    return store_sqlite_open(where, out, err);
}

void store_close(store *s)
{
    if (s)
        s->ops->close(s);
}

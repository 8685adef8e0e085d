/* store/store.c — choosing a back-end by name (checking the interface
 * version its table implements), and closing. */
#include "store/store.h"

#include <string.h>

#include "core/error.h"

/* Check the back-end's table against the interface this build speaks. */
static lsn_err checked(lsn_err rc, store **out, lsn_error *err)
{
    if (rc != LSN_OK || (*out)->ops->version == STORE_OPS_VERSION)
        return rc;
    unsigned v = (*out)->ops->version;
    store_close(*out);
    *out = NULL;
    return core_fail(err, LSN_ERR_ARG, "the store back-end implements interface version %u, "
                    "this build speaks version %u", v, STORE_OPS_VERSION);
}

lsn_err store_open(const char *where, store **out, lsn_error *err)
{
    *out = NULL;
    if (!where || !*where)
        return core_fail(err, LSN_ERR_ARG, "no store named");
    if (strncmp(where, "sqlite:", 7) == 0)
        return checked(store_sqlite_open(where + 7, out, err), out, err);
    if (strncmp(where, "postgresql:", 11) == 0 || strncmp(where, "postgres:", 9) == 0)
        return core_fail(err, LSN_ERR_ARG, "the PostgreSQL store is not built in");
    if (strchr(where, ':') && !strchr(where, '/'))
        return core_fail(err, LSN_ERR_ARG, "unknown store scheme in '%s' (sqlite:PATH)", where);
    return checked(store_sqlite_open(where, out, err), out, err);
}

void store_close(store *s)
{
    if (s)
        s->ops->close(s);
}

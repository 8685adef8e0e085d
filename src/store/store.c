/* store/store.c — choosing a back-end by name (checking the interface
 * version its table implements), closing, and the text form of an item's
 * public id (UUID). */
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

lsn_err store_open_keyed(const char *where, const char *key_dir, store **out,
                         lsn_error *err)
{
    *out = NULL;
    if (!where || !*where)
        return core_fail(err, LSN_ERR_ARG, "no store named");
    if (strncmp(where, "sqlite:", 7) == 0)
        return checked(store_sqlite_open(where + 7, out, err), out, err);
    /* A URI goes to libpq whole; "postgresql:" before key=value pairs is
     * only the scheme. */
    if (strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0)
        return checked(store_pg_open(where, key_dir, out, err), out, err);
    if (strncmp(where, "postgresql:", 11) == 0)
        return checked(store_pg_open(where + 11, key_dir, out, err), out, err);
    if (strchr(where, ':') && !strchr(where, '/'))
        return core_fail(err, LSN_ERR_ARG,
                         "unknown store scheme in '%s' (sqlite:PATH or postgresql://...)", where);
    return checked(store_sqlite_open(where, out, err), out, err);
}

lsn_err store_open(const char *where, store **out, lsn_error *err)
{
    return store_open_keyed(where, NULL, out, err);
}

void store_uri_redact(const char *uri, char *out, size_t n)
{
    if (!n)
        return;
    size_t k = 0;
    const char *p = uri ? uri : "";
    const char *scheme = strstr(p, "://");
    /* user:PASSWORD@host — only in the authority, before any '/', '?'. */
    const char *auth = scheme ? scheme + 3 : NULL;
    const char *at = auth ? strpbrk(auth, "@/?") : NULL;
    const char *colon = at && *at == '@' ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    for (; *p && k + 1 < n;) {
        if (colon && p == colon + 1) {
            for (const char *r = "***"; *r && k + 1 < n; r++)
                out[k++] = *r;
            p = at;
            continue;
        }
        /* password=VALUE in key=value pairs or a URI's query. */
        if (strncmp(p, "password=", 9) == 0 && (p == uri || strchr(" ?&", p[-1]))) {
            for (const char *r = "password=***"; *r && k + 1 < n; r++)
                out[k++] = *r;
            p += 9;
            if (*p == '\'') { /* a quoted value: up to the closing quote */
                for (p++; *p && *p != '\''; p++)
                    if (*p == '\\' && p[1])
                        p++;
                if (*p)
                    p++;
            } else {
                while (*p && *p != ' ' && *p != '&')
                    p++;
            }
            continue;
        }
        out[k++] = *p++;
    }
    out[k] = '\0';
}

void store_close(store *s)
{
    if (s)
        s->ops->close(s);
}

void store_uuid_text(const uint8_t u[STORE_UUID_LEN], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (size_t i = 0; i < STORE_UUID_LEN; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        out[k++] = hex[u[i] >> 4];
        out[k++] = hex[u[i] & 15];
    }
    out[k] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool store_uuid_parse(const char *t, uint8_t out[STORE_UUID_LEN])
{
    if (!t || strlen(t) != 36)
        return false;
    size_t k = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (t[i++] != '-')
                return false;
            continue;
        }
        int hi = hexval(t[i]), lo = hexval(t[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[k++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return true;
}

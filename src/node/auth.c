/* node/auth.c — who is calling: the server hashes the bearer token and asks
 * us for the user with that hash; we fetch the user from the store and
 * parse their clearance once for the request, so every decision of the
 * request is a fast check against a compiled clearance. */
#include <string.h>

#include "core/alloc.h"
#include "node_internal.h"

void *node_auth_lookup(void *ctx, const uint8_t hash[SRV_TOKEN_HASH_LEN])
{
    node *n = ctx;
    store_user *u = NULL;
    lsn_error err;
    if (store_user_find_by_token(n->st, hash, &u, &err) != LSN_OK || !u)
        return NULL;
    node_reader *r = lsn_calloc(1, sizeof *r);
    if (!r) {
        lsn_free(u);
        return NULL;
    }
    r->user = u;
    /* A clearance that no longer parses (a policy change) sees nothing:
     * the reader stays authenticated but every decision denies. */
    if (lsn_clearance_parse(n->set, u->clearance, strlen(u->clearance), LSN_FORM_JSON,
                            &r->clearance, &err) != LSN_OK)
        r->clearance = NULL;
    store_org *o = NULL;
    if (store_org_get(n->st, u->organisation, &o, &err) == LSN_OK && o) {
        r->org_category = lsn_strdup(o->category);
        lsn_free(o);
    }
    return r;
}

void node_auth_release(void *ctx, void *user)
{
    (void)ctx;
    node_reader *r = user;
    if (!r)
        return;
    lsn_clearance_free(r->clearance);
    lsn_free(r->org_category);
    lsn_free(r->user);
    lsn_free(r);
}

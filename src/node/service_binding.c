/* node/service_binding.c — an item's STANAG 4778 binding, made by this
 * node (its origin) when it is first needed.
 *
 * Signing costs ~1.5 M instructions, about seven posts' worth of the rest
 * of a post (docs/PERFORMANCE.md): a node that signed every post at
 * acceptance posted 8x slower. So a post is signed at acceptance only when
 * the guard sends it to a peer (service_post.c); any other item is signed
 * when its binding is first asked for (GET /api/v1/items/{id}/binding),
 * on the asking request's thread, and the signature kept through the
 * store's writer — the first one kept stays, so that every later answer is
 * the same bytes (an ECDSA signature differs each time it is made). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "federation/binding.h"
#include "service.h"

lsn_err svc_binding_sign(svc *s, const store_item *it, const svc_label *l, char **out,
                         size_t *len, lsn_error *err)
{
    char uuid[37];
    store_uuid_text(it->uuid, uuid);
    fed_content c = {.body = it->body, .body_len = strlen(it->body),
                     .has_attachment = it->media_type != NULL, .media_type = it->media_type,
                     .attachment = it->attachment, .attachment_len = it->attachment_len};
    /* The item's own time, so that the signing time says when it was made. */
    return fed_binding_sign(s->me, uuid, it->channel, l->xml4774, l->xml4774_len, &c,
                            (time_t)(it->created_ms / 1000), out, len, err);
}

/* Sign item `id` now, from what the store holds of it; *out NULL when the
 * store withholds it (it fails its seal: never signed). */
static lsn_err sign_stored(svc *s, int64_t id, char **out, size_t *len, lsn_error *err)
{
    store_item *it = NULL;
    lsn_err rc = store_item_get(s->st, id, &it, err);
    if (rc != LSN_OK || !it)
        return rc;
    json_t *j = json_loads(it->label, 0, NULL);
    svc_label *l = NULL;
    svc_result res;
    if (!j || svc_label_get(s, j, &l, &res) != LSN_OK)
        rc = core_fail(err, LSN_ERR_LABEL, "item %lld: its stored label: %s", (long long)id,
                       j ? res.reason : "not JSON");
    else
        rc = svc_binding_sign(s, it, l, out, len, err);
    svc_label_release(l);
    json_decref(j);
    lsn_free(it);
    return rc;
}

lsn_err svc_item_binding(svc *s, int64_t id, char **out, size_t *len, lsn_error *err)
{
    lsn_err rc = store_item_binding(s->st, id, out, len, err);
    if (rc != LSN_OK || *out || !s->me)
        return rc;
    char *made = NULL;
    size_t made_len = 0;
    if ((rc = sign_stored(s, id, &made, &made_len, err)) != LSN_OK || !made)
        return rc;
    rc = store_item_binding_keep(s->st, id, made, made_len, out, len, err);
    lsn_free(made);
    return rc;
}

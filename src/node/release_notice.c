/* node/release_notice.c — a release request's changes, told live (issue 13:
 * "the proposer and authorities are told of every change live").
 *
 * When the service changes a request (proposed, concurred, silence broken,
 * withdrawn, extended, adopted, closed) this reads the request again from
 * the store — its state, deadline, proposer and authorities as they are
 * now — and sends one "release-request" notice on the stream:
 *
 *     event: release-request
 *     data: {"id":"RID","event":"concur","state":"open","deadline":"..."}
 *
 * Each stream's connection decides for its own user (publish.c's filter,
 * node_parties_admit): the proposer, an authority, or an auditor — the
 * same people GET /api/v1/release-requests/{rid} answers. Anyone else gets
 * nothing: no event, no id, no count. The notice carries no "id:" line (a
 * client's Last-Event-ID stays the last item's) and is never replayed. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "node_internal.h"
#include "server/log.h"

bool node_parties_admit(const node_parties *p, const char *user, unsigned roles)
{
    if (!p || !user)
        return false;
    if (svc_allowed(roles, SVC_ACT_AUDIT) || strcmp(p->proposer, user) == 0)
        return true;
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->users[i], user) == 0)
            return true;
    return false;
}

typedef struct names {
    char **v;
    size_t n, cap;
} names;

static int name_cb(void *ctx, const store_release_authority *a)
{
    names *x = ctx;
    if (a->node) /* a remote authority: not a user of this node */
        return STORE_NEXT;
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 8;
        char **v = core_realloc(x->v, cap * sizeof *v);
        if (!v)
            return -1;
        x->v = v;
        x->cap = cap;
    }
    if (!(x->v[x->n] = core_strdup(a->user)))
        return -1;
    x->n++;
    return STORE_NEXT;
}

void node_release_changed(void *ctx, const uint8_t rid[STORE_UUID_LEN], const char *event)
{
    node *n = ctx;
    store_release *r = NULL;
    names x = { 0 };
    lsn_error err;
    if (!n->hub || srv_sse_hub_subscribers(n->hub) == 0)
        return; /* nobody to tell */
    if (store_release_get(n->st, rid, &r, &err) != LSN_OK || !r ||
        store_release_authorities(n->st, r->id, name_cb, &x, &err) != LSN_OK) {
        if (r)
            srv_log(SRV_LOG_ERROR, "release notice: %s", err.message);
        goto done; /* the parties read the request again when they look */
    }
    char id[37], deadline[32];
    store_uuid_text(r->rid, id);
    node_rfc3339(r->deadline_ms, deadline);
    char *data = NULL;
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "event", event, "state", r->state,
                          "deadline", deadline);
    if (j)
        data = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (data) {
        node_parties p = { .proposer = r->proposer, .users = (const char *const *)x.v,
                           .n = x.n };
        node_stream_notice(n, "release-request", data, strlen(data), &p);
        free(data);
    }
done:
    for (size_t i = 0; i < x.n; i++)
        lsn_free(x.v[i]);
    lsn_free(x.v);
    lsn_free(r);
}

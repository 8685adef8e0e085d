/* store/copy.c — records copied into one owned block (copy.h), for the
 * back-ends' `*out` records and the writer's asynchronous appends. */
#include "store/copy.h"
#include "store/store_rel.h"

#include <string.h>

#include "core/alloc.h"

size_t copy_ssize(const char *s) { return s ? strlen(s) + 1 : 0; }

const char *copy_put(char **cur, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    memcpy(*cur, s, n);
    const char *r = *cur;
    *cur += n;
    return r;
}

void *copy_item(const store_item *it)
{
    /* The outbox's peer ids first, where the block is aligned for them;
     * then the binding (store_item.fed). */
    size_t n = sizeof *it + it->fed.outbox_n * sizeof(int64_t) +
               (it->fed.binding ? it->fed.binding_len + 1 : 0) + copy_ssize(it->channel) +
               copy_ssize(it->author) + copy_ssize(it->organisation) + copy_ssize(it->label) +
               copy_ssize(it->marking_en) + copy_ssize(it->marking_fr) + copy_ssize(it->body) +
               copy_ssize(it->media_type) + copy_ssize(it->attachment_name) + it->attachment_len;
    store_item *c = core_malloc(n);
    if (!c)
        return NULL;
    char *cur = (char *)(c + 1);
    *c = *it;
    if (it->fed.outbox_n) {
        memcpy(cur, it->fed.outbox, it->fed.outbox_n * sizeof(int64_t));
        c->fed.outbox = (const int64_t *)(void *)cur;
        cur += it->fed.outbox_n * sizeof(int64_t);
    }
    if (it->fed.binding) {
        memcpy(cur, it->fed.binding, it->fed.binding_len);
        cur[it->fed.binding_len] = '\0';
        c->fed.binding = cur;
        cur += it->fed.binding_len + 1;
    }
    c->channel = copy_put(&cur, it->channel);
    c->author = copy_put(&cur, it->author);
    c->organisation = copy_put(&cur, it->organisation);
    c->label = copy_put(&cur, it->label);
    c->marking_en = copy_put(&cur, it->marking_en);
    c->marking_fr = copy_put(&cur, it->marking_fr);
    c->body = copy_put(&cur, it->body);
    c->media_type = copy_put(&cur, it->media_type);
    c->attachment_name = it->media_type ? copy_put(&cur, it->attachment_name) : NULL;
    if (it->media_type) {
        /* An attachment present but empty still gets a non-NULL pointer. */
        if (it->attachment_len)
            memcpy(cur, it->attachment, it->attachment_len);
        c->attachment = (const uint8_t *)cur;
    } else {
        c->attachment = NULL;
        c->attachment_len = 0;
    }
    return c;
}

store_release *copy_release_request(const store_release *r)
{
    store_release *c =
        core_malloc(sizeof *c + copy_ssize(r->proposer) + copy_ssize(r->kind) +
                    copy_ssize(r->label) + copy_ssize(r->marking_en) +
                    copy_ssize(r->marking_fr) + copy_ssize(r->reason) + copy_ssize(r->state));
    if (!c)
        return NULL;
    char *cur = (char *)(c + 1);
    *c = *r;
    c->proposer = copy_put(&cur, r->proposer);
    c->kind = copy_put(&cur, r->kind);
    c->label = copy_put(&cur, r->label);
    c->marking_en = copy_put(&cur, r->marking_en);
    c->marking_fr = copy_put(&cur, r->marking_fr);
    c->reason = copy_put(&cur, r->reason);
    c->state = copy_put(&cur, r->state);
    return c;
}


/* store/writer_append.c — the writing entries of store_ops that are the
 * same for every back-end: appending an item (blocking and asynchronous)
 * and an audit event, and running a back-end's own write in a group. Each
 * checks its input on the caller's thread, hashes the item's content,
 * digests its body and attachment for its seal (seal.h) and chooses its
 * UUID there, then queues a request to the writer (writer.c). */
#include "store/store_fed.h"
#include "store/writer.h"

#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/copy.h"

int64_t writer_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

lsn_err writer_need(const char *what, const char *v, size_t max, lsn_error *err)
{
    if (!v || !*v)
        return core_fail(err, LSN_ERR_ARG, "the %s is missing", what);
    if (strnlen(v, max + 1) > max)
        return core_fail(err, LSN_ERR_LIMIT, "the %s is longer than %zu bytes", what, max);
    return LSN_OK;
}

static lsn_err check_event(const store_audit_event *ev, int object_optional,
                           lsn_error *err)
{
    lsn_err e;
    if ((e = writer_need("audit actor", ev->actor, STORE_FIELD_MAX, err)) ||
        (e = writer_need("audit action", ev->action, STORE_FIELD_MAX, err)) ||
        (e = writer_need("audit outcome", ev->outcome, STORE_FIELD_MAX, err)))
        return e;
    if (!(object_optional && !ev->object) &&
        (e = writer_need("audit object", ev->object, STORE_FIELD_MAX, err)))
        return e;
    if (ev->detail && strnlen(ev->detail, STORE_FIELD_MAX + 1) > STORE_FIELD_MAX)
        return core_fail(err, LSN_ERR_LIMIT, "the audit detail is longer than %u bytes",
                        STORE_FIELD_MAX);
    return LSN_OK;
}

/* Everything about an item that can be checked before it is queued, so that
 * the writer's group rarely meets a refusal. */
/* The federation fields' caps (store_item.fed): a binding of at most
 * STORE_FIELD_MAX bytes, at most STORE_OUTBOX_MAX peers. */
static lsn_err check_fed(const store_item *it, lsn_error *err)
{
    if (it->fed.binding && it->fed.binding_len > STORE_FIELD_MAX)
        return core_fail(err, LSN_ERR_LIMIT, "the binding is longer than %u bytes",
                         STORE_FIELD_MAX);
    if (it->fed.binding_len && !it->fed.binding)
        return core_fail(err, LSN_ERR_ARG, "the binding has a length but no bytes");
    if (it->fed.outbox_n > STORE_OUTBOX_MAX)
        return core_fail(err, LSN_ERR_LIMIT, "an item is queued for more than %u peers",
                         STORE_OUTBOX_MAX);
    if (it->fed.outbox_n && !it->fed.outbox)
        return core_fail(err, LSN_ERR_ARG, "the outbox has a count but no peers");
    return LSN_OK;
}

static lsn_err check_item(const store_item *it, const store_audit_event *post,
                          lsn_error *err)
{
    lsn_err e;
    if ((e = writer_need("channel", it->channel, STORE_FIELD_MAX, err)) ||
        (e = writer_need("author", it->author, STORE_FIELD_MAX, err)) ||
        (e = writer_need("organisation", it->organisation, STORE_FIELD_MAX, err)) ||
        (e = writer_need("label", it->label, STORE_FIELD_MAX, err)) ||
        (e = writer_need("English marking", it->marking_en, STORE_FIELD_MAX, err)) ||
        (e = writer_need("French marking", it->marking_fr, STORE_FIELD_MAX, err)))
        return e;
    if (!it->body)
        return core_fail(err, LSN_ERR_ARG, "the body is missing");
    if (strnlen(it->body, STORE_BODY_MAX + 1) > STORE_BODY_MAX)
        return core_fail(err, LSN_ERR_LIMIT, "the body is longer than %u bytes",
                        STORE_BODY_MAX);
    if (it->attachment_len && !it->attachment)
        return core_fail(err, LSN_ERR_ARG, "the attachment has a length but no bytes");
    if (it->attachment && !it->media_type)
        return core_fail(err, LSN_ERR_ARG, "an attachment needs a media type");
    if (it->media_type && (e = writer_need("media type", it->media_type, 255, err)))
        return e;
    if (it->attachment_name && !it->media_type)
        return core_fail(err, LSN_ERR_ARG, "a file name needs an attachment");
    if (!store_attachment_name_ok(it->attachment_name))
        return core_fail(err, LSN_ERR_ARG, "the attachment's file name is not allowed (a path, "
                         "a control character, not UTF-8, or over %u bytes)", STORE_FILE_NAME_MAX);
    if (it->attachment_len > STORE_BODY_MAX)
        return core_fail(err, LSN_ERR_LIMIT, "the attachment is longer than %u bytes",
                        STORE_BODY_MAX);
    if (post && (e = check_event(post, 1, err)))
        return e;
    /* A later version names its item (store_item.ver); a new item none. */
    static const uint8_t none[STORE_UUID_LEN];
    if (it->ver.version == 1 || it->ver.version < 0 ||
        (it->ver.version >= 2 && memcmp(it->ver.of, none, STORE_UUID_LEN) == 0))
        return core_fail(err, LSN_ERR_ARG, "a version is 2 or more, of a named item");
    return check_fed(it, err);
}

/* Fill j for `it` (whose hash is already in `hash`): its time, its public
 * id (the caller's, or a new one), the digests its seal covers (here, on
 * the poster's thread, like the hash) and the post record's time. */
static void prepare(writer_item *j, const store_item *it, const uint8_t *hash,
                    store_audit_event *post)
{
    static const uint8_t zero[STORE_UUID_LEN];
    *j = (writer_item){ .item = it, .hash = hash, .post = post,
                        .created_ms = it->created_ms ? it->created_ms : writer_now_ms() };
    if (memcmp(it->uuid, zero, STORE_UUID_LEN) == 0)
        store_uuid_new(j->uuid);
    else
        memcpy(j->uuid, it->uuid, STORE_UUID_LEN);
    seal_digest(it, &j->seal_digests);
    if (post && !post->time_ms)
        post->time_ms = j->created_ms;
}

lsn_err writer_item_append(writer *w, const store_item *it, store_audit_event *post,
                           int64_t *id_out, uint8_t hash_out[STORE_HASH_LEN],
                           lsn_error *err)
{
    *id_out = 0;
    lsn_err e = check_item(it, post, err);
    if (e)
        return e;
    /* Hash here, on the poster's thread, so that the writer only writes. */
    uint8_t hash[STORE_HASH_LEN];
    store_content_hash(it->label, it->body, it->media_type, it->attachment,
                       it->attachment_len, hash);
    writer_item j;
    prepare(&j, it, hash, post);
    writer_req r = { .kind = WRITER_ITEM, .item = &j };
    if ((e = writer_submit(w, &r, err)))
        return e;
    *id_out = j.id;
    if (hash_out)
        memcpy(hash_out, hash, STORE_HASH_LEN);
    return LSN_OK;
}

/* An asynchronous append owns copies of everything it writes. The request
 * comes first, so that the writer's writer_req* is the whole. */
typedef struct async_post {
    writer_req r;
    writer_item j;
    store_item *item;       /* copy_item() */
    store_audit_event post; /* its strings live in `strs` */
    char *strs;
    uint8_t hash[STORE_HASH_LEN];
    store_append_cb done;
    void *ctx;
} async_post;

static void complete_async(writer_req *r)
{
    async_post *a = (async_post *)r;
    int good = r->rc == LSN_OK;
    a->done(a->ctx, r->rc, good ? a->j.id : 0, a->hash,
            good && a->j.post ? a->post.seq : 0, &r->err);
    lsn_free(a->item);
    lsn_free(a->strs);
    lsn_free(a);
}

static lsn_err copy_event(const store_audit_event *ev, store_audit_event *to, char **strs)
{
    *to = *ev;
    char *cur = core_malloc(copy_ssize(ev->actor) + copy_ssize(ev->action) +
                            copy_ssize(ev->object) + copy_ssize(ev->outcome) +
                            copy_ssize(ev->detail));
    if (!cur)
        return LSN_ERR_NOMEM;
    *strs = cur;
    to->actor = copy_put(&cur, ev->actor);
    to->action = copy_put(&cur, ev->action);
    to->object = copy_put(&cur, ev->object);
    to->outcome = copy_put(&cur, ev->outcome);
    to->detail = copy_put(&cur, ev->detail);
    return LSN_OK;
}

lsn_err writer_item_append_async(writer *w, const store_item *it,
                                 const store_audit_event *post, store_append_cb done,
                                 void *ctx, lsn_error *err)
{
    if (!done)
        core_misuse("store_item_append_async: no completion callback");
    lsn_err e = check_item(it, post, err);
    if (e)
        return e;
    async_post *a = core_calloc(1, sizeof *a);
    if (!a || !(a->item = copy_item(it)) ||
        (post && copy_event(post, &a->post, &a->strs) != LSN_OK)) {
        if (a)
            lsn_free(a->item);
        lsn_free(a);
        return core_fail(err, LSN_ERR_NOMEM, "out of memory queueing an item");
    }
    store_content_hash(it->label, it->body, it->media_type, it->attachment,
                       it->attachment_len, a->hash);
    prepare(&a->j, a->item, a->hash, post ? &a->post : NULL);
    a->done = done;
    a->ctx = ctx;
    a->r = (writer_req){ .kind = WRITER_ITEM, .item = &a->j, .complete = complete_async };
    writer_submit_async(w, &a->r);
    return LSN_OK;
}

lsn_err writer_audit_append(writer *w, store_audit_event *ev, lsn_error *err)
{
    lsn_err e = check_event(ev, 0, err);
    if (e)
        return e;
    if (!ev->time_ms)
        ev->time_ms = writer_now_ms();
    writer_req r = { .kind = WRITER_AUDIT, .event = ev };
    return writer_submit(w, &r, err);
}

lsn_err writer_batch_append(writer *w, const store_item *const *its,
                            store_audit_event *const *posts, size_t n,
                            store_audit_event *const *evs, size_t nevs, writer_apply_fn fn,
                            void *arg, int64_t *ids_out, lsn_error *err)
{
    if (n > WRITER_BATCH_MAX || nevs > WRITER_BATCH_MAX)
        return core_fail(err, LSN_ERR_LIMIT, "a batch holds more than %d items or records",
                         WRITER_BATCH_MAX);
    lsn_err e = LSN_OK;
    for (size_t i = 0; i < n && !e; i++)
        e = check_item(its[i], posts[i], err);
    for (size_t i = 0; i < nevs && !e; i++) {
        if (!(e = check_event(evs[i], 0, err)) && !evs[i]->time_ms)
            evs[i]->time_ms = writer_now_ms();
    }
    if (e)
        return e;
    writer_item *js = n ? core_calloc(n, sizeof *js) : NULL;
    writer_item **ptrs = n ? core_calloc(n, sizeof *ptrs) : NULL;
    uint8_t (*hashes)[STORE_HASH_LEN] = n ? core_calloc(n, STORE_HASH_LEN) : NULL;
    if (n && (!js || !ptrs || !hashes)) {
        lsn_free(js);
        lsn_free(ptrs);
        lsn_free(hashes);
        return core_fail(err, LSN_ERR_NOMEM, "out of memory queueing a batch");
    }
    for (size_t i = 0; i < n; i++) {
        const store_item *it = its[i];
        store_content_hash(it->label, it->body, it->media_type, it->attachment,
                           it->attachment_len, hashes[i]);
        prepare(&js[i], it, hashes[i], posts[i]);
        ptrs[i] = &js[i];
    }
    writer_req r = { .kind = WRITER_BATCH, .items = ptrs, .nitems = (int)n, .events = evs,
                     .nevents = (int)nevs, .apply = fn, .arg = arg };
    e = writer_submit(w, &r, err);
    for (size_t i = 0; i < n && ids_out; i++)
        ids_out[i] = e ? 0 : js[i].id;
    lsn_free(js);
    lsn_free(ptrs);
    lsn_free(hashes);
    return e;
}

lsn_err writer_apply(writer *w, writer_apply_fn fn, void *arg, lsn_error *err)
{
    writer_req r = { .kind = WRITER_APPLY, .apply = fn, .arg = arg };
    return writer_submit(w, &r, err);
}

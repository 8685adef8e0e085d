/* node/service_label.c — the label of a post (or of a marking preview):
 * parsed, validated, written in canonical JSON, marked in English and
 * French, and its classification's index — and remembered.
 *
 * All of that is a pure function of the label as posted (its JSON value, or
 * its XML string) and of the node's policy set, which never changes while
 * the node runs. People post with few distinct labels (a label picker
 * yields the same JSON for the same choices), and this work was about half
 * of a post's CPU, so valid results are kept in a small direct-mapped memo
 * keyed by the EXACT label text: the compact JSON of the object (jansson
 * renders the value the body parse gave, so equal text is an equal value)
 * or the XML string, with its form. A lookup compares the whole key; a hit
 * is the same input, hence the same result. Entries are immutable and
 * reference counted (a request may still use one the memo replaced).
 * Invalid labels are not remembered: they are answered 422 each time. The
 * per-author access check is never remembered: the caller makes it. */
#include <pthread.h>
#include <string.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/strbuf.h"
#include "core/error.h"
#include "service.h"

#define MEMO_SLOTS 256u        /* direct-mapped by a keyed hash of the key */
#define MEMO_LOCKS 16u
#define MEMO_KEY_MAX 4096u     /* longer labels are handled, not remembered */

struct svc_label_memo {
    struct svc_label *slots[MEMO_SLOTS];
    pthread_mutex_t locks[MEMO_LOCKS];
    /* SipHash key: a peer cannot choose labels that all land in one slot. */
    unsigned char key[crypto_shorthash_KEYBYTES];
};

static void entry_free(svc_label *e)
{
    lsn_label_free(e->label);
    lsn_free(e->canon);
    lsn_free(e->xml4774);
    lsn_free(e->en);
    lsn_free(e->fr);
    lsn_free(e->marking_json);
    lsn_free(e->key);
    lsn_free(e);
}

void svc_label_release(svc_label *e)
{
    if (e && atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
        entry_free(e);
}

lsn_err svc_label_memo_init(svc *n)
{
    struct svc_label_memo *m = core_calloc(1, sizeof *m);
    if (!m)
        return LSN_ERR_NOMEM;
    for (size_t i = 0; i < MEMO_LOCKS; i++)
        pthread_mutex_init(&m->locks[i], NULL);
    crypto_shorthash_keygen(m->key);
    n->memo = m;
    return LSN_OK;
}

void svc_label_memo_free(svc *n)
{
    struct svc_label_memo *m = n->memo;
    if (!m)
        return;
    for (size_t i = 0; i < MEMO_SLOTS; i++)
        svc_label_release(m->slots[i]);
    for (size_t i = 0; i < MEMO_LOCKS; i++)
        pthread_mutex_destroy(&m->locks[i]);
    lsn_free(m);
    n->memo = NULL;
}

/* The marking in a fresh string (lsn_free), or NULL. */
static char *marking(const lsn_label *l, const char *lang)
{
    size_t need = 0;
    char small[512];
    lsn_err rc = lsn_label_marking(l, lang, small, sizeof small, &need);
    if (rc == LSN_OK)
        return core_strdup(small);
    if (rc != LSN_ERR_LIMIT || need > (1u << 20))
        return NULL;
    char *big = core_malloc(need + 1);
    if (big && lsn_label_marking(l, lang, big, need + 1, NULL) != LSN_OK) {
        lsn_free(big);
        return NULL;
    }
    return big;
}

static int add_cb(const char *buf, size_t size, void *data)
{
    strbuf *b = data;
    strbuf_add(b, buf, size);
    return b->failed ? -1 : 0;
}

/* Do the work for key (its first byte is the form: 'J' JSON, 'S' string);
 * on failure res says why (invalid, or failed). The entry has one
 * reference, the caller's. */
static svc_label *build(svc *n, char *key, size_t key_len, svc_result *res)
{
    lsn_error err;
    lsn_label *l = NULL;
    lsn_form form = key[0] == 'J' ? LSN_FORM_JSON : LSN_FORM_AUTO;
    if (lsn_label_parse(n->set, key + 1, key_len - 1, form, &l, &err) != LSN_OK) {
        svc_refuse(res, SVC_INVALID, LSN_ERR_LABEL, "The label is invalid: %s", err.message);
        return NULL;
    }
    bool valid = false;
    char reason[400] = "";
    if (lsn_label_validate(l, &valid, reason, sizeof reason) != LSN_OK || !valid) {
        /* Name the policy: two policies may share an OID (issue 12). */
        const lsn_policy *p = lsn_label_policy(l);
        const char *ver = p ? lsn_policy_version(p) : NULL;
        svc_refuse(res, SVC_INVALID, LSN_ERR_LABEL,
                   "The label is invalid under %s (OID %s%s%s): %s",
                   p && lsn_policy_name(p) ? lsn_policy_name(p) : "its policy",
                   p && lsn_policy_id(p) ? lsn_policy_id(p) : "none",
                   ver && ver[0] ? ", version " : "", ver && ver[0] ? ver : "",
                   reason[0] ? reason : "it breaks a rule of the policy");
        lsn_label_free(l);
        return NULL;
    }
    svc_label *e = core_calloc(1, sizeof *e);
    if (!e || lsn_label_write(l, LSN_FORM_JSON, &e->canon, NULL, &err) != LSN_OK ||
        lsn_label_write(l, LSN_FORM_4774, &e->xml4774, &e->xml4774_len, &err) != LSN_OK ||
        !(e->en = marking(l, "en")) || !(e->fr = marking(l, "fr"))) {
        svc_refuse(res, SVC_FAILED, LSN_ERR_NOMEM, "The label could not be written.");
        if (e) {
            e->label = l;
            entry_free(e);
        } else {
            lsn_label_free(l);
        }
        return NULL;
    }
    /* The markings as a fragment of the post's answer, rendered once. */
    json_t *mj = json_pack("{s:s, s:s}", "marking", e->en, "markingFr", e->fr);
    strbuf b;
    strbuf_init(&b, 4u << 20);
    if (!mj || json_dump_callback(mj, add_cb, &b, JSON_COMPACT) != 0 || b.len < 2)
        b.failed = true;
    json_decref(mj);
    char *frag = strbuf_take(&b, NULL);
    if (!frag) {
        svc_refuse(res, SVC_FAILED, LSN_ERR_NOMEM, "The label could not be written.");
        e->label = l;
        entry_free(e);
        return NULL;
    }
    size_t flen = strlen(frag); /* drop the braces: {FRAGMENT} */
    memmove(frag, frag + 1, flen - 2);
    frag[flen - 2] = '\0';
    e->marking_json = frag;
    e->label = l;
    e->class_index = lsn_label_class_index(l);
    e->key = key;
    e->key_len = key_len;
    atomic_init(&e->refs, 1);
    return e;
}

lsn_err svc_label_get(svc *n, json_t *v, svc_label **out, svc_result *res)
{
    *out = NULL;
    res->refusal = SVC_DONE;
    res->reason[0] = '\0';
    /* The key: the form, then the label's text. */
    char *key = NULL;
    size_t key_len = 0;
    if (json_is_object(v)) {
        /* One rendering pass (json_dumpb would render twice: to size, then
         * to write). */
        strbuf b;
        strbuf_init(&b, LSN_LABEL_MAX_BYTES);
        strbuf_addc(&b, 'J');
        if (json_dump_callback(v, add_cb, &b, JSON_COMPACT) == 0 && b.len > 1 && !b.failed)
            key = strbuf_take(&b, &key_len);
        strbuf_release(&b);
    } else if (json_is_string(v)) {
        size_t len = json_string_length(v);
        if ((key = core_malloc(len + 2)) != NULL) {
            key[0] = 'S';
            memcpy(key + 1, json_string_value(v), len);
            key_len = len + 1;
            key[key_len] = '\0';
        }
    } else {
        return svc_refuse(res, SVC_INVALID, LSN_ERR_LABEL,
                          "The label must be a JSON label object or a string holding a "
                          "STANAG 4774 XML label.");
    }
    if (!key || !key_len) {
        lsn_free(key);
        return json_is_object(v)
                   ? svc_refuse(res, SVC_INVALID, LSN_ERR_LIMIT, "The label is too large.")
                   : svc_refuse(res, SVC_FAILED, LSN_ERR_NOMEM, "Out of memory.");
    }

    struct svc_label_memo *m = n->memo;
    bool memo = m && key_len <= MEMO_KEY_MAX;
    size_t slot = 0;
    if (memo) {
        uint64_t h;
        crypto_shorthash((unsigned char *)&h, (const unsigned char *)key, key_len, m->key);
        slot = (size_t)(h % MEMO_SLOTS);
        pthread_mutex_t *lock = &m->locks[slot % MEMO_LOCKS];
        pthread_mutex_lock(lock);
        svc_label *e = m->slots[slot];
        if (e && e->key_len == key_len && memcmp(e->key, key, key_len) == 0) {
            atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
            pthread_mutex_unlock(lock);
            lsn_free(key);
            *out = e;
            return LSN_OK;
        }
        pthread_mutex_unlock(lock);
    }
    svc_label *e = build(n, key, key_len, res);
    if (!e) {
        lsn_free(key);
        return res->refusal == SVC_INVALID ? LSN_ERR_LABEL : LSN_ERR_NOMEM;
    }
    if (memo) {
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed); /* the slot's */
        pthread_mutex_t *lock = &m->locks[slot % MEMO_LOCKS];
        pthread_mutex_lock(lock);
        svc_label *old = m->slots[slot];
        m->slots[slot] = e;
        pthread_mutex_unlock(lock);
        svc_label_release(old);
    }
    *out = e;
    return LSN_OK;
}

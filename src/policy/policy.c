/* policy/policy.c — the life of a policy handle (reference counting) and
 * policy sets: the policies a node knows, found by OID or by name. */
#include "policy/model.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "policy/arena.h"

/* A node knows a handful of policies; the cap only stops runaway callers. */
#define POLICY_SET_MAX 4096u

struct lsn_policy_set {
    lsn_policy **v; /* one reference each */
    size_t n;
    size_t cap;
};

void policy_free(lsn_policy *p)
{
    if (!p)
        return;
    /* Everything the policy holds lives in its arena. */
    policy_arena_release(p);
    lsn_free(p);
}

lsn_policy *lsn_policy_ref(lsn_policy *p)
{
    if (p)
        atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    return p;
}

void lsn_policy_unref(lsn_policy *p)
{
    if (!p)
        return;
    /* acq_rel: the last owner must see every other owner's reads done. */
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
        policy_free(p);
}

const char *lsn_policy_id(const lsn_policy *p)
{
    return p ? p->id : NULL;
}

const char *lsn_policy_name(const lsn_policy *p)
{
    return p ? p->name : NULL;
}

const char *lsn_policy_version(const lsn_policy *p)
{
    return p ? p->version : NULL;
}

const char *policy_ident(const lsn_policy *p, char *buf, size_t size)
{
    snprintf(buf, size, "%.64s (%.128s, version %.32s)", p->name ? p->name : "?",
             p->id ? p->id : "?", p->version && p->version[0] ? p->version : "none");
    return buf;
}

lsn_policy_set *lsn_policy_set_new(void)
{
    return core_calloc(1, sizeof(lsn_policy_set));
}

void lsn_policy_set_free(lsn_policy_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        lsn_policy_unref(set->v[i]);
    lsn_free(set->v);
    lsn_free(set);
}

lsn_err lsn_policy_set_add(lsn_policy_set *set, lsn_policy *p, lsn_error *err)
{
    if (!set || !p)
        return core_fail(err, LSN_ERR_ARG, "lsn_policy_set_add: no set or no policy");
    /* A label names its policy by OID alone, so two policies with one OID
     * in a set - another version, or another author's policy under the same
     * OID and version - would make a label valid or not by load order. */
    const lsn_policy *old = lsn_policy_set_find_id(set, p->id);
    if (old) {
        char a[POLICY_IDENT_MAX], b[POLICY_IDENT_MAX];
        return core_fail(err, LSN_ERR_DUPLICATE,
                        "%s: policy id %s is already loaded: %s is %s, already loaded from "
                        "%s as %s",
                        p->source ? p->source : "policy", p->id,
                        p->source ? p->source : "this policy", policy_ident(p, a, sizeof a),
                        old->source ? old->source : "another policy",
                        policy_ident(old, b, sizeof b));
    }
    if (set->n == set->cap) {
        if (set->cap >= POLICY_SET_MAX)
            return core_fail(err, LSN_ERR_LIMIT, "more than %u policies loaded",
                            POLICY_SET_MAX);
        size_t cap = set->cap ? set->cap * 2 : 4;
        lsn_policy **v = core_realloc(set->v, cap * sizeof *v);
        if (!v)
            return core_fail(err, LSN_ERR_NOMEM, "out of memory");
        set->v = v;
        set->cap = cap;
    }
    set->v[set->n++] = lsn_policy_ref(p);
    return LSN_OK;
}

lsn_err lsn_policy_set_load_file(lsn_policy_set *set, const char *path, lsn_error *err)
{
    if (!set)
        return core_fail(err, LSN_ERR_ARG, "lsn_policy_set_load_file: no set");
    lsn_policy *p = NULL;
    lsn_err rc = lsn_policy_load_file(path, &p, err);
    if (rc != LSN_OK)
        return rc;
    rc = lsn_policy_set_add(set, p, err);
    lsn_policy_unref(p);
    return rc;
}

size_t lsn_policy_set_count(const lsn_policy_set *set)
{
    return set ? set->n : 0;
}

const lsn_policy *lsn_policy_set_at(const lsn_policy_set *set, size_t i)
{
    return (set && i < set->n) ? set->v[i] : NULL;
}

const lsn_policy *lsn_policy_set_find_id(const lsn_policy_set *set, const char *oid)
{
    if (!set || !oid)
        return NULL;
    /* Labels write the OID bare or as a URN; "urn:oid:" is case-blind. */
    static const char urn[] = "urn:oid:";
    size_t i = 0;
    while (i < sizeof urn - 1 && oid[i] &&
           (oid[i] | 0x20) == urn[i])
        i++;
    if (i == sizeof urn - 1)
        oid += i;
    for (size_t k = 0; k < set->n; k++)
        if (set->v[k]->id && strcmp(set->v[k]->id, oid) == 0)
            return set->v[k];
    return NULL;
}

const lsn_policy *lsn_policy_set_find_name(const lsn_policy_set *set, const char *name)
{
    for (size_t k = 0; set && name && k < set->n; k++)
        if (name_eq(set->v[k]->name, name))
            return set->v[k];
    return NULL;
}

/* policy/spif_groups.c — named groups of categories in a SPIF's
 * <extensions>: NATO's policies list there, in the namespace
 * urn:nato:stanag:4774:spif:extensions:1:0, groups of nations such as a
 * mission's members. liaison reads
 *
 *   <extensions><memberships>
 *     <membership name="KFOR" tagSetRef="Releasable To">
 *       <member>ALB</member> or <member lacv="8"/> ...
 *
 * (element names compared without prefix; "group" for "membership" too)
 * and gives them to label pickers as presets. A group changes no decision,
 * so what cannot be resolved (an unknown tag set or member) is a warning of
 * the policy, not a refusal; anything else in <extensions> (a 4778 binding
 * of the policy itself) is ignored. */
#include "policy/spif.h"

#include <string.h>

static bool is_group(const snode *n)
{
    return strcmp(n->name, "membership") == 0 || strcmp(n->name, "group") == 0;
}

/* The category a <member> names in tag set ts (any tag set when NULL). */
static const policy_category *member_cat(const lsn_policy *p, const policy_tagset *ts,
                                         const snode *m)
{
    const char *lacv = sn_attr(m, "lacv");
    const char *name = m->text ? m->text : sn_attr(m, "name");
    for (size_t i = 0; i < p->ncats; i++) {
        const policy_category *c = &p->cats[i];
        if (ts && c->tagset != ts->index)
            continue;
        if (lacv) {
            uint32_t v;
            if (lacv_parse(lacv, &v) && c->lacv == v)
                return c;
        } else if (name && name_eq(c->name, name)) {
            return c;
        }
    }
    return NULL;
}

lsn_err spif_groups(spif_ctx *c, const snode *extensions)
{
    lsn_policy *p = c->p;
    size_t count = 0;
    for (snode *ms = sn_child(extensions, "memberships"); ms; ms = sn_next(ms, "memberships"))
        for (snode *g = sn_child(ms, NULL); g; g = sn_next(g, NULL))
            count += is_group(g);
    if (count == 0)
        return LSN_OK;
    p->groups = policy_array(p, count, sizeof *p->groups);
    if (!p->groups)
        return spif_nomem(c);
    lsn_err rc;
    for (snode *ms = sn_child(extensions, "memberships"); ms; ms = sn_next(ms, "memberships"))
        for (snode *g = sn_child(ms, NULL); g; g = sn_next(g, NULL)) {
            if (!is_group(g))
                continue;
            const char *name = sn_attr(g, "name");
            const char *set = sn_attr(g, "tagSetRef");
            const policy_tagset *ts = set ? policy_tagset_by_name(p, set) : NULL;
            if (!name || !name[0] || (set && !ts)) {
                if ((rc = spif_warn(c, g, "group ignored: %s", !name || !name[0]
                                                                  ? "it has no name="
                                                                  : "unknown tag set")))
                    return rc;
                continue;
            }
            size_t nm = 0;
            for (snode *m = sn_child(g, NULL); m; m = sn_next(m, NULL))
                nm++;
            struct policy_group *out = &p->groups[p->ngroups];
            out->name = policy_strdup(p, name);
            out->cats = nm ? policy_array(p, nm, sizeof *out->cats) : NULL;
            if (!out->name || (nm && !out->cats))
                return spif_nomem(c);
            for (snode *m = sn_child(g, NULL); m; m = sn_next(m, NULL)) {
                const policy_category *cat = member_cat(p, ts, m);
                if (!cat) {
                    if ((rc = spif_warn(c, m, "group '%.64s': member '%.64s' names no category",
                                        name, m->text ? m->text : "")))
                        return rc;
                    continue;
                }
                out->cats[out->ncats++] = (uint32_t)cat->index;
            }
            p->ngroups++;
        }
    return LSN_OK;
}

/* policy/introspect.c — the public enumeration of a compiled policy's
 * classifications, categories and the categories' requiredCategory rules
 * (include/liaison/introspect.h): a thin, read-only view over model.h for
 * clients that build label pickers. */
#include "liaison/introspect.h"
#include "policy/model.h"

size_t lsn_policy_class_count(const lsn_policy *p)
{
    return p ? p->nclasses : 0;
}

size_t lsn_policy_category_count(const lsn_policy *p)
{
    return p ? p->ncats : 0;
}

bool lsn_policy_class_at(const lsn_policy *p, size_t i, lsn_class_info *out)
{
    if (!p || i >= p->nclasses || !out)
        return false;
    const policy_class *c = &p->classes[i];
    *out = (lsn_class_info){.name = c->name, .lacv = c->lacv, .hierarchy = c->hierarchy,
                            .color = c->color, .obsolete = c->obsolete};
    return true;
}

bool lsn_policy_category_at(const lsn_policy *p, size_t i, lsn_category_info *out)
{
    if (!p || i >= p->ncats || !out)
        return false;
    const policy_category *c = &p->cats[i];
    const policy_tagset *ts = &p->tagsets[c->tagset];
    *out = (lsn_category_info){.tag_set = ts->name, .tag_set_id = ts->id,
                               .type = tag_kind_name(c->kind), .name = c->name,
                               .lacv = c->lacv, .obsolete = c->obsolete,
                               .excluded_classes = c->excluded_classes};
    return true;
}

const char *lsn_policy_class_marking(const lsn_policy *p, size_t i, const char *lang)
{
    if (!p || i >= p->nclasses)
        return NULL;
    const policy_class *c = &p->classes[i];
    const marking_data *m = marking_for_lang(c->markings, c->nmarkings, lang);
    return m && m->phrase && m->phrase[0] ? m->phrase : c->name;
}

const char *lsn_policy_category_phrase(const lsn_policy *p, size_t i, const char *lang)
{
    if (!p || i >= p->ncats || !lang)
        return NULL;
    const policy_category *c = &p->cats[i];
    const marking_data *m = marking_for_lang(c->markings, c->nmarkings, lang);
    return m && m->lang && m->phrase && m->phrase[0] ? m->phrase : NULL;
}

static const char *rule_op_name(rule_op op)
{
    switch (op) {
    case RULE_ALL:
        return "all";
    case RULE_ONE_OR_MORE:
        return "oneOrMore";
    case RULE_ONLY_ONE:
        return "onlyOne";
    }
    return "all";
}

size_t lsn_policy_category_requirement_count(const lsn_policy *p, size_t i)
{
    if (!p || i >= p->ncats)
        return 0;
    const policy_category *c = &p->cats[i];
    size_t n = 0;
    for (size_t r = 0; r < c->nrules; r++)
        n += c->required[r].nrefs;
    return n;
}

bool lsn_policy_category_requirement_at(const lsn_policy *p, size_t i, size_t j,
                                        lsn_requirement_info *out)
{
    if (!p || i >= p->ncats || !out)
        return false;
    const policy_category *c = &p->cats[i];
    /* Entries are the rules' groups laid end to end. */
    for (size_t r = 0; r < c->nrules; r++) {
        const rule *ru = &c->required[r];
        if (j < ru->nrefs) {
            const catref *ref = &ru->refs[j];
            *out = (lsn_requirement_info){.rule = r, .operation = rule_op_name(ru->op),
                                          .tag_set = ref->tagset, .any_value = ref->all,
                                          .lacv = ref->all ? 0 : ref->lacv};
            return true;
        }
        j -= ru->nrefs;
    }
    return false;
}

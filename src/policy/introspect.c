/* policy/introspect.c — the public enumeration of a compiled policy's
 * classifications, categories and the categories' requiredCategory rules
 * (include/liaison/introspect.h): a thin, read-only view over model.h for
 * clients that build label pickers. */
#include "liaison/introspect.h"

#include <string.h>
#include <strings.h>

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

/* Does an xml:lang tag `have` answer the request `want`: the same tag, or
 * the same primary subtag (fr-CA asks for fr; fr is answered by fr-BE)? */
static bool lang_answers(const char *have, const char *want)
{
    if (!have || !*have)
        return false;
    size_t hn = strcspn(have, "-_"), wn = strcspn(want, "-_");
    return hn == wn && strncasecmp(have, want, hn) == 0;
}

static bool any_lang(const marking_data *m, size_t n, const char *want)
{
    for (size_t i = 0; i < n; i++)
        if (lang_answers(m[i].lang, want))
            return true;
    return false;
}

bool lsn_policy_speaks(const lsn_policy *p, const char *lang)
{
    if (!p)
        return false;
    if (!lang || !*lang || lang_answers("en", lang))
        return true;
    if (any_lang(p->markings, p->nmarkings, lang))
        return true;
    for (size_t i = 0; i < p->nqualifiers; i++)
        if (lang_answers(p->qualifiers[i].lang, lang))
            return true;
    for (size_t i = 0; i < p->nclasses; i++)
        if (any_lang(p->classes[i].markings, p->classes[i].nmarkings, lang))
            return true;
    for (size_t i = 0; i < p->ntags; i++) {
        if (any_lang(p->tags[i].markings, p->tags[i].nmarkings, lang))
            return true;
        for (size_t k = 0; k < p->tags[i].nqualifiers; k++)
            if (lang_answers(p->tags[i].qualifiers[k].lang, lang))
                return true;
    }
    for (size_t i = 0; i < p->ncats; i++)
        if (any_lang(p->cats[i].markings, p->cats[i].nmarkings, lang))
            return true;
    return false;
}

size_t lsn_policy_warning_count(const lsn_policy *p)
{
    return p ? p->nwarnings : 0;
}

const char *lsn_policy_warning_at(const lsn_policy *p, size_t i)
{
    return p && i < p->nwarnings ? p->warnings[i] : NULL;
}

size_t lsn_policy_group_count(const lsn_policy *p)
{
    return p ? p->ngroups : 0;
}

const char *lsn_policy_group_at(const lsn_policy *p, size_t i, size_t *ncats)
{
    if (!p || i >= p->ngroups)
        return NULL;
    if (ncats)
        *ncats = p->groups[i].ncats;
    return p->groups[i].name;
}

bool lsn_policy_group_category(const lsn_policy *p, size_t i, size_t j, size_t *cat)
{
    if (!p || i >= p->ngroups || j >= p->groups[i].ncats || !cat)
        return false;
    *cat = p->groups[i].cats[j];
    return true;
}

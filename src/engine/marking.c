/* engine/marking.c — display markings of labels and clearances.
 *
 * The markings are those of the reference, spiffing (Spif::displayMarking),
 * at the bottom of a page:
 *
 *   PREFIX POLICY SEP CLASS SEP TAGPREFIX cat TAGSEP cat TAGSUFFIX SEP ... SUFFIX
 *
 * - PREFIX, SEP (default " ") and SUFFIX are the policy's marking
 *   qualifiers; TAGPREFIX, TAGSEP (default "/") and TAGSUFFIX those of each
 *   securityCategoryTag, applied whatever marking code they carry.
 * - POLICY is the policy name, unless replaced (replacePolicy): by the
 *   policy's own markingData phrase, else the classification's, else the
 *   first category's (in SPIF order) that carries replacePolicy.
 * - CLASS is the classification's phrase (or name); it is left out when a
 *   category's markingData says suppressClassName.
 * - Categories come in SPIF order, grouped by tag; a category's text is its
 *   phrase (or its tag's, or its name); noNameDisplay or noMarkingDisplay
 *   hides it, and a tag whose categories are all hidden leaves no trace.
 * - A markingData entry speaks for the bottom of a page when its codes say
 *   pageBottom or pageTopBottom, or name no location at all.
 * - Language: for each holder of markingData the group of entries in the
 *   exact language tag, else its primary subtag, else untagged; qualifiers
 *   likewise, kind by kind.
 *
 * Where we differ from spiffing (no conformance vector is affected):
 * noMarkingDisplay hides the text (spiffing treats it as a location and so
 * shows the name); a separator is not written before an empty
 * classification text; a policy-level phrase is never used as the
 * classification's text.
 *
 * Speed: a marking is written straight into the caller's buffer with no
 * allocation; each category's markingData is looked up once. */
#include "engine/engine.h"

#include <string.h>

#include "liaison/clearance.h"
#include "liaison/label.h"

#define LOC_OTHER (MC_PAGE_TOP | MC_DOCUMENT_START | MC_DOCUMENT_END)
#define LOC_BOTTOM (MC_PAGE_BOTTOM | MC_PAGE_TOP_BOTTOM | MC_NO_MARKING_DISPLAY)

/* The output: a caller's buffer that may be too small; len counts all. */
typedef struct sink {
    char *buf;
    size_t size;
    size_t len;
} sink;

static inline void emit(sink *o, const char *s, size_t n)
{
    if (o->len < o->size) {
        size_t room = o->size - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static inline void emits(sink *o, const char *s)
{
    if (s && *s)
        emit(o, s, strlen(s));
}

static lsn_err finish(sink *o, size_t *needed)
{
    if (needed)
        *needed = o->len;
    if (o->size == 0)
        return LSN_ERR_LIMIT;
    if (o->len < o->size) {
        o->buf[o->len] = '\0';
        return LSN_OK;
    }
    o->buf[o->size - 1] = '\0';
    return LSN_ERR_LIMIT;
}

/* The requested language: the whole tag and the length of its primary
 * subtag (0 when there is none to fall back to). tag NULL: untagged only. */
typedef struct lang {
    const char *tag;
    size_t len;
    size_t base;
} lang;

static void lang_init(lang *lg, const char *tag)
{
    lg->tag = NULL;
    lg->len = lg->base = 0;
    if (!tag || !*tag)
        return;
    lg->tag = tag;
    lg->len = strlen(tag);
    for (size_t i = 0; i < lg->len; i++)
        if (tag[i] == '-' || tag[i] == '_') {
            lg->base = i;
            break;
        }
}

/* Is a (NUL-terminated) equal to the first n bytes of b, ignoring ASCII
 * case? */
static bool lang_eq_n(const char *a, const char *b, size_t n)
{
    size_t i = 0;
    for (; i < n && a[i]; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x != y) {
            if (x >= 'A' && x <= 'Z')
                x = (unsigned char)(x + 32);
            if (y >= 'A' && y <= 'Z')
                y = (unsigned char)(y + 32);
            if (x != y)
                return false;
        }
    }
    return i == n && a[i] == '\0';
}

/* How well an entry's xml:lang answers the request: 0 exact, 1 primary
 * subtag, 2 untagged, -1 not at all. */
static inline int lang_rank(const char *mlang, const lang *lg)
{
    if (!mlang || !*mlang)
        return 2;
    if (!lg->tag)
        return -1;
    if (lang_eq_n(mlang, lg->tag, lg->len))
        return 0;
    if (lg->base && lang_eq_n(mlang, lg->tag, lg->base))
        return 1;
    return -1;
}

static inline bool at_bottom(unsigned codes)
{
    return (codes & LOC_BOTTOM) || !(codes & LOC_OTHER);
}

/* The entry of a holder's markingData that speaks for the bottom of a page
 * in the requested language, or NULL. *group says whether the holder has
 * any markingData in that language (spiffing then does not fall back to the
 * tag's, even when no entry is for the bottom of a page). */
static const marking_data *pick(const marking_data *m, size_t n, const lang *lg, bool *group)
{
    *group = false;
    if (n == 0)
        return NULL;
    int best = 3;
    for (size_t i = 0; i < n && best > 0; i++) {
        int r = lang_rank(m[i].lang, lg);
        if (r >= 0 && r < best)
            best = r;
    }
    if (best == 3)
        return NULL;
    *group = true;
    for (size_t i = 0; i < n; i++)
        if (lang_rank(m[i].lang, lg) == best && at_bottom(m[i].codes))
            return &m[i];
    return NULL;
}

/* The text an entry gives a holder whose name is `name`. */
static inline const char *phrase(const marking_data *e, const char *name)
{
    if (!e)
        return name;
    if (e->codes & (MC_NO_NAME_DISPLAY | MC_NO_MARKING_DISPLAY))
        return "";
    if ((e->codes & MC_REPLACE_POLICY) || !e->phrase)
        return name;
    return e->phrase;
}

/* The text an entry with replacePolicy puts in the policy name's place. */
static inline const char *policy_phrase(const marking_data *e, const char *name)
{
    return e->phrase ? e->phrase : name;
}

typedef struct quals {
    const char *prefix;
    const char *suffix;
    const char *sep;
} quals;

/* Each kind of qualifier in the best language available for it. */
static void pick_quals(const qualifier *q, size_t n, const lang *lg, quals *out)
{
    int rp = 3, rs = 3, rsep = 3;
    out->prefix = out->suffix = out->sep = NULL;
    for (size_t i = 0; i < n; i++) {
        int r = lang_rank(q[i].lang, lg);
        if (r < 0)
            continue;
        switch (q[i].kind) {
        case QUAL_PREFIX:
            if (r < rp) {
                rp = r;
                out->prefix = q[i].text;
            }
            break;
        case QUAL_SUFFIX:
            if (r < rs) {
                rs = r;
                out->suffix = q[i].text;
            }
            break;
        case QUAL_SEPARATOR:
            if (r < rsep) {
                rsep = r;
                out->sep = q[i].text;
            }
            break;
        }
    }
}

static bool same_tag(const lsn_policy *p, size_t a, size_t b)
{
    if (a == b)
        return true;
    /* spiffing groups by tag *name*. */
    const char *na = p->tags[a].name, *nb = p->tags[b].name;
    return na && nb && strcmp(na, nb) == 0;
}

/* The categories part. `pre`/`pre_group`, when given, hold each category's
 * own markingData entry already picked. `body` is where the marking proper
 * starts (after the policy prefix): the policy separator goes before a tag
 * only when something precedes it. */
static void emit_categories(sink *o, const lsn_policy *p, const uint32_t *cats, size_t n,
                            const marking_data *const *pre, const bool *pre_group,
                            const lang *lg, const char *sep, size_t body)
{
    size_t cur = SIZE_MAX;
    const char *tsep = "/", *tsuffix = NULL;
    for (size_t i = 0; i < n; i++) {
        const policy_category *c = &p->cats[cats[i]];
        const policy_tag *tag = &p->tags[c->tag];
        const marking_data *m;
        bool group;
        if (pre) {
            m = pre[i];
            group = pre_group[i];
        } else {
            m = pick(c->markings, c->nmarkings, lg, &group);
        }
        if (!group)
            m = pick(tag->markings, tag->nmarkings, lg, &group);
        const char *text = phrase(m, c->name);
        if (!text || !*text)
            continue;
        if (cur == SIZE_MAX || !same_tag(p, cur, c->tag)) {
            cur = c->tag;
            emits(o, tsuffix);
            if (o->len > body)
                emits(o, sep);
            quals tq;
            pick_quals(tag->qualifiers, tag->nqualifiers, lg, &tq);
            tsuffix = tq.suffix;
            tsep = (tq.sep && *tq.sep) ? tq.sep : "/";
            emits(o, tq.prefix);
        } else {
            emits(o, tsep);
        }
        emits(o, text);
    }
    emits(o, tsuffix);
}

lsn_err lsn_label_marking(const lsn_label *label, const char *lang_tag, char *buf,
                          size_t size, size_t *needed)
{
    if (needed)
        *needed = 0;
    if (!label || !label->policy || (!buf && size) || (label->ncats && !label->cats) ||
        label->ncats > LSN_LABEL_MAX_CATEGORIES)
        return LSN_ERR_ARG;
    const lsn_policy *p = label->policy;
    const policy_class *cls = label->cls;
    sink o = { buf, size, 0 };
    lang lg;
    lang_init(&lg, lang_tag);

    quals pq;
    pick_quals(p->qualifiers, p->nqualifiers, &lg, &pq);
    const char *sep = (pq.sep && *pq.sep) ? pq.sep : " ";
    bool group;
    const marking_data *pm = pick(p->markings, p->nmarkings, &lg, &group);
    const marking_data *cm = cls ? pick(cls->markings, cls->nmarkings, &lg, &group) : NULL;

    /* Each category's own entry, once: it decides suppressClassName and
     * replacePolicy, and then its text. */
    const marking_data *ce[LSN_LABEL_MAX_CATEGORIES];
    bool cg[LSN_LABEL_MAX_CATEGORIES];
    bool suppress = false;
    const char *policy_text = NULL;
    if (pm && (pm->codes & MC_REPLACE_POLICY))
        policy_text = policy_phrase(pm, p->name);
    else if (cm && (cm->codes & MC_REPLACE_POLICY))
        policy_text = policy_phrase(cm, cls->name);
    for (size_t i = 0; i < label->ncats; i++) {
        const policy_category *c = &p->cats[label->cats[i]];
        const marking_data *m = pick(c->markings, c->nmarkings, &lg, &cg[i]);
        ce[i] = m;
        if (m) {
            if (m->codes & MC_SUPPRESS_CLASS_NAME)
                suppress = true;
            if (!policy_text && (m->codes & MC_REPLACE_POLICY))
                policy_text = policy_phrase(m, c->name);
        }
    }
    if (!policy_text)
        policy_text = p->name;

    emits(&o, pq.prefix);
    size_t body = o.len;
    emits(&o, policy_text);
    if (cls && !suppress) {
        const char *ct = phrase(cm, cls->name);
        if (ct && *ct) {
            if (o.len > body)
                emits(&o, sep);
            emits(&o, ct);
        }
    }
    emit_categories(&o, p, label->cats, label->ncats, ce, cg, &lg, sep, body);
    emits(&o, pq.suffix);
    return finish(&o, needed);
}

lsn_err lsn_clearance_marking(const lsn_clearance *c, const char *lang_tag, char *buf,
                              size_t size, size_t *needed)
{
    if (needed)
        *needed = 0;
    if (!c || !c->policy || (!buf && size) || (c->ncats && !c->cats))
        return LSN_ERR_ARG;
    const lsn_policy *p = c->policy;
    sink o = { buf, size, 0 };
    lang lg;
    lang_init(&lg, lang_tag);
    quals pq;
    pick_quals(p->qualifiers, p->nqualifiers, &lg, &pq);
    const char *sep = (pq.sep && *pq.sep) ? pq.sep : " ";

    /* Held classifications by hierarchy (document order breaks ties). */
    size_t order[POLICY_MAX_CLASSES], n = 0;
    for (size_t i = 0; i < p->nclasses && i < POLICY_MAX_CLASSES; i++) {
        if (!((c->classes >> i) & 1u))
            continue;
        size_t j = n++;
        while (j > 0 && p->classes[order[j - 1]].hierarchy > p->classes[i].hierarchy) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }

    emits(&o, pq.prefix);
    emit(&o, "{", 1);
    for (size_t k = 0; k < n; k++) {
        if (k)
            emit(&o, "|", 1);
        emits(&o, p->classes[order[k]].name);
    }
    emit(&o, "}", 1);
    emit_categories(&o, p, c->cats, c->ncats, NULL, NULL, &lg, sep, 0);
    emits(&o, pq.suffix);
    return finish(&o, needed);
}

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
 * replacePolicy holds across languages (see replace_any_lang);
 * noMarkingDisplay hides the text (spiffing treats it as a location and so
 * shows the name); a separator is not written before an empty
 * classification text; a policy-level phrase is never used as the
 * classification's text.
 *
 * Speed: a marking is written straight into the caller's buffer with no
 * allocation; each category's markingData is looked up once, in a first
 * pass that also settles suppressClassName and replacePolicy. */
#include "engine/engine.h"

#include <string.h>

#include "liaison/clearance.h"
#include "liaison/label.h"

/* Locations other than the bottom of a page. An entry for the portion form
 * only (or with only a code we do not know) is not the banner's: SPIF 2.1
 * policies give a classification a language-less "NR" with portionMarking
 * beside its banner phrase. */
#define LOC_OTHER (MC_PAGE_TOP | MC_DOCUMENT_START | MC_DOCUMENT_END | MC_PORTION | MC_UNKNOWN)
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

/* Copy a NUL-terminated string. The strings of a marking are a few bytes
 * long, where strlen + memcpy cost more than the copy itself; while the
 * buffer has room for a whole block, a block is copied with no bounds check
 * (never reading past the string's terminator). */
#define COPY_BLOCK 16
static inline void emits(sink *o, const char *s)
{
    if (!s)
        return;
    size_t len = o->len;
    const size_t size = o->size;
    char *buf = o->buf;
    while (len < size && size - len >= COPY_BLOCK) {
        char *d = buf + len;
#pragma GCC unroll 16
        for (size_t k = 0; k < COPY_BLOCK; k++) {
            char ch = s[k];
            if (!ch) {
                o->len = len + k;
                return;
            }
            d[k] = ch;
        }
        s += COPY_BLOCK;
        len += COPY_BLOCK;
    }
    for (; *s; s++, len++)
        if (len < size)
            buf[len] = *s;
    o->len = len;
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
static const marking_data *pick_lang(const marking_data *m, size_t n, const lang *lg,
                                     bool *group)
{
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

static inline __attribute__((always_inline)) const marking_data *
pick(const marking_data *m, size_t n, const lang *lg, bool *group)
{
    *group = false;
    if (lg->tag)
        return n ? pick_lang(m, n, lg, group) : NULL;
    /* The default language: untagged entries only, one pass. */
    for (size_t i = 0; i < n; i++) {
        if (m[i].lang && m[i].lang[0])
            continue;
        *group = true;
        if (at_bottom(m[i].codes))
            return &m[i];
    }
    return NULL;
}

/* An entry with replacePolicy for the bottom of a page in any language
 * the request admits, the most specific first; NULL when none. The name a
 * policy goes by (NATO becomes COSMIC at TOP SECRET) does not change with
 * the language, so a language's markingData that says nothing about it
 * leaves the less specific one in force. (spiffing takes the language's
 * markingData alone, and so writes "NATO TRES SECRET"; NATO writes
 * "COSMIC TRES SECRET".) */
static const marking_data *replace_any_lang(const marking_data *m, size_t n, const lang *lg)
{
    const marking_data *best = NULL;
    int rank = 3;
    for (size_t i = 0; i < n; i++) {
        if (!(m[i].codes & MC_REPLACE_POLICY) || !at_bottom(m[i].codes))
            continue;
        int r = lang_rank(m[i].lang, lg);
        if (r >= 0 && r < rank) {
            rank = r;
            best = &m[i];
        }
    }
    return best;
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

/* Is qualifier q the portion form's? One with no markingCode serves both
 * forms; one whose code is portionMarking, the portion form only; which
 * are the banner's the loader decided (banner_qualifiers). */
static inline bool portion_qual(const qualifier *q)
{
    return !q->codes || (q->codes & MC_PORTION);
}

/* Each kind of qualifier in the best language available for it, among those
 * of the banner or (portion) of the portion form. The banner's are given
 * alone (banner_qualifiers, spif_qualifiers), so only the portion form
 * tests each one; inlined, so that the banner's loop has no test at all. */
static void
pick_quals_for(const qualifier *q, size_t n, const lang *lg, bool portion, quals *out)
{
    int rp = 3, rs = 3, rsep = 3;
    out->prefix = out->suffix = out->sep = NULL;
    if (!lg->tag) {
        /* The default language: the first untagged one of each kind. */
        const char *pre = NULL, *suf = NULL, *sep = NULL;
        for (size_t i = 0; i < n; i++) {
            if ((q[i].lang && q[i].lang[0]) ||
                (portion && !portion_qual(&q[i])))
                continue;
            if (q[i].kind == QUAL_PREFIX)
                pre = pre ? pre : q[i].text;
            else if (q[i].kind == QUAL_SUFFIX)
                suf = suf ? suf : q[i].text;
            else
                sep = sep ? sep : q[i].text;
        }
        out->prefix = pre;
        out->suffix = suf;
        out->sep = sep;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        int r = lang_rank(q[i].lang, lg);
        if (r < 0 || (portion && !portion_qual(&q[i])))
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

static inline void pick_quals(const qualifier *q, size_t n, const lang *lg, quals *out)
{
    pick_quals_for(q, n, lg, false, out);
}

static bool same_tag(const lsn_policy *p, size_t a, size_t b)
{
    if (a == b)
        return true;
    /* spiffing groups by tag *name*. */
    const char *na = p->tags[a].name, *nb = p->tags[b].name;
    return na && nb && strcmp(na, nb) == 0;
}

/* A category's text: its own markingData in the language, else its tag's,
 * else its name; "" when hidden. `own`/`own_group` are pick()'s answer for
 * the category's own markingData. */
static inline const char *cat_text(const lsn_policy *p, const policy_category *c,
                                   const marking_data *own, bool own_group, const lang *lg)
{
    if (!own_group) {
        const policy_tag *tag = &p->tags[c->tag];
        own = pick(tag->markings, tag->nmarkings, lg, &own_group);
    }
    return phrase(own, c->name);
}

/* The categories part. `texts`, when given, holds each category's text
 * already worked out. `body` is where the marking proper starts (after the
 * policy prefix): the policy separator goes before a tag only when
 * something precedes it. */
static void emit_categories(sink *o, const lsn_policy *p, const uint32_t *cats, size_t n,
                            const char *const *texts, const lang *lg, const char *sep,
                            size_t body)
{
    size_t cur = SIZE_MAX;
    const char *tsep = "/", *tsuffix = NULL;
    for (size_t i = 0; i < n; i++) {
        const policy_category *c;
        const char *text;
        if (texts) {
            text = texts[i];
            if (!text || !*text)
                continue;
            c = &p->cats[cats[i]];
        } else {
            bool group;
            c = &p->cats[cats[i]];
            const marking_data *m = pick(c->markings, c->nmarkings, lg, &group);
            text = cat_text(p, c, m, group, lg);
            if (!text || !*text)
                continue;
        }
        if (c->tag != cur && (cur == SIZE_MAX || !same_tag(p, cur, c->tag))) {
            const policy_tag *tag = &p->tags[c->tag];
            cur = c->tag;
            emits(o, tsuffix);
            if (o->len > body)
                emits(o, sep);
            quals tq;
            pick_quals(tag->banner_qualifiers, tag->nbanner_qualifiers, lg, &tq);
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

    quals pq = { NULL, NULL, NULL };
    if (p->nqualifiers)
        pick_quals(p->banner_qualifiers, p->nbanner_qualifiers, &lg, &pq);
    const char *sep = (pq.sep && *pq.sep) ? pq.sep : " ";
    bool group;
    const marking_data *pm = pick(p->markings, p->nmarkings, &lg, &group);
    const marking_data *cm = cls ? pick(cls->markings, cls->nmarkings, &lg, &group) : NULL;

    /* Each category's own entry, once: it decides suppressClassName and
     * replacePolicy, and then its text. */
    const char *texts[LSN_LABEL_MAX_CATEGORIES];
    bool suppress = false;
    const char *policy_text = NULL;
    const marking_data *rp;
    if (pm && (pm->codes & MC_REPLACE_POLICY))
        policy_text = policy_phrase(pm, p->name);
    else if (cm && (cm->codes & MC_REPLACE_POLICY))
        policy_text = policy_phrase(cm, cls->name);
    else if (lg.tag && cls && (rp = replace_any_lang(cls->markings, cls->nmarkings, &lg)))
        policy_text = policy_phrase(rp, cls->name);
    for (size_t i = 0; i < label->ncats; i++) {
        const policy_category *c = &p->cats[label->cats[i]];
        bool own;
        const marking_data *m = pick(c->markings, c->nmarkings, &lg, &own);
        texts[i] = cat_text(p, c, m, own, &lg);
        if (m) {
            if (m->codes & MC_SUPPRESS_CLASS_NAME)
                suppress = true;
            if (!policy_text && (m->codes & MC_REPLACE_POLICY))
                policy_text = policy_phrase(m, c->name);
        }
    }
    for (size_t i = 0; !policy_text && lg.tag && i < label->ncats; i++) {
        const policy_category *c = &p->cats[label->cats[i]];
        if ((rp = replace_any_lang(c->markings, c->nmarkings, &lg)))
            policy_text = policy_phrase(rp, c->name);
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
    emit_categories(&o, p, label->cats, label->ncats, texts, &lg, sep, body);
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
    pick_quals(p->banner_qualifiers, p->nbanner_qualifiers, &lg, &pq);
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
    emit_categories(&o, p, c->cats, c->ncats, NULL, &lg, sep, 0);
    emits(&o, pq.suffix);
    return finish(&o, needed);
}

/* The entry of a holder's markingData for the portion form in the requested
 * language (exact tag, primary subtag, then untagged), or NULL. */
static const marking_data *pick_portion(const marking_data *m, size_t n, const lang *lg)
{
    const marking_data *best = NULL;
    int rank = 3;
    for (size_t i = 0; i < n; i++) {
        if (!(m[i].codes & MC_PORTION))
            continue;
        int r = lang_rank(m[i].lang, lg);
        if (r >= 0 && r < rank) {
            rank = r;
            best = &m[i];
        }
    }
    return best;
}

/* Does the tag give a portion form (a markingQualifier or markingData with
 * portionMarking)? Only such tags' categories appear in it. */
static bool tag_has_portion(const policy_tag *t)
{
    for (size_t i = 0; i < t->nqualifiers; i++)
        if (t->qualifiers[i].codes & MC_PORTION)
            return true;
    for (size_t i = 0; i < t->nmarkings; i++)
        if (t->markings[i].codes & MC_PORTION)
            return true;
    return false;
}

lsn_err lsn_label_portion_marking(const lsn_label *label, const char *lang_tag, char *buf,
                                  size_t size, size_t *needed)
{
    if (needed)
        *needed = 0;
    if (!label || !label->policy || (!buf && size) || (label->ncats && !label->cats) ||
        label->ncats > LSN_LABEL_MAX_CATEGORIES)
        return LSN_ERR_ARG;
    const lsn_policy *p = label->policy;
    const policy_class *cls = label->cls;
    lang lg;
    lang_init(&lg, lang_tag);
    const marking_data *cm = cls ? pick_portion(cls->markings, cls->nmarkings, &lg) : NULL;
    /* Without the policy's abbreviation there is no portion form: the
     * caller says so rather than invent one. */
    if (!cm || !cm->phrase || !cm->phrase[0])
        return LSN_ERR_POLICY;
    sink o = { buf, size, 0 };
    quals pq;
    pick_quals_for(p->qualifiers, p->nqualifiers, &lg, true, &pq);
    const char *sep = (pq.sep && *pq.sep) ? pq.sep : " ";
    emits(&o, pq.prefix ? pq.prefix : "(");
    size_t body = o.len;
    emits(&o, cm->phrase);

    size_t cur = SIZE_MAX;
    const char *tsep = " ", *tsuffix = NULL;
    for (size_t i = 0; i < label->ncats; i++) {
        const policy_category *c = &p->cats[label->cats[i]];
        const policy_tag *tag = &p->tags[c->tag];
        if (!tag_has_portion(tag))
            continue;
        /* the category's portion phrase, else its name (an abbreviation
         * reads better than a banner phrase: JPN, not Japon) - hidden when
         * the banner hides it */
        const marking_data *m = pick_portion(c->markings, c->nmarkings, &lg);
        const char *text;
        if (m) {
            text = (m->codes & (MC_NO_NAME_DISPLAY | MC_NO_MARKING_DISPLAY)) ? ""
                   : m->phrase                                                ? m->phrase
                                                                              : c->name;
        } else {
            bool group;
            const marking_data *b = pick(c->markings, c->nmarkings, &lg, &group);
            const char *banner = cat_text(p, c, b, group, &lg);
            text = banner && *banner ? c->name : "";
        }
        if (!text || !*text)
            continue;
        if (c->tag != cur) {
            cur = c->tag;
            emits(&o, tsuffix);
            if (o.len > body)
                emits(&o, sep);
            quals tq;
            pick_quals_for(tag->qualifiers, tag->nqualifiers, &lg, true, &tq);
            tsuffix = tq.suffix;
            tsep = (tq.sep && *tq.sep) ? tq.sep : " ";
            emits(&o, tq.prefix);
        } else {
            emits(&o, tsep);
        }
        emits(&o, text);
    }
    emits(&o, tsuffix);
    emits(&o, pq.suffix ? pq.suffix : ")");
    return finish(&o, needed);
}

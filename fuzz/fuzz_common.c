/* fuzz/fuzz_common.c — the policy set of the fuzz targets and the checks
 * run on whatever the library accepts (see fuzz_common.h). */
#include "fuzz_common.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "label/label_model.h"
#include "policy/model.h"

#ifndef FUZZ_VECTORS_DIR
#define FUZZ_VECTORS_DIR "../shared/vectors/spiffing"
#endif

/* Policies of the spiffing vectors loaded by default. Together they cover
 * every tag kind, equivalences between policies (TLPX -> TLP, UK) and both
 * SPIF dialects. (bsi-commercial.xml is cut short and so refused.) */
static const char *const default_policies[] = {
    "nato-4774-policy.xml", "food-policy.xml", "tlp.xml",
    "tlp-plus.xml",         "uk-demo.xml",
};

/* Vector labels used as the other side of the clearance target's
 * decisions; a missing or unparsable one is skipped. */
static const char *const sample_labels[] = {
    "nato-4774-17-1.nato", "nato-4774-17-2.nato", "nato-4774-17-3.nato",
    "nato-4774-17-5.nato", "food-label-milk-chocolate.xml",
    "food-label-bacon.xml", "food-label-water.xml", "tlpx-amber-eu.xml",
    "tlpx-green-sh-na.xml",
};

#define MAX_POLICIES 16
#define MAX_SAMPLES 256

static lsn_policy_set *g_set;
/* Per policy of g_set (same index): a clearance holding every
 * classification and category, and one holding nothing. */
static lsn_clearance *g_all[MAX_POLICIES];
static lsn_clearance *g_none[MAX_POLICIES];
static lsn_label *g_samples[MAX_SAMPLES];
static size_t g_nsamples;

static void add_policy(lsn_policy *p, bool duplicate_ok, const char *what)
{
    lsn_error err = {0};
    lsn_err e = lsn_policy_set_add(g_set, p, &err);
    if (e == LSN_ERR_DUPLICATE && duplicate_ok) {
        lsn_policy_unref(p);
        return;
    }
    FUZZ_CHECK(e == LSN_OK, "adding %s: %s", what, err.message);
    lsn_policy_unref(p); /* the set holds its own reference */
}

static void load_file(const char *path)
{
    lsn_policy *p = NULL;
    lsn_error err = {0};
    lsn_err e = lsn_policy_load_file(path, &p, &err);
    FUZZ_CHECK(e == LSN_OK, "loading %s: %s", path, err.message);
    add_policy(p, false, path);
}

static size_t policy_slot(const lsn_policy *p)
{
    size_t n = lsn_policy_set_count(g_set);
    for (size_t i = 0; i < n; i++)
        if (lsn_policy_set_at(g_set, i) == p)
            return i;
    return SIZE_MAX;
}

/* Build the all-holding and the empty clearance of each policy with the
 * internal builders: they need no clearance syntax to be right. */
static void build_clearances(void)
{
    size_t n = lsn_policy_set_count(g_set);
    for (size_t i = 0; i < n && i < MAX_POLICIES; i++) {
        lsn_policy *p = (lsn_policy *)lsn_policy_set_at(g_set, i);
        lsn_clearance *all = clearance_new(p);
        lsn_clearance *none = clearance_new(p);
        FUZZ_CHECK(all && none, "out of memory");
        for (size_t c = 0; c < p->nclasses; c++)
            clearance_add_class(all, &p->classes[c]);
        for (size_t c = 0; c < p->ncats; c++)
            FUZZ_CHECK(clearance_add_cat(all, (uint32_t)c) == LSN_OK,
                       "clearance_add_cat");
        FUZZ_CHECK(clearance_finish(all) == LSN_OK, "clearance_finish");
        FUZZ_CHECK(clearance_finish(none) == LSN_OK, "clearance_finish");
        g_all[i] = all;
        g_none[i] = none;
    }
}

static void add_sample(lsn_label *l)
{
    if (g_nsamples < MAX_SAMPLES)
        g_samples[g_nsamples++] = l;
    else
        lsn_label_free(l);
}

static void load_samples(void)
{
    for (size_t i = 0; i < sizeof sample_labels / sizeof sample_labels[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", FUZZ_VECTORS_DIR, sample_labels[i]);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        char buf[16384];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        lsn_label *l = NULL;
        if (lsn_label_parse(g_set, buf, len, LSN_FORM_AUTO, &l, NULL) == LSN_OK)
            add_sample(l);
    }
    /* Per policy, per classification: the bare classification, and the
     * classification with the first category of every tag. */
    size_t n = lsn_policy_set_count(g_set);
    for (size_t i = 0; i < n; i++) {
        lsn_policy *p = (lsn_policy *)lsn_policy_set_at(g_set, i);
        for (size_t c = 0; c < p->nclasses && c < 8; c++) {
            for (int with_cats = 0; with_cats < 2; with_cats++) {
                lsn_label *l = label_new(p);
                FUZZ_CHECK(l != NULL, "out of memory");
                l->cls = &p->classes[c];
                for (size_t t = 0; with_cats && t < p->ntags; t++)
                    if (p->tags[t].ncats)
                        FUZZ_CHECK(label_add_cat(l, (uint32_t)p->tags[t].first_cat) ==
                                       LSN_OK,
                                   "label_add_cat");
                FUZZ_CHECK(label_finish(l) == LSN_OK, "label_finish");
                add_sample(l);
            }
        }
    }
}

const lsn_policy_set *fuzz_policies(void)
{
    if (g_set)
        return g_set;
    g_set = lsn_policy_set_new();
    FUZZ_CHECK(g_set != NULL, "out of memory");
    const char *env = getenv("LIAISON_FUZZ_POLICY");
    if (env && *env) {
        char list[4096];
        snprintf(list, sizeof list, "%s", env);
        for (char *save = NULL, *tok = strtok_r(list, ":", &save); tok;
             tok = strtok_r(NULL, ":", &save))
            load_file(tok);
    } else {
        for (size_t i = 0; i < sizeof default_policies / sizeof default_policies[0]; i++) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", FUZZ_VECTORS_DIR, default_policies[i]);
            load_file(path);
        }
    }
    lsn_policy *def = NULL;
    lsn_error err = {0};
    FUZZ_CHECK(lsn_policy_load_default(&def, &err) == LSN_OK, "bundled policy: %s",
               err.message);
    add_policy(def, true, "the bundled policy");
    FUZZ_CHECK(lsn_policy_set_count(g_set) <= MAX_POLICIES, "too many policies");
    build_clearances();
    load_samples();
    return g_set;
}

/* The marking in `lang`, in a buffer of exactly the size it needs (caller
 * frees), checking the size contract on the way. */
typedef lsn_err (*marking_fn)(const void *obj, const char *lang, char *buf,
                              size_t size, size_t *needed);

static lsn_err label_marking_fn(const void *obj, const char *lang, char *buf,
                                size_t size, size_t *needed)
{
    return lsn_label_marking(obj, lang, buf, size, needed);
}

static lsn_err clearance_marking_fn(const void *obj, const char *lang, char *buf,
                                    size_t size, size_t *needed)
{
    return lsn_clearance_marking(obj, lang, buf, size, needed);
}

static char *marking(marking_fn fn, const void *obj, const char *lang)
{
    /* First into a deliberately tiny buffer: truncation must be reported
     * and the buffer stay NUL-terminated. */
    char tiny[4];
    memset(tiny, 'x', sizeof tiny);
    size_t needed = 0;
    lsn_err e = fn(obj, lang, tiny, sizeof tiny, &needed);
    if (e != LSN_OK && e != LSN_ERR_LIMIT)
        return NULL; /* the object cannot be marked; not our invariant */
    FUZZ_CHECK(memchr(tiny, '\0', sizeof tiny) != NULL, "tiny marking buffer not terminated");
    FUZZ_CHECK((e == LSN_ERR_LIMIT) == (needed >= sizeof tiny),
               "needed %zu into %zu bytes gave %d", needed, sizeof tiny, (int)e);
    FUZZ_CHECK(needed < 1u << 20, "marking of %zu bytes", needed);
    char *buf = malloc(needed + 1);
    FUZZ_CHECK(buf != NULL, "out of memory");
    size_t again = 0;
    e = fn(obj, lang, buf, needed + 1, &again);
    FUZZ_CHECK(e == LSN_OK && again == needed && strlen(buf) == needed,
               "marking into %zu bytes: err %d, needed %zu, strlen %zu", needed + 1,
               (int)e, again, strlen(buf));
    return buf;
}

static const char *const langs[] = {NULL, "en", "fr", "fr-CA", "EN-gb", ""};

static void check_decision(const lsn_label *l, const lsn_clearance *c,
                           lsn_decision *out)
{
    const lsn_policy_set *set = g_set;
    lsn_decision d = LSN_GRANT, d2 = LSN_GRANT;
    char reason[256];
    lsn_err e = lsn_access_check(set, l, c, &d);
    lsn_err e2 = lsn_access_explain(set, l, c, &d2, reason, sizeof reason);
    if (e != LSN_OK)
        FUZZ_CHECK(d == LSN_DENY, "an error (%d) granted access", (int)e);
    if (e2 != LSN_OK)
        FUZZ_CHECK(d2 == LSN_DENY, "an error (%d) granted access", (int)e2);
    FUZZ_CHECK(d == d2, "lsn_access_check says %d, lsn_access_explain %d (%s)",
               (int)d, (int)d2, reason);
    FUZZ_CHECK(d == LSN_GRANT || d == LSN_DENY, "decision %d", (int)d);
    /* A tiny reason buffer must not change the decision or overflow. */
    char tiny[2];
    lsn_decision d3 = LSN_GRANT;
    e2 = lsn_access_explain(set, l, c, &d3, tiny, sizeof tiny);
    FUZZ_CHECK(d3 == d, "a short reason buffer changed the decision");
    FUZZ_CHECK(memchr(tiny, '\0', sizeof tiny) != NULL, "reason not terminated");
    if (out)
        *out = d;
}

static void reparse_label(const lsn_label *l, lsn_form form, const char *mark,
                          bool valid)
{
    char *text = NULL;
    size_t len = 0;
    lsn_error err = {0};
    lsn_err e = lsn_label_write(l, form, &text, &len, &err);
    if (e != LSN_OK) {
        fuzz_check_error(e, &err, "lsn_label_write");
        FUZZ_CHECK(text == NULL, "failed write left output");
        return;
    }
    FUZZ_CHECK(text != NULL && strlen(text) == len, "written length %zu", len);
    lsn_label *back = NULL;
    e = lsn_label_parse(g_set, text, len, form, &back, &err);
    FUZZ_CHECK(e == LSN_OK, "form %d does not re-parse: %s\n%s", (int)form,
               err.message, text);
    char *mark2 = marking(label_marking_fn, back, NULL);
    FUZZ_CHECK((mark == NULL) == (mark2 == NULL) &&
                   (!mark || strcmp(mark, mark2) == 0),
               "form %d round trip changed the marking: '%s' -> '%s'\n%s", (int)form,
               mark ? mark : "(none)", mark2 ? mark2 : "(none)", text);
    bool valid2 = false;
    lsn_err ve = lsn_label_validate(back, &valid2, NULL, 0);
    FUZZ_CHECK(ve == LSN_OK || !valid2, "validation error %d but valid", (int)ve);
    FUZZ_CHECK(valid == valid2, "form %d round trip changed validity\n%s", (int)form,
               text);
    FUZZ_CHECK(lsn_label_policy(back) == lsn_label_policy(l),
               "form %d round trip changed the policy\n%s", (int)form, text);
    free(mark2);
    lsn_label_free(back);
    lsn_free(text);
}

void fuzz_exercise_label(const lsn_label *l)
{
    bool valid = true;
    char reason[512];
    reason[0] = '\0';
    lsn_err e = lsn_label_validate(l, &valid, reason, sizeof reason);
    if (e != LSN_OK)
        FUZZ_CHECK(!valid, "validation error %d but valid", (int)e);
    else if (!valid)
        FUZZ_CHECK(reason[0] != '\0', "invalid without a reason");
    char tiny[3];
    bool v2 = !valid;
    lsn_err e2 = lsn_label_validate(l, &v2, tiny, sizeof tiny);
    FUZZ_CHECK(v2 == valid && e2 == e, "a short reason buffer changed validity");
    FUZZ_CHECK(memchr(tiny, '\0', sizeof tiny) != NULL, "reason not terminated");

    char *mark = NULL;
    for (size_t i = 0; i < sizeof langs / sizeof langs[0]; i++) {
        char *m = marking(label_marking_fn, l, langs[i]);
        if (i == 0)
            mark = m;
        else
            free(m);
    }

    static const lsn_form forms[] = {LSN_FORM_4774, LSN_FORM_SPIFFING, LSN_FORM_JSON};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        reparse_label(l, forms[i], mark, valid);
    free(mark);

    size_t slot = policy_slot(lsn_label_policy(l));
    if (slot < MAX_POLICIES && g_all[slot]) {
        lsn_decision d;
        check_decision(l, g_none[slot], &d);
        FUZZ_CHECK(d == LSN_DENY, "a clearance holding nothing was granted access");
        check_decision(l, g_all[slot], &d);
        if (valid)
            FUZZ_CHECK(d == LSN_GRANT,
                       "a clearance holding everything was denied a valid label");
    }
    /* Into every other policy: most have no equivalence and must say so. */
    size_t n = lsn_policy_set_count(g_set);
    for (size_t i = 0; i < n; i++) {
        const lsn_policy *target = lsn_policy_set_at(g_set, i);
        if (target == lsn_label_policy(l))
            continue;
        lsn_label *t = NULL;
        lsn_error err = {0};
        e = lsn_label_translate(l, g_set, lsn_policy_id(target), &t, &err);
        if (e != LSN_OK) {
            fuzz_check_error(e, &err, "lsn_label_translate");
            continue;
        }
        FUZZ_CHECK(lsn_label_policy(t) == target, "translated into the wrong policy");
        free(marking(label_marking_fn, t, NULL));
        bool tv = true;
        e = lsn_label_validate(t, &tv, NULL, 0);
        FUZZ_CHECK(e == LSN_OK || !tv, "validation error %d but valid", (int)e);
        if (i < MAX_POLICIES && g_all[i])
            check_decision(t, g_all[i], NULL);
        lsn_label_free(t);
    }
}

void fuzz_exercise_clearance(const lsn_clearance *c)
{
    char *mark = NULL;
    for (size_t i = 0; i < sizeof langs / sizeof langs[0]; i++) {
        char *m = marking(clearance_marking_fn, c, langs[i]);
        if (i == 0)
            mark = m;
        else
            free(m);
    }
    static const lsn_form forms[] = {LSN_FORM_JSON, LSN_FORM_SPIFFING};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        char *text = NULL;
        size_t len = 0;
        lsn_error err = {0};
        lsn_err e = lsn_clearance_write(c, forms[i], &text, &len, &err);
        if (e != LSN_OK) {
            fuzz_check_error(e, &err, "lsn_clearance_write");
            continue;
        }
        FUZZ_CHECK(text != NULL && strlen(text) == len, "written length %zu", len);
        lsn_clearance *back = NULL;
        e = lsn_clearance_parse(g_set, text, len, forms[i], &back, &err);
        FUZZ_CHECK(e == LSN_OK, "clearance form %d does not re-parse: %s\n%s",
                   (int)forms[i], err.message, text);
        char *mark2 = marking(clearance_marking_fn, back, NULL);
        FUZZ_CHECK((mark == NULL) == (mark2 == NULL) &&
                       (!mark || strcmp(mark, mark2) == 0),
                   "clearance form %d round trip changed the marking: '%s' -> '%s'",
                   (int)forms[i], mark ? mark : "(none)", mark2 ? mark2 : "(none)");
        /* The re-read clearance must decide as the original does. */
        for (size_t s = 0; s < g_nsamples; s++) {
            lsn_decision d1, d2;
            check_decision(g_samples[s], c, &d1);
            check_decision(g_samples[s], back, &d2);
            FUZZ_CHECK(d1 == d2, "clearance round trip changed a decision");
        }
        free(mark2);
        lsn_clearance_free(back);
        lsn_free(text);
    }
    free(mark);
    for (size_t s = 0; s < g_nsamples; s++)
        check_decision(g_samples[s], c, NULL);
}

int fuzz_label_input(const uint8_t *data, size_t size, lsn_form form)
{
    lsn_label *label = NULL;
    lsn_error err = {0};
    lsn_err e = lsn_label_parse(fuzz_policies(), data, size, form, &label, &err);
    if (e != LSN_OK) {
        fuzz_check_error(e, &err, "lsn_label_parse");
        FUZZ_CHECK(label == NULL, "a refused label was returned");
        return 0;
    }
    FUZZ_CHECK(label != NULL, "success without a label");
    fuzz_exercise_label(label);
    lsn_label_free(label);
    return 0;
}

int fuzz_clearance_input(const uint8_t *data, size_t size, lsn_form form)
{
    lsn_clearance *c = NULL;
    lsn_error err = {0};
    lsn_err e = lsn_clearance_parse(fuzz_policies(), data, size, form, &c, &err);
    if (e != LSN_OK) {
        fuzz_check_error(e, &err, "lsn_clearance_parse");
        FUZZ_CHECK(c == NULL, "a refused clearance was returned");
        return 0;
    }
    FUZZ_CHECK(c != NULL, "success without a clearance");
    fuzz_exercise_clearance(c);
    lsn_clearance_free(c);
    return 0;
}

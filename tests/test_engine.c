/* tests/test_engine.c — the policy engine: validation, display markings,
 * access decisions and translation.
 *
 * Part one replays the expectations of the spiffing conformance vectors
 * (markings, clearance markings, decisions, translations) through the
 * library's readers; part two builds labels and clearances directly against
 * loaded policies to pin each validation rule, each access rule and the
 * language fallback; part three uses the bundled default policy (partners
 * JPN, KOR, AUS, NZL).
 *
 * Usage: test_engine VECTOR_DIR (the spiffing vectors). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "label/label_model.h"
#include "liaison/liaison.h"
#include "policy/model.h"
#include "tap.h"

static const char *vdir;

/* ---- helpers ------------------------------------------------------------ */

static char *slurp(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", vdir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static lsn_policy_set *set_of(const char *first, ...)
{
    lsn_policy_set *set = lsn_policy_set_new();
    if (!set)
        return NULL;
    va_list ap;
    va_start(ap, first);
    for (const char *name = first; name; name = va_arg(ap, const char *)) {
        char path[1024];
        lsn_error err = { 0, "" };
        snprintf(path, sizeof path, "%s/%s", vdir, name);
        if (lsn_policy_set_load_file(set, path, &err) != LSN_OK)
            printf("# loading %s: %s\n", name, err.message);
    }
    va_end(ap);
    return set;
}

static lsn_label *read_label(const lsn_policy_set *set, const char *name)
{
    size_t len = 0;
    char *data = slurp(name, &len);
    if (!data) {
        printf("# cannot read %s\n", name);
        return NULL;
    }
    lsn_label *l = NULL;
    lsn_error err = { 0, "" };
    if (lsn_label_parse(set, data, len, LSN_FORM_AUTO, &l, &err) != LSN_OK) {
        printf("# parsing %s: %s\n", name, err.message);
        l = NULL;
    }
    free(data);
    return l;
}

static lsn_clearance *read_clearance(const lsn_policy_set *set, const char *name)
{
    size_t len = 0;
    char *data = slurp(name, &len);
    if (!data)
        return NULL;
    lsn_clearance *c = NULL;
    lsn_error err = { 0, "" };
    if (lsn_clearance_parse(set, data, len, LSN_FORM_AUTO, &c, &err) != LSN_OK) {
        printf("# parsing %s: %s\n", name, err.message);
        c = NULL;
    }
    free(data);
    return c;
}

static char markbuf[2048];

static const char *mark(const lsn_label *l, const char *lang)
{
    if (!l || lsn_label_marking(l, lang, markbuf, sizeof markbuf, NULL) != LSN_OK)
        return NULL;
    return markbuf;
}

static const char *cmark(const lsn_clearance *c)
{
    if (!c || lsn_clearance_marking(c, NULL, markbuf, sizeof markbuf, NULL) != LSN_OK)
        return NULL;
    return markbuf;
}

static char reason[512];

/* 1 valid, 0 invalid (reason in `reason`), -1 error. */
static int validity(const lsn_label *l)
{
    bool v = true;
    reason[0] = '\0';
    if (!l || lsn_label_validate(l, &v, reason, sizeof reason) != LSN_OK)
        return -1;
    return v ? 1 : 0;
}

/* 1 grant, 0 deny (reason in `reason`), -1 error. */
static int decide(const lsn_policy_set *set, const lsn_label *l, const lsn_clearance *c)
{
    lsn_decision d = LSN_GRANT, d2 = LSN_GRANT;
    reason[0] = '\0';
    lsn_err rc = lsn_access_check(set, l, c, &d);
    lsn_err rc2 = lsn_access_explain(set, l, c, &d2, reason, sizeof reason);
    if (rc != rc2 || d != d2) {
        printf("# check and explain disagree\n");
        return -2;
    }
    if (rc != LSN_OK)
        return d == LSN_DENY ? -1 : -3;
    return d == LSN_GRANT ? 1 : 0;
}

static lsn_label *translate(const lsn_policy_set *set, const lsn_label *l, const char *oid)
{
    lsn_label *t = NULL;
    lsn_error err = { 0, "" };
    if (!l || lsn_label_translate(l, set, oid, &t, &err) != LSN_OK) {
        printf("# translate: %s\n", err.message);
        return NULL;
    }
    return t;
}

static bool has(const char *s, const char *part)
{
    bool yes = s && strstr(s, part);
    if (!yes)
        printf("#   \"%s\" lacks \"%s\"\n", s ? s : "(null)", part);
    return yes;
}

static const policy_category *cat_named(const lsn_policy *p, const char *spec)
{
    /* "Tag Set/Category" */
    char ts[128];
    const char *slash = strchr(spec, '/');
    if (!slash || (size_t)(slash - spec) >= sizeof ts)
        return NULL;
    memcpy(ts, spec, (size_t)(slash - spec));
    ts[slash - spec] = '\0';
    const policy_tagset *set = policy_tagset_by_name(p, ts);
    const policy_category *c = set ? policy_cat_by_name(p, set, TAG_ANY, slash + 1) : NULL;
    if (!c)
        printf("# no category %s\n", spec);
    return c;
}

/* A label built directly: classification name (NULL: none) and categories
 * "Tag Set/Name", NULL-terminated. */
static lsn_label *build(const lsn_policy *p, const char *cls, ...)
{
    if (!p)
        return NULL;
    lsn_label *l = label_new((lsn_policy *)p);
    if (!l)
        return NULL;
    if (cls) {
        l->cls = policy_class_by_name(p, cls);
        if (!l->cls)
            printf("# no classification %s\n", cls);
    }
    va_list ap;
    va_start(ap, cls);
    for (const char *spec = va_arg(ap, const char *); spec; spec = va_arg(ap, const char *)) {
        const policy_category *c = cat_named(p, spec);
        if (c && label_add_cat(l, (uint32_t)c->index) != LSN_OK)
            printf("# cannot add %s\n", spec);
    }
    va_end(ap);
    if (label_finish(l) != LSN_OK) {
        lsn_label_free(l);
        return NULL;
    }
    return l;
}

/* A clearance: classifications "A|B|C", categories as for build(). */
static lsn_clearance *build_clearance(const lsn_policy *p, const char *classes, ...)
{
    if (!p)
        return NULL;
    lsn_clearance *c = clearance_new((lsn_policy *)p);
    if (!c)
        return NULL;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", classes);
    for (char *tok = strtok(buf, "|"); tok; tok = strtok(NULL, "|"))
        clearance_add_class(c, policy_class_by_name(p, tok));
    va_list ap;
    va_start(ap, classes);
    for (const char *spec = va_arg(ap, const char *); spec; spec = va_arg(ap, const char *)) {
        const policy_category *cat = cat_named(p, spec);
        if (cat && clearance_add_cat(c, (uint32_t)cat->index) != LSN_OK)
            printf("# cannot add %s\n", spec);
    }
    va_end(ap);
    if (clearance_finish(c) != LSN_OK) {
        lsn_clearance_free(c);
        return NULL;
    }
    return c;
}

static const lsn_policy *policy_in(const lsn_policy_set *set, const char *oid)
{
    const lsn_policy *p = lsn_policy_set_find_id(set, oid);
    if (!p)
        printf("# policy %s not loaded\n", oid);
    return p;
}

#define FOOD "1.2.826.0.1.6726289.0.0"
#define TLPX "1.2.826.0.1.6726289.0.1"
#define TLP "1.2.826.0.1.6726289.0.2"
#define UKDEMO "1.2.826.0.1.6726289.0.4"
#define NATO "1.3.26.1.3.1"

/* ---- part one: the conformance vectors ---------------------------------- */

static void conformance_food(void)
{
    lsn_policy_set *set = set_of("food-policy.xml", NULL);
    lsn_label *milk = read_label(set, "food-label-milk-chocolate.xml");
    lsn_clearance *lactose = read_clearance(set, "food-clearance-lactose-intolerant.xml");
    lsn_clearance *okay = read_clearance(set, "food-clearance-all-okay.xml");

    ok(validity(milk) == 1, "food_milk_chocolate_is_valid");
    is_str(mark(milk, NULL), "[ Food Sweet/Yummy Chocolate Brown Contains Lactose Not Vegan Animal Rights ]",
           "food_milk_chocolate_marking_suppresses_class_and_groups_tags");
    is_str(cmark(lactose), "[ {Commodity|Luxury} Sweet Contains Peanut+Nut+Gluten Not Vegan ]",
           "food_lactose_intolerant_clearance_marking");
    ok(decide(set, milk, lactose) == 0 && has(reason, "Lactose"),
       "lactose_intolerant_reader_denied_milk_chocolate_naming_lactose");
    ok(decide(set, milk, okay) == 1, "all_okay_reader_granted_milk_chocolate");

    lsn_label *cheap = read_label(set, "food-label-cheap-milk-chocolate.xml");
    ok(validity(cheap) == 0 &&
           has(reason, "category 'Chocolate' (Taste Sensations) is excluded at classification 'Commodity'"),
       "cheap_chocolate_invalid_chocolate_excluded_at_commodity");
    lsn_label *meaty = read_label(set, "food-label-meaty-milk-chocolate.xml");
    ok(validity(meaty) == 0 && has(reason, "excludes category"),
       "meaty_chocolate_invalid_excluded_category");
    lsn_label *bacon = read_label(set, "food-label-bacon.xml");
    ok(validity(bacon) == 1, "food_bacon_is_valid");
    lsn_label *water = read_label(set, "food-label-water.xml");
    ok(validity(water) == 1, "food_water_is_valid");
    is_str(mark(water, NULL), "[ Food FREE British Flag ]", "food_water_marking_uses_class_phrase");

    lsn_label_free(milk);
    lsn_label_free(cheap);
    lsn_label_free(meaty);
    lsn_label_free(bacon);
    lsn_label_free(water);
    lsn_clearance_free(lactose);
    lsn_clearance_free(okay);
    lsn_policy_set_free(set);
}

static void conformance_tlp(void)
{
    lsn_policy_set *set = set_of("tlp-plus.xml", "tlp.xml", "uk-demo.xml", NULL);
    lsn_label *amber = read_label(set, "tlpx-amber-eu.xml");
    lsn_label *green = read_label(set, "tlpx-green-sh-na.xml");

    ok(validity(amber) == 1, "tlpx_amber_eu_is_valid");
    is_str(mark(amber, NULL), "TLPX:AMBER J:EU", "tlpx_amber_marking_replaces_policy_name_with_empty_phrase");
    ok(validity(green) == 1, "tlpx_green_safe_harbour_is_valid");
    is_str(mark(green, NULL), "TLPX:GREEN J:SafeHarbour Do not action", "tlpx_green_marking");

    lsn_label *t = translate(set, amber, TLP);
    is_str(mark(t, NULL), "TLP:AMBER [REGION=EU] [Additional Handling May Apply]/[Imported Data]",
           "tlpx_amber_to_tlp_adds_required_categories_of_class_and_policy");
    lsn_label_free(t);
    t = translate(set, green, TLP);
    is_str(mark(t, NULL), "TLP:GREEN [REGION=EU/US] [Imported Data]",
           "tlpx_green_to_tlp_maps_one_category_to_two_and_discards_do_not_action");
    lsn_label_free(t);

    t = translate(set, amber, "urn:oid:" UKDEMO);
    is_str(mark(t, NULL), "DEMO-UK SECRET - UK / EU EYES ONLY", "tlpx_amber_to_uk_demo_marking");
    lsn_clearance *uk = read_clearance(set, "uk-demo-secret-uk.xml");
    is_str(cmark(uk), "DEMO-{OFFICIAL|SECRET|TOP SECRET} OFFICIAL-SENSITIVE LOCSEN - UK / NATO / EU EYES ONLY",
           "uk_demo_clearance_marking_orders_classes_by_hierarchy");
    ok(decide(set, t, uk) == 1, "translated_amber_granted_to_uk_secret_reader");
    ok(decide(set, amber, uk) == 1, "tlpx_label_translated_on_the_fly_for_uk_reader");
    ok(decide(NULL, amber, uk) == 0 && has(reason, "no policy set"),
       "tlpx_label_denied_to_uk_reader_without_a_policy_set");
    lsn_label_free(t);

    /* No equivalence: TLP names TLPX only. */
    lsn_label *back = translate(set, amber, TLP);
    lsn_label *none = NULL;
    lsn_error err = { 0, "" };
    ok(lsn_label_translate(back, set, UKDEMO, &none, &err) == LSN_ERR_NO_EQUIVALENT && !none &&
           has(err.message, "no equivalent policy"),
       "translate_without_equivalent_policy_fails_naming_it");
    ok(decide(set, back, uk) == 0, "label_without_equivalence_denied");
    ok(lsn_label_translate(amber, set, "1.2.3.4", &none, &err) == LSN_ERR_UNKNOWN_POLICY &&
           has(err.message, "Unknown policy id: 1.2.3.4"),
       "translate_to_unloaded_policy_is_unknown_policy");
    /* WHITE has no UK-DEMO equivalent in... it does (10); RED->4. A TLP
     * label has no equivalent classification in UK-DEMO (TLP has no such
     * equivalent policy) — covered above. Green to UK-DEMO: GREEN -> OFFICIAL
     * with a required Sensitive category. */
    t = translate(set, green, UKDEMO);
    ok(t == NULL, "tlpx_green_to_uk_fails_do_not_action_has_no_uk_equivalent");
    lsn_label_free(t);

    /* UK-DEMO names TLPX, but SECRET has no equivalent there. */
    const lsn_policy *ukp = policy_in(set, UKDEMO);
    lsn_label *uks = build(ukp, "SECRET", "National Caveats/UK", NULL);
    ok(lsn_label_translate(uks, set, TLPX, &none, &err) == LSN_ERR_NO_EQUIVALENT &&
           has(err.message, "classification 'SECRET' of policy 'UK' has no equivalent in policy 'TLPX'"),
       "translate_without_equivalent_classification_names_it");
    lsn_label_free(uks);

    /* A copy when translating into the label's own policy. */
    t = translate(set, amber, TLPX);
    is_str(mark(t, NULL), "TLPX:AMBER J:EU", "translate_into_own_policy_copies");
    lsn_label_free(t);

    lsn_label_free(back);
    lsn_clearance_free(uk);
    lsn_label_free(amber);
    lsn_label_free(green);
    lsn_policy_set_free(set);
}

static void conformance_nato(void)
{
    lsn_policy_set *set = set_of("nato-4774-policy.xml", NULL);
    static const struct {
        const char *file, *marking;
    } v[] = {
        { "nato-4774-17-1.xml", "NATO UNCLASSIFIED Releasable to ISAF, KFOR, RESOLUTE SUPPORT" },
        { "nato-4774-17-1.nato", "NATO UNCLASSIFIED Releasable to ISAF, KFOR, RESOLUTE SUPPORT" },
        { "nato-4774-17-2.xml", "NATO UNCLASSIFIED" },
        { "nato-4774-17-2.nato", "NATO UNCLASSIFIED" },
        { "nato-4774-17-3.xml", "NATO UNCLASSIFIED - STAFF" },
        { "nato-4774-17-3.nato", "NATO UNCLASSIFIED - STAFF" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        lsn_label *l = read_label(set, v[i].file);
        ok(validity(l) == 1, "nato_%s_is_valid", v[i].file);
        is_str(mark(l, NULL), v[i].marking, "nato_%s_marking", v[i].file);
        lsn_label_free(l);
    }

    /* French, with fallback fr-CA -> fr, and an unknown language -> default. */
    lsn_label *l = read_label(set, "nato-4774-17-1.xml");
    const char *fr = "NATO SANS CLASSIFICATION Communicable a ISAF, KFOR, RESOLUTE SUPPORT";
    is_str(mark(l, "fr"), fr, "nato_17_1_french_marking_uses_french_class_and_prefix");
    is_str(mark(l, "fr-CA"), fr, "nato_17_1_fr_CA_falls_back_to_fr");
    is_str(mark(l, "FR-ca"), fr, "language_tags_compare_case_insensitively");
    is_str(mark(l, "de"), "NATO UNCLASSIFIED Releasable to ISAF, KFOR, RESOLUTE SUPPORT",
           "unknown_language_falls_back_to_untagged");
    is_str(mark(l, ""), "NATO UNCLASSIFIED Releasable to ISAF, KFOR, RESOLUTE SUPPORT",
           "empty_language_is_the_default");

    /* Buffer contract. */
    char small[10];
    size_t need = 0;
    ok(lsn_label_marking(l, NULL, small, sizeof small, &need) == LSN_ERR_LIMIT &&
           need == strlen("NATO UNCLASSIFIED Releasable to ISAF, KFOR, RESOLUTE SUPPORT") &&
           strlen(small) == sizeof small - 1 && strncmp(small, "NATO UNCL", 9) == 0,
       "marking_into_small_buffer_truncates_and_reports_needed");
    ok(lsn_label_marking(l, NULL, NULL, 0, &need) == LSN_ERR_LIMIT && need > 0,
       "marking_size_query_with_no_buffer");
    char *exact = malloc(need + 1);
    ok(exact && lsn_label_marking(l, NULL, exact, need + 1, NULL) == LSN_OK &&
           strcmp(exact, "NATO UNCLASSIFIED Releasable to ISAF, KFOR, RESOLUTE SUPPORT") == 0,
       "marking_fits_a_buffer_of_needed_plus_one");
    ok(exact && lsn_label_marking(l, NULL, exact, need, NULL) == LSN_ERR_LIMIT &&
           strlen(exact) == need - 1,
       "marking_one_byte_short_is_limit_and_truncated");
    ok(exact && lsn_label_marking(l, NULL, exact, 1, NULL) == LSN_ERR_LIMIT && exact[0] == '\0',
       "marking_into_one_byte_is_empty_string");
    free(exact);
    ok(lsn_label_marking(NULL, NULL, small, sizeof small, NULL) == LSN_ERR_ARG,
       "marking_null_label_is_an_error");
    lsn_label_free(l);

    /* 17-5: CONFIDENTIAL releasable to EAPC and ISAF, which the policy
     * excludes at CONFIDENTIAL. */
    l = read_label(set, "nato-4774-17-5.xml");
    ok(validity(l) == 0 && has(reason, "is excluded at classification 'CONFIDENTIAL'"),
       "nato_17_5_invalid_partner_excluded_at_confidential");
    is_str(mark(l, NULL), "NATO/EAPC CONFIDENTIAL Releasable to EAPC, ISAF",
           "nato_17_5_context_category_replaces_policy_name");
    lsn_label_free(l);

    /* COSMIC: the classification's own replacePolicy phrase. */
    const lsn_policy *p = policy_in(set, NATO);
    l = build(p, "TOP SECRET", "Context/NATO", NULL);
    is_str(mark(l, NULL), "COSMIC TOP SECRET", "nato_top_secret_marks_cosmic");
    is_str(mark(l, "fr"), "COSMIC TRES SECRET", "nato_top_secret_in_french_keeps_cosmic");
    is_str(mark(l, "fr-CA"), "COSMIC TRES SECRET", "nato_top_secret_in_fr_CA_keeps_cosmic");
    lsn_label_free(l);
    lsn_policy_set_free(set);
}

/* ---- part two: rules, one by one ---------------------------------------- */

static void validation_rules(void)
{
    lsn_policy_set *set = set_of("food-policy.xml", "nato-4774-policy.xml", "uk-demo.xml",
                                 "tlp-plus.xml", NULL);
    const lsn_policy *food = policy_in(set, FOOD), *nato = policy_in(set, NATO),
                     *uk = policy_in(set, UKDEMO), *tlpx = policy_in(set, TLPX);
    lsn_label *l;

    l = build(nato, "TOP SECRET", "Context/NATO", "Context/Releasable", "Releasable To/JPN", NULL);
    ok(validity(l) == 0 &&
           has(reason, "category 'JPN' (Releasable To) is excluded at classification 'TOP SECRET'"),
       "excluded_class_refused_naming_category_and_class");
    lsn_label_free(l);

    l = build(food, "Luxury", "Taste Sensations/Meaty", "Ethics/Not Vegan", "Ethics/Animal Rights", NULL);
    ok(validity(l) == 0 &&
           has(reason, "category 'Meaty' (Taste Sensations) excludes category 'Animal Rights' (Ethics)"),
       "excluded_category_refused_naming_both");
    lsn_label_free(l);

    l = build(food, "Luxury", "Taste Sensations/Brown", NULL);
    ok(validity(l) == 0 &&
           has(reason, "classification 'Luxury' requires one or more of 'Sweet' (Taste Sensations)"),
       "required_one_or_more_of_classification_refused");
    lsn_label_free(l);

    l = build(food, "Luxury", "Taste Sensations/Meaty", NULL);
    ok(validity(l) == 0 &&
           has(reason, "category 'Meaty' (Taste Sensations) requires all of 'Not Vegan' (Ethics)"),
       "required_all_of_category_refused");
    lsn_label_free(l);

    l = build(uk, "OFFICIAL", "Sensitive/SENSITIVE", NULL);
    ok(validity(l) == 0 && has(reason, "category 'SENSITIVE' (Sensitive) requires exactly one of"),
       "required_only_one_with_none_refused");
    lsn_label_free(l);
    l = build(uk, "OFFICIAL", "Sensitive/SENSITIVE", "Sensitive Descriptors/LOCSEN", NULL);
    ok(validity(l) == 1, "required_only_one_with_one_accepted");
    is_str(mark(l, NULL), "DEMO-UK OFFICIAL-SENSITIVE LOCSEN", "uk_official_sensitive_suppresses_class");
    lsn_label_free(l);

    l = build(uk, "OFFICIAL", "Sensitive/SENSITIVE", "Sensitive Descriptors/COMMERCIAL",
              "Sensitive Descriptors/PERSONAL", NULL);
    ok(validity(l) == 0 && has(reason, "allows a single selection") && has(reason, "COMMERCIAL") &&
           has(reason, "PERSONAL"),
       "single_selection_with_two_refused");
    lsn_label_free(l);

    l = build(nato, "SECRET", "Additional Sensitivity/SIOP ESI", NULL);
    ok(validity(l) == 0 && has(reason, "category 'SIOP ESI' (Additional Sensitivity) is obsolete"),
       "obsolete_category_refused");
    lsn_label_free(l);

    l = build(nato, NULL, "Context/NATO", NULL);
    ok(validity(l) == 0 && has(reason, "no classification"), "label_without_classification_invalid");
    lsn_label_free(l);

    /* tlp-plus: AMBER requires a Dissemination category (any permissive or
     * informative one: a whole-tag-set reference). */
    l = build(tlpx, "AMBER", "Mandatory Data Handling/Anonymize", NULL);
    ok(validity(l) == 0 && has(reason, "any permissive category of 'Dissemination'"),
       "required_whole_tag_set_reference_refused_and_described");
    lsn_label_free(l);
    l = build(tlpx, "AMBER", "Dissemination/Other", NULL);
    ok(validity(l) == 1, "required_whole_tag_set_met_by_informative_category");
    lsn_label_free(l);
    l = build(tlpx, "GREEN", "Dissemination/Other", NULL);
    ok(validity(l) == 0 && has(reason, "excluded at classification 'GREEN'"),
       "informative_category_excluded_at_green");
    lsn_label_free(l);

    bool v = true;
    ok(lsn_label_validate(NULL, &v, reason, sizeof reason) == LSN_ERR_ARG && !v,
       "validate_null_label_is_an_error_and_invalid");
    l = build(food, "Freely Available", NULL);
    ok(lsn_label_validate(l, NULL, NULL, 0) == LSN_ERR_ARG, "validate_null_verdict_is_an_error");
    ok(lsn_label_validate(l, &v, NULL, 0) == LSN_OK && v, "validate_without_reason_buffer");
    lsn_label_free(l);
    lsn_policy_set_free(set);
}

static void access_rules(void)
{
    lsn_policy_set *set = set_of("nato-4774-policy.xml", "food-policy.xml", NULL);
    const lsn_policy *nato = policy_in(set, NATO), *food = policy_in(set, FOOD);
    lsn_clearance *unclass = build_clearance(nato, "UNCLASSIFIED", "Context/NATO",
                                             "Releasable To/NATO", NULL);
    lsn_clearance *secret = build_clearance(nato, "UNCLASSIFIED|RESTRICTED|CONFIDENTIAL|SECRET",
                                            "Context/NATO", "Releasable To/NATO", NULL);
    lsn_clearance *atomal = build_clearance(nato, "SECRET", "Context/NATO",
                                            "Additional Sensitivity/ATOMAL", NULL);
    lsn_clearance *nld = build_clearance(nato, "RESTRICTED", "Context/NATO", "Context/Releasable",
                                         "Releasable To/NLD", NULL);
    lsn_label *l;

    l = build(nato, "RESTRICTED", "Context/NATO", NULL);
    ok(decide(set, l, unclass) == 0 && has(reason, "clearance does not hold 'RESTRICTED'"),
       "classification_not_held_denied");
    ok(decide(set, l, secret) == 1, "classification_held_granted");
    lsn_label_free(l);

    /* Classifications are held by list, not dominance. */
    l = build(nato, "UNCLASSIFIED", "Context/NATO", NULL);
    ok(decide(set, l, atomal) == 0, "higher_clearance_without_lower_class_listed_denied");
    lsn_label_free(l);

    l = build(nato, "SECRET", "Context/NATO", "Additional Sensitivity/ATOMAL", NULL);
    ok(decide(set, l, secret) == 0 &&
           has(reason, "clearance does not hold 'ATOMAL' (Additional Sensitivity)"),
       "restrictive_category_missing_denied");
    ok(decide(set, l, atomal) == 1, "restrictive_category_held_granted");
    lsn_label_free(l);

    l = build(nato, "RESTRICTED", "Context/Releasable", "Releasable To/JPN", "Releasable To/KOR", NULL);
    ok(decide(set, l, nld) == 0 && has(reason, "clearance holds none of Releasable To: JPN, KOR"),
       "permissive_none_held_denied_listing_the_tag");
    lsn_label_free(l);
    l = build(nato, "RESTRICTED", "Context/Releasable", "Releasable To/JPN", "Releasable To/NLD", NULL);
    ok(decide(set, l, nld) == 1, "permissive_one_held_granted");
    lsn_label_free(l);

    l = build(nato, "UNCLASSIFIED", "Context/NATO", "Administrative/STAFF", NULL);
    ok(decide(set, l, unclass) == 1, "informative_category_ignored");
    lsn_label_free(l);

    l = build(nato, NULL, "Context/NATO", NULL);
    ok(decide(set, l, secret) == 0 && has(reason, "no classification"),
       "label_without_classification_denied");
    lsn_label_free(l);

    /* Different policy and no equivalence. */
    l = build(food, "Freely Available", NULL);
    ok(decide(set, l, unclass) == 0 && has(reason, "no equivalent policy"),
       "label_under_other_policy_without_equivalence_denied");
    lsn_label_free(l);

    /* Bad arguments: error, and deny. */
    lsn_decision d = LSN_GRANT;
    l = build(nato, "UNCLASSIFIED", "Context/NATO", NULL);
    ok(lsn_access_check(set, NULL, unclass, &d) == LSN_ERR_ARG && d == LSN_DENY,
       "null_label_is_an_error_and_denies");
    d = LSN_GRANT;
    ok(lsn_access_check(set, l, NULL, &d) == LSN_ERR_ARG && d == LSN_DENY,
       "null_clearance_is_an_error_and_denies");
    ok(lsn_access_check(set, l, unclass, NULL) == LSN_ERR_ARG, "null_decision_is_an_error");
    d = LSN_GRANT;
    ok(lsn_access_explain(set, NULL, unclass, &d, NULL, 0) == LSN_ERR_ARG && d == LSN_DENY,
       "explain_null_label_denies");
    lsn_label_free(l);

    lsn_clearance_free(unclass);
    lsn_clearance_free(secret);
    lsn_clearance_free(atomal);
    lsn_clearance_free(nld);
    lsn_policy_set_free(set);
}

/* ---- part two and a half: small policies written for the rules ---------- */

static const char alpha_spif[] =
    "<SPIF xmlns='http://www.xmlspif.org/spif' schemaVersion='2.1'>"
    "<securityPolicyId name='ALPHA' id='1.2.3.100.1'/>"
    "<equivalentPolicies><equivalentPolicy name='BETA' id='1.2.3.100.2'>"
    "<requiredCategory operation='oneOrMore'>"
    "<categoryGroup tagSetRef='Zones' tagType='permissive'/></requiredCategory>"
    "</equivalentPolicy></equivalentPolicies>"
    "<securityClassifications>"
    "<securityClassification name='LOW' lacv='1' hierarchy='1'>"
    "<markingData phrase='BAS' xml:lang='fr'><code>pageBottom</code></markingData>"
    "<markingData phrase='BAS-CANADIEN' xml:lang='fr-CA'><code>pageBottom</code></markingData>"
    "<markingData phrase='LOW AT THE TOP'><code>pageTop</code></markingData>"
    "<equivalentClassification policyRef='BETA' lacv='7' applied='decrypt'/>"
    "<equivalentClassification policyRef='BETA' lacv='8' applied='encrypt'>"
    "<requiredCategory operation='all'>"
    "<categoryGroup tagSetRef='Handling' tagType='restrictive'/></requiredCategory>"
    "</equivalentClassification></securityClassification>"
    "<securityClassification name='HIGH' lacv='2' hierarchy='2'>"
    "<equivalentClassification policyRef='BETA' lacv='7' applied='decrypt'/>"
    "</securityClassification></securityClassifications>"
    "<securityCategoryTagSets>"
    "<securityCategoryTagSet name='Caveats' id='1.2.3.100.1.1'>"
    "<securityCategoryTag name='Caveats' tagType='restrictive'>"
    "<tagCategory name='HIDDEN' lacv='1'>"
    "<markingData phrase='SHOULD NOT SHOW'><code>noMarkingDisplay</code></markingData>"
    "<equivalentSecCategoryTag policyRef='BETA' tagSetId='1.2.3.100.2.1' tagType='restrictive' lacv='1' applied='encrypt'/>"
    "</tagCategory>"
    "<tagCategory name='SHOWN' lacv='2'>"
    "<equivalentSecCategoryTag policyRef='BETA' tagSetId='1.2.3.100.2.1' tagType='restrictive' lacv='2' applied='decrypt'/>"
    "</tagCategory>"
    "<markingQualifier>"
    "<qualifier markingQualifier='CAV:' qualifierCode='prefix'/>"
    "<qualifier xml:lang='fr' markingQualifier='AVERT:' qualifierCode='prefix'/>"
    "</markingQualifier></securityCategoryTag></securityCategoryTagSet>"
    "</securityCategoryTagSets></SPIF>";

static const char beta_spif[] =
    "<SPIF xmlns='http://www.xmlspif.org/spif' schemaVersion='2.1'>"
    "<securityPolicyId name='BETA' id='1.2.3.100.2'/>"
    "<securityClassifications>"
    "<securityClassification name='SEVEN' lacv='7' hierarchy='1'/>"
    "<securityClassification name='EIGHT' lacv='8' hierarchy='2'/>"
    "</securityClassifications><securityCategoryTagSets>"
    "<securityCategoryTagSet name='Handling' id='1.2.3.100.2.1'>"
    "<securityCategoryTag name='Handling' tagType='restrictive'>"
    "<tagCategory name='H1' lacv='1'/><tagCategory name='H2' lacv='2'/>"
    "</securityCategoryTag></securityCategoryTagSet>"
    "<securityCategoryTagSet name='Zones' id='1.2.3.100.2.2'>"
    "<securityCategoryTag name='Zones' tagType='permissive'>"
    "<tagCategory name='Z1' lacv='1'/><tagCategory name='Z2' lacv='2'/>"
    "</securityCategoryTag></securityCategoryTagSet>"
    "</securityCategoryTagSets></SPIF>";

static void small_policies(void)
{
    lsn_policy_set *set = lsn_policy_set_new();
    lsn_policy *a = NULL, *b = NULL;
    lsn_error err = { 0, "" };
    if (!set || lsn_policy_load_memory(alpha_spif, sizeof alpha_spif - 1, "alpha", &a, &err) ||
        lsn_policy_load_memory(beta_spif, sizeof beta_spif - 1, "beta", &b, &err) ||
        lsn_policy_set_add(set, a, &err) || lsn_policy_set_add(set, b, &err)) {
        ok(0, "small_policies_load (%s)", err.message);
        lsn_policy_unref(a);
        lsn_policy_unref(b);
        lsn_policy_set_free(set);
        return;
    }

    lsn_label *l = build(a, "LOW", NULL);
    is_str(mark(l, NULL), "ALPHA LOW", "class_phrase_for_the_top_of_a_page_not_used_at_the_bottom");
    is_str(mark(l, "fr"), "ALPHA BAS", "french_class_phrase");
    is_str(mark(l, "fr-CA"), "ALPHA BAS-CANADIEN", "exact_language_tag_beats_primary_subtag");
    is_str(mark(l, "fr-BE"), "ALPHA BAS", "fr_BE_falls_back_to_fr");
    lsn_label_free(l);

    l = build(a, "LOW", "Caveats/HIDDEN", NULL);
    is_str(mark(l, NULL), "ALPHA LOW", "no_marking_display_hides_the_category_and_its_tag");
    lsn_label *t = translate(set, l, "1.2.3.100.2");
    is_str(mark(t, NULL), "BETA EIGHT H1/H2 Z1",
           "translation_uses_encrypt_equivalents_adds_all_of_a_whole_tag_set_and_one_for_one_or_more");
    lsn_label_free(t);
    lsn_label_free(l);

    l = build(a, "LOW", "Caveats/SHOWN", NULL);
    is_str(mark(l, NULL), "ALPHA LOW CAV:SHOWN", "tag_prefix_in_default_language");
    is_str(mark(l, "fr-CA"), "ALPHA BAS-CANADIEN AVERT:SHOWN", "tag_prefix_falls_back_from_fr_CA_to_fr");
    t = NULL;
    ok(lsn_label_translate(l, set, "1.2.3.100.2", &t, &err) == LSN_ERR_NO_EQUIVALENT && !t &&
           has(err.message, "category 'SHOWN' (Caveats) has no equivalent in policy 'BETA'"),
       "decrypt_only_category_equivalent_is_not_used_to_encrypt");
    lsn_label_free(l);

    l = build(a, "HIGH", NULL);
    ok(lsn_label_translate(l, set, "1.2.3.100.2", &t, &err) == LSN_ERR_NO_EQUIVALENT && !t &&
           has(err.message, "classification 'HIGH' of policy 'ALPHA' has no equivalent in policy 'BETA'"),
       "decrypt_only_classification_equivalent_is_no_equivalent");
    lsn_clearance *c = build_clearance(b, "SEVEN|EIGHT", "Handling/H1", "Handling/H2", "Zones/Z1", NULL);
    ok(decide(set, l, c) == 0 && has(reason, "has no equivalent"),
       "label_without_equivalent_classification_denied_with_reason");
    lsn_label_free(l);
    l = build(a, "LOW", "Caveats/HIDDEN", NULL);
    ok(decide(set, l, c) == 1, "label_translated_for_beta_reader_granted");
    lsn_clearance_free(c);
    c = build_clearance(b, "SEVEN|EIGHT", "Handling/H1", "Zones/Z1", NULL);
    ok(decide(set, l, c) == 0 && has(reason, "after translation into policy 'BETA'") && has(reason, "'H2'"),
       "translated_label_denied_names_missing_category");
    lsn_clearance_free(c);
    c = build_clearance(b, "EIGHT", NULL);
    is_str(cmark(c), "{EIGHT}", "clearance_marking_without_policy_qualifiers");
    lsn_clearance_free(c);
    lsn_label_free(l);

    lsn_policy_unref(a);
    lsn_policy_unref(b);
    lsn_policy_set_free(set);
}

/* ---- allocation failures ------------------------------------------------- */

static long fail_at = -1, nalloc;

static void *fail_malloc(size_t n, void *ctx)
{
    (void)ctx;
    if (fail_at >= 0 && nalloc++ == fail_at)
        return NULL;
    return malloc(n ? n : 1);
}

static void *fail_realloc(void *ptr, size_t n, void *ctx)
{
    (void)ctx;
    if (fail_at >= 0 && nalloc++ == fail_at)
        return NULL;
    return realloc(ptr, n ? n : 1);
}

static void fail_free(void *ptr, void *ctx)
{
    (void)ctx;
    free(ptr);
}

/* Translation and the decisions that translate allocate: fail each of
 * their allocations in turn; every failure must be an error (and a denial),
 * never a crash or a leak (ASan checks the latter). */
static void allocation_failures(void)
{
    lsn_policy_set *set = set_of("tlp-plus.xml", "tlp.xml", "uk-demo.xml", NULL);
    lsn_label *amber = read_label(set, "tlpx-amber-eu.xml");
    lsn_clearance *uk = read_clearance(set, "uk-demo-secret-uk.xml");
    if (!amber || !uk) {
        ok(0, "allocation_failure_fixtures_load");
        goto out;
    }
    static const lsn_allocator failing = { fail_malloc, fail_realloc, fail_free, NULL };
    bool all_ok = true;
    long n;
    for (n = 0; n < 64; n++) {
        lsn_set_allocator(&failing);
        fail_at = n;
        nalloc = 0;
        lsn_label *t = NULL;
        lsn_error err = { 0, "" };
        lsn_err rc = lsn_label_translate(amber, set, TLP, &t, &err);
        lsn_decision d = LSN_GRANT;
        lsn_err rc2 = lsn_access_check(set, amber, uk, &d);
        long used = nalloc;
        fail_at = -1;
        lsn_set_allocator(NULL);
        if ((rc == LSN_OK) != (t != NULL) || (rc != LSN_OK && rc != LSN_ERR_NOMEM) ||
            (rc2 != LSN_OK && (rc2 != LSN_ERR_NOMEM || d != LSN_DENY))) {
            printf("# allocation %ld: translate %d, check %d decision %d\n", n, rc, rc2, d);
            all_ok = false;
        }
        lsn_label_free(t);
        if (used <= n)
            break; /* no allocation left to fail */
    }
    printf("# failed each of %ld allocations in turn\n", n);
    ok(all_ok && n > 0 && n < 64, "every_failed_allocation_in_translation_is_an_error_not_a_crash");
out:
    lsn_label_free(amber);
    lsn_clearance_free(uk);
    lsn_policy_set_free(set);
}

/* ---- part three: the bundled policy -------------------------------------- */

static void default_policy(void)
{
    lsn_policy *p = NULL;
    lsn_error err = { 0, "" };
    if (lsn_policy_load_default(&p, &err) != LSN_OK) {
        ok(0, "default_policy_loads (%s)", err.message);
        return;
    }
    lsn_policy_set *set = lsn_policy_set_new();
    if (!set || lsn_policy_set_add(set, p, &err) != LSN_OK) {
        ok(0, "default_policy_in_a_set");
        lsn_policy_unref(p);
        lsn_policy_set_free(set);
        return;
    }

    lsn_label *rel = build(p, "RESTRICTED", "Context/NATO", "Context/Releasable",
                           "Releasable To/NATO", "Releasable To/JPN", "Releasable To/KOR",
                           "Releasable To/AUS", "Releasable To/NZL", NULL);
    ok(validity(rel) == 1, "nato_restricted_releasable_to_partners_is_valid");
    is_str(mark(rel, NULL), "NATO RESTRICTED Releasable to AUS, JPN, KOR, NZL",
           "nato_restricted_releasable_to_partners_marking");
    is_str(mark(rel, "fr"),
           "NATO DIFFUSION RESTREINTE Communicable à Australie, Japon, République de Corée, Nouvelle-Zélande",
           "nato_restricted_releasable_to_partners_marking_in_french");
    const char *fr = mark(rel, "fr");
    char fr_copy[sizeof markbuf];
    snprintf(fr_copy, sizeof fr_copy, "%s", fr ? fr : "");
    is_str(mark(rel, "fr-CA"), fr_copy, "nato_restricted_releasable_marking_fr_CA_falls_back_to_fr");

    lsn_label *cts = build(p, "TOP SECRET", "Context/NATO", NULL);
    is_str(mark(cts, NULL), "COSMIC TOP SECRET", "bundled_policy_top_secret_marks_cosmic");
    is_str(mark(cts, "fr"), "COSMIC TRES SECRET", "bundled_policy_top_secret_in_french_keeps_cosmic");
    lsn_label_free(cts);

    lsn_label *natoonly = build(p, "RESTRICTED", "Context/NATO", NULL);
    is_str(mark(natoonly, NULL), "NATO RESTRICTED", "nato_only_marking");

    lsn_label *ts = build(p, "TOP SECRET", "Context/Releasable", "Releasable To/JPN", NULL);
    ok(validity(ts) == 0 &&
           has(reason, "category 'JPN' (Releasable To) is excluded at classification 'TOP SECRET'"),
       "partner_excluded_at_top_secret");
    lsn_label_free(ts);
    lsn_label *noctx = build(p, "RESTRICTED", "Context/NATO", "Releasable To/JPN", NULL);
    ok(validity(noctx) == 0 && has(reason, "requires all of 'Releasable' (Context)"),
       "releasable_to_without_context_releasable_invalid");

    lsn_clearance *jpn = build_clearance(p, "UNCLASSIFIED|RESTRICTED|CONFIDENTIAL|SECRET",
                                         "Context/Releasable", "Releasable To/JPN", NULL);
    lsn_clearance *kor = build_clearance(p, "UNCLASSIFIED|RESTRICTED", "Context/Releasable",
                                         "Releasable To/KOR", NULL);
    lsn_clearance *nato = build_clearance(p, "UNCLASSIFIED|RESTRICTED|CONFIDENTIAL|SECRET",
                                          "Context/NATO", NULL);
    ok(decide(set, rel, jpn) == 1, "jpn_reader_sees_item_releasable_to_jpn");
    ok(decide(set, rel, kor) == 1, "kor_reader_sees_item_releasable_to_kor");
    ok(decide(set, natoonly, jpn) == 0 && has(reason, "clearance holds none of Context: NATO"),
       "jpn_reader_does_not_see_nato_only_item");
    ok(decide(set, natoonly, nato) == 1, "nato_reader_sees_nato_only_item");

    /* NATO staff hold "Releasable To NATO", which every releasable label
     * carries (not displayed), so they see what NATO released to partners. */
    lsn_clearance *staff = build_clearance(p, "UNCLASSIFIED|RESTRICTED|CONFIDENTIAL|SECRET",
                                           "Context/NATO", "Context/Releasable",
                                           "Releasable To/NATO", NULL);
    lsn_label *rel_nato = build(p, "RESTRICTED", "Context/NATO", "Context/Releasable",
                                "Releasable To/NATO", "Releasable To/JPN", NULL);
    is_str(mark(rel_nato, NULL), "NATO RESTRICTED Releasable to JPN",
           "releasable_to_nato_is_not_displayed");
    ok(decide(set, rel_nato, staff) == 1, "nato_staff_see_item_releasable_to_jpn");
    ok(decide(set, rel_nato, jpn) == 1, "jpn_reader_sees_item_releasable_to_nato_and_jpn");
    ok(decide(set, rel_nato, kor) == 0, "kor_reader_does_not_see_item_releasable_to_nato_and_jpn");
    lsn_label_free(rel_nato);

    /* An invalid label is denied even to a reader whose clearance would
     * otherwise pass it (JPN holds Releasable To JPN; the label lacks the
     * Context "Releasable" that Releasable To requires). */
    lsn_clearance *jpn_ctx = build_clearance(p, "UNCLASSIFIED|RESTRICTED", "Context/NATO",
                                             "Context/Releasable", "Releasable To/JPN", NULL);
    ok(decide(set, noctx, jpn_ctx) == 0 && has(reason, "the label is invalid"),
       "invalid_label_is_denied_even_when_clearance_covers_it");
    lsn_decision d = LSN_GRANT;
    ok(lsn_access_check(set, noctx, jpn_ctx, &d) == LSN_OK && d == LSN_DENY,
       "invalid_label_is_denied_on_the_fast_path_too");
    lsn_clearance_free(jpn_ctx);
    lsn_clearance_free(staff);
    lsn_label_free(noctx);

    /* Releasable To NATO is required beside the nations (policy data: the
     * Context "Releasable" category's second requiredCategory rule). */
    lsn_label *rel_jpn = build(p, "RESTRICTED", "Context/NATO", "Context/Releasable",
                               "Releasable To/JPN", NULL);
    ok(validity(rel_jpn) == 0 &&
           has(reason, "category 'Releasable' (Context) requires all of 'NATO' (Releasable To)"),
       "releasable_label_without_releasable_to_nato_is_invalid_naming_the_rule");
    ok(decide(set, rel_jpn, jpn) == 0 && has(reason, "the label is invalid"),
       "releasable_label_without_releasable_to_nato_is_denied_to_the_partner");
    lsn_label_free(rel_jpn);

    /* Releasable To NATO alone names no nation: the oneOrMore rule lists
     * 42 nations and 5 partnerships or missions, and the refusal names five
     * of them and counts the rest rather than printing all 47. */
    lsn_label *nato_alone = build(p, "RESTRICTED", "Context/NATO", "Context/Releasable",
                                  "Releasable To/NATO", NULL);
    ok(validity(nato_alone) == 0 &&
           has(reason, "category 'Releasable' (Context) requires one or more of 'ALB' "
                       "(Releasable To), 'AUS' (Releasable To), 'AUT' (Releasable To), "
                       "'BEL' (Releasable To), 'BGR' (Releasable To) and 42 more") &&
           strlen(reason) < 200,
       "releasable_to_nato_alone_is_invalid_and_the_long_rule_is_summarised");
    lsn_label_free(nato_alone);

    lsn_clearance_free(jpn);
    lsn_clearance_free(kor);
    lsn_clearance_free(nato);
    lsn_label_free(rel);
    lsn_label_free(natoonly);
    lsn_policy_set_free(set);
    lsn_policy_unref(p);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s VECTOR_DIR\n", argv[0]);
        return 2;
    }
    vdir = argv[1];
    conformance_food();
    conformance_tlp();
    conformance_nato();
    validation_rules();
    access_rules();
    small_policies();
    allocation_failures();
    default_policy();
    return tap_done();
}

/* tests/test_policy.c — the security policy layer: loading every SPIF of the
 * vectors into the compiled model, the bundled default policy, lookups,
 * policy sets, refusals of malformed policies with precise messages, and
 * loads under allocation failure.
 *
 * Usage: test_policy SPIFFING_VECTORS_DIR NMBS_VECTORS_DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/alloc.h"
#include "liaison/introspect.h"
#include "liaison/policy.h"
#include "policy/model.h"
#include "tap.h"

static const char *spiffing_dir, *nmbs_dir;

static lsn_policy *load(const char *dir, const char *name, lsn_error *e)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    lsn_policy *p = NULL;
    memset(e, 0, sizeof *e);
    if (lsn_policy_load_file(path, &p, e) != LSN_OK)
        printf("# %s: %s\n", name, e->message);
    return p;
}

static lsn_err load_text(const char *text, lsn_error *e)
{
    lsn_policy *p = NULL;
    memset(e, 0, sizeof *e);
    lsn_err rc = lsn_policy_load_memory(text, strlen(text), "test.xml", &p, e);
    lsn_policy_unref(p);
    return rc;
}

static bool contains(const char *hay, const char *needle)
{
    bool r = hay && strstr(hay, needle) != NULL;
    if (!r)
        printf("#   message: \"%s\"\n#   lacks:   \"%s\"\n", hay ? hay : "(null)", needle);
    return r;
}

static const policy_category *cat(const lsn_policy *p, const char *tagset, const char *name)
{
    return policy_cat_by_name(p, policy_tagset_by_name(p, tagset), TAG_ANY, name);
}

static size_t count_bits(const bitword *s, size_t words)
{
    size_t n = 0;
    for (size_t w = 0; s && w < words; w++)
        n += (size_t)__builtin_popcountll(s[w]);
    return n;
}

static size_t rel_count(const lsn_policy *p, const policy_tagset *ts)
{
    size_t n = 0;
    for (size_t t = ts->first_tag; t < ts->first_tag + ts->ntags; t++)
        n += p->tags[t].ncats;
    return n;
}

static void test_helpers(void)
{
    uint32_t v = 99;
    ok(lacv_parse("004", &v) && v == 4, "lacv_with_leading_zeros_parses");
    ok(lacv_parse(" 12 ", &v) && v == 12, "lacv_with_white_space_parses");
    ok(lacv_parse("4294967295", &v) && v == 4294967295u, "lacv_max_32_bits_parses");
    ok(!lacv_parse("4294967296", &v), "lacv_over_32_bits_refused");
    ok(!lacv_parse("", &v) && !lacv_parse("12a", &v) && !lacv_parse("-1", &v) &&
           !lacv_parse(NULL, &v),
       "lacv_non_numeric_refused");
    tag_kind k = TAG_ANY;
    ok(tag_kind_from_name("tagType7", &k) && k == TAG_INFORMATIVE, "tagType7_is_informative");
    ok(tag_kind_from_name("enumeratedPermissive", &k) && k == TAG_ENUM_PERMISSIVE,
       "enumerated_permissive_name_round_trips");
    is_str(tag_kind_name(TAG_ENUM_RESTRICTIVE), "enumeratedRestrictive", "tag_kind_name_enum");
    ok(!tag_kind_from_name("bogus", &k), "unknown_tag_kind_refused");
    ok(name_eq("Releasable To", "releasable to") && !name_eq("A", "AB") && !name_eq(NULL, "a"),
       "name_eq_is_case_blind_and_exact_length");

    marking_data m[3] = {
        { .lang = "fr", .phrase = "FR" },
        { .lang = NULL, .phrase = "DEFAULT" },
        { .lang = "en-GB", .phrase = "GB" },
    };
    is_str(marking_for_lang(m, 3, "fr-CA")->phrase, "FR", "marking_fr_CA_falls_back_to_fr");
    is_str(marking_for_lang(m, 3, "FR")->phrase, "FR", "marking_language_is_case_blind");
    is_str(marking_for_lang(m, 3, "de")->phrase, "DEFAULT", "marking_unknown_lang_falls_back_to_untagged");
    is_str(marking_for_lang(m, 3, NULL)->phrase, "DEFAULT", "marking_no_lang_is_untagged");
    is_str(marking_for_lang(m, 3, "en-GB")->phrase, "GB", "marking_exact_tag_wins");
    ok(marking_for_lang(m, 1, "de") == NULL, "marking_none_without_untagged");
}

static void test_food(void)
{
    lsn_error e;
    lsn_policy *p = load(spiffing_dir, "food-policy.xml", &e);
    if (!ok(p != NULL, "food_policy_loads_despite_misspelt_closing_tag"))
        return;
    is_str(lsn_policy_name(p), "Food", "food_name");
    is_str(lsn_policy_id(p), "1.2.826.0.1.6726289.0.0", "food_id");
    ok(p->nclasses == 4 && p->ntagsets == 4 && p->ntags == 7 && p->ncats == 21,
       "food_counts_include_tag_set_after_misspelt_tag");
    const policy_class *lux = policy_class_by_name(p, "luxury");
    ok(lux && lux->lacv == 52 && lux->hierarchy == 2 && lux->index == 2, "food_luxury_class");
    is_str(lux ? lux->color : NULL, "red", "food_luxury_colour");
    ok(lux && lux->nrules == 1 && lux->required[0].op == RULE_ONE_OR_MORE &&
           count_bits(lux->required[0].cats, p->cat_words) == 3 &&
           bitset_has(lux->required[0].cats, cat(p, "Taste Sensations", "Chocolate")->index),
       "food_luxury_requires_one_of_three_categories");
    const policy_class *free_cls = policy_class_by_lacv(p, 50);
    ok(free_cls && free_cls->nmarkings == 1 && free_cls->markings[0].codes == MC_PAGE_TOP_BOTTOM,
       "food_free_marking_code");
    is_str(free_cls ? free_cls->markings[0].phrase : NULL, "FREE", "food_free_phrase");

    const policy_category *choc = cat(p, "Taste Sensations", "chocolate");
    const policy_category *meaty = cat(p, "Taste Sensations", "Meaty");
    const policy_category *vegan = cat(p, "Ethics", "Not Vegan");
    ok(choc && meaty && vegan, "food_categories_found_by_name");
    if (!choc || !meaty || !vegan)
        return;
    ok(choc->excluded_classes ==
           ((1u << policy_class_by_name(p, "Commodity")->index) |
            (1u << policy_class_by_name(p, "Ambrosia")->index)),
       "food_chocolate_excluded_classes");
    ok(bitset_has(choc->excluded_cats, meaty->index) && count_bits(choc->excluded_cats, p->cat_words) == 1,
       "food_chocolate_excludes_meaty");
    ok(choc->nmarkings == 1 && choc->markings[0].codes == MC_SUPPRESS_CLASS_NAME,
       "food_chocolate_suppresses_class_name");
    ok(count_bits(meaty->excluded_cats, p->cat_words) == 3 &&
           !bitset_has(meaty->excluded_cats, vegan->index),
       "food_meaty_excludes_all_ethics_permissive_only");
    ok(meaty->nrules == 1 && meaty->required[0].op == RULE_ALL &&
           bitset_has(meaty->required[0].cats, vegan->index),
       "food_meaty_requires_not_vegan");
    ok(vegan->kind == TAG_ENUM_RESTRICTIVE && vegan->lacv == 9954, "food_enumerated_restrictive_kind");
    const policy_tagset *ts = policy_tagset_by_id(p, "1.2.826.0.1.6726289.0.0.1");
    ok(ts && policy_cat_by_lacv(p, ts, TAG_INFORMATIVE, 78) &&
           policy_cat_by_lacv(p, ts, TAG_RESTRICTIVE, 78) == NULL,
       "food_lookup_by_lacv_honours_tag_kind");
    const policy_tag *colour = &p->tags[cat(p, "Taste Sensations", "Brown")->tag];
    ok(colour->kind == TAG_INFORMATIVE, "food_colour_is_informative");
    is_str(colour->tag7_encoding, "bitSetAttributes", "food_tag7_encoding");
    const policy_tag *allergens = &p->tags[cat(p, "Allergens", "Lactose")->tag];
    ok(allergens->nqualifiers == 2 && allergens->qualifiers[0].kind == QUAL_PREFIX &&
           allergens->qualifiers[0].codes == MC_PAGE_TOP_BOTTOM,
       "food_qualifier_with_old_code_attribute");
    is_str(allergens->qualifiers[0].text, "Contains ", "food_qualifier_prefix_text");
    ok(p->nqualifiers == 2 && p->qualifiers[1].kind == QUAL_SUFFIX &&
           p->qualifiers[1].codes == MC_PAGE_BOTTOM,
       "food_policy_level_qualifiers");
    ok(cat(p, "Packaging", "Plastic") != NULL, "food_tag_set_after_misspelt_tag_loaded");
    for (size_t i = 0; i < p->ncats; i++)
        if (p->cats[i].index != i || p->cats[i].excluded_cats == NULL) {
            ok(0, "food_category_indices_dense");
            break;
        }
    lsn_policy_unref(p);

    p = load(spiffing_dir, "food-policy-missi.xml", &e);
    ok(p && p->ncats == 21, "food_missi_with_namespace_loads");
    lsn_policy_unref(p);

    p = load(spiffing_dir, "food-policy-borked.xml", &e);
    ok(p == NULL && e.code == LSN_ERR_POLICY, "borked_food_policy_refused");
    ok(contains(e.message, "Duplicate excluded classification in category"),
       "borked_message_says_duplicate_excluded_classification");
    ok(contains(e.message, "Chocolate") && contains(e.message, "line 38") &&
           contains(e.message, "food-policy-borked.xml") && contains(e.message, "excludedClass"),
       "borked_message_names_category_line_file_element");
}

static void test_nato(void)
{
    lsn_error e;
    lsn_policy *p = load(spiffing_dir, "nato-4774-policy.xml", &e);
    if (!ok(p != NULL, "nato_v79_with_spif_prefix_loads"))
        return;
    ok(p->nclasses == 5 && p->ncats == 205 && p->ntagsets == 5, "nato_counts");
    is_str(p->version, "79", "nato_version");
    const policy_tagset *rel = policy_tagset_by_name(p, "Releasable To");
    const policy_category *afg = policy_cat_by_lacv(p, rel, TAG_PERMISSIVE, 4);
    ok(afg != NULL, "nato_leading_zero_lacv_004_is_4_and_enum_matches_permissive");
    is_str(afg ? afg->name : NULL, "AFG", "nato_lacv_4_is_afg");
    ok(policy_cat_by_lacv(p, rel, TAG_RESTRICTIVE, 4) == NULL, "nato_releasable_is_not_restrictive");
    const policy_category *only_afg = cat(p, "Only", "AFG");
    ok(only_afg && afg && only_afg != afg && only_afg->tagset != afg->tagset,
       "nato_duplicate_names_across_tag_sets_stay_apart");
    ok(policy_tagset_by_id(p, "urn:oid:1.3.26.1.4.2") == rel, "tagset_by_urn_oid");
    const policy_category *siop = cat(p, "Additional Sensitivity", "SIOP ESI");
    ok(siop && siop->obsolete && !cat(p, "Additional Sensitivity", "SIOP")->obsolete,
       "nato_obsolete_flags");
    const policy_class *u = policy_class_by_name(p, "UNCLASSIFIED");
    const marking_data *fr = u ? marking_for_lang(u->markings, u->nmarkings, "fr") : NULL;
    is_str(fr ? fr->phrase : NULL, "SANS CLASSIFICATION", "nato_french_marking");
    ok(fr && fr->codes == MC_PAGE_TOP_BOTTOM, "nato_repeated_code_is_one_code");
    const policy_class *ts = policy_class_by_lacv(p, 5);
    const marking_data *cosmic = ts ? marking_for_lang(ts->markings, ts->nmarkings, "en") : NULL;
    is_str(cosmic ? cosmic->phrase : NULL, "COSMIC", "nato_top_secret_cosmic");
    ok(cosmic && (cosmic->codes & MC_REPLACE_POLICY), "nato_cosmic_replaces_policy");
    const marking_data *tres = ts ? marking_for_lang(ts->markings, ts->nmarkings, "fr-CA") : NULL;
    is_str(tres ? tres->phrase : NULL, "TRES SECRET", "nato_fr_CA_falls_back_to_fr");
    const policy_tag *rtag = afg ? &p->tags[afg->tag] : NULL;
    bool fr_prefix = false;
    for (size_t i = 0; rtag && i < rtag->nqualifiers; i++)
        if (rtag->qualifiers[i].lang && strcmp(rtag->qualifiers[i].lang, "fr") == 0 &&
            rtag->qualifiers[i].kind == QUAL_PREFIX &&
            strcmp(rtag->qualifiers[i].text, "Communicable a ") == 0 &&
            rtag->qualifiers[i].codes == MC_PAGE_TOP_BOTTOM)
            fr_prefix = true;
    ok(fr_prefix, "nato_qualifier_with_own_lang_and_marking_code");
    const policy_category *staff = cat(p, "Administrative", "STAFF");
    ok(staff && staff->kind == TAG_INFORMATIVE && p->tags[staff->tag].qualifiers[0].codes == MC_PAGE_TOP,
       "nato_administrative_tag7_marking_code_pageTop");
    ok(afg && afg->excluded_classes == (1u << ts->index), "nato_afg_excluded_at_top_secret");
    lsn_policy_unref(p);
}

static void test_equivalences(void)
{
    lsn_error e;
    lsn_policy *p = load(spiffing_dir, "tlp-plus.xml", &e);
    if (!ok(p != NULL, "tlp_plus_loads"))
        return;
    is_str(p->default_id, "1.1", "tlp_plus_default_policy_id");
    ok(p->nequiv_policies == 2, "tlp_plus_two_equivalent_policies");
    const equiv_policy *tlp = &p->equiv_policies[0];
    is_str(tlp->id, "1.2.826.0.1.6726289.0.2", "tlp_plus_equivalent_policy_id");
    ok(tlp->nrules == 1 && tlp->rules[0].op == RULE_ALL && tlp->rules[0].cats == NULL &&
           tlp->rules[0].nrefs == 1 && tlp->rules[0].refs[0].kind == TAG_INFORMATIVE &&
           !tlp->rules[0].refs[0].all && tlp->rules[0].refs[0].lacv == 1,
       "tlp_plus_equivalent_policy_rule_kept_raw");
    is_str(tlp->rules[0].refs[0].tagset, "Additional Information", "tlp_plus_raw_rule_names_other_tag_set");
    const policy_class *green = policy_class_by_name(p, "GREEN");
    ok(green && green->nequivs == 2 && green->equivs[1].policy == 1 && green->equivs[1].lacv == 10 &&
           green->equivs[1].applied == APPLIED_ENCRYPT && green->equivs[1].nrules == 1 &&
           green->equivs[1].rules[0].cats == NULL,
       "tlp_plus_equivalent_classification_resolved_to_policy_index");
    ok(green && green->equivs[0].applied == APPLIED_BOTH, "tlp_plus_applied_both");
    const policy_class *amber = policy_class_by_name(p, "AMBER");
    ok(amber && amber->nrules == 1 && count_bits(amber->required[0].cats, p->cat_words) == 4,
       "tlp_plus_amber_requires_any_dissemination_category");
    const policy_category *eu = cat(p, "Dissemination", "EU");
    ok(eu && eu->nequivs == 3 && eu->equivs[1].policy == 1 && eu->equivs[1].has_lacv &&
           eu->equivs[1].lacv == 3 && eu->equivs[1].kind == TAG_PERMISSIVE && !eu->equivs[1].discard,
       "tlp_plus_equivalent_category");
    is_str(eu ? eu->equivs[0].tagset_id : NULL, "1.2.826.0.1.6726289.0.2.1", "tlp_plus_equivalent_tag_set_id");
    const policy_category *dna = cat(p, "Data Status", "Do not action");
    ok(dna && dna->nequivs == 1 && dna->equivs[0].discard && !dna->equivs[0].has_lacv,
       "tlp_plus_discard_equivalent_without_lacv");
    ok(dna && p->tags[dna->tag].single_selection, "tlp_plus_single_selection");
    ok(p->nmarkings == 1 && p->markings[0].phrase && p->markings[0].phrase[0] == '\0' &&
           p->markings[0].codes == MC_REPLACE_POLICY && p->markings[0].lang == NULL,
       "tlp_plus_policy_level_empty_phrase_replaces_policy");
    ok(p->nqualifiers == 1 && strcmp(p->qualifiers[0].text, "TLPX:") == 0 && p->qualifiers[0].codes == 0,
       "tlp_plus_policy_level_qualifier");
    lsn_policy_unref(p);

    p = load(spiffing_dir, "uk-demo.xml", &e);
    if (!ok(p != NULL, "uk_demo_loads"))
        return;
    const policy_category *sens = cat(p, "Sensitive", "SENSITIVE");
    ok(sens && sens->nrules == 1 && sens->required[0].op == RULE_ONLY_ONE &&
           count_bits(sens->required[0].cats, p->cat_words) == 3,
       "uk_demo_sensitive_requires_only_one_descriptor");
    const policy_category *locsen = cat(p, "Sensitive Descriptors", "LOCSEN");
    ok(locsen && count_bits(locsen->excluded_cats, p->cat_words) == 2 &&
           bitset_has(locsen->excluded_cats, cat(p, "Sensitive Descriptors", "PERSONAL")->index),
       "uk_demo_locsen_excludes_informative_descriptors");
    const policy_class *off = policy_class_by_name(p, "OFFICIAL");
    ok(off && off->nequivs == 3 && off->equivs[1].policy == 2 && off->hierarchy == 0,
       "uk_demo_official_equivalents");
    lsn_policy_unref(p);

    p = load(spiffing_dir, "tlp.xml", &e);
    ok(p && p->ncats == 4, "tlp_loads");
    lsn_policy_unref(p);
    /* bsi-commercial.xml is cut short (it lacks </SPIF>): refused as it
     * is (issue 9, item 10); its rules are read once it is made whole. */
    p = load(spiffing_dir, "bsi-commercial.xml", &e);
    ok(!p && e.code == LSN_ERR_SYNTAX && contains(e.message, "bsi-commercial.xml") &&
           contains(e.message, "line 54, column"),
       "bsi_commercial_truncated_file_is_refused");
    {
        char path[1024];
        snprintf(path, sizeof path, "%s/bsi-commercial.xml", spiffing_dir);
        FILE *f = fopen(path, "rb");
        char buf[16384];
        size_t n = f ? fread(buf, 1, sizeof buf - 16, f) : 0;
        if (f)
            fclose(f);
        memcpy(buf + n, "</SPIF>", 8);
        if (lsn_policy_load_memory(buf, strlen(buf), "bsi-commercial.xml+</SPIF>", &p, &e))
            printf("# %s\n", e.message);
    }
    ok(p && p->ncats == 5, "bsi_commercial_made_whole_loads");
    const policy_category *arch = p ? cat(p, "Actions", "Archive") : NULL;
    ok(arch && arch->nrules == 1 && arch->required[0].op == RULE_ONE_OR_MORE &&
           count_bits(arch->required[0].cats, p->cat_words) == 1,
       "bsi_rule_without_operation_is_one_or_more");
    lsn_policy_unref(p);
    p = load(nmbs_dir, "public-policy-v1.spif", &e);
    ok(p && p->ncats == 9 && strcmp(p->name, "PUBLIC") == 0, "nmbs_public_policy_loads");
    lsn_policy_unref(p);
}

static void test_default(void)
{
    size_t len = 0;
    const char *spif = lsn_policy_default_spif(&len);
    ok(spif && len > 1000 && strncmp(spif, "<?xml", 5) == 0 && strlen(spif) == len,
       "default_spif_text_is_embedded");
    lsn_policy *p = NULL;
    lsn_error e = { 0 };
    if (!ok(lsn_policy_load_default(&p, &e) == LSN_OK && p, "default_policy_loads"))
        return;
    is_str(lsn_policy_name(p), "NATO", "default_policy_name");
    is_str(lsn_policy_id(p), "1.3.26.1.3.1", "default_policy_id_is_nato");
    static const char *const wanted[] = {
        "ALB", "BEL", "BGR", "CAN", "HRV", "CZE", "DNK", "EST", "FIN", "FRA", "DEU",
        "GRC", "HUN", "ISL", "ITA", "LVA", "LTU", "LUX", "MNE", "NLD", "MKD", "NOR",
        "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE", "TUR", "GBR", "USA",
        "JPN", "KOR", "AUS", "NZL",
    };
    size_t found = 0;
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++)
        found += cat(p, "Releasable To", wanted[i]) != NULL;
    ok(found == sizeof wanted / sizeof wanted[0], "default_releasable_to_all_allies_and_global_partners");
    const policy_tagset *rel = policy_tagset_by_id(p, "1.3.26.1.4.2");
    ok(rel && strcmp(rel->name, "Releasable To") == 0, "default_releasable_to_has_nato_oid");
    const policy_category *jpn = policy_cat_by_lacv(p, rel, TAG_PERMISSIVE, 392);
    is_str(jpn ? jpn->name : NULL, "JPN", "default_jpn_is_iso_392");
    const policy_class *secret = policy_class_by_name(p, "SECRET");
    const policy_class *top = policy_class_by_name(p, "TOP SECRET");
    ok(jpn && top && secret && (jpn->excluded_classes & (1u << top->index)) &&
           !(jpn->excluded_classes & (1u << secret->index)),
       "default_partner_excluded_at_top_secret_only");
    const policy_category *mng = cat(p, "Releasable To", "MNG");
    ok(mng && (mng->excluded_classes & (1u << secret->index)), "default_a_partner_excluded_at_secret");
    const policy_category *usa = cat(p, "Releasable To", "USA");
    ok(usa && usa->excluded_classes == 0, "default_ally_never_excluded");
    const marking_data *japon = jpn ? marking_for_lang(jpn->markings, jpn->nmarkings, "fr") : NULL;
    is_str(japon ? japon->phrase : NULL, "Japon", "default_french_nation_phrase");
    const policy_category *relc = cat(p, "Context", "Releasable");
    ok(jpn && relc && jpn->nrules == 1 && bitset_has(jpn->required[0].cats, relc->index),
       "default_releasable_to_requires_context_releasable");
    /* One or more of the nations: every Releasable To value but NATO,
     * which alone releases to no one beyond NATO. */
    const policy_category *relnato = cat(p, "Releasable To", "NATO");
    ok(relc && relnato && relc->nrules == 2 && relc->required[0].op == RULE_ONE_OR_MORE &&
           bitset_has(relc->required[0].cats, jpn->index) &&
           !bitset_has(relc->required[0].cats, relnato->index) &&
           count_bits(relc->required[0].cats, p->cat_words) == rel_count(p, rel) - 1,
       "default_context_releasable_requires_a_nation_not_nato");
    /* ... and Releasable To NATO (what NATO staff hold), whatever the nations. */
    ok(relc && relnato && relc->nrules == 2 && relc->required[1].op == RULE_ALL &&
           bitset_has(relc->required[1].cats, relnato->index) &&
           count_bits(relc->required[1].cats, p->cat_words) == 1,
       "default_context_releasable_requires_releasable_to_nato");
    /* The same rules through the public introspection API. */
    lsn_requirement_info ri[2] = { 0 };
    size_t nreq = relc ? lsn_policy_category_requirement_count(p, relc->index) : 0;
    size_t nnations = rel_count(p, rel) - 1;
    ok(nreq == nnations + 1 && lsn_policy_category_requirement_at(p, relc->index, 0, &ri[0]) &&
           lsn_policy_category_requirement_at(p, relc->index, nnations, &ri[1]) &&
           !lsn_policy_category_requirement_at(p, relc->index, nreq, &ri[0]) &&
           ri[0].rule == 0 && strcmp(ri[0].operation, "oneOrMore") == 0 &&
           strcmp(ri[0].tag_set, "Releasable To") == 0 && !ri[0].any_value &&
           ri[0].lacv != 1001 &&
           ri[1].rule == 1 && strcmp(ri[1].operation, "all") == 0 &&
           strcmp(ri[1].tag_set, "Releasable To") == 0 && !ri[1].any_value &&
           ri[1].lacv == 1001,
       "introspect_context_releasable_requires_a_nation_and_releasable_to_nato");
    ok(jpn && lsn_policy_category_requirement_count(p, jpn->index) == 1 &&
           lsn_policy_category_requirement_count(p, p->ncats) == 0 &&
           !lsn_policy_category_requirement_at(p, p->ncats, 0, &ri[0]),
       "introspect_requirements_out_of_range_are_refused");
    const marking_data *cosmic = marking_for_lang(top->markings, top->nmarkings, NULL);
    ok(cosmic && strcmp(cosmic->phrase, "COSMIC") == 0 && (cosmic->codes & MC_REPLACE_POLICY),
       "default_top_secret_is_cosmic");
    const marking_data *dr = marking_for_lang(policy_class_by_name(p, "RESTRICTED")->markings,
                                              policy_class_by_name(p, "RESTRICTED")->nmarkings, "fr");
    is_str(dr ? dr->phrase : NULL, "DIFFUSION RESTREINTE", "default_french_restricted");
    ok(cat(p, "Additional Sensitivity", "ATOMAL") && cat(p, "Administrative", "STAFF") &&
           p->tags[cat(p, "Administrative", "STAFF")->tag].kind == TAG_INFORMATIVE,
       "default_additional_sensitivity_and_administrative");

    /* Interoperability with NATO v79: the same tag set OIDs, and every LACV
     * of ours means a category of v79's same tag set. */
    lsn_policy *v79 = load(spiffing_dir, "nato-4774-policy.xml", &e);
    size_t mismatched = 0;
    for (size_t i = 0; v79 && i < p->ncats; i++) {
        const policy_category *c = &p->cats[i];
        const policy_tagset *ts79 = policy_tagset_by_id(v79, p->tagsets[c->tagset].id);
        if (!ts79 || !policy_cat_by_lacv(v79, ts79, c->kind, c->lacv)) {
            printf("# %s %u not in v79\n", c->name, (unsigned)c->lacv);
            mismatched++;
        }
    }
    ok(v79 && mismatched == 0, "default_values_interoperate_with_nato_v79");
    lsn_policy_unref(v79);
    lsn_policy_unref(p);
}

static void test_set(void)
{
    lsn_policy_set *set = lsn_policy_set_new();
    lsn_error e = { 0 };
    char path[1024];
    snprintf(path, sizeof path, "%s/food-policy.xml", spiffing_dir);
    ok(lsn_policy_set_load_file(set, path, &e) == LSN_OK, "set_loads_food");
    snprintf(path, sizeof path, "%s/tlp.xml", spiffing_dir);
    ok(lsn_policy_set_load_file(set, path, &e) == LSN_OK, "set_loads_tlp_beside_it");
    ok(lsn_policy_set_count(set) == 2, "set_counts_two");
    const lsn_policy *food = lsn_policy_set_find_id(set, "1.2.826.0.1.6726289.0.0");
    ok(food && strcmp(lsn_policy_name(food), "Food") == 0, "set_finds_by_oid");
    ok(lsn_policy_set_find_id(set, "urn:oid:1.2.826.0.1.6726289.0.0") == food &&
           lsn_policy_set_find_id(set, "URN:OID:1.2.826.0.1.6726289.0.0") == food,
       "set_finds_by_urn_oid");
    ok(lsn_policy_set_find_name(set, "tlp") == lsn_policy_set_at(set, 1), "set_finds_by_name_case_blind");
    ok(lsn_policy_set_find_id(set, "1.1") == NULL && lsn_policy_set_find_name(set, "NATO") == NULL &&
           lsn_policy_set_at(set, 2) == NULL,
       "set_unknown_is_null");
    snprintf(path, sizeof path, "%s/food-policy-missi.xml", spiffing_dir);
    ok(lsn_policy_set_load_file(set, path, &e) == LSN_ERR_DUPLICATE, "set_refuses_duplicate_id");
    ok(contains(e.message, "1.2.826.0.1.6726289.0.0") && contains(e.message, "already loaded"),
       "set_duplicate_message_names_the_id");
    ok(lsn_policy_set_count(set) == 2, "set_unchanged_after_duplicate");
    /* Issue 12: a policy is known by OID and version. The bundled policy
     * and NATO's v79 share an OID: refused together, naming both. */
    {
        lsn_policy_set *two = lsn_policy_set_new();
        lsn_policy *bundled = NULL;
        snprintf(path, sizeof path, "%s/nato-4774-policy.xml", spiffing_dir);
        ok(lsn_policy_load_default(&bundled, &e) == LSN_OK &&
               lsn_policy_set_add(two, bundled, &e) == LSN_OK &&
               lsn_policy_set_load_file(two, path, &e) == LSN_ERR_DUPLICATE &&
               lsn_policy_set_count(two) == 1,
           "two_policies_with_one_oid_are_refused_together");
        ok(contains(e.message, "NATO (1.3.26.1.3.1, version 79)") &&
               contains(e.message, "NATO (1.3.26.1.3.1, version 1)") &&
               contains(e.message, "nato-4774-policy.xml"),
           "one_oid_refusal_names_both_policies_with_version");
        ok(bundled && strcmp(lsn_policy_version(bundled), "1") == 0, "policy_version_is_read");
        /* Same OID and version, other contents (another author's policy). */
        const char *a = "<SPIF xmlns='http://www.xmlspif.org/spif' version='3'><securityPolicyId "
                        "name='A' id='1.9.9'/><securityClassifications><securityClassification "
                        "name='LOW' lacv='1' hierarchy='1'/></securityClassifications></SPIF>";
        const char *b = "<SPIF xmlns='http://www.xmlspif.org/spif' version='3'><securityPolicyId "
                        "name='B' id='1.9.9'/><securityClassifications><securityClassification "
                        "name='HIGH' lacv='2' hierarchy='1'/></securityClassifications></SPIF>";
        lsn_policy *pa = NULL, *pb = NULL;
        ok(lsn_policy_load_memory(a, strlen(a), "a.xml", &pa, &e) == LSN_OK &&
               lsn_policy_load_memory(b, strlen(b), "b.xml", &pb, &e) == LSN_OK &&
               lsn_policy_set_add(two, pa, &e) == LSN_OK &&
               lsn_policy_set_add(two, pb, &e) == LSN_ERR_DUPLICATE &&
               contains(e.message, "B (1.9.9, version 3)") && contains(e.message, "a.xml"),
           "two_different_policies_with_one_oid_and_version_are_refused");
        lsn_policy_unref(pa);
        lsn_policy_unref(pb);
        lsn_policy_unref(bundled);
        lsn_policy_set_free(two);
    }
    ok(lsn_policy_set_load_file(set, "/nonexistent/policy.xml", &e) == LSN_ERR_IO &&
           contains(e.message, "/nonexistent/policy.xml"),
       "set_missing_file_is_io_error_naming_it");
    /* The set holds its own reference: the policy outlives the caller's. */
    lsn_policy *p = NULL;
    ok(lsn_policy_load_default(&p, &e) == LSN_OK && lsn_policy_set_add(set, p, &e) == LSN_OK,
       "set_adds_default");
    lsn_policy_unref(p);
    ok(strcmp(lsn_policy_id(lsn_policy_set_find_name(set, "NATO")), "1.3.26.1.3.1") == 0,
       "set_keeps_policy_after_caller_unref");
    lsn_policy_set_free(set);
    lsn_policy_set_free(NULL);
    lsn_policy_unref(NULL);
}

/* A small valid SPIF with two places to inject text: inside a category and
 * after the classifications. */
static char *spif(const char *in_class, const char *in_cat, const char *extra_tagset)
{
    static char buf[16384];
    snprintf(buf, sizeof buf,
             "<SPIF xmlns='http://www.xmlspif.org/spif' schemaVersion='2.1'>"
             "<securityPolicyId name='T' id='1.2.3'/>"
             "<securityClassifications>"
             "<securityClassification name='LOW' lacv='1' hierarchy='1'/>"
             "<securityClassification name='HIGH' lacv='2' hierarchy='2'>%s</securityClassification>"
             "</securityClassifications>"
             "<securityCategoryTagSets>"
             "<securityCategoryTagSet name='Set' id='1.2.3.1'>"
             "<securityCategoryTag name='Tag' tagType='permissive'>"
             "<tagCategory name='A' lacv='1'>%s</tagCategory>"
             "<tagCategory name='B' lacv='2'/>"
             "</securityCategoryTag></securityCategoryTagSet>%s"
             "</securityCategoryTagSets></SPIF>",
             in_class, in_cat, extra_tagset);
    return buf;
}

/* Issue 9, item 10: a SPIF must be well-formed and whole. */
static void test_whole_policies(void)
{
    lsn_error e;
    char path[1024];
    snprintf(path, sizeof path, "%s/nato-4774-policy.xml", spiffing_dir);
    FILE *f = fopen(path, "rb");
    static char nato[256 * 1024];
    size_t len = f ? fread(nato, 1, sizeof nato - 1, f) : 0;
    if (f)
        fclose(f);
    nato[len] = '\0';
    /* the first 161 lines */
    size_t cut = 0;
    for (int lines = 0; cut < len && lines < 161; cut++)
        if (nato[cut] == '\n')
            lines++;
    lsn_policy *p = NULL;
    lsn_err rc = lsn_policy_load_memory(nato, cut, "nato-161-lines.xml", &p, &e);
    ok(rc == LSN_ERR_SYNTAX && !p, "nato_spif_cut_at_161_lines_is_refused");
    ok(contains(e.message, "nato-161-lines.xml") && contains(e.message, "line 162, column 1") &&
           contains(e.message, "Premature end of data"),
       "truncated_spif_refusal_names_file_line_and_column");
    lsn_policy_unref(p);
    p = NULL;

    /* Cut at a tag set and closed again: well-formed, but not whole. */
    const char *set_start = strstr(nato, "<spif:securityCategoryTagSet name=\"Releasable To\"");
    const char *set_open_end = set_start ? strchr(set_start, '>') : NULL;
    static char closed[256 * 1024];
    if (set_open_end) {
        size_t k = (size_t)(set_open_end + 1 - nato);
        memcpy(closed, nato, k);
        snprintf(closed + k, sizeof closed - k,
                 "</spif:securityCategoryTagSet></spif:securityCategoryTagSets></spif:SPIF>");
    }
    rc = lsn_policy_load_memory(closed, strlen(closed), "nato-cut.xml", &p, &e);
    ok(rc == LSN_ERR_POLICY && !p && contains(e.message, "Releasable To") &&
           contains(e.message, "no <securityCategoryTag>"),
       "spif_cut_and_closed_at_an_empty_tag_set_is_refused");
    lsn_policy_unref(p);
    ok(load_text("<SPIF xmlns='http://www.xmlspif.org/spif'><securityPolicyId name='T' id='1.2'/>"
                 "<securityClassifications><securityClassification name='LOW' lacv='1' "
                 "hierarchy='1'/></securityClassifications><securityCategoryTagSets>"
                 "<securityCategoryTagSet name='S' id='1.2.1'><securityCategoryTag name='S' "
                 "tagType='permissive'/></securityCategoryTagSet></securityCategoryTagSets>"
                 "</SPIF>", &e) == LSN_ERR_POLICY &&
           contains(e.message, "no <tagCategory>"),
       "spif_tag_without_categories_is_refused");

    /* A missing end tag: </securityClassification> closes an ancestor. */
    rc = load_text("<SPIF xmlns='http://www.xmlspif.org/spif'><securityPolicyId name='T' id='1.2'/>"
                   "<securityClassifications><securityClassification name='LOW' lacv='1' "
                   "hierarchy='1'><markingData phrase='x'></securityClassification>"
                   "</securityClassifications></SPIF>", &e);
    ok(rc == LSN_ERR_SYNTAX && contains(e.message, "line 1, column") &&
           contains(e.message, "mismatch"),
       "spif_with_a_missing_end_tag_is_refused");
    rc = load_text("<SPIF xmlns='http://www.xmlspif.org/spif'><securityPolicyId name='T' id='1.2'/>"
                   "</SPIF><extra/>", &e);
    ok(rc == LSN_ERR_SYNTAX && contains(e.message, "Extra content"),
       "spif_with_content_after_the_root_is_refused");
    rc = load_text("<SPIF xmlns='http://www.xmlspif.org/spif'><securityPolicyId name='T' id='1.2'/"
                   "><securityClassifications>&lt;<securityClassification name='A<' lacv='1' "
                   "hierarchy='1'/></securityClassifications></SPIF>", &e);
    ok(rc == LSN_ERR_SYNTAX, "spif_with_a_bad_attribute_value_is_refused");
    /* The one slip conformance needs: a misspelt end tag that names no open
     * element (the food policy's </securityCategiryTagSet>). */
    p = load(spiffing_dir, "food-policy.xml", &e);
    ok(p && p->ntagsets == 4 && policy_tagset_by_name(p, "Packaging"),
       "misspelt_end_tag_of_the_food_policy_is_tolerated");
    lsn_policy_unref(p);
}

static void test_refusals(void)
{
    lsn_error e;
    ok(load_text(spif("", "", ""), &e) == LSN_OK, "template_spif_loads");
    ok(load_text(spif("", "<markingData phrase='A &amp; B'/>", ""), &e) == LSN_OK,
       "ampersand_in_attribute_loads");
    {
        lsn_policy *p = NULL;
        const char *t = spif("", "<markingData phrase='A &amp; B &#233;'/>", "");
        if (lsn_policy_load_memory(t, strlen(t), "t", &p, &e) == LSN_OK)
            is_str(p->cats[0].markings[0].phrase, "A & B \xc3\xa9", "attribute_references_decoded");
        else
            ok(0, "attribute_references_decoded");
        lsn_policy_unref(p);
    }
    ok(load_text(spif("", "<excludedClass>high</excludedClass>", ""), &e) == LSN_OK,
       "excluded_class_name_case_blind");
    {
        lsn_policy *q = NULL;
        const char *t = spif("", "<excludedCategory tagSetRef='set'/>", "");
        if (lsn_policy_load_memory(t, strlen(t), "t", &q, &e) == LSN_OK)
            ok(count_bits(q->cats[0].excluded_cats, q->cat_words) == 2 &&
                   q->cats[1].excluded_cats != NULL && count_bits(q->cats[1].excluded_cats, 1) == 0,
               "excluded_category_without_type_or_lacv_is_whole_tag_set");
        else
            ok(0, "excluded_category_without_type_or_lacv_is_whole_tag_set");
        lsn_policy_unref(q);
    }

    {
        /* Any prefix reads like none; a qualifier takes its parent's language
         * unless it has its own. */
        const char *t =
            "<x:SPIF xmlns:x='http://www.xmlspif.org/spif'><x:securityPolicyId name='P' id='1.9'/>"
            "<x:securityClassifications><x:securityClassification name='U' lacv='0' hierarchy='-1'/>"
            "</x:securityClassifications><x:securityCategoryTagSets>"
            "<x:securityCategoryTagSet name='S' id='1.9.1'><x:securityCategoryTag name='T' "
            "tagType='tagType7'><x:tagCategory name='C' lacv='0'/>"
            "<x:markingQualifier xml:lang='de' markingCode='documentStart'>"
            "<x:qualifier markingQualifier='Nur ' qualifierCode='prefix'/>"
            "<x:qualifier xml:lang='fr' markingQualifier='Seul ' qualifierCode='prefix'/>"
            "</x:markingQualifier></x:securityCategoryTag></x:securityCategoryTagSet>"
            "</x:securityCategoryTagSets></x:SPIF>";
        lsn_policy *q = NULL;
        if (ok(lsn_policy_load_memory(t, strlen(t), "x.xml", &q, &e) == LSN_OK, "other_prefix_loads")) {
            ok(q->classes[0].hierarchy == -1, "negative_hierarchy_reads");
            ok(q->tags[0].tag7_encoding == NULL && q->tags[0].kind == TAG_INFORMATIVE,
               "tag_type7_without_encoding_tolerated");
            is_str(q->tags[0].qualifiers[0].lang, "de", "qualifier_inherits_parent_lang");
            is_str(q->tags[0].qualifiers[1].lang, "fr", "qualifier_own_lang_wins");
            ok(q->tags[0].qualifiers[1].codes == MC_DOCUMENT_START, "qualifier_marking_code_2_1");
        }
        lsn_policy_unref(q);
    }

    lsn_policy *p = (lsn_policy *)1;
    ok(lsn_policy_load_memory("", 0, "empty.xml", &p, &e) == LSN_ERR_NO_DATA && p == NULL &&
           contains(e.message, "No data to parse"),
       "empty_input_is_no_data");
    ok(load_text(" \n ", &e) == LSN_ERR_NO_DATA, "blank_input_is_no_data");
    ok(load_text("this is not XML at all", &e) == LSN_ERR_SYNTAX && contains(e.message, "test.xml"),
       "not_xml_is_syntax_error");
    ok(load_text("<?xml version='1.0'?><!DOCTYPE SPIF [<!ENTITY a 'aaaaaaaaaa'>"
                 "<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'><!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;'>]>"
                 "<SPIF><securityPolicyId name='&c;' id='1.2'/></SPIF>",
                 &e) == LSN_ERR_SYNTAX &&
           contains(e.message, "DTD"),
       "billion_laughs_spif_refused");
    ok(load_text("<!DOCTYPE SPIF SYSTEM 'http://example.com/x.dtd'><SPIF/>", &e) == LSN_ERR_SYNTAX,
       "external_dtd_spif_refused");
    ok(load_text("<label><x/></label>", &e) == LSN_ERR_POLICY && contains(e.message, "not <SPIF>"),
       "non_spif_root_refused");
    ok(load_text("<SPIF><securityClassifications/></SPIF>", &e) == LSN_ERR_POLICY &&
           contains(e.message, "securityPolicyId"),
       "missing_policy_id_refused");
    ok(load_text("<SPIF><securityPolicyId name='X'/></SPIF>", &e) == LSN_ERR_POLICY &&
           contains(e.message, "id="),
       "policy_id_without_id_refused");
    ok(load_text(spif("", "<excludedClass>MEDIUM</excludedClass>", ""), &e) == LSN_ERR_POLICY &&
           contains(e.message, "MEDIUM") && contains(e.message, "no classification") &&
           contains(e.message, "line 1") && contains(e.message, "<excludedClass>"),
       "unknown_excluded_class_refused_precisely");
    ok(load_text(spif("", "<excludedClass>HIGH</excludedClass><excludedClass>HIGH</excludedClass>", ""),
                 &e) == LSN_ERR_POLICY &&
           contains(e.message, "Duplicate excluded classification in category 'A'"),
       "duplicate_excluded_class_refused");
    ok(load_text(spif("", "<excludedCategory tagSetRef='Nowhere' tagType='permissive' lacv='1'/>", ""),
                 &e) == LSN_ERR_POLICY &&
           contains(e.message, "unknown tag set 'Nowhere'"),
       "unknown_tag_set_reference_refused");
    ok(load_text(spif("<requiredCategory operation='all'><categoryGroup tagSetRef='Set' "
                      "tagType='permissive' lacv='7'/></requiredCategory>",
                      "", ""),
                 &e) == LSN_ERR_POLICY &&
           contains(e.message, "lacv 7"),
       "reference_to_unknown_lacv_refused");
    ok(load_text(spif("", "", "<securityCategoryTagSet name='S2' id='1.2.3.2'>"
                              "<securityCategoryTag name='T2' tagType='restrictive'>"
                              "<tagCategory name='X' lacv='5'/><tagCategory name='Y' lacv='005'/>"
                              "</securityCategoryTag></securityCategoryTagSet>"),
                 &e) == LSN_ERR_POLICY &&
           contains(e.message, "duplicate lacv 5") && contains(e.message, "'Y'"),
       "duplicate_lacv_in_tag_refused");
    ok(load_text(spif("", "", "<securityCategoryTagSet name='S2' id='1.2.3.2'>"
                              "<securityCategoryTag name='T2' tagType='restrictive'>"
                              "<tagCategory name='A' lacv='1'/></securityCategoryTag>"
                              "</securityCategoryTagSet>"),
                 &e) == LSN_OK,
       "same_name_and_lacv_in_other_tag_set_allowed");
    ok(load_text(spif("", "", "<securityCategoryTagSet name='S2' id='1.2.3.2'>"
                              "<securityCategoryTag name='T2' tagType='tagType7'>"
                              "<tagCategory name='Q' lacv='x1'/></securityCategoryTag>"
                              "</securityCategoryTagSet>"),
                 &e) == LSN_ERR_POLICY &&
           contains(e.message, "x1") && contains(e.message, "LACV"),
       "non_numeric_lacv_refused");
    ok(load_text("<SPIF><securityPolicyId name='X' id='1.2'/><securityClassifications>"
                 "<securityClassification name='A' lacv='1' hierarchy='1'/>"
                 "<securityClassification name='B' lacv='1' hierarchy='2'/>"
                 "</securityClassifications></SPIF>",
                 &e) == LSN_ERR_POLICY &&
           contains(e.message, "duplicate classification lacv 1"),
       "duplicate_classification_lacv_refused");
    ok(load_text(spif("<equivalentClassification policyRef='Nope' lacv='1'/>", "", ""), &e) ==
               LSN_ERR_POLICY &&
           contains(e.message, "Nope"),
       "unknown_policy_ref_refused");
    ok(load_text(spif("", "", "<securityCategoryTagSet name='S2' id='1.2.3.2'>"
                              "<securityCategoryTag name='T2' tagType='sideways'/>"
                              "</securityCategoryTagSet>"),
                 &e) == LSN_ERR_POLICY &&
           contains(e.message, "sideways"),
       "unknown_tag_type_refused");
    /* Issue 12: a marking code of a later schema changes no decision: a
     * warning that names it, not a refusal. */
    {
        lsn_policy *w = NULL;
        const char *t = spif("", "<markingData phrase='x'><code>upsideDown</code></markingData>", "");
        ok(lsn_policy_load_memory(t, strlen(t), "t.xml", &w, &e) == LSN_OK &&
               lsn_policy_warning_count(w) == 1 &&
               contains(lsn_policy_warning_at(w, 0), "upsideDown") &&
               contains(lsn_policy_warning_at(w, 0), "t.xml: line 1: <code>") &&
               lsn_policy_warning_at(w, 1) == NULL,
           "unknown_marking_code_is_a_warning_naming_it");
        lsn_policy_unref(w);
    }

    char *many = malloc(65536);
    size_t off = (size_t)snprintf(many, 65536, "<SPIF><securityPolicyId name='X' id='1.2'/>"
                                               "<securityClassifications>");
    for (int i = 0; i < 65; i++)
        off += (size_t)snprintf(many + off, 65536 - off,
                                "<securityClassification name='C%d' lacv='%d' hierarchy='%d'/>", i, i, i);
    snprintf(many + off, 65536 - off, "</securityClassifications></SPIF>");
    ok(load_text(many, &e) == LSN_ERR_POLICY && contains(e.message, "65 classifications"),
       "more_than_64_classifications_refused");
    free(many);

    {
        /* Text comes in pieces; a huge one is refused, a long one kept whole. */
        size_t cap = 200000;
        char *big = malloc(cap);
        int k = snprintf(big, cap, "%s", spif("", "<excludedClass>", ""));
        (void)k;
        char *at = strstr(big, "<excludedClass>") + strlen("<excludedClass>");
        size_t head = (size_t)(at - big);
        const char *tail_src = strstr(spif("", "<excludedClass>", ""), "<excludedClass>") +
                               strlen("<excludedClass>");
        char *tail = strdup(tail_src);
        memset(big + head, 'H', 70000);
        snprintf(big + head + 70000, cap - head - 70000, "</excludedClass>%s", tail);
        ok(load_text(big, &e) == LSN_ERR_LIMIT, "huge_text_refused_as_limit");
        memset(big + head, ' ', 3000);
        snprintf(big + head + 3000, cap - head - 3000, "HIGH</excludedClass>%s", tail);
        ok(load_text(big, &e) == LSN_OK, "text_in_many_pieces_kept_whole");
        free(tail);
        free(big);
    }

    ok(lsn_policy_load_memory("x", 1, "t", NULL, &e) == LSN_ERR_ARG, "null_out_is_argument_error");
    ok(lsn_policy_load_memory("<SPIF/>", 7, NULL, &p, NULL) == LSN_ERR_POLICY && p == NULL,
       "null_error_and_source_tolerated");
}

/* An allocator that fails the Nth allocation (counting from 1). */
static long fail_at, alloc_count;
static void *fail_malloc(size_t n, void *ctx)
{
    (void)ctx;
    return ++alloc_count == fail_at ? NULL : malloc(n);
}
static void *fail_realloc(void *ptr, size_t n, void *ctx)
{
    (void)ctx;
    return ++alloc_count == fail_at ? NULL : realloc(ptr, n);
}
static void fail_free(void *ptr, void *ctx)
{
    (void)ctx;
    free(ptr);
}

static void test_alloc_failure(const char *file)
{
    const lsn_allocator a = { fail_malloc, fail_realloc, fail_free, NULL };
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", spiffing_dir, file);
    bool all_nomem = true, loaded = false;
    long n;
    for (n = 1; n < 100000 && !loaded; n++) {
        fail_at = n;
        alloc_count = 0;
        lsn_set_allocator(&a);
        lsn_policy *p = NULL;
        lsn_error e = { 0 };
        lsn_err rc = lsn_policy_load_file(path, &p, &e);
        lsn_set_allocator(NULL);
        if (rc == LSN_OK) {
            loaded = p != NULL;
            lsn_policy_unref(p);
        } else if (rc != LSN_ERR_NOMEM || p != NULL) {
            printf("# allocation %ld: %d %s\n", n, rc, e.message);
            all_nomem = false;
        }
    }
    ok(loaded && n > 2, "%s_load_succeeds_once_allocations_stop_failing (after %ld)", file, n - 1);
    ok(all_nomem, "%s_every_failed_allocation_gives_nomem_without_leak", file);
}

int main(int argc, char **argv)
{
    spiffing_dir = argc > 1 ? argv[1] : "../shared/vectors/spiffing";
    nmbs_dir = argc > 2 ? argv[2] : "../shared/vectors/nmbs";
    test_helpers();
    test_food();
    test_nato();
    test_equivalences();
    test_default();
    test_set();
    test_refusals();
    test_whole_policies();
    test_alloc_failure("food-policy.xml");
    test_alloc_failure("nato-4774-policy.xml");
    return tap_done();
}

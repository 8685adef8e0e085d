/* tests/test_spif_traits.c — SPIF 2.1 as NATO and the nations write it
 * (issue 12): tests/vectors/spif/spif21-traits.xml, a test policy with each
 * trait, loads; each trait does what it should in the loaded policy, its
 * markings (banner and portion form, English and French) and its groups.
 *
 * Usage: test_spif_traits SPIF_DIR. TAP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/introspect.h"
#include "liaison/liaison.h"
#include "tap.h"

static lsn_policy_set *set;

static char mbuf[512];

/* The marking (portion: the portion form) of a JSON label, or an error
 * sentence. */
static const char *mark(const char *json, const char *lang, bool portion)
{
    lsn_label *l = NULL;
    lsn_error err = { 0 };
    if (lsn_label_parse(set, json, strlen(json), LSN_FORM_JSON, &l, &err) != LSN_OK) {
        snprintf(mbuf, sizeof mbuf, "parse: %.400s", err.message);
        return mbuf;
    }
    lsn_err rc = portion ? lsn_label_portion_marking(l, lang, mbuf, sizeof mbuf, NULL)
                         : lsn_label_marking(l, lang, mbuf, sizeof mbuf, NULL);
    if (rc != LSN_OK)
        snprintf(mbuf, sizeof mbuf, "mark: %s", lsn_strerror(rc));
    lsn_label_free(l);
    return mbuf;
}

#define L(cls, cats) "{\"policy\":\"TRAITS\",\"classification\":\"" cls "\",\"categories\":[" cats "]}"

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/vectors/spif";
    char path[1024];
    snprintf(path, sizeof path, "%s/spif21-traits.xml", dir);
    lsn_policy *p = NULL;
    lsn_error err = { 0 };
    if (!ok(lsn_policy_load_file(path, &p, &err) == LSN_OK,
            "spif_with_default_namespace_and_2_1_traits_loads"))
        printf("# %s\n", err.message);
    if (!p)
        return tap_done();
    set = lsn_policy_set_new();
    if (lsn_policy_set_add(set, p, &err) != LSN_OK)
        printf("# %s\n", err.message);

    is_str(lsn_policy_version(p), "7", "version_is_read");
    ok(lsn_policy_warning_count(p) == 1 && strstr(lsn_policy_warning_at(p, 0), "messageHandling") &&
           strstr(lsn_policy_warning_at(p, 0), "line "),
       "code_of_a_later_schema_is_one_warning_naming_it_and_its_line");

    /* tagType7 and a name recurring under two tags of one tag set */
    size_t hr = 0, informative = 0;
    for (size_t i = 0; i < lsn_policy_category_count(p); i++) {
        lsn_category_info ci;
        if (!lsn_policy_category_at(p, i, &ci))
            continue;
        if (strcmp(ci.name, "HR") == 0 && strcmp(ci.tag_set, "Handling") == 0)
            hr++;
        if (strcmp(ci.type, "informative") == 0)
            informative++;
    }
    ok(hr == 2, "category_name_recurs_under_two_tags_of_one_tag_set");
    ok(informative == 1, "tag_type_7_is_informative");

    /* markings: several markingData per element, with and without xml:lang */
    is_str(mark(L("OPEN", ""), NULL, false), "TRAITS OPEN",
           "portion_only_phrase_is_not_the_banner_phrase");
    is_str(mark(L("OPEN", ""), "fr", false), "TRAITS OUVERT", "tagged_banner_phrase_in_french");
    is_str(mark(L("OPEN", ""), NULL, true), "[O]", "portion_form_of_the_classification");
    is_str(mark(L("OPEN", ""), "fr-CA", true), "[OU]", "portion_form_in_french_by_fallback");
    is_str(mark(L("GUARDED", ""), NULL, false), "TRAITS GUARDED",
           "page_top_and_bottom_and_document_codes_read");
    is_str(mark(L("GUARDED", "{\"tagSet\":\"Handling\",\"type\":\"restrictive\",\"values\":[\"HR\"]},"
                             "{\"tagSet\":\"Release\",\"values\":[\"AAA\",\"BBB\"]}"),
                NULL, false),
           "TRAITS GUARDED HUMAN RESOURCES Release to AAA, BBB", "banner_with_categories");
    is_str(mark(L("GUARDED", "{\"tagSet\":\"Handling\",\"type\":\"restrictive\",\"values\":[\"HR\"]},"
                             "{\"tagSet\":\"Release\",\"values\":[\"AAA\",\"BBB\"]}"),
                NULL, true),
           "[G HR REL AAA/BBB]", "portion_form_with_categories_and_qualifiers");
    is_str(mark(L("OPEN", "{\"tagSet\":\"Release\",\"values\":[\"DDD\"]}"), NULL, false),
           "ALLIANCE OPEN", "replace_policy_and_no_name_display");
    is_str(mark(L("GUARDED", "{\"tagSet\":\"Handling\",\"type\":\"restrictive\",\"values\":[\"LEGAL\"]}"),
                NULL, false),
           "TRAITS LEGAL", "suppress_class_name");

    /* extensions: named groups, through the introspection API */
    ok(lsn_policy_group_count(p) == 2, "two_groups_read_from_extensions");
    size_t n = 0, cat = 0;
    const char *g = lsn_policy_group_at(p, 1, &n);
    lsn_category_info ci = { 0 };
    bool members = g && strcmp(g, "Everyone") == 0 && n == 3 &&
                   lsn_policy_group_category(p, 1, 2, &cat) &&
                   lsn_policy_category_at(p, cat, &ci) && strcmp(ci.name, "CCC") == 0 &&
                   strcmp(ci.tag_set, "Release") == 0;
    ok(members, "group_names_its_categories");
    ok(lsn_policy_group_at(p, 2, &n) == NULL && !lsn_policy_group_category(p, 0, 2, &cat),
       "groups_out_of_range_are_null");

    lsn_policy_unref(p);
    lsn_policy_set_free(set);
    return tap_done();
}

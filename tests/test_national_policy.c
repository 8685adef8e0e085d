/* tests/test_national_policy.c — a partner's own policy beside NATO's, with
 * no federation (issue 12): data/jpn-illustrative-policy.xml (illustrative,
 * not an official policy of Japan) and the bundled NATO policy. A Japanese
 * label is valid, marks in English, French and Japanese, translates into
 * NATO's policy (valid there, with NATO's marking) and back into the same
 * label, and a NATO clearance decides on it through the equivalence.
 *
 * Usage: test_national_policy DATA_DIR. TAP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liaison/liaison.h"
#include "tap.h"

#define JPN_OID "2.25.251642713772810140366533035959921199786"

static lsn_policy_set *set;

static lsn_label *label(const char *json)
{
    lsn_label *l = NULL;
    lsn_error err = { 0 };
    if (lsn_label_parse(set, json, strlen(json), LSN_FORM_JSON, &l, &err) != LSN_OK)
        printf("# %s\n", err.message);
    return l;
}

static bool valid(const lsn_label *l)
{
    bool v = false;
    return l && lsn_label_validate(l, &v, NULL, 0) == LSN_OK && v;
}

static char buf[512];
static const char *mark(const lsn_label *l, const char *lang)
{
    if (!l || lsn_label_marking(l, lang, buf, sizeof buf, NULL) != LSN_OK)
        return "(none)";
    return buf;
}

static bool decide(const lsn_label *l, const char *clearance_json)
{
    lsn_clearance *c = NULL;
    lsn_error err = { 0 };
    lsn_decision d = LSN_DENY;
    if (lsn_clearance_parse(set, clearance_json, strlen(clearance_json), LSN_FORM_JSON, &c,
                            &err) != LSN_OK)
        printf("# %s\n", err.message);
    else if (lsn_access_check(set, l, c, &d) != LSN_OK)
        d = LSN_DENY;
    lsn_clearance_free(c);
    return d == LSN_GRANT;
}

int main(int argc, char **argv)
{
    const char *data = argc > 1 ? argv[1] : "data";
    char path[1024];
    snprintf(path, sizeof path, "%s/jpn-illustrative-policy.xml", data);
    set = lsn_policy_set_new();
    lsn_policy *nato = NULL;
    lsn_error err = { 0 };
    bool loaded = lsn_policy_load_default(&nato, &err) == LSN_OK &&
                  lsn_policy_set_add(set, nato, &err) == LSN_OK &&
                  lsn_policy_set_load_file(set, path, &err) == LSN_OK;
    lsn_policy_unref(nato);
    if (!ok(loaded, "illustrative_japanese_policy_loads_beside_nato"))
        printf("# %s\n", err.message);

    lsn_label *jp = label("{\"policy\":\"JPN-ILLUSTRATIVE\",\"classification\":\"GOKUHI\","
                          "\"categories\":[{\"tagSet\":\"Release\",\"values\":[\"JPN\",\"NATO\"]}]}");
    ok(valid(jp), "japanese_label_is_valid");
    is_str(mark(jp, "en"), "JAPAN SECRET Releasable to JPN, NATO", "japanese_label_marks_in_english");
    is_str(mark(jp, "fr"), "JAPON SECRET Communicable à Japon, OTAN",
           "japanese_label_marks_in_french");
    is_str(mark(jp, "ja"), "日本 極秘 開示先: 日本、NATO", "japanese_label_marks_in_japanese");

    lsn_label *as_nato = NULL, *back = NULL;
    ok(jp && lsn_label_translate(jp, set, "1.3.26.1.3.1", &as_nato, &err) == LSN_OK &&
           valid(as_nato),
       "japanese_label_translates_into_a_valid_nato_label");
    is_str(mark(as_nato, "en"), "NATO SECRET Releasable to JPN",
           "nato_reader_sees_the_nato_equivalent");
    ok(as_nato && lsn_label_translate(as_nato, set, JPN_OID, &back, &err) == LSN_OK,
       "nato_label_translates_back");
    char *a = NULL, *b = NULL;
    ok(back && lsn_label_write(jp, LSN_FORM_JSON, &a, NULL, &err) == LSN_OK &&
           lsn_label_write(back, LSN_FORM_JSON, &b, NULL, &err) == LSN_OK && strcmp(a, b) == 0,
       "translated_there_and_back_gives_the_same_label");
    lsn_free(a);
    lsn_free(b);

    /* decisions through the equivalence: NATO clearances, a Japanese label */
    ok(decide(jp, "{\"policy\":\"NATO\",\"maxClassification\":\"SECRET\",\"categories\":["
                  "{\"tagSet\":\"Context\",\"values\":[\"Releasable\"]},"
                  "{\"tagSet\":\"Releasable To\",\"values\":[\"JPN\"]}]}"),
       "japanese_desk_officer_under_nato_policy_reads_it");
    ok(decide(jp, "{\"policy\":\"NATO\",\"maxClassification\":\"TOP SECRET\",\"categories\":["
                  "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
                  "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\"]}]}"),
       "nato_staff_read_it");
    ok(!decide(jp, "{\"policy\":\"NATO\",\"maxClassification\":\"SECRET\",\"categories\":["
                   "{\"tagSet\":\"Context\",\"values\":[\"Releasable\"]},"
                   "{\"tagSet\":\"Releasable To\",\"values\":[\"KOR\"]}]}"),
       "korean_reader_does_not");
    /* A NATO-only label has no equivalent in the national policy. */
    lsn_label *nato_only = label("{\"policy\":\"NATO\",\"classification\":\"SECRET\","
                                 "\"categories\":[{\"tagSet\":\"Context\",\"values\":[\"NATO\"]}]}");
    lsn_label *none = NULL;
    ok(nato_only && lsn_label_translate(nato_only, set, JPN_OID, &none, &err) != LSN_OK && !none,
       "nato_only_label_does_not_translate_into_the_national_policy");

    lsn_label_free(nato_only);
    lsn_label_free(back);
    lsn_label_free(as_nato);
    lsn_label_free(jp);
    lsn_policy_set_free(set);
    return tap_done();
}

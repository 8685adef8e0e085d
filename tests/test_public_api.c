/* tests/test_public_api.c — a program that links libliaison.so and nothing
 * else, through include/liaison/ alone: what an integrator sees. It proves
 * the exported API (hidden visibility, LSN_API) is enough to load the
 * bundled policy, read a label and a clearance, validate, mark, decide and
 * read the label's categories. */
#include <stdio.h>
#include <string.h>

#include "liaison/introspect.h"
#include "liaison/liaison.h"
#include "tap.h"

int main(void)
{
    lsn_policy *p = NULL;
    lsn_policy_set *set = lsn_policy_set_new();
    ok(set && lsn_policy_load_default(&p, NULL) == LSN_OK &&
           lsn_policy_set_add(set, p, NULL) == LSN_OK,
       "the_shared_library_loads_the_bundled_policy");
    lsn_policy_unref(p);
    const char *lj = "{\"policy\":\"NATO\",\"classification\":\"RESTRICTED\",\"categories\":["
                     "{\"tagSet\":\"Context\",\"values\":[\"NATO\",\"Releasable\"]},"
                     "{\"tagSet\":\"Releasable To\",\"values\":[\"NATO\",\"JPN\"]}]}";
    const char *cj = "{\"policy\":\"NATO\",\"maxClassification\":\"SECRET\",\"categories\":["
                     "{\"tagSet\":\"Context\",\"values\":[\"Releasable\"]},"
                     "{\"tagSet\":\"Releasable To\",\"values\":[\"JPN\"]}]}";
    lsn_label *l = NULL;
    lsn_clearance *c = NULL;
    bool valid = false;
    char mark[256] = "";
    lsn_decision d = LSN_DENY;
    ok(lsn_label_parse(set, lj, strlen(lj), LSN_FORM_JSON, &l, NULL) == LSN_OK &&
           lsn_label_validate(l, &valid, NULL, 0) == LSN_OK && valid &&
           lsn_label_marking(l, "en", mark, sizeof mark, NULL) == LSN_OK &&
           strcmp(mark, "NATO RESTRICTED Releasable to JPN") == 0,
       "a_label_is_read_validated_and_marked (%s)", mark);
    ok(lsn_clearance_parse(set, cj, strlen(cj), LSN_FORM_JSON, &c, NULL) == LSN_OK &&
           lsn_access_check(set, l, c, &d) == LSN_OK && d == LSN_GRANT,
       "a_clearance_is_granted_the_label");
    /* The label's categories, named through the policy. */
    const lsn_policy *lp = lsn_label_policy(l);
    size_t jpn = 0, n = lsn_label_category_count(l);
    for (size_t i = 0; i < n; i++) {
        lsn_category_info info;
        if (lsn_policy_category_at(lp, (size_t)lsn_label_category_at(l, i), &info) &&
            strcmp(info.name, "JPN") == 0 && strcmp(info.tag_set, "Releasable To") == 0)
            jpn++;
    }
    ok(n == 4 && jpn == 1 && lsn_label_category_at(l, n) == -1,
       "a_labels_categories_are_read_through_the_policy (%zu categories)", n);
    lsn_clearance_free(c);
    lsn_label_free(l);
    lsn_policy_set_free(set);
    return tap_done();
}

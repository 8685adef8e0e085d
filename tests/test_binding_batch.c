/* tests/test_binding_batch.c — a batch of bindings verified on several
 * threads (fed_binding_verify_batch) gives each binding the verdict that
 * verifying it alone gives: the valid ones pass with their fields, and a
 * tampered one, one signed by another key and one whose content does not
 * match are refused without holding the others.
 *
 * usage: test_binding_batch */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "federation/binding.h"
#include "federation/binding_batch.h"
#include "federation/identity.h"
#include "liaison/liaison.h"
#include "tap.h"

#define N 48

static const char label[] =
    "<originatorConfidentialityLabel "
    "xmlns=\"urn:nato:stanag:4774:confidentialitymetadatalabel:1:0\">"
    "<ConfidentialityInformation>"
    "<PolicyIdentifier URL=\"urn:oid:1.3.26.1.3.1\">NATO</PolicyIdentifier>"
    "<Classification>RESTRICTED</Classification>"
    "<Category TagName=\"Releasable To\" Type=\"PERMISSIVE\">"
    "<GenericValue>JPN</GenericValue><GenericValue>NATO</GenericValue></Category>"
    "<Category TagName=\"Context\" Type=\"PERMISSIVE\">"
    "<GenericValue>Releasable</GenericValue></Category>"
    "</ConfidentialityInformation></originatorConfidentialityLabel>";

int main(void)
{
    char tmp[] = "/tmp/liaison-batch-XXXXXX", dir[128];
    if (!mkdtemp(tmp))
        return 2;
    fed_identity *hq = NULL, *other = NULL;
    lsn_error err = {0};
    snprintf(dir, sizeof dir, "%s/hq", tmp);
    bool made = fed_identity_create(dir, "NATO HQ", "NATO", &hq, &err) == LSN_OK;
    snprintf(dir, sizeof dir, "%s/other", tmp);
    made = made && fed_identity_create(dir, "NATO HQ", "NATO", &other, &err) == LSN_OK;
    ok(made, "two_identities_made");

    static char bodies[N][32];
    static fed_content contents[N];
    static char *xml[N];
    static size_t len[N];
    static fed_verify_job jobs[N], alone[N];
    int signed_ok = 0;
    for (int i = 0; i < N; i++) {
        snprintf(bodies[i], sizeof bodies[i], "item %d", i);
        contents[i] = (fed_content){.body = bodies[i], .body_len = strlen(bodies[i])};
        /* item 7 is signed by another key (same name) */
        if (fed_binding_sign(i == 7 ? other : hq, NULL, "cyber-defence", label,
                             sizeof label - 1, &contents[i],
                             1796300000, &xml[i], &len[i], &err) == LSN_OK)
            signed_ok++;
    }
    ok(signed_ok == N, "every_binding_signed");
    char *flip = xml[3] ? strstr(xml[3], "RESTRICTED") : NULL; /* item 3: label altered */
    if (flip)
        flip[0] = 'Q';
    static fed_content wrong = {.body = "not item 11", .body_len = 11};
    for (int i = 0; i < N; i++) {
        jobs[i] = (fed_verify_job){.pinned = hq, .data = xml[i], .len = len[i],
                                   .content = i == 11 ? &wrong : &contents[i]};
        alone[i] = jobs[i];
    }
    ok(fed_binding_verify_batch(jobs, N, 4) == LSN_OK, "a_batch_runs_on_four_threads");
    ok(fed_binding_verify_batch(alone, N, 1) == LSN_OK, "the_same_batch_runs_on_one_thread");
    int passed = 0, same = 0;
    bool fields = true;
    for (int i = 0; i < N; i++) {
        if (jobs[i].binding) {
            passed++;
            fields = fields && !strcmp(jobs[i].binding->origin, "NATO HQ") &&
                     alone[i].binding &&
                     !strcmp(jobs[i].binding->uuid, alone[i].binding->uuid);
        }
        if ((jobs[i].binding != NULL) == (alone[i].binding != NULL) &&
            jobs[i].rc == alone[i].rc && !strcmp(jobs[i].reason, alone[i].reason))
            same++;
    }
    ok(passed == N - 3, "every_binding_passes_but_the_three_bad_ones");
    ok(same == N, "each_binding_gets_the_verdict_it_gets_on_one_thread");
    ok(fields, "the_fields_of_each_verified_binding_are_its_own");
    ok(!jobs[3].binding && strstr(jobs[3].reason, "does not verify"),
       "an_altered_label_in_a_batch_is_refused");
    ok(!jobs[7].binding && strstr(jobs[7].reason, "does not verify"),
       "a_binding_signed_by_another_key_in_a_batch_is_refused");
    ok(!jobs[11].binding && strstr(jobs[11].reason, "content does not match"),
       "a_content_that_does_not_match_in_a_batch_is_refused");
    ok(fed_binding_verify_batch(NULL, 0, 4) == LSN_OK, "an_empty_batch_is_done");
    fed_verify_job one = {.pinned = hq, .data = xml[0], .len = len[0]};
    ok(fed_binding_verify_batch(&one, 1, 0) == LSN_OK && one.binding,
       "a_batch_of_one_with_threads_per_cpu_verifies");
    fed_binding_free(one.binding);

    for (int i = 0; i < N; i++) {
        fed_binding_free(jobs[i].binding);
        fed_binding_free(alone[i].binding);
        lsn_free(xml[i]);
    }
    fed_identity_free(hq);
    fed_identity_free(other);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmp);
    return tap_done();
}

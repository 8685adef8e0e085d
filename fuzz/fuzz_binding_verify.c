/* fuzz/fuzz_binding_verify.c — libFuzzer target: verifying a STANAG 4778
 * binding (src/federation) against a pinned certificate, the test node of
 * fuzz/binding-node/ (its key signed the seeds; fuzz/make_binding_seeds.sh).
 *
 * Beyond "no crash, no sanitizer report":
 *  - the result is LSN_OK (verified or refused) or LSN_ERR_NOMEM, never
 *    another error; a refusal has a reason, a verified binding has none;
 *  - a verified binding names the pinned node as origin, a valid UUID, a
 *    non-empty label that is exclusive-C14N XML of a 4774
 *    originatorConfidentialityLabel (it parses, or is refused, under the
 *    bundled policy without harm), and verifying again gives the same. */
#include <stdlib.h>
#include <string.h>

#include "federation/binding.h"
#include "federation/identity.h"
#include "fuzz_common.h"

#ifndef FUZZ_BINDING_CERT
#error "FUZZ_BINDING_CERT names the pinned certificate (set by the build)"
#endif

static fed_identity *pinned;
static lsn_policy_set *policies;

static void setup(void)
{
    lsn_error err = {0};
    FUZZ_CHECK(fed_identity_load_certificate(FUZZ_BINDING_CERT, &pinned, &err) == LSN_OK,
               "cannot load %s: %s", FUZZ_BINDING_CERT, err.message);
    lsn_policy *p = NULL;
    policies = lsn_policy_set_new();
    FUZZ_CHECK(policies && lsn_policy_load_default(&p, &err) == LSN_OK &&
                   lsn_policy_set_add(policies, p, &err) == LSN_OK,
               "bundled policy: %s", err.message);
    lsn_policy_unref(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!pinned)
        setup();
    fed_binding *b = NULL;
    char reason[512];
    lsn_err rc = fed_binding_verify(pinned, data, size, &b, reason, sizeof reason);
    FUZZ_CHECK(rc == LSN_OK || rc == LSN_ERR_NOMEM, "unexpected error %d", (int)rc);
    if (!b) {
        FUZZ_CHECK(rc != LSN_OK || reason[0], "a refusal without a reason");
        return 0;
    }
    FUZZ_CHECK(strcmp(b->origin, fed_identity_name(pinned)) == 0, "origin %s", b->origin);
    FUZZ_CHECK(fed_uuid_valid(b->uuid), "uuid %s", b->uuid);
    FUZZ_CHECK(b->label_xml && b->label_len > 0 && strlen(b->label_xml) == b->label_len,
               "label of %zu bytes", b->label_len);
    FUZZ_CHECK(strstr(b->label_xml, "originatorConfidentialityLabel") != NULL,
               "label %s", b->label_xml);
    lsn_label *l = NULL;
    if (lsn_label_parse(policies, b->label_xml, b->label_len, LSN_FORM_4774, &l, NULL) ==
        LSN_OK)
        lsn_label_free(l);

    fed_binding *again = NULL;
    char reason2[512];
    FUZZ_CHECK(fed_binding_verify(pinned, data, size, &again, reason2, sizeof reason2) ==
                       LSN_OK &&
                   again,
               "a verified binding is refused the second time: %s", reason2);
    FUZZ_CHECK(strcmp(again->uuid, b->uuid) == 0 && again->label_len == b->label_len &&
                   memcmp(again->label_xml, b->label_xml, b->label_len) == 0 &&
                   memcmp(again->digest, b->digest, FED_DIGEST_SIZE) == 0,
               "two verifications disagree");
    fed_binding_free(again);
    fed_binding_free(b);
    return 0;
}

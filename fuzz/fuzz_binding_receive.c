/* fuzz/fuzz_binding_receive.c — libFuzzer target: a received binding,
 * translated or not (fed_binding_receive: the originator's container and a
 * translating node's alternative label), decided under the illustrative
 * Japanese policy, with the test node of fuzz/binding-node/ pinned as both
 * origin and translator (its key signed the seeds:
 * fuzz/make_receive_seeds.c).
 *
 * Beyond "no crash, no sanitizer report":
 *  - the result is LSN_OK (accepted or refused) or LSN_ERR_NOMEM; a
 *    refusal has a reason;
 *  - an accepted binding names the pinned node as origin (and translator,
 *    when translated), gives a label under the receiver's policy, and an
 *    alternative label only when the document was translated;
 *  - receiving again gives the same label;
 *  - the originator's binding cut out of it (fed_binding_original, what a
 *    node forwarding it sends on) is refused, or verifies on its own, and
 *    for an accepted translated binding is the originator's item. */
#include <stdlib.h>
#include <string.h>

#include "federation/identity.h"
#include "federation/translate.h"
#include "fuzz_common.h"

#ifndef FUZZ_BINDING_CERT
#error "FUZZ_BINDING_CERT names the pinned certificate (set by the build)"
#endif
#ifndef FUZZ_JPN_POLICY
#error "FUZZ_JPN_POLICY names data/jpn-illustrative-policy.xml (set by the build)"
#endif

#define JPN_OID "2.25.251642713772810140366533035959921199786"

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
                   lsn_policy_set_add(policies, p, &err) == LSN_OK &&
                   lsn_policy_set_load_file(policies, FUZZ_JPN_POLICY, &err) == LSN_OK,
               "policies: %s", err.message);
    lsn_policy_unref(p);
}

static char *json_of(const lsn_label *l)
{
    char *out = NULL;
    FUZZ_CHECK(lsn_label_write(l, LSN_FORM_JSON, &out, NULL, NULL) == LSN_OK, "label write");
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!pinned)
        setup();
    fed_received *r = NULL;
    char reason[512];
    lsn_err rc = fed_binding_receive(pinned, pinned, data, size, policies, JPN_OID, &r, reason,
                                     sizeof reason);
    FUZZ_CHECK(rc == LSN_OK || rc == LSN_ERR_NOMEM, "unexpected error %d", (int)rc);
    char *orig = NULL;
    size_t orig_len = 0;
    fed_binding *ob = NULL;
    lsn_err orc = fed_binding_original(pinned, data, size, &orig, &orig_len, &ob, NULL);
    FUZZ_CHECK(orc == LSN_OK || orc == LSN_ERR_ARG || orc == LSN_ERR_NOMEM,
               "original: unexpected error %d", (int)orc);
    if (orig) {
        fed_binding *v = NULL;
        char why[512];
        FUZZ_CHECK(fed_binding_verify(pinned, orig, orig_len, &v, why, sizeof why) ==
                           LSN_OK &&
                       v && ob && !strcmp(v->uuid, ob->uuid) &&
                       !strcmp(v->channel, ob->channel),
                   "the originator's binding cut out does not verify: %s", why);
        FUZZ_CHECK(!r || !r->translated || (!strcmp(r->binding->uuid, ob->uuid) &&
                                            !strcmp(r->binding->channel, ob->channel) &&
                                            r->binding->label_len == ob->label_len &&
                                            !memcmp(r->binding->label_xml, ob->label_xml,
                                                    ob->label_len)),
                   "the originator's binding cut out is another item");
        fed_binding_free(v);
    }
    lsn_free(orig);
    fed_binding_free(ob);
    if (!r) {
        FUZZ_CHECK(rc != LSN_OK || reason[0], "a refusal without a reason");
        return 0;
    }
    FUZZ_CHECK(r->binding && !strcmp(r->binding->origin, fed_identity_name(pinned)),
               "origin");
    FUZZ_CHECK(r->label && !strcmp(lsn_policy_id(lsn_label_policy(r->label)), JPN_OID),
               "the label is not under the receiver's policy");
    FUZZ_CHECK(!r->label_is_alternative || r->translated, "an alternative from nowhere");
    FUZZ_CHECK(!r->translated || (!strcmp(r->translator, fed_identity_name(pinned)) &&
                                  r->alternative_xml &&
                                  strstr(r->alternative_xml, "alternativeConfidentialityLabel")),
               "translator or alternative");
    fed_received *again = NULL;
    FUZZ_CHECK(fed_binding_receive(pinned, pinned, data, size, policies, JPN_OID, &again,
                                   reason, sizeof reason) == LSN_OK &&
                   again,
               "accepted once, refused the second time: %s", reason);
    char *a = json_of(r->label), *b = json_of(again->label);
    FUZZ_CHECK(!strcmp(a, b), "two receptions disagree: %s / %s", a, b);
    lsn_free(a);
    lsn_free(b);
    fed_received_free(again);
    fed_received_free(r);
    return 0;
}

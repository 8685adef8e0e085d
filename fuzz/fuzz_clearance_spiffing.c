/* fuzz/fuzz_clearance_spiffing.c — libFuzzer target: reading a clearance in
 * the spiffing XML form against the fuzz policy set (fuzz_common.h). A
 * clearance that parses is marked, written back in both forms and re-parsed,
 * and decided against the sample labels. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const lsn_policy_set *set = fuzz_policies();
    lsn_clearance *c = NULL;
    lsn_error err = {0};
    lsn_err e = lsn_clearance_parse(set, data, size, LSN_FORM_SPIFFING, &c, &err);
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

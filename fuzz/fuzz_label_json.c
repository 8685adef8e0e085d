/* fuzz/fuzz_label_json.c — libFuzzer target: reading a label in the
 * LSN_FORM_JSON form against the fuzz policy set (fuzz_common.h). A label
 * that parses is validated, marked in several languages, written back in
 * every form and re-parsed, decided and translated. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const lsn_policy_set *set = fuzz_policies();
    lsn_label *label = NULL;
    lsn_error err = {0};
    lsn_err e = lsn_label_parse(set, data, size, LSN_FORM_JSON, &label, &err);
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

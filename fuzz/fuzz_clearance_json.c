/* fuzz/fuzz_clearance_json.c — libFuzzer target: reading a clearance in
 * liaison's JSON form against the fuzz policy set (fuzz_common.h). A
 * clearance that parses is marked, written back in both forms and re-parsed,
 * and decided against the sample labels. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_clearance_input(data, size, LSN_FORM_JSON);
}

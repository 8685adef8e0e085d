/* fuzz/fuzz_label_4774.c — libFuzzer target: reading a label in the
 * LSN_FORM_4774 form against the fuzz policy set (fuzz_common.h). A label
 * that parses is validated, marked in several languages, written back in
 * every form and re-parsed, decided and translated. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_label_input(data, size, LSN_FORM_4774);
}

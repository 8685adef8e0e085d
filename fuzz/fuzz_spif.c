/* fuzz/fuzz_spif.c — libFuzzer target: loading an Open XML SPIF from
 * memory (lsn_policy_load_memory). A SPIF that loads must have an id and
 * name and be addable to, and found in, a policy set; one that does not
 * must be refused with a coherent error. */
#include "fuzz_common.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lsn_policy *p = NULL;
    lsn_error err = {0};
    lsn_err e = lsn_policy_load_memory((const char *)data, size, "fuzz.xml", &p, &err);
    if (e != LSN_OK) {
        fuzz_check_error(e, &err, "lsn_policy_load_memory");
        FUZZ_CHECK(p == NULL, "a refused policy was returned");
        return 0;
    }
    FUZZ_CHECK(p != NULL, "success without a policy");
    const char *id = lsn_policy_id(p);
    const char *name = lsn_policy_name(p);
    FUZZ_CHECK(id != NULL && name != NULL, "a loaded policy has no id or name");
    (void)strlen(id);
    (void)strlen(name);

    lsn_policy_set *set = lsn_policy_set_new();
    FUZZ_CHECK(set != NULL, "out of memory");
    e = lsn_policy_set_add(set, p, &err);
    FUZZ_CHECK(e == LSN_OK, "a fresh set refused a loaded policy: %s", err.message);
    FUZZ_CHECK(lsn_policy_set_find_id(set, id) == p, "the policy is not found by id '%s'", id);
    FUZZ_CHECK(lsn_policy_set_find_name(set, name) == p,
               "the policy is not found by name '%s'", name);
    /* The same policy twice is a duplicate, and says so. */
    e = lsn_policy_set_add(set, p, &err);
    FUZZ_CHECK(e == LSN_ERR_DUPLICATE, "adding a policy twice gave %d", (int)e);
    lsn_policy_set_free(set);
    lsn_policy_unref(p);
    return 0;
}

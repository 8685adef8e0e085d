/* tests/store_contract_rel.h — the store contract's part for item versions
 * and release requests (store_contract_rel.c), run by store_contract.c. */
#ifndef TESTS_STORE_CONTRACT_REL_H
#define TESTS_STORE_CONTRACT_REL_H

#include "store/store.h"

/* Versions, hidden rows and release requests on s (a store without a
 * channel named "rel"). */
void test_release_versions(store *s);

#endif

/* tests/store_contract_fedrel.h — the store contract's part for the signed
 * release messages (store_contract_fedrel.c), run by store_contract.c. */
#ifndef TESTS_STORE_CONTRACT_FEDREL_H
#define TESTS_STORE_CONTRACT_FEDREL_H

#include "store/store.h"

void test_release_messages(store *s);

#endif

/* tests/store_contract_fed.h — the store contract's federation part
 * (store_contract_fed.c), run by store_contract.c on its store. */
#ifndef TESTS_STORE_CONTRACT_FED_H
#define TESTS_STORE_CONTRACT_FED_H

#include "store/store.h"

/* Bindings, peers, outboxes on *sp (a store with no peers yet); closes and
 * reopens it from uri (*sp: the reopened store, or NULL). */
void test_federation(store **sp, const char *uri);

/* Open the store under test (store_contract.c): its key directory is the
 * contract's temporary directory. */
lsn_err contract_open(const char *where, store **out, lsn_error *err);

#endif

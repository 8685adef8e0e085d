/* store/checks.h — what a back-end refuses before it writes, whatever its
 * database: the same fields, the same limits, the same sentences. Each
 * back-end's entry calls these before it hands its work to the shared
 * writer (writer.h), as writer_append does for items. */
#ifndef STORE_CHECKS_H
#define STORE_CHECKS_H

#include <stddef.h>

#include "store/store.h"
#include "store/store_fed.h"
#include "store/store_rel.h"

lsn_err store_check_peer(const store_peer *p, lsn_error *err);
lsn_err store_check_peer_note(const store_peer_state_note *n, lsn_error *err);
/* A binding kept later: present, and not longer than a field. */
lsn_err store_check_binding(const char *xml, size_t len, lsn_error *err);
lsn_err store_check_release(const store_release *r, const store_release_authority *a,
                            size_t n, lsn_error *err);
lsn_err store_check_rel_act(const store_rel_act *a, lsn_error *err);

#endif

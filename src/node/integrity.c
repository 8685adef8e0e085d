/* node/integrity.c — the node's side of the store's integrity alarm: an
 * item altered in the database (it fails its seal, src/store/seal.h) is
 * withheld by the store, which audits it; here the alarm reaches the
 * operator, as a line on stderr and in the metrics listener's
 * liaison_integrity_alarms_total. */
#include <stdio.h>

#include "node_internal.h"
#include "server/log.h"

void node_integrity_alarm(void *ctx, int64_t item_id, const uint8_t uuid[STORE_UUID_LEN],
                          const char *why)
{
    node *n = ctx;
    char u[37];
    (void)item_id; /* internal: the operator knows items by their public id */
    store_uuid_text(uuid, u);
    srv_log(SRV_LOG_ERROR,
            "ALARM: item %s withheld: %s (it was altered in the database; "
            "run liaison verify)",
            u, why);
    srv_metrics_integrity_alarm(n->metrics); /* NULL before the server starts */
}

/* node/audit.c — writing the node's acts to the store's hash-chained audit
 * log. Posts write their record in the item's own transaction (handlers);
 * everything else — reads, denials, refusals, administrative acts — comes
 * through here. */
#include <stdio.h>
#include <time.h>

#include "node_internal.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool node_audit(node *n, const char *actor, const char *action, const char *object,
                const char *outcome, const char *detail)
{
    store_audit_event ev = {
        .time_ms = now_ms(),
        .actor = actor ? actor : "system",
        .action = action,
        .object = object ? object : "",
        .outcome = outcome,
        .detail = detail,
    };
    lsn_error err;
    if (store_audit_append(n->st, &ev, &err) != LSN_OK) {
        fprintf(stderr, "liaison: audit: %s\n", err.message);
        return false;
    }
    return true;
}

/* node/audit.c — writing the node's acts to the store's hash-chained audit
 * log. Posts write their record in the item's own transaction and
 * administrative acts theirs in the service layer; reads, denials and the
 * node's start and stop come through here, which is the service's
 * svc_audit under the node's name. */
#include "node_internal.h"

bool node_audit(node *n, const char *actor, const char *action, const char *object,
                const char *outcome, const char *detail)
{
    return svc_audit(&n->svc, actor, action, object, outcome, detail);
}

/* federation/binding_internal.h — the originator's binding verified inside a
 * document that holds more (a translating node's container beside it,
 * binding_alternative.c). Internal to src/federation. */
#ifndef FEDERATION_BINDING_INTERNAL_H
#define FEDERATION_BINDING_INTERNAL_H

#include <libxml/tree.h>

#include "federation/binding.h"
#include "federation/binding_tree.h"

/* Steps 2-6 of fed_binding_verify on `container` of the parsed `doc` (step
 * 1 done by the caller, bc_parse). As fed_binding_verify: LSN_OK with *out
 * NULL and `reason` when refused. On success binding_id (if given)
 * receives the Id of the originator's MetadataBinding, registered as an
 * XML ID of doc. */
LSN_MUST_CHECK lsn_err fed_binding_verify_container(const fed_identity *pinned, xmlDocPtr doc,
                                                    xmlNode *container, fed_binding **out,
                                                    char binding_id[BT_ID_MAX], char *reason,
                                                    size_t size);

#endif

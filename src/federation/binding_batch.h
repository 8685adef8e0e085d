/* federation/binding_batch.h — verify a batch of bindings on several
 * threads. Each verification is independent (its own parse and xmlsec
 * context; the pinned keys are only read), and libxmlsec1 and OpenSSL are
 * thread-safe once initialised (fed_xmlsec_ready, called here first), so a
 * receiver verifies a batch from a peer on every core instead of one. */
#ifndef FEDERATION_BINDING_BATCH_H
#define FEDERATION_BINDING_BATCH_H

#include <stddef.h>

#include "federation/binding.h"

/* One binding to verify, and its outcome. */
typedef struct fed_verify_job {
    const fed_identity *pinned; /* the origin's certificate */
    const void *data;           /* the binding's bytes */
    size_t len;
    const fed_content *content; /* if given, checked against the signed digest */
    /* out */
    lsn_err rc;                 /* as fed_binding_verify returns */
    fed_binding *binding;       /* NULL when refused (the caller frees it) */
    char reason[256];           /* why, when refused */
} fed_verify_job;

/* Verify jobs[0..n) on up to `threads` threads (0: one per CPU online; the
 * calling thread is one of them; never more threads than jobs). Each job
 * is as fed_binding_verify, plus the content check when `content` is given
 * (a content that does not match is a refusal). Returns LSN_OK when every
 * job ran (each job's own rc says how it went), or LSN_ERR_NOMEM when no
 * thread could be started and the caller's thread ran them all anyway. */
LSN_MUST_CHECK lsn_err fed_binding_verify_batch(fed_verify_job *jobs, size_t n,
                                                unsigned threads);

#endif

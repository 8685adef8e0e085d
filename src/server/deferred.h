/* server/deferred.h — answering a request later, from another thread.
 *
 * A handler that must wait for something slow (a post waits for the
 * store's group commit) should not hold one of the server's few threads
 * while it waits. It calls srv_resp_defer(): the server then suspends the
 * connection in libmicrohttpd (no thread, no polling) when the handler
 * returns. Whoever finishes the work — any thread, e.g. the store's writer
 * in its completion callback — calls srv_deferred_answer() with the
 * response; the server resumes the connection and sends it.
 *
 * Rules: every handle is answered exactly once, and promptly (the server's
 * graceful stop waits for every deferred answer: libmicrohttpd must not
 * stop with a suspended connection). The answer may come before the
 * handler has even returned; the server then sends it at once. A client
 * that disconnects meanwhile is noticed only when the answer is sent (a
 * suspended connection is not watched); the handle stays valid until
 * answered either way. */
#ifndef SERVER_DEFERRED_H
#define SERVER_DEFERRED_H

#include <stdatomic.h>
#include <stdbool.h>
#include "server/router.h"

typedef struct srv_deferred srv_deferred;

/* In a handler: answer this request later. Returns the handle to answer
 * with srv_deferred_answer, and marks resp as deferred (set nothing else on
 * it). Returns NULL when out of memory: resp then holds a 503 and the
 * handler just returns. */
srv_deferred *srv_resp_defer(srv_request *req, srv_response *resp);

/* From any thread, exactly once per handle: the response to send (status,
 * JSON or text, headers; no stream). The handle takes what answer owns and
 * leaves it empty; d is invalid afterwards. */
void srv_deferred_answer(srv_deferred *d, srv_response *answer);

/* --- server side (http_server.c) ------------------------------------- */

/* After the handler returned with resp->deferred: suspend the connection
 * (conn, a struct MHD_Connection *) unless the answer is already there.
 * Returns true when suspended (the server returns and waits for the
 * resume), false when the answer can be sent now (srv_deferred_take).
 * *parked is the server's count of suspended handles: incremented here
 * when suspending, decremented by the answering thread once its resume
 * has returned — so the daemon may be stopped once it reads 0. Once
 * *stopping is set (the server stops), nothing is suspended any more:
 * this waits for the answer on the calling thread instead. */
bool srv_deferred_park(srv_deferred *d, void *conn, _Atomic unsigned *parked,
                       const _Atomic bool *stopping);

/* Move the answer into out; false when there is none yet. */
bool srv_deferred_take(srv_deferred *d, srv_response *out);

/* The connection is done with d (its request completed or failed). */
void srv_deferred_release(srv_deferred *d);

#endif

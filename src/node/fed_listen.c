/* node/fed_listen.c — the federation listener (--federation-listen): HTTPS
 * with mutual TLS on a listener of its own, for peers only.
 *
 * The node's identity (DATA/node.crt, node.key) is the server certificate.
 * A client must present a certificate in the TLS handshake, and the
 * handshake fails unless its SHA-256 fingerprint is the pinned one of a
 * peer registered now (srv_server_opts.client_pin, read from the live
 * registry: a peer added while the node runs is taken at once, and one
 * no longer registered is refused at its next connection). An unknown
 * certificate, or none, so never reaches HTTP. The same check runs again
 * before a request is routed (require_client_cert: 403), as a second line.
 * The peer a request comes from is the one whose pinned certificate it
 * presented — never a name in the message. Routes: PUT
 * /fed/v1/send/{txn}, a batch of items (docs/FEDERATION.md), which names
 * its destination; the items go to svc_fed_receive; PUT
 * /fed/v1/release/{mid}, a signed release message (svc_fedrel_receive). */
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/error.h"
#include "federation/identity.h"
#include "node_internal.h"
#include "server/client_cert.h"
#include "server/body.h"
#include "server/errors.h"
#include "server/log.h"

#define FED_BODY_LIMIT (32u << 20) /* a batch: a few dozen items */
#define FED_THREADS 4u

/* A peer is known by its pinned certificate's fingerprint only (never by
 * a subject: peers' certificates are self-signed or national): the name of
 * the peer registered now with the certificate of fingerprint fp. */
static bool fed_peer_of(node *n, const uint8_t fp[SRV_CERT_FP_LEN], char *name, size_t cap)
{
    char hex[SRV_CERT_FP_LEN * 3 + 1], *p = hex;
    for (int i = 0; i < SRV_CERT_FP_LEN; i++)
        p += snprintf(p, 4, i ? ":%02X" : "%02X", fp[i]);
    return svc_peer_by_fingerprint(&n->svc, hex, name, cap);
}

/* The handshake's check (srv_server_opts.client_pin). */
static bool fed_pinned(void *ctx, const uint8_t fp[SRV_CERT_FP_LEN])
{
    char name[FED_NAME_MAX + 1];
    return fed_peer_of(ctx, fp, name, sizeof name);
}

/* The peer of a client certificate (srv_auth.lookup_cert): its name,
 * owned (freed by fed_release). */
static void *fed_lookup_cert(void *ctx, const srv_client_cert *cert)
{
    node *n = ctx;
    char name[FED_NAME_MAX + 1];
    if (!fed_peer_of(n, cert->fingerprint, name, sizeof name))
        return NULL;
    node_fed_heard(n, name); /* any traffic from a peer: retry it now */
    return core_strdup(name);
}

static void fed_release(void *ctx, void *user)
{
    (void)ctx;
    lsn_free(user);
}

static const char *fed_user_name(void *ctx, void *user)
{
    (void)ctx;
    return user;
}

/* base64 text → bytes (*out, lsn_free; NUL-terminated for text). */
static bool unbase64(const char *b64, char **out, size_t *len)
{
    size_t n = strlen(b64), cap = n / 4 * 3 + 3;
    *out = core_malloc(cap + 1);
    if (!*out)
        return false;
    if (sodium_base642bin((unsigned char *)*out, cap, b64, n, NULL, len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        lsn_free(*out);
        *out = NULL;
        return false;
    }
    (*out)[*len] = '\0';
    return true;
}

/* One item of the batch: its fields into in (borrowing from j, the
 * decoded bytes owned by *bind / *att). A malformed item keeps its
 * sequence with no binding: the acceptance refuses and audits it, and it
 * blocks nothing behind it. false: no usable sequence at all. */
static bool item_in(json_t *j, svc_fed_in *in, char **bind, char **att)
{
    json_t *seq = json_object_get(j, "seq");
    if (!json_is_integer(seq) || json_integer_value(seq) < 1)
        return false;
    in->seq = (uint64_t)json_integer_value(seq);
    const char *b = json_string_value(json_object_get(j, "binding"));
    json_t *body = json_object_get(j, "body");
    const char *mt = json_string_value(json_object_get(j, "mediaType"));
    const char *a = json_string_value(json_object_get(j, "attachment"));
    /* The entry's kind (absent: an item); it must match what the binding
     * says, which the acceptance checks. An unknown kind is refused. */
    const char *kind = json_string_value(json_object_get(j, "kind"));
    bool known = true;
    in->item.kind = SVC_FED_ITEM;
    if (kind && strcmp(kind, "version") == 0)
        in->item.kind = SVC_FED_VERSION;
    else if (kind && strcmp(kind, "tombstone") == 0)
        in->item.kind = SVC_FED_TOMBSTONE;
    else if (kind && strcmp(kind, "item") != 0)
        known = false;
    in->item.channel = json_string_value(json_object_get(j, "channel"));
    in->item.body = json_string_value(body);
    in->item.body_len = json_string_length(body);
    size_t blen = 0, alen = 0;
    if (b && unbase64(b, bind, &blen)) {
        in->item.binding = *bind;
        in->item.binding_len = blen;
    }
    if (mt && a && unbase64(a, att, &alen)) {
        in->item.media_type = mt;
        in->item.attachment = (const uint8_t *)*att;
        in->item.attachment_len = alen;
    } else if (mt || a) {
        in->item.binding = NULL; /* half an attachment: refused */
    }
    /* A tombstone carries its binding alone; an item or a version its
     * channel and content too. */
    if (!known || (in->item.kind != SVC_FED_TOMBSTONE && (!in->item.channel || !in->item.body)))
        in->item.binding = NULL;
    return true;
}

void node_h_fed_send(srv_request *req, srv_response *resp)
{
    node *n = req->app;
    const char *peer = req->user;
    json_t *in;
    if (!srv_json_body(req, resp, &in))
        return;
    const char *dest = json_string_value(json_object_get(in, "destination"));
    json_t *items = json_object_get(in, "items");
    if (!json_is_object(in) || !dest || !json_is_array(items)) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST,
                       "A batch is {\"destination\": NODE, \"items\": [...]}.");
        json_decref(in);
        return;
    }
    /* The destination is checked: a batch meant for another node (a
     * misrouted or replayed one) is not taken here. */
    if (strcmp(dest, fed_identity_name(n->me)) != 0) {
        srv_resp_error(resp, 421, SRV_E_BAD_REQUEST, "This node is not the destination.");
        json_decref(in);
        return;
    }
    size_t k = json_array_size(items);
    if (k > SVC_FED_BATCH_MAX) {
        srv_resp_error(resp, 413, SRV_E_TOO_LARGE, "A batch holds at most %d items.",
                       SVC_FED_BATCH_MAX);
        json_decref(in);
        return;
    }
    svc_fed_in v[SVC_FED_BATCH_MAX];
    char *binds[SVC_FED_BATCH_MAX] = {0}, *atts[SVC_FED_BATCH_MAX] = {0};
    memset(v, 0, sizeof v);
    bool good = true;
    for (size_t i = 0; i < k && good; i++)
        good = item_in(json_array_get(items, i), &v[i], &binds[i], &atts[i]);
    svc_fed_answer ans;
    svc_result res;
    if (!good) {
        srv_resp_error(resp, 400, SRV_E_BAD_REQUEST, "Every item needs its sequence (seq).");
    } else if (svc_fed_receive(&n->svc, peer, v, k, &ans, &res) != LSN_OK) {
        node_resp_refusal(resp, &res);
    } else if (ans.expected) {
        srv_resp_json(resp, 409, json_pack("{s:I, s:I}", "acked", (json_int_t)ans.acked,
                                           "expected", (json_int_t)ans.expected));
    } else {
        srv_resp_json(resp, 200, json_pack("{s:I, s:I, s:I, s:I}", "acked",
                                           (json_int_t)ans.acked, "stored",
                                           (json_int_t)ans.stored, "duplicates",
                                           (json_int_t)ans.duplicates, "refused",
                                           (json_int_t)ans.refused));
    }
    for (size_t i = 0; i < k; i++) {
        lsn_free(binds[i]);
        lsn_free(atts[i]);
    }
    json_decref(in);
}

/* THE route table of the federation listener (docs/FEDERATION.md). */
static const srv_route fed_routes[] = {
    {SRV_PUT, "/fed/v1/send/{txn}", node_h_fed_send, false,
     "a batch of items from a peer (mutual TLS: its pinned certificate)", SVC_ACT_NONE},
    {SRV_PUT, "/fed/v1/release/{mid}", node_h_fed_release, false,
     "a signed release message from a peer (handlers_fed_release.c)", SVC_ACT_NONE},
};

lsn_err node_fed_listen_start(node *n, const char *listen, const char *data_dir,
                              lsn_error *err)
{
    char crt[4096], key[4096];
    snprintf(crt, sizeof crt, "%s/node.crt", data_dir);
    snprintf(key, sizeof key, "%s/node.key", data_dir);
    /* No list of trusted certificates is given to TLS: it would be the
     * peers of the moment the listener started. The pin is checked in
     * the handshake against the registry as it is then. */
    srv_server_opts o = {
        .listen = listen, .tls_cert = crt, .tls_key = key,
        .require_client_cert = true, .client_pin = {.pinned = fed_pinned, .ctx = n},
        .body_limit = FED_BODY_LIMIT, .threads = FED_THREADS,
        .max_connections = 64, .timeout = 60, .per_address = 0, .request_deadline = 120,
        .routes = fed_routes, .nroutes = sizeof fed_routes / sizeof fed_routes[0],
        .auth = {.lookup_cert = fed_lookup_cert, .release = fed_release,
                 .user_name = fed_user_name, .ctx = n},
        .app = n,
    };
    n->fed_srv = srv_server_start(&o, err);
    return n->fed_srv ? LSN_OK : LSN_ERR_IO;
}

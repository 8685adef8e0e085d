/* server/client_cert.c — client certificates (smart cards): with TLS on and
 * a trusted CA file (tls-client-ca), the server asks each client for a
 * certificate; one that chains to a trusted CA is identified by the SHA-256
 * of its DER encoding (its fingerprint), and by its subject DN with the CA
 * of the trust file that issued it, which the embedder maps to a user
 * (srv_auth.lookup_cert). libmicrohttpd's TLS is GnuTLS: the certificate
 * and its verification come from the connection's GnuTLS session. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/error.h"
#include "server/client_cert.h"
#include "server/conn_guard.h"

struct srv_ca_list {
    gnutls_x509_crt_t *crts;
    unsigned n;
    uint8_t (*fps)[SRV_CERT_FP_LEN];
};

lsn_err srv_ca_list_load(const char *pem, size_t len, srv_ca_list **out, lsn_error *err)
{
    *out = NULL;
    srv_ca_list *l = core_calloc(1, sizeof *l);
    if (!l)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    gnutls_datum_t d = {(unsigned char *)(uintptr_t)pem, (unsigned)len};
    int r = gnutls_x509_crt_list_import2(&l->crts, &l->n, &d, GNUTLS_X509_FMT_PEM, 0);
    if (r < 0) {
        lsn_free(l);
        return core_fail(err, LSN_ERR_SYNTAX, "tls-client-ca: not PEM certificates (%s)",
                         gnutls_strerror(r));
    }
    l->fps = core_calloc(l->n ? l->n : 1, sizeof *l->fps);
    if (!l->fps) {
        srv_ca_list_free(l);
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    }
    for (unsigned i = 0; i < l->n; i++) {
        size_t fl = SRV_CERT_FP_LEN;
        if (gnutls_x509_crt_get_fingerprint(l->crts[i], GNUTLS_DIG_SHA256, l->fps[i], &fl) < 0 ||
            fl != SRV_CERT_FP_LEN) {
            srv_ca_list_free(l);
            return core_fail(err, LSN_ERR_SYNTAX, "tls-client-ca: a certificate has no fingerprint");
        }
    }
    *out = l;
    return LSN_OK;
}

void srv_ca_list_free(srv_ca_list *l)
{
    if (!l)
        return;
    for (unsigned i = 0; i < l->n; i++)
        gnutls_x509_crt_deinit(l->crts[i]);
    gnutls_free(l->crts);
    lsn_free(l->fps);
    lsn_free(l);
}

/* The subject and the issuing CA of the verified leaf certificate. */
static void leaf_details(const gnutls_datum_t *der, const srv_ca_list *cas,
                         srv_client_cert *out)
{
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0)
        return;
    if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) < 0) {
        gnutls_x509_crt_deinit(crt);
        return;
    }
    gnutls_datum_t dn = {NULL, 0};
    if (gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0 && dn.data && dn.size < sizeof out->subject) {
        memcpy(out->subject, dn.data, dn.size);
        out->subject[dn.size] = '\0';
        if (strlen(out->subject) != dn.size) /* a NUL inside: match nothing */
            out->subject[0] = '\0';
    }
    gnutls_free(dn.data);
    /* The CA of the trust file that signed it directly: its name is the
     * leaf's issuer and its key verifies the leaf's signature. */
    for (unsigned i = 0; cas && i < cas->n && !out->has_issuer; i++) {
        unsigned status = 1;
        if (gnutls_x509_crt_check_issuer(crt, cas->crts[i]) &&
            gnutls_x509_crt_verify(crt, &cas->crts[i], 1, 0, &status) >= 0 && status == 0) {
            memcpy(out->issuer, cas->fps[i], SRV_CERT_FP_LEN);
            out->has_issuer = true;
        }
    }
    gnutls_x509_crt_deinit(crt);
}

bool srv_client_cert_read(void *conn, const srv_ca_list *cas, bool pinned,
                          srv_client_cert *out)
{
    memset(out, 0, sizeof *out);
    const union MHD_ConnectionInfo *ci =
        conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION) : NULL;
    if (!ci || !ci->tls_session)
        return false;
    gnutls_session_t tls = (gnutls_session_t)ci->tls_session;
    unsigned status = 0;
    /* Only a certificate that chains to a trusted CA, valid now, counts
     * (or, pinned, the one the handshake took by its fingerprint). */
    if (gnutls_certificate_type_get(tls) != GNUTLS_CRT_X509)
        return false;
    if (!pinned &&
        (gnutls_certificate_verify_peers2(tls, &status) != GNUTLS_E_SUCCESS || status != 0))
        return false;
    unsigned n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(tls, &n);
    if (!certs || n == 0 || !certs[0].data || certs[0].size == 0)
        return false;
    crypto_hash_sha256(out->fingerprint, certs[0].data, certs[0].size);
    leaf_details(&certs[0], cas, out);
    return true;
}

/* End the handshake with an alert that says why (libmicrohttpd just closes
 * a connection whose handshake failed, which a client reads as an empty
 * answer, not as a refusal): what GnuTLS is to return. */
static int refuse(gnutls_session_t tls, gnutls_alert_description_t why)
{
    (void)gnutls_alert_send(tls, GNUTLS_AL_FATAL, why); /* best effort */
    return GNUTLS_E_CERTIFICATE_ERROR;
}

/* The handshake's check of a pinned client certificate (GnuTLS calls it
 * once the client has sent its certificate, or none, and proved it holds
 * its key): 0 lets the handshake go on, anything else ends it. The pin
 * comes from the connection's record: GnuTLS's session pointer is
 * libmicrohttpd's connection, whose socket context is the srv_conn.
 * Anything missing is a refusal. */
static int pinned_verify(gnutls_session_t tls)
{
    unsigned n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(tls, &n);
    if (!certs || n == 0 || !certs[0].data || certs[0].size == 0 ||
        gnutls_certificate_type_get(tls) != GNUTLS_CRT_X509)
        return refuse(tls, GNUTLS_A_CERTIFICATE_REQUIRED);
    struct MHD_Connection *c = gnutls_session_get_ptr(tls);
    const union MHD_ConnectionInfo *ci =
        c ? MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
    const srv_conn *sc = ci ? ci->socket_context : NULL;
    const srv_cert_pin *pin = sc ? sc->pin : NULL;
    if (!pin || !pin->pinned)
        return refuse(tls, GNUTLS_A_INTERNAL_ERROR);
    /* Valid now: a pinned certificate past its time is refused as a chain
     * to a CA would be. */
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0)
        return refuse(tls, GNUTLS_A_INTERNAL_ERROR);
    time_t now = time(NULL);
    bool in_time = gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) >= 0 &&
                   gnutls_x509_crt_get_activation_time(crt) <= now &&
                   gnutls_x509_crt_get_expiration_time(crt) > now;
    gnutls_x509_crt_deinit(crt);
    if (!in_time)
        return refuse(tls, GNUTLS_A_CERTIFICATE_EXPIRED);
    uint8_t fp[SRV_CERT_FP_LEN];
    crypto_hash_sha256(fp, certs[0].data, certs[0].size);
    return pin->pinned(pin->ctx, fp) ? 0 : refuse(tls, GNUTLS_A_CERTIFICATE_UNKNOWN);
}

bool srv_client_cert_require(void *conn)
{
    const union MHD_ConnectionInfo *ci =
        conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION) : NULL;
    if (!ci || !ci->tls_session)
        return false;
    gnutls_session_t tls = (gnutls_session_t)ci->tls_session;
    /* Asked for (libmicrohttpd asks only with a trust list), and judged by
     * pinned_verify, which GnuTLS runs with a certificate or without one
     * and which refuses none with an alert (GNUTLS_CERT_REQUIRE would end
     * such a handshake before it, silently). */
    gnutls_certificate_server_set_request(tls, GNUTLS_CERT_REQUEST);
    gnutls_session_set_verify_function(tls, pinned_verify);
    return true;
}

lsn_err srv_cert_dn_canonical(const char *dn, char *out, size_t cap, lsn_error *err)
{
    if (!dn || !*dn || strlen(dn) >= SRV_CERT_DN_MAX)
        return core_fail(err, LSN_ERR_SYNTAX, "a subject is a DN of 1 to %d bytes",
                         SRV_CERT_DN_MAX - 1);
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    const char *at = NULL;
    gnutls_datum_t d = {NULL, 0};
    lsn_err rc = LSN_OK;
    int r = gnutls_x509_crt_set_dn(crt, dn, &at);
    if (r < 0)
        rc = core_fail(err, LSN_ERR_SYNTAX, "'%s' is not a subject DN (%s%s%s)", dn,
                       gnutls_strerror(r), at ? " at: " : "", at ? at : "");
    else if ((r = gnutls_x509_crt_get_dn3(crt, &d, 0)) < 0 || !d.data)
        rc = core_fail(err, LSN_ERR_SYNTAX, "'%s' is not a subject DN (%s)", dn,
                       gnutls_strerror(r));
    else if (d.size >= cap || strlen((const char *)d.data) != d.size)
        rc = core_fail(err, LSN_ERR_SYNTAX, "the subject is too long");
    else
        memcpy(out, d.data, (size_t)d.size + 1);
    gnutls_free(d.data);
    gnutls_x509_crt_deinit(crt);
    return rc;
}

/* The fingerprint of the certificate in pem (PEM or DER, len bytes); what
 * names it in errors. */
static lsn_err datum_fingerprint(const gnutls_datum_t *pem, const char *what,
                                 uint8_t out[SRV_CERT_FP_LEN], lsn_error *err)
{
    gnutls_x509_crt_t crt;
    lsn_err rc = LSN_OK;
    if (gnutls_x509_crt_init(&crt) < 0)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    int r = gnutls_x509_crt_import(crt, pem, GNUTLS_X509_FMT_PEM);
    if (r < 0)
        r = gnutls_x509_crt_import(crt, pem, GNUTLS_X509_FMT_DER);
    size_t len = SRV_CERT_FP_LEN;
    if (r < 0)
        rc = core_fail(err, LSN_ERR_SYNTAX, "%s: not an X.509 certificate (%s)", what,
                       gnutls_strerror(r));
    else if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, out, &len) < 0 ||
             len != SRV_CERT_FP_LEN)
        rc = core_fail(err, LSN_ERR_SYNTAX, "%s: no fingerprint", what);
    gnutls_x509_crt_deinit(crt);
    return rc;
}

lsn_err srv_cert_pem_fingerprint(const char *pem, size_t len, uint8_t out[SRV_CERT_FP_LEN],
                                 lsn_error *err)
{
    if (!pem || len == 0 || len > UINT_MAX)
        return core_fail(err, LSN_ERR_SYNTAX, "the certificate is empty");
    gnutls_datum_t d = {(unsigned char *)(uintptr_t)pem, (unsigned)len};
    return datum_fingerprint(&d, "the certificate", out, err);
}

lsn_err srv_cert_file_fingerprint(const char *path, uint8_t out[SRV_CERT_FP_LEN],
                                  lsn_error *err)
{
    gnutls_datum_t pem = {NULL, 0};
    int r = gnutls_load_file(path, &pem);
    if (r < 0)
        return core_fail(err, LSN_ERR_IO, "%s: cannot read (%s)", path, gnutls_strerror(r));
    lsn_err rc = datum_fingerprint(&pem, path, out, err);
    gnutls_free(pem.data);
    return rc;
}

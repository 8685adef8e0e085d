/* server/client_cert.c — client certificates (smart cards): with TLS on and
 * a trusted CA file (tls-client-ca), the server asks each client for a
 * certificate; one that chains to a trusted CA is identified by the SHA-256
 * of its DER encoding (its fingerprint), which the embedder maps to a user
 * (srv_auth.lookup_cert). libmicrohttpd's TLS is GnuTLS: the certificate
 * and its verification come from the connection's GnuTLS session. */
#include <stdio.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/error.h"
#include "server/client_cert.h"

bool srv_client_cert_fingerprint(void *conn, uint8_t out[SRV_CERT_FP_LEN])
{
    const union MHD_ConnectionInfo *ci =
        conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION) : NULL;
    if (!ci || !ci->tls_session)
        return false;
    gnutls_session_t tls = (gnutls_session_t)ci->tls_session;
    unsigned status = 0;
    /* Only a certificate that chains to a trusted CA, valid now, counts. */
    if (gnutls_certificate_type_get(tls) != GNUTLS_CRT_X509 ||
        gnutls_certificate_verify_peers2(tls, &status) != GNUTLS_E_SUCCESS || status != 0)
        return false;
    unsigned n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(tls, &n);
    if (!certs || n == 0 || !certs[0].data || certs[0].size == 0)
        return false;
    crypto_hash_sha256(out, certs[0].data, certs[0].size);
    return true;
}

lsn_err srv_cert_file_fingerprint(const char *path, uint8_t out[SRV_CERT_FP_LEN],
                                  lsn_error *err)
{
    gnutls_datum_t pem = {NULL, 0};
    int r = gnutls_load_file(path, &pem);
    if (r < 0)
        return core_fail(err, LSN_ERR_IO, "%s: cannot read (%s)", path, gnutls_strerror(r));
    gnutls_x509_crt_t crt;
    lsn_err rc = LSN_OK;
    if (gnutls_x509_crt_init(&crt) < 0) {
        gnutls_free(pem.data);
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    }
    r = gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM);
    if (r < 0)
        r = gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_DER);
    size_t len = SRV_CERT_FP_LEN;
    if (r < 0)
        rc = core_fail(err, LSN_ERR_SYNTAX, "%s: not an X.509 certificate (%s)", path,
                       gnutls_strerror(r));
    else if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, out, &len) < 0 ||
             len != SRV_CERT_FP_LEN)
        rc = core_fail(err, LSN_ERR_SYNTAX, "%s: no fingerprint", path);
    gnutls_x509_crt_deinit(crt);
    gnutls_free(pem.data);
    return rc;
}

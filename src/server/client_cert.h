/* server/client_cert.h — what a client's certificate (TLS client
 * authentication) says about it: its fingerprint, its subject and the
 * trusted CA that issued it; the fingerprint of a certificate file; and
 * pinned client certificates decided in the TLS handshake itself (the
 * federation listener: an unknown certificate never gets to HTTP). */
#ifndef SERVER_CLIENT_CERT_H
#define SERVER_CLIENT_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "liaison/error.h"

#define SRV_CERT_FP_LEN 32   /* SHA-256 of the certificate's DER */
#define SRV_CERT_DN_MAX 1024 /* longest subject DN we match (RFC 4514 string) */

/* A verified client certificate. */
typedef struct srv_client_cert {
    uint8_t fingerprint[SRV_CERT_FP_LEN];
    char subject[SRV_CERT_DN_MAX]; /* its subject DN as GnuTLS writes it; "" if none */
    bool has_issuer;               /* issued directly by a CA of the trust file: */
    uint8_t issuer[SRV_CERT_FP_LEN]; /* the SHA-256 of that CA's certificate */
} srv_client_cert;

/* The trusted CAs (the tls-client-ca file), parsed once. */
typedef struct srv_ca_list srv_ca_list;

/* Parse the CA certificates of a PEM buffer (*out: free with
 * srv_ca_list_free). */
lsn_err srv_ca_list_load(const char *pem, size_t len, srv_ca_list **out,
                         lsn_error *err) LSN_MUST_CHECK;
void srv_ca_list_free(srv_ca_list *cas);

/* The certificate the client of `conn` (a struct MHD_Connection *)
 * presented, if it chains to a CA the server trusts (tls-client-ca) and is
 * valid now: true and *out (the issuer found in cas, which may be NULL);
 * false otherwise (no TLS, no certificate, an untrusted or expired one).
 * pinned: the handshake already required the certificate and accepted it
 * by its pin (srv_client_cert_require): there is no CA to chain to, the
 * fingerprint is what the caller checks again. */
bool srv_client_cert_read(void *conn, const srv_ca_list *cas, bool pinned,
                          srv_client_cert *out) LSN_MUST_CHECK;

/* Pinned client certificates: pinned(ctx, fingerprint) says whether the
 * leaf certificate whose SHA-256 (of its DER) is fingerprint belongs to a
 * known client right now. It runs in the TLS handshake, on the server's
 * threads, for every connection: it must be thread-safe and quick. */
typedef struct srv_cert_pin {
    bool (*pinned)(void *ctx, const uint8_t fingerprint[SRV_CERT_FP_LEN]);
    void *ctx;
} srv_cert_pin;

/* On a connection just accepted, before its handshake (`conn` a struct
 * MHD_Connection * whose socket context is its srv_conn, with pin set):
 * require a client certificate in the handshake, and fail the handshake
 * (a TLS alert, no HTTP at all) unless the client sent one, valid now,
 * whose fingerprint pin->pinned accepts. false: not a TLS connection (the
 * caller closes it). */
bool srv_client_cert_require(void *conn) LSN_MUST_CHECK;

/* The fingerprint of the certificate in a PEM (or DER) buffer of len bytes. */
lsn_err srv_cert_pem_fingerprint(const char *pem, size_t len, uint8_t out[SRV_CERT_FP_LEN],
                                 lsn_error *err) LSN_MUST_CHECK;

/* The fingerprint of the certificate in a PEM (or DER) file. */
lsn_err srv_cert_file_fingerprint(const char *path, uint8_t out[SRV_CERT_FP_LEN],
                                  lsn_error *err) LSN_MUST_CHECK;

/* A subject DN as an administrator writes it ("CN=Kenji Watanabe,O=MOFA,
 * C=JP", RFC 4514) in the form srv_client_cert_read gives (spaces, case of
 * the attribute names and escapes made canonical by GnuTLS), into out
 * (cap bytes). LSN_ERR_SYNTAX when it is not a DN. */
lsn_err srv_cert_dn_canonical(const char *dn, char *out, size_t cap,
                              lsn_error *err) LSN_MUST_CHECK;

#endif

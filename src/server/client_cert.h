/* server/client_cert.h — the fingerprint of a client's certificate (TLS
 * client authentication) and of a certificate file. */
#ifndef SERVER_CLIENT_CERT_H
#define SERVER_CLIENT_CERT_H

#include <stdbool.h>
#include <stdint.h>
#include "liaison/error.h"

#define SRV_CERT_FP_LEN 32 /* SHA-256 of the certificate's DER */

/* The fingerprint of the certificate the client of `conn` (a struct
 * MHD_Connection *) presented, if it chains to a CA the server trusts
 * (tls-client-ca) and is valid now: true and out; false otherwise (no TLS,
 * no certificate, an untrusted or expired one). */
bool srv_client_cert_fingerprint(void *conn, uint8_t out[SRV_CERT_FP_LEN]) LSN_MUST_CHECK;

/* The fingerprint of the certificate in a PEM (or DER) file. */
lsn_err srv_cert_file_fingerprint(const char *path, uint8_t out[SRV_CERT_FP_LEN],
                                  lsn_error *err) LSN_MUST_CHECK;

#endif

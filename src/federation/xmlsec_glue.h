/* federation/xmlsec_glue.h — libxmlsec1 set-up shared by signing and
 * verifying: one-time initialisation, xmlsec's messages captured per thread
 * (never printed), and an xmlsec key made from an OpenSSL key. */
#ifndef FEDERATION_XMLSEC_GLUE_H
#define FEDERATION_XMLSEC_GLUE_H

#include <stdbool.h>

#include <xmlsec/keys.h>

/* Initialise libxmlsec1 and its OpenSSL back-end once per process
 * (thread-safe). False when that failed. */
bool fed_xmlsec_ready(void);

/* xmlsec's last message on this thread ("" when none); cleared by
 * fed_xmlsec_clear_message. */
const char *fed_xmlsec_message(void);
void fed_xmlsec_clear_message(void);

/* An xmlsec key holding a copy of the OpenSSL key `pkey` (EVP_PKEY *).
 * The caller frees it with xmlSecKeyDestroy. NULL on failure. */
xmlSecKeyPtr fed_xmlsec_key(void *pkey);

#endif

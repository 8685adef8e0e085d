/* federation/xmlsec_glue.c — libxmlsec1 initialisation and error capture,
 * and OpenSSL keys handed to xmlsec. */
#include "federation/xmlsec_glue.h"

#include <pthread.h>
#include <stdio.h>

#include <openssl/evp.h>
#include <xmlsec/errors.h>
#include <xmlsec/openssl/app.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/xmlsec.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool ready;
static _Thread_local char last_message[256];

/* xmlsec reports each failure up its call chain; the innermost (first)
 * message names the cause, so keep the first since the last clear. */
static void capture(const char *file, int line, const char *func,
                    const char *errorObject, const char *errorSubject, int reason,
                    const char *msg)
{
    (void)file;
    (void)line;
    (void)func;
    if (last_message[0])
        return;
    snprintf(last_message, sizeof last_message, "%s%s%s%s%s (reason %d)",
             errorObject ? errorObject : "", errorObject ? ": " : "",
             errorSubject ? errorSubject : "", errorSubject ? ": " : "",
             msg ? msg : "", reason);
}

static void init_once(void)
{
    if (xmlSecInit() < 0)
        return;
    if (xmlSecCheckVersion() != 1)
        return;
    if (xmlSecOpenSSLAppInit(NULL) < 0 || xmlSecOpenSSLInit() < 0)
        return;
    xmlSecErrorsSetCallback(capture);
    ready = true;
}

bool fed_xmlsec_ready(void)
{
    pthread_once(&once, init_once);
    return ready;
}

const char *fed_xmlsec_message(void)
{
    return last_message;
}

void fed_xmlsec_clear_message(void)
{
    last_message[0] = '\0';
}

xmlSecKeyPtr fed_xmlsec_key(void *pkey)
{
    EVP_PKEY *copy = xmlSecOpenSSLEvpKeyDup(pkey);
    if (!copy)
        return NULL;
    xmlSecKeyDataPtr data = xmlSecOpenSSLEvpKeyAdopt(copy);
    if (!data) {
        EVP_PKEY_free(copy);
        return NULL;
    }
    xmlSecKeyPtr key = xmlSecKeyCreate();
    if (!key || xmlSecKeySetValue(key, data) < 0) {
        xmlSecKeyDataDestroy(data);
        xmlSecKeyDestroy(key);
        return NULL;
    }
    return key;
}

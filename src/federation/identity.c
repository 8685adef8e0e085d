/* federation/identity.c — make and load a node's identity with OpenSSL 3
 * (EVP and X509 APIs): an ECDSA P-256 key, a self-signed certificate whose
 * subject is CN=<name>, OU=<nation>, and the certificate's SHA-256
 * fingerprint. */
#include "federation/identity.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/alloc.h"
#include "core/error.h"

/* Ten years: a node's identity is replaced by an operator, not by a clock. */
#define CERT_DAYS 3650
/* A PEM certificate or key file is far smaller than this. */
#define PEM_MAX_BYTES (64u * 1024u)

struct fed_identity {
    char name[FED_NAME_MAX + 1];
    char nation[FED_NAME_MAX + 1];
    char fingerprint[FED_FINGERPRINT_SIZE];
    X509 *cert;
    EVP_PKEY *pkey; /* the private key when loaded with it, else the public */
    bool has_key;
};

void fed_identity_free(fed_identity *id)
{
    if (!id)
        return;
    X509_free(id->cert);
    EVP_PKEY_free(id->pkey);
    lsn_free(id);
}

const char *fed_identity_name(const fed_identity *id) { return id->name; }
const char *fed_identity_nation(const fed_identity *id) { return id->nation; }
const char *fed_identity_fingerprint(const fed_identity *id) { return id->fingerprint; }
bool fed_identity_has_key(const fed_identity *id) { return id->has_key; }
void *fed_identity_pkey(const fed_identity *id) { return id->pkey; }

/* OpenSSL's last error as text, for messages. */
static const char *ossl_reason(void)
{
    static _Thread_local char buf[256];
    unsigned long e = ERR_peek_last_error();
    if (!e)
        return "unknown OpenSSL error";
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return buf;
}

static bool name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > FED_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

static bool nation_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > FED_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return false;
    return true;
}

/* The key must be ECDSA on P-256: the one curve this profile signs with. */
static bool key_is_p256(EVP_PKEY *k)
{
    char group[64];
    size_t glen = 0;
    if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_EC)
        return false;
    if (!EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                        sizeof group, &glen))
        return false;
    return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

/* Copy a subject entry (by NID) into out; false when absent or too long. */
static bool subject_entry(X509 *cert, int nid, char *out, size_t size)
{
    X509_NAME *subj = X509_get_subject_name(cert);
    int i = X509_NAME_get_index_by_NID(subj, nid, -1);
    if (i < 0 || X509_NAME_get_index_by_NID(subj, nid, i) >= 0)
        return false; /* absent, or present twice: ambiguous */
    ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, v);
    if (n < 0)
        return false;
    bool ok = (size_t)n < size && memchr(utf8, '\0', (size_t)n) == NULL;
    if (ok) {
        memcpy(out, utf8, (size_t)n);
        out[n] = '\0';
    }
    OPENSSL_free(utf8);
    return ok;
}

static bool fingerprint_of(X509 *cert, char out[FED_FINGERPRINT_SIZE])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!X509_digest(cert, EVP_sha256(), md, &mdlen) || mdlen != 32)
        return false;
    static const char hex[] = "0123456789ABCDEF";
    for (unsigned i = 0; i < mdlen; i++) {
        out[3 * i] = hex[md[i] >> 4];
        out[3 * i + 1] = hex[md[i] & 15];
        out[3 * i + 2] = i + 1 < mdlen ? ':' : '\0';
    }
    return true;
}

/* Fill an identity from a certificate (takes ownership of cert). */
static lsn_err identity_from_cert(X509 *cert, const char *source, fed_identity **out,
                                  lsn_error *err)
{
    fed_identity *id = core_calloc(1, sizeof *id);
    if (!id) {
        X509_free(cert);
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    }
    id->cert = cert;
    id->pkey = X509_get_pubkey(cert);
    if (!key_is_p256(id->pkey)) {
        fed_identity_free(id);
        return core_fail(err, LSN_ERR_ARG, "%s: not an ECDSA P-256 certificate", source);
    }
    if (!subject_entry(cert, NID_commonName, id->name, sizeof id->name) ||
        !name_ok(id->name)) {
        fed_identity_free(id);
        return core_fail(err, LSN_ERR_ARG,
                        "%s: the subject has no single node name (CN)", source);
    }
    if (!subject_entry(cert, NID_organizationalUnitName, id->nation, sizeof id->nation) ||
        !nation_ok(id->nation)) {
        fed_identity_free(id);
        return core_fail(err, LSN_ERR_ARG,
                        "%s: the subject has no single nation (OU)", source);
    }
    if (!fingerprint_of(cert, id->fingerprint)) {
        fed_identity_free(id);
        return core_fail(err, LSN_ERR_NOMEM, "%s: cannot hash the certificate", source);
    }
    *out = id;
    return LSN_OK;
}

lsn_err fed_identity_from_pem(const char *pem, size_t len, const char *source,
                              fed_identity **out, lsn_error *err)
{
    *out = NULL;
    if (!pem || len == 0 || len > PEM_MAX_BYTES)
        return core_fail(err, LSN_ERR_ARG, "%s: not a PEM certificate", source);
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!cert) {
        ERR_clear_error();
        return core_fail(err, LSN_ERR_ARG, "%s: not a PEM certificate", source);
    }
    return identity_from_cert(cert, source, out, err);
}

/* Read a small file whole (NUL-terminated). */
static lsn_err read_small(const char *path, char **data, size_t *len, lsn_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return core_fail(err, LSN_ERR_IO, "%s: %s", path, strerror(errno));
    char *buf = core_malloc(PEM_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    }
    size_t n = fread(buf, 1, PEM_MAX_BYTES + 1, f);
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad || n > PEM_MAX_BYTES) {
        lsn_free(buf);
        return core_fail(err, LSN_ERR_IO, "%s: %s", path,
                        bad ? "read error" : "larger than a certificate or key");
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return LSN_OK;
}

lsn_err fed_identity_load_certificate(const char *path, fed_identity **out,
                                      lsn_error *err)
{
    *out = NULL;
    char *pem = NULL;
    size_t len = 0;
    lsn_err rc = read_small(path, &pem, &len, err);
    if (rc != LSN_OK)
        return rc;
    rc = fed_identity_from_pem(pem, len, path, out, err);
    lsn_free(pem);
    return rc;
}

static int join_path(char *out, size_t size, const char *dir, const char *file)
{
    int n = snprintf(out, size, "%s/%s", dir, file);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

lsn_err fed_identity_load(const char *dir, bool with_key, fed_identity **out,
                          lsn_error *err)
{
    *out = NULL;
    char crt[4096], key[4096];
    if (join_path(crt, sizeof crt, dir, FED_CERT_FILE) != 0 ||
        join_path(key, sizeof key, dir, FED_KEY_FILE) != 0)
        return core_fail(err, LSN_ERR_ARG, "%s: path too long", dir);
    if (access(crt, F_OK) != 0)
        return core_fail(err, LSN_ERR_IO,
                        "%s: no node identity (run 'liaison node init')", dir);
    fed_identity *id = NULL;
    lsn_err rc = fed_identity_load_certificate(crt, &id, err);
    if (rc != LSN_OK || !with_key) {
        *out = id;
        return rc;
    }
    struct stat st;
    if (stat(key, &st) != 0) {
        fed_identity_free(id);
        return core_fail(err, LSN_ERR_IO, "%s: %s", key, strerror(errno));
    }
    if (st.st_mode & 077) {
        fed_identity_free(id);
        return core_fail(err, LSN_ERR_IO,
                        "%s: the private key is readable by others (chmod 600)", key);
    }
    char *pem = NULL;
    size_t len = 0;
    rc = read_small(key, &pem, &len, err);
    if (rc != LSN_OK) {
        fed_identity_free(id);
        return rc;
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *priv = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    OPENSSL_cleanse(pem, len);
    lsn_free(pem);
    if (!priv || !key_is_p256(priv) || EVP_PKEY_eq(priv, id->pkey) != 1) {
        EVP_PKEY_free(priv);
        fed_identity_free(id);
        ERR_clear_error();
        return core_fail(err, LSN_ERR_ARG,
                        "%s: not the P-256 private key of %s", key, crt);
    }
    EVP_PKEY_free(id->pkey);
    id->pkey = priv;
    id->has_key = true;
    *out = id;
    return LSN_OK;
}

/* A positive random 128-bit serial number (RFC 5280: at most 20 octets). */
static bool set_random_serial(X509 *cert)
{
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return false;
    raw[0] &= 0x7f;
    raw[0] |= 0x40; /* no leading zero octet to strip */
    BIGNUM *bn = BN_bin2bn(raw, sizeof raw, NULL);
    bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
    BN_free(bn);
    return ok;
}

static bool add_ext(X509 *cert, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return false;
    bool ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

/* The self-signed certificate of a new key. NULL on failure. */
static X509 *make_certificate(EVP_PKEY *key, const char *name, const char *nation)
{
    X509 *cert = X509_new();
    if (!cert)
        return NULL;
    X509_NAME *subj = X509_get_subject_name(cert);
    bool ok = X509_set_version(cert, X509_VERSION_3) && set_random_serial(cert) &&
              X509_gmtime_adj(X509_getm_notBefore(cert), -3600) &&
              X509_gmtime_adj(X509_getm_notAfter(cert), (long)CERT_DAYS * 86400) &&
              X509_NAME_add_entry_by_NID(subj, NID_commonName, MBSTRING_UTF8,
                                         (const unsigned char *)name, -1, -1, 0) &&
              X509_NAME_add_entry_by_NID(subj, NID_organizationalUnitName,
                                         MBSTRING_ASC, (const unsigned char *)nation,
                                         -1, -1, 0) &&
              X509_set_issuer_name(cert, subj) && X509_set_pubkey(cert, key) &&
              add_ext(cert, NID_basic_constraints, "critical,CA:FALSE") &&
              add_ext(cert, NID_key_usage, "critical,digitalSignature") &&
              add_ext(cert, NID_ext_key_usage, "serverAuth,clientAuth") &&
              add_ext(cert, NID_subject_key_identifier, "hash") &&
              X509_sign(cert, key, EVP_sha256()) > 0;
    if (!ok) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

/* Write `bio`'s bytes to a new file (O_EXCL: never over an existing one). */
static lsn_err write_new_file(const char *path, mode_t mode, BIO *bio, lsn_error *err)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return core_fail(err, errno == EEXIST ? LSN_ERR_DUPLICATE : LSN_ERR_IO, "%s: %s",
                        path, errno == EEXIST ? "already exists" : strerror(errno));
    size_t off = 0;
    while (n > 0 && off < (size_t)n) {
        ssize_t w = write(fd, data + off, (size_t)n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(path);
            return core_fail(err, LSN_ERR_IO, "%s: %s", path, strerror(e));
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(path);
        return core_fail(err, LSN_ERR_IO, "%s: %s", path, strerror(errno));
    }
    return LSN_OK;
}

lsn_err fed_identity_create(const char *dir, const char *name, const char *nation,
                            fed_identity **out, lsn_error *err)
{
    if (out)
        *out = NULL;
    if (!name_ok(name))
        return core_fail(err, LSN_ERR_ARG,
                        "a node name is 1-%d bytes without control characters",
                        FED_NAME_MAX);
    if (!nation_ok(nation))
        return core_fail(err, LSN_ERR_ARG, "a nation is 1-%d printable characters",
                        FED_NAME_MAX);
    char crt[4096], key[4096];
    if (join_path(crt, sizeof crt, dir, FED_CERT_FILE) != 0 ||
        join_path(key, sizeof key, dir, FED_KEY_FILE) != 0)
        return core_fail(err, LSN_ERR_ARG, "%s: path too long", dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return core_fail(err, LSN_ERR_IO, "%s: cannot create: %s", dir, strerror(errno));
    if (access(crt, F_OK) == 0 || access(key, F_OK) == 0)
        return core_fail(err, LSN_ERR_DUPLICATE,
                        "%s already holds a node identity; it is never overwritten", dir);

    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *cert = pkey ? make_certificate(pkey, name, nation) : NULL;
    BIO *kbio = BIO_new(BIO_s_mem()), *cbio = BIO_new(BIO_s_mem());
    lsn_err rc = LSN_OK;
    if (!pkey || !cert || !kbio || !cbio ||
        !PEM_write_bio_PrivateKey(kbio, pkey, NULL, NULL, 0, NULL, NULL) ||
        !PEM_write_bio_X509(cbio, cert)) {
        rc = core_fail(err, LSN_ERR_NOMEM, "cannot make the key pair: %s", ossl_reason());
        goto done;
    }
    /* The key first: a crash between the two leaves a key without a
     * certificate, which the next init refuses to overwrite rather than
     * leaving a certificate whose key is lost. */
    rc = write_new_file(key, 0600, kbio, err);
    if (rc != LSN_OK)
        goto done;
    rc = write_new_file(crt, 0644, cbio, err);
    if (rc != LSN_OK) {
        unlink(key);
        goto done;
    }
    if (out) {
        fed_identity *id = NULL;
        rc = identity_from_cert(cert, crt, &id, err);
        cert = NULL; /* owned by id, or freed */
        if (rc == LSN_OK) {
            EVP_PKEY_free(id->pkey);
            id->pkey = pkey;
            id->has_key = true;
            pkey = NULL;
            *out = id;
        }
    }
done:
    BIO_free(kbio); /* BIO_s_mem frees its buffer; OpenSSL clears it first */
    BIO_free(cbio);
    X509_free(cert);
    EVP_PKEY_free(pkey);
    return rc;
}

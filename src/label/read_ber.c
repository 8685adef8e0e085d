/* label/read_ber.c — reading BER/DER ESS security labels (RFC 2634) with
 * ACP-145(A) security categories, using libtasn1 and the ASN.1 module in
 * label/ess.asn (compiled at build time into label_ess_asn1_tab).
 *
 * ESSSecurityLabel ::= SET { policy OID, classification INTEGER (a LACV),
 * privacy-mark, security-categories SET OF SecurityCategory }, all optional.
 * Each SecurityCategory is { type [0] OID, value [1] ANY } where type says
 * how the value is encoded (OIDs under 2.16.840.1.101.2.1.8.3):
 *   .0 restrictive bit map   { tagName OID, attributeFlags BIT STRING }
 *   .1 enumerated permissive { tagName OID, attributeList SET OF INTEGER }
 *   .2 permissive bit map    { tagName OID, attributeFlags BIT STRING }
 *   .3 informative           { tagName OID, field CHOICE { BIT STRING,
 *                                                         SET OF INTEGER } }
 *   .4 enumerated restrictive (as .1)
 * Bit n of a bit map (first bit = most significant of the first byte) is
 * the category of LACV n. A category type we do not know is refused, not
 * skipped: it may carry a restriction.
 *
 * A label without a policy identifier is refused (LSN_ERR_LABEL): we would
 * not know which policy's terms it is written in. */
#include "label/label_internal.h"

#include <pthread.h>
#include <string.h>
#include <libtasn1.h>

#include "core/alloc.h"
#include "core/error.h"

extern const asn1_static_node label_ess_asn1_tab[];

#define OID_ACP145 "2.16.840.1.101.2.1.8.3."
#define MAX_OID 128          /* dotted text */
#define MAX_BITMAP 8192      /* bytes: LACVs up to 65535 */
#define MAX_MARK 1024        /* bytes of privacy mark */
#define MAX_SECURITY_CATEGORIES 256 /* ACP-145 allows 64 */

static asn1_node definitions;
static int definitions_rc = ASN1_SUCCESS;
static pthread_once_t definitions_once = PTHREAD_ONCE_INIT;

/* Built once per process and kept: the tree is immutable once built, and
 * libtasn1 allows concurrent element creation from it. */
static void load_definitions(void)
{
    char msg[ASN1_MAX_ERROR_DESCRIPTION_SIZE];
    definitions_rc = asn1_array2tree(label_ess_asn1_tab, &definitions, msg);
}

typedef struct ctx {
    lsn_label *label;
    lsn_error *err;
    size_t entries;
} ctx;

static lsn_err bad(ctx *c, const char *what, int rc)
{
    return core_fail(c->err, LSN_ERR_SYNTAX, "BER label: %s (%s)", what, asn1_strerror(rc));
}

/* An INTEGER as a LACV: non-negative, at most 32 bits. */
static lsn_err read_lacv(ctx *c, asn1_node n, const char *name, uint32_t *out)
{
    unsigned char buf[16];
    int len = (int)sizeof buf;
    int rc = asn1_read_value(n, name, buf, &len);
    if (rc != ASN1_SUCCESS || len < 1)
        return rc == ASN1_MEM_ERROR
                   ? core_fail(c->err, LSN_ERR_LABEL, "BER label: integer too large")
                   : bad(c, "cannot read an integer", rc);
    if (buf[0] & 0x80)
        return core_fail(c->err, LSN_ERR_LABEL, "BER label: negative lacv");
    int i = 0;
    while (i < len - 1 && buf[i] == 0)
        i++;
    if (len - i > 4)
        return core_fail(c->err, LSN_ERR_LABEL, "BER label: lacv does not fit 32 bits");
    uint32_t v = 0;
    for (; i < len; i++)
        v = (v << 8) | buf[i];
    *out = v;
    return LSN_OK;
}

static lsn_err add_lacv(ctx *c, const policy_tagset *ts, tag_kind kind, uint32_t lacv)
{
    if (++c->entries > LABEL_MAX_ENTRIES)
        return core_fail(c->err, LSN_ERR_LIMIT, "label has more than %u category values",
                        LABEL_MAX_ENTRIES);
    const policy_category *cat = NULL;
    lsn_err rc = label_cat_by_lacv(c->label->policy, ts, kind, lacv, LSN_ERR_LABEL,
                                   c->err, &cat);
    return rc != LSN_OK ? rc : label_add(c->label, cat, c->err);
}

static lsn_err read_bits(ctx *c, asn1_node n, const char *name,
                         const policy_tagset *ts, tag_kind kind)
{
    static _Thread_local unsigned char buf[MAX_BITMAP];
    int len = (int)sizeof buf;
    int rc = asn1_read_value(n, name, buf, &len);
    if (rc == ASN1_MEM_ERROR)
        return core_fail(c->err, LSN_ERR_LIMIT, "BER label: bit map longer than %u bytes",
                        MAX_BITMAP);
    if (rc != ASN1_SUCCESS)
        return bad(c, "cannot read a bit map", rc);
    /* len is in bits for a BIT STRING */
    for (int bit = 0; bit < len; bit++)
        if (buf[bit >> 3] & (0x80u >> (bit & 7))) {
            lsn_err e = add_lacv(c, ts, kind, (uint32_t)bit);
            if (e != LSN_OK)
                return e;
        }
    return LSN_OK;
}

static lsn_err read_set(ctx *c, asn1_node n, const char *name,
                        const policy_tagset *ts, tag_kind kind)
{
    int count = 0;
    int rc = asn1_number_of_elements(n, name, &count);
    if (rc == ASN1_ELEMENT_NOT_FOUND)
        return LSN_OK;
    if (rc != ASN1_SUCCESS)
        return bad(c, "cannot read a set of attributes", rc);
    /* libtasn1 finds "?k" by walking the list: bound the count first. */
    if ((size_t)count > LABEL_MAX_ENTRIES)
        return core_fail(c->err, LSN_ERR_LIMIT, "BER label: more than %u attributes in a tag",
                        LABEL_MAX_ENTRIES);
    for (int i = 1; i <= count; i++) {
        char path[64];
        snprintf(path, sizeof path, "%s.?%d", name, i);
        uint32_t lacv = 0;
        lsn_err e = read_lacv(c, n, path, &lacv);
        if (e == LSN_OK)
            e = add_lacv(c, ts, kind, lacv);
        if (e != LSN_OK)
            return e;
    }
    return LSN_OK;
}

static lsn_err read_category(ctx *c, asn1_node label, int k)
{
    char path[64], oid[MAX_OID];
    int len = (int)sizeof oid;
    snprintf(path, sizeof path, "security-categories.?%d.type", k);
    int rc = asn1_read_value(label, path, oid, &len);
    if (rc != ASN1_SUCCESS)
        return bad(c, "cannot read a security category type", rc);
    const char *sub = strncmp(oid, OID_ACP145, strlen(OID_ACP145)) == 0
                          ? oid + strlen(OID_ACP145) : "";
    tag_kind kind = TAG_ANY;
    const char *type;
    if (strcmp(sub, "0") == 0) {
        kind = TAG_RESTRICTIVE, type = "LiaisonESS.BitmapTag";
    } else if (strcmp(sub, "2") == 0) {
        kind = TAG_PERMISSIVE, type = "LiaisonESS.BitmapTag";
    } else if (strcmp(sub, "1") == 0) {
        kind = TAG_ENUM_PERMISSIVE, type = "LiaisonESS.EnumeratedTag";
    } else if (strcmp(sub, "4") == 0) {
        kind = TAG_ENUM_RESTRICTIVE, type = "LiaisonESS.EnumeratedTag";
    } else if (strcmp(sub, "3") == 0) {
        kind = TAG_INFORMATIVE, type = "LiaisonESS.InformativeTag";
    } else {
        return core_fail(c->err, LSN_ERR_LABEL,
                        "BER label: unsupported security category type %s", oid);
    }

    /* The value: the DER of the inner type, decoded on its own. */
    snprintf(path, sizeof path, "security-categories.?%d.value", k);
    len = 0;
    rc = asn1_read_value(label, path, NULL, &len);
    if (rc != ASN1_MEM_ERROR || len <= 0 || len > (int)LSN_LABEL_MAX_BYTES)
        return bad(c, "cannot read a security category value", rc);
    unsigned char *der = core_malloc((size_t)len);
    if (!der)
        return core_fail(c->err, LSN_ERR_NOMEM, "out of memory");
    rc = asn1_read_value(label, path, der, &len);
    asn1_node v = NULL;
    lsn_err e = LSN_OK;
    if (rc != ASN1_SUCCESS) {
        e = bad(c, "cannot read a security category value", rc);
    } else if ((rc = asn1_create_element(definitions, type, &v)) != ASN1_SUCCESS) {
        e = core_fail(c->err, LSN_ERR_NOMEM, "out of memory");
    } else {
        int dlen = len;
        char msg[ASN1_MAX_ERROR_DESCRIPTION_SIZE];
        rc = asn1_der_decoding2(&v, der, &dlen, 0, msg);
        if (rc != ASN1_SUCCESS || dlen != len)
            e = core_fail(c->err, LSN_ERR_SYNTAX, "BER label: malformed security category: %s",
                         rc != ASN1_SUCCESS ? msg : "trailing bytes");
    }
    lsn_free(der);

    const policy_tagset *ts = NULL;
    if (e == LSN_OK) {
        len = (int)sizeof oid;
        rc = asn1_read_value(v, "tagName", oid, &len);
        if (rc != ASN1_SUCCESS)
            e = bad(c, "cannot read a tag set name", rc);
        else if (!(ts = policy_tagset_by_id(c->label->policy, oid)))
            e = core_fail(c->err, LSN_ERR_LABEL, "BER label: unknown tag set id '%s'", oid);
    }
    if (e == LSN_OK) {
        if (kind == TAG_RESTRICTIVE || kind == TAG_PERMISSIVE) {
            e = read_bits(c, v, "attributeFlags", ts, kind);
        } else if (kind != TAG_INFORMATIVE) {
            e = read_set(c, v, "attributeList", ts, kind);
        } else {
            char choice[32];
            len = (int)sizeof choice;
            rc = asn1_read_value(v, "field", choice, &len);
            if (rc != ASN1_SUCCESS)
                e = bad(c, "cannot read an informative field", rc);
            else if (strcmp(choice, "bitSetAttributes") == 0)
                e = read_bits(c, v, "field.bitSetAttributes", ts, kind);
            else
                e = read_set(c, v, "field.securityAttributes", ts, kind);
        }
    }
    asn1_delete_structure(&v);
    return e;
}

static lsn_err read_privacy_mark(ctx *c, asn1_node label)
{
    char choice[32];
    int len = (int)sizeof choice;
    int rc = asn1_read_value(label, "privacy-mark", choice, &len);
    if (rc == ASN1_ELEMENT_NOT_FOUND || rc == ASN1_VALUE_NOT_FOUND)
        return LSN_OK;
    if (rc != ASN1_SUCCESS)
        return bad(c, "cannot read the privacy mark", rc);
    char path[48];
    snprintf(path, sizeof path, "privacy-mark.%s", choice);
    static _Thread_local char mark[MAX_MARK];
    len = (int)sizeof mark;
    rc = asn1_read_value(label, path, mark, &len);
    if (rc == ASN1_MEM_ERROR)
        return core_fail(c->err, LSN_ERR_LIMIT, "BER label: privacy mark longer than %u bytes",
                        MAX_MARK);
    if (rc != ASN1_SUCCESS)
        return bad(c, "cannot read the privacy mark", rc);
    if (!label_text_ok(mark, (size_t)len))
        return core_fail(c->err, LSN_ERR_LABEL,
                        "BER label: privacy mark is not valid UTF-8 text");
    if (label_set_privacy_mark(c->label, mark, (size_t)len) != LSN_OK)
        return core_fail(c->err, LSN_ERR_NOMEM, "out of memory");
    return LSN_OK;
}

static lsn_err read_label(const lsn_policy_set *set, asn1_node label, lsn_label **out,
                          lsn_error *err)
{
    char oid[MAX_OID];
    int len = (int)sizeof oid;
    int rc = asn1_read_value(label, "security-policy-identifier", oid, &len);
    if (rc == ASN1_ELEMENT_NOT_FOUND || rc == ASN1_VALUE_NOT_FOUND)
        return core_fail(err, LSN_ERR_LABEL,
                        "No policy in label (BER label without security-policy-identifier)");
    if (rc != ASN1_SUCCESS)
        return core_fail(err, LSN_ERR_SYNTAX, "BER label: cannot read the policy id (%s)",
                        asn1_strerror(rc));
    lsn_policy *p = NULL;
    lsn_err e = label_policy_by_id(set, oid, err, &p);
    if (e != LSN_OK)
        return e;
    ctx c = { .label = label_new(p), .err = err };
    if (!c.label)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");

    unsigned char probe[1];
    len = (int)sizeof probe;
    rc = asn1_read_value(label, "security-classification", probe, &len);
    if (rc != ASN1_ELEMENT_NOT_FOUND && rc != ASN1_VALUE_NOT_FOUND) {
        uint32_t lacv = 0;
        e = read_lacv(&c, label, "security-classification", &lacv);
        if (e == LSN_OK)
            e = label_class_by_lacv(p, lacv, LSN_ERR_LABEL, err, &c.label->cls);
    }
    if (e == LSN_OK)
        e = read_privacy_mark(&c, label);
    int count = 0;
    if (e == LSN_OK) {
        rc = asn1_number_of_elements(label, "security-categories", &count);
        if (rc != ASN1_SUCCESS && rc != ASN1_ELEMENT_NOT_FOUND)
            e = bad(&c, "cannot read the security categories", rc);
        else if (count > MAX_SECURITY_CATEGORIES)
            e = core_fail(err, LSN_ERR_LIMIT, "BER label: more than %d security categories",
                         MAX_SECURITY_CATEGORIES);
    }
    for (int k = 1; e == LSN_OK && k <= count; k++)
        e = read_category(&c, label, k);
    if (e != LSN_OK) {
        lsn_label_free(c.label);
        return e;
    }
    return label_done(c.label, err, out);
}

lsn_err label_read_ber(const lsn_policy_set *set, const unsigned char *data,
                       size_t len, lsn_label **out, lsn_error *err)
{
    *out = NULL;
    pthread_once(&definitions_once, load_definitions);
    if (definitions_rc != ASN1_SUCCESS)
        return core_fail(err, LSN_ERR_NOMEM, "cannot build the ESS ASN.1 definitions (%s)",
                        asn1_strerror(definitions_rc));
    asn1_node label = NULL;
    int rc = asn1_create_element(definitions, "LiaisonESS.ESSSecurityLabel", &label);
    if (rc != ASN1_SUCCESS)
        return core_fail(err, LSN_ERR_NOMEM, "out of memory");
    char msg[ASN1_MAX_ERROR_DESCRIPTION_SIZE] = "";
    int dlen = (int)len;
    rc = asn1_der_decoding2(&label, data, &dlen, 0, msg);
    lsn_err e;
    if (rc != ASN1_SUCCESS)
        e = core_fail(err, LSN_ERR_SYNTAX, "not a BER/DER ESS security label: %s",
                     msg[0] ? msg : asn1_strerror(rc));
    else if ((size_t)dlen != len)
        e = core_fail(err, LSN_ERR_SYNTAX,
                     "not a BER/DER ESS security label: %zu trailing bytes",
                     len - (size_t)dlen);
    else
        e = read_label(set, label, out, err);
    asn1_delete_structure(&label);
    return e;
}

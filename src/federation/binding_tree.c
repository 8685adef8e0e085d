/* federation/binding_tree.c — strict readers of the binding's signed
 * elements. Anything the profile does not name is refused: an extra
 * element, attribute, comment or a second label is a reason to refuse, not
 * something to skip, so that no part of a binding can be read two ways. */
#include "federation/binding_tree.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

static bool fail(char *reason, size_t size, const char *msg)
{
    if (reason && size)
        snprintf(reason, size, "%s", msg);
    return false;
}

bool bt_is(const xmlNode *n, const char *ns, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, ns) == 0 &&
           strcmp((const char *)n->name, name) == 0;
}

static bool all_space(const xmlChar *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

xmlNode *bt_next_element(const xmlNode *parent, xmlNode *prev, bool *bad)
{
    for (xmlNode *c = prev ? prev->next : parent->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE)
            return c;
        if (c->type != XML_TEXT_NODE || !all_space(c->content))
            *bad = true;
    }
    return NULL;
}

bool bt_attrs_only(const xmlNode *n, const char *const *names)
{
    for (const xmlAttr *a = n->properties; a; a = a->next) {
        if (a->ns)
            return false;
        bool known = false;
        for (const char *const *p = names; *p; p++)
            if (strcmp((const char *)a->name, *p) == 0)
                known = true;
        if (!known)
            return false;
        for (const xmlAttr *b = a->next; b; b = b->next)
            if (strcmp((const char *)a->name, (const char *)b->name) == 0)
                return false;
    }
    return true;
}

const char *bt_attr(const xmlNode *n, const char *name)
{
    for (const xmlAttr *a = n->properties; a; a = a->next)
        if (!a->ns && strcmp((const char *)a->name, name) == 0) {
            const xmlNode *t = a->children;
            if (!t)
                return "";
            /* One text node: entity references are never substituted. */
            if (t->next || t->type != XML_TEXT_NODE)
                return NULL;
            return (const char *)t->content;
        }
    return NULL;
}

/* The element's text: one text node (or none), no child elements. */
static const char *only_text(const xmlNode *n)
{
    const xmlNode *c = n->children;
    if (!c)
        return "";
    if (c->next || c->type != XML_TEXT_NODE)
        return NULL;
    return (const char *)c->content;
}

/* An empty algorithm element: <X Algorithm="want"/>. */
static bool algorithm_is(const xmlNode *n, const char *ns, const char *name,
                         const char *want)
{
    static const char *const attrs[] = {"Algorithm", NULL};
    const char *alg;
    return bt_is(n, ns, name) && bt_attrs_only(n, attrs) &&
           (alg = bt_attr(n, "Algorithm")) && strcmp(alg, want) == 0 && !n->children;
}

/* "PREFIX" + UUID, copied to id; the UUID part to uuid (if given). */
static bool id_with_uuid(const char *v, const char *prefix, char id[BT_ID_MAX],
                         char *uuid)
{
    size_t pl = strlen(prefix);
    if (!v || strncmp(v, prefix, pl) != 0 || !fed_uuid_valid(v + pl))
        return false;
    snprintf(id, BT_ID_MAX, "%s", v);
    if (uuid)
        snprintf(uuid, FED_UUID_SIZE, "%s", v + pl);
    return true;
}

const bt_kind bt_origin_kind = {
    .binding_prefix = BT_BINDING_ID_PREFIX,
    .props_prefix = BT_PROPS_ID_PREFIX,
    .signature_prefix = BT_SIGNATURE_ID_PREFIX,
    .label_element = "originatorConfidentialityLabel",
    .node_element = "Origin",
    .channel = true,
};

const bt_kind bt_translation_kind = {
    .binding_prefix = BT_TRANSLATION_ID_PREFIX,
    .props_prefix = BT_TRANSLATION_PROPS_ID_PREFIX,
    .signature_prefix = BT_TRANSLATION_SIGNATURE_ID_PREFIX,
    .label_element = "alternativeConfidentialityLabel",
    .node_element = "Translator",
    .channel = false,
};

bool bt_read_binding(const xmlNode *mb, bt_binding *out, char *reason, size_t size)
{
    return bt_read_binding_as(&bt_origin_kind, mb, out, reason, size);
}

bool bt_read_binding_as(const bt_kind *k, const xmlNode *mb, bt_binding *out, char *reason,
                        size_t size)
{
    static const char *const id_only[] = {"Id", NULL};
    static const char *const none[] = {NULL};
    static const char *const uri_only[] = {"URI", NULL};
    bool bad = false;
    char uuid_from_id[FED_UUID_SIZE];

    memset(out, 0, sizeof *out);
    if (!bt_is(mb, BT_NS_4778, "MetadataBinding") || !bt_attrs_only(mb, id_only) ||
        !id_with_uuid(bt_attr(mb, "Id"), k->binding_prefix, out->id, uuid_from_id))
        return fail(reason, size, k == &bt_origin_kind
                                      ? "the MetadataBinding has no Id of the form binding-UUID"
                                      : "the translation's MetadataBinding has no Id of the "
                                        "form translation-UUID");

    xmlNode *m1 = bt_next_element(mb, NULL, &bad);
    if (!bt_is(m1, BT_NS_4778, "Metadata") || !bt_attrs_only(m1, none))
        return fail(reason, size, "the MetadataBinding does not start with the label's Metadata");
    xmlNode *label = bt_next_element(m1, NULL, &bad);
    if (!bt_is(label, BT_NS_4774, k->label_element) || bt_next_element(m1, label, &bad))
        return fail(reason, size, k == &bt_origin_kind
                                      ? "the first Metadata does not hold exactly one STANAG "
                                        "4774 originatorConfidentialityLabel"
                                      : "the translation's first Metadata does not hold "
                                        "exactly one STANAG 4774 "
                                        "alternativeConfidentialityLabel");

    xmlNode *m2 = bt_next_element(mb, m1, &bad);
    if (!bt_is(m2, BT_NS_4778, "Metadata") || !bt_attrs_only(m2, none))
        return fail(reason, size, "the MetadataBinding has no origin Metadata");
    xmlNode *origin = bt_next_element(m2, NULL, &bad);
    const char *name;
    if (!bt_is(origin, BT_NS_LSN, k->node_element) || !bt_attrs_only(origin, none) ||
        bt_next_element(m2, origin, &bad) || !(name = only_text(origin)) ||
        !name[0] || strlen(name) > FED_NAME_MAX)
        return fail(reason, size, k == &bt_origin_kind
                                      ? "the origin Metadata does not hold one lsn:Origin name"
                                      : "the translator Metadata does not hold one "
                                        "lsn:Translator name");
    snprintf(out->origin, sizeof out->origin, "%s", name);

    /* The channel the origin files the item in: signed with the label, so
     * that no relay or peer can file it elsewhere. A binding made before
     * the channel was signed has none: refused (fail closed). */
    xmlNode *last = m2;
    if (k->channel) {
        xmlNode *m3 = bt_next_element(mb, m2, &bad);
        xmlNode *ch = bt_is(m3, BT_NS_4778, "Metadata") && bt_attrs_only(m3, none)
                          ? bt_next_element(m3, NULL, &bad)
                          : NULL;
        const char *chan;
        if (!bt_is(ch, BT_NS_LSN, "Channel") || !bt_attrs_only(ch, none) ||
            bt_next_element(m3, ch, &bad) || !(chan = only_text(ch)) || !chan[0] ||
            strlen(chan) > FED_CHANNEL_MAX)
            return fail(reason, size, "the MetadataBinding has no channel Metadata holding "
                                      "one lsn:Channel name (a binding made before channels "
                                      "were signed is refused)");
        snprintf(out->channel, sizeof out->channel, "%s", chan);
        last = m3;
    }

    xmlNode *dr = bt_next_element(mb, last, &bad);
    const char *uri;
    if (!bt_is(dr, BT_NS_4778, "DataReference") || !bt_attrs_only(dr, uri_only) ||
        !(uri = bt_attr(dr, "URI")) || strncmp(uri, BT_UUID_URN, strlen(BT_UUID_URN)) != 0 ||
        !fed_uuid_valid(uri + strlen(BT_UUID_URN)))
        return fail(reason, size, "the DataReference does not name the item as urn:uuid:UUID");
    snprintf(out->uuid, sizeof out->uuid, "%s", uri + strlen(BT_UUID_URN));
    if (strcmp(out->uuid, uuid_from_id) != 0)
        return fail(reason, size, "the MetadataBinding's Id and DataReference name different items");
    xmlNode *dm = bt_next_element(dr, NULL, &bad);
    xmlNode *dv = bt_next_element(dr, dm, &bad);
    const char *b64;
    if (!algorithm_is(dm, BT_NS_DSIG, "DigestMethod", BT_ALG_DIGEST))
        return fail(reason, size, "the content digest is not SHA-384");
    if (!bt_is(dv, BT_NS_DSIG, "DigestValue") || !bt_attrs_only(dv, none) ||
        bt_next_element(dr, dv, &bad) || !(b64 = only_text(dv)) ||
        !bt_unbase64(b64, out->digest, FED_DIGEST_SIZE))
        return fail(reason, size, "the content DigestValue is not 48 bytes of base64");
    if (bt_next_element(mb, dr, &bad))
        return fail(reason, size, "the MetadataBinding holds more than the profile allows");
    if (bad)
        return fail(reason, size, "the MetadataBinding holds text, comments or instructions "
                                  "between its elements");
    out->label = label;
    return true;
}

bool bt_read_properties(const xmlNode *sp, const char *signature_id, char id[BT_ID_MAX],
                        time_t *signing_time, char *reason, size_t size)
{
    return bt_read_properties_as(&bt_origin_kind, sp, signature_id, id, signing_time, reason,
                                 size);
}

bool bt_read_properties_as(const bt_kind *k, const xmlNode *sp, const char *signature_id,
                           char id[BT_ID_MAX], time_t *signing_time, char *reason, size_t size)
{
    static const char *const id_only[] = {"Id", NULL};
    static const char *const target_only[] = {"Target", NULL};
    static const char *const none[] = {NULL};
    bool bad = false;

    if (!bt_is(sp, BT_NS_DSIG, "SignatureProperties") || !bt_attrs_only(sp, id_only) ||
        !id_with_uuid(bt_attr(sp, "Id"), k->props_prefix, id, NULL))
        return fail(reason, size, "the SignatureProperties have no Id of the form properties-UUID");
    xmlNode *p = bt_next_element(sp, NULL, &bad);
    const char *target;
    if (!bt_is(p, BT_NS_DSIG, "SignatureProperty") || !bt_attrs_only(p, target_only) ||
        !(target = bt_attr(p, "Target")) || target[0] != '#' ||
        strcmp(target + 1, signature_id) != 0 || bt_next_element(sp, p, &bad))
        return fail(reason, size, "the SignatureProperty does not target this signature");
    xmlNode *t = bt_next_element(p, NULL, &bad);
    const char *when;
    if (!bt_is(t, BT_NS_LSN, "SigningTime") || !bt_attrs_only(t, none) ||
        bt_next_element(p, t, &bad) || !(when = only_text(t)) ||
        !bt_parse_time(when, signing_time))
        return fail(reason, size, "the signing time is not one UTC time YYYY-MM-DDThh:mm:ssZ");
    if (bad)
        return fail(reason, size, "the SignatureProperties hold text, comments or instructions");
    return true;
}

bool bt_format_time(time_t t, char out[BT_TIME_SIZE])
{
    struct tm tm;
    return gmtime_r(&t, &tm) && strftime(out, BT_TIME_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm) ==
                                    BT_TIME_SIZE - 1;
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

bool bt_parse_time(const char *s, time_t *out)
{
    if (!s || strlen(s) != BT_TIME_SIZE - 1 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
        s[13] != ':' || s[16] != ':' || s[19] != 'Z')
        return false;
    struct tm tm = {0};
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2), h = digits(s + 11, 2),
        mi = digits(s + 14, 2), se = digits(s + 17, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
        mi > 59 || se < 0 || se > 59)
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    time_t t = timegm(&tm);
    char back[BT_TIME_SIZE];
    /* Round trip: refuses 31 February and the like. */
    if (t == (time_t)-1 || !bt_format_time(t, back) || strcmp(back, s) != 0)
        return false;
    *out = t;
    return true;
}

bool bt_base64(const uint8_t *in, size_t n, char *out, size_t size)
{
    if (size < 4 * ((n + 2) / 3) + 1)
        return false;
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    return true;
}

bool bt_unbase64(const char *s, uint8_t *out, size_t want)
{
    size_t n = strlen(s);
    /* Exactly the padded encoding of `want` bytes, nothing around it. */
    if (n != 4 * ((want + 2) / 3) || n > 256)
        return false;
    uint8_t buf[192];
    int got = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
    size_t pad = (n >= 1 && s[n - 1] == '=') + (n >= 2 && s[n - 2] == '=');
    if (got < 0 || (size_t)got - pad != want)
        return false;
    memcpy(out, buf, want);
    return true;
}

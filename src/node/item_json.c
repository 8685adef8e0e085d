/* node/item_json.c — an item as the API shows it: id, channel, label (the
 * engine's JSON form, as an object), English and French markings, author,
 * organisation, creation time (RFC 3339, UTC, milliseconds), body, content
 * hash (hex) and the attachment (media type, base64). Only ever called for
 * an item the reader may see. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "core/alloc.h"
#include "liaison/introspect.h"
#include "node_internal.h"

void node_hex(const uint8_t *h, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[h[i] >> 4];
        out[2 * i + 1] = digits[h[i] & 15];
    }
    out[2 * len] = '\0';
}

static void rfc3339(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

json_t *node_item_json(const store_item *it)
{
    char created[32], hash[2 * STORE_HASH_LEN + 1];
    rfc3339(it->created_ms, created);
    node_hex(it->content_hash, STORE_HASH_LEN, hash);
    json_t *label = json_loads(it->label, JSON_REJECT_DUPLICATES, NULL);
    json_t *o = json_pack("{s:I, s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                          "id", (json_int_t)it->id, "channel", it->channel,
                          "label", label ? label : json_null(),
                          "marking", it->marking_en, "markingFr", it->marking_fr,
                          "author", it->author, "organisation", it->organisation,
                          "created", created, "body", it->body, "contentHash", hash);
    if (!o)
        return NULL;
    if (it->media_type && it->attachment) {
        size_t b64len = sodium_base64_encoded_len(it->attachment_len,
                                                  sodium_base64_VARIANT_ORIGINAL);
        char *b64 = lsn_malloc(b64len);
        if (!b64) {
            json_decref(o);
            return NULL;
        }
        sodium_bin2base64(b64, b64len, it->attachment, it->attachment_len,
                          sodium_base64_VARIANT_ORIGINAL);
        json_object_set_new(o, "attachment", json_pack("{s:s, s:s}", "mediaType",
                                                       it->media_type, "data", b64));
        lsn_free(b64);
    }
    return o;
}

/* tests/store_contract_fedrel.c — the store contract's part for the signed
 * release messages exchanged with peers (store_fedrel.h), for every
 * back-end: a message is kept once per peer, direction, request and kind
 * (a retry is the same row), an outgoing one waits until it is answered,
 * and the lists filter by peer, direction and request. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "store/store_fedrel.h"
#include "store_contract_fedrel.h"
#define TAP_SHARED_COUNTERS
#include "tap.h"

typedef struct seen {
    size_t n;
    int64_t first_id;
    char kinds[8][16];
    char result[8][64];
} seen;

static int seen_cb(void *ctx, const store_fed_msg *m)
{
    seen *s = ctx;
    if (s->n == 0)
        s->first_id = m->id;
    if (s->n < 8) {
        strncpy(s->kinds[s->n], m->kind, sizeof s->kinds[0] - 1);
        strncpy(s->result[s->n], m->result ? m->result : "", sizeof s->result[0] - 1);
    }
    s->n++;
    return STORE_NEXT;
}

static seen list(store *st, const char *peer, store_fedrel_which which, const uint8_t *rid)
{
    seen s;
    memset(&s, 0, sizeof s);
    lsn_error err;
    if (store_fedrel_list(st, peer, which, rid, seen_cb, &s, &err) != LSN_OK) {
        printf("# fedrel list: %s\n", err.message);
        s.n = (size_t)-1;
    }
    return s;
}

void test_release_messages(store *st)
{
    uint8_t r1[STORE_UUID_LEN], r2[STORE_UUID_LEN];
    store_uuid_new(r1);
    store_uuid_new(r2);
    lsn_error err;
    bool added = false, again = true, other = false, in = false;
    store_fed_msg m = { .peer = "DNK", .outgoing = true, .kind = STORE_FEDREL_NOTICE,
                        .message = "{\"message\":\"a\",\"signature\":\"b\"}", .time_ms = 5 };
    memcpy(m.rid, r1, STORE_UUID_LEN);
    ok(store_fedrel_put(st, &m, &added, &err) == LSN_OK && added,
       "fedrel_a_notice_is_kept");
    m.message = "{\"message\":\"other bytes\",\"signature\":\"c\"}";
    ok(store_fedrel_put(st, &m, &again, &err) == LSN_OK && !again,
       "fedrel_the_same_peer_request_and_kind_is_kept_once");
    m.kind = STORE_FEDREL_OUTCOME;
    ok(store_fedrel_put(st, &m, &other, &err) == LSN_OK && other,
       "fedrel_another_kind_of_the_same_request_is_kept");
    store_fed_msg i = { .peer = "DNK", .outgoing = false, .kind = STORE_FEDREL_CONCUR,
                        .message = "{}", .time_ms = 6 };
    memcpy(i.rid, r2, STORE_UUID_LEN);
    ok(store_fedrel_put(st, &i, &in, &err) == LSN_OK && in, "fedrel_a_received_answer_is_kept");
    seen w = list(st, "DNK", STORE_FEDREL_WAITING, NULL);
    ok(w.n == 2 && strcmp(w.kinds[0], "notice") == 0 && strcmp(w.kinds[1], "outcome") == 0,
       "fedrel_outgoing_messages_wait_oldest_first");
    ok(list(st, "DNK", STORE_FEDREL_IN, NULL).n == 1 && list(st, "JPN", STORE_FEDREL_OUT, NULL).n == 0,
       "fedrel_lists_filter_by_direction_and_peer");
    ok(list(st, NULL, STORE_FEDREL_OUT, r2).n == 0 && list(st, NULL, STORE_FEDREL_IN, r2).n == 1,
       "fedrel_lists_filter_by_request");
    ok(store_fedrel_done(st, w.first_id, 9, "accepted", &err) == LSN_OK, "fedrel_done_is_noted");
    seen after = list(st, "DNK", STORE_FEDREL_WAITING, NULL);
    seen all = list(st, "DNK", STORE_FEDREL_OUT, r1);
    ok(after.n == 1 && strcmp(after.kinds[0], "outcome") == 0 && all.n == 2,
       "fedrel_an_answered_message_no_longer_waits_and_is_still_kept");
    seen one = list(st, "DNK", STORE_FEDREL_OUT, r1);
    ok(one.n == 2 && strcmp(one.kinds[0], "notice") == 0 &&
           strcmp(one.result[0], "accepted") == 0 && one.result[1][0] == '\0',
       "fedrel_its_result_is_kept");
}

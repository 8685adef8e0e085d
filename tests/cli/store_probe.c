/* tests/cli/store_probe.c — look a bearer token up in a node's store, as
 * the node does (hash it, find the user by hash), for client_test.sh.
 *
 * usage: store_probe DB TOKEN
 * Prints the user's name, organisation and roles bitmask ("taro|Mission of
 * Japan|1") and exits 0, prints "none" and exits 1 when no user holds the
 * token, exits 2 when the store cannot be read. */
#include <stdio.h>

#include "liaison/alloc.h"
#include "store/store.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: store_probe DB TOKEN\n");
        return 2;
    }
    store *s = NULL;
    lsn_error err = {0};
    if (store_open(argv[1], &s, &err) != LSN_OK) {
        fprintf(stderr, "store_probe: %s\n", err.message);
        return 2;
    }
    uint8_t h[STORE_HASH_LEN];
    store_token_hash(argv[2], h);
    store_user *u = NULL;
    int rc = 2;
    if (store_user_find_by_token(s, h, &u, &err) != LSN_OK) {
        fprintf(stderr, "store_probe: %s\n", err.message);
    } else if (!u) {
        printf("none\n");
        rc = 1;
    } else {
        printf("%s|%s|%u\n", u->name, u->organisation, u->roles);
        lsn_free(u);
        rc = 0;
    }
    store_close(s);
    return rc;
}

#!/bin/sh
# scripts/rename-core-helpers.sh — rename the core helpers' old lsn_ names
# (which read as public API) to their core_ names in the given files, or in
# every C file of the tree. Used once when the helpers were renamed (issue 8
# item 7); run it again on files merged from a branch that still used the
# old names, then drop the transitional block at the end of src/core/alloc.h
# and src/core/error.h once no file needs it.
set -eu
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
    set -- $(git ls-files '*.c' '*.h' | grep -v '^include/')
fi
sed -i -E \
    -e 's/\blsn_malloc\b/core_malloc/g' \
    -e 's/\blsn_calloc\b/core_calloc/g' \
    -e 's/\blsn_realloc\b/core_realloc/g' \
    -e 's/\blsn_strdup\b/core_strdup/g' \
    -e 's/\blsn_strndup\b/core_strndup/g' \
    -e 's/\blsn_misuse\b/core_misuse/g' \
    -e 's/\blsn_fail\b/core_fail/g' \
    -e 's/\blsn_error_clear\b/core_error_clear/g' \
    "$@"

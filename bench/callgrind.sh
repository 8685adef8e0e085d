#!/usr/bin/env bash
# bench/callgrind.sh — instructions per operation of liaison-bench, measured
# with callgrind at two iteration counts so that set-up (loading the policy,
# parsing the label, process start) cancels:
#     Ir/op = (Ir(N2) - Ir(N1)) / (N2 - N1)
# Usage: bench/callgrind.sh BENCH [liaison-bench options...]
#   BENCH: the liaison-bench binary of a release build (no sanitizers), e.g.
#     meson setup /tmp/build-rel -Dbuildtype=release && ninja -C /tmp/build-rel
#     bench/callgrind.sh /tmp/build-rel/bench/liaison-bench
# Prints one line per operation; keeps the callgrind.out.* files of the larger
# run in $CG_DIR (default: a temporary directory) for callgrind_annotate.
set -eu
bench=${1:?usage: callgrind.sh BENCH [options]}
shift
opts=("$@")
dir=${CG_DIR:-$(mktemp -d)}
ir() { # op n -> total instructions of the run
    valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out.$1.$2" \
        "$bench" "$1" -n "$2" "${opts[@]}" 2>&1 >/dev/null |
        sed -n 's/.*Collected : *\([0-9]*\).*/\1/p; s/.*I *refs: *\([0-9,]*\).*/\1/p' |
        tr -d , | head -n 1
}
for spec in decide:1000:101000 mark:1000:21000 parse-4774:100:1100 \
            parse-json:100:1100 load:2:12; do
    op=${spec%%:*}; rest=${spec#*:}; n1=${rest%%:*}; n2=${rest#*:}
    a=$(ir "$op" "$n1"); b=$(ir "$op" "$n2")
    echo "$op $n1 $n2 $a $b" | awk '{ printf "%-11s %12.1f instructions/op  (Ir %d at N=%d, %d at N=%d)\n", $1, ($5-$4)/($3-$2), $4, $2, $5, $3 }'
done
echo "callgrind output: $dir"

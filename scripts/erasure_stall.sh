#!/bin/bash
# How long customer pages stall while an erasure runs on a running server
# (BENCHMARKS.md, "The store rewrite after an erasure").
# usage: scripts/erasure_stall.sh RAPPORT_BINARY DATA_DIR TAG PORT
#   DATA_DIR: a data directory to copy, e.g. BENCH_DIR/data after
#   `rapport bench ingest --records 100000 --format ndjson --dir BENCH_DIR`.
# Copies it to /tmp/rw-TAG, serves it on 127.0.0.1:PORT, reads one customer
# page every 20 ms while another person is erased, and prints the slowest
# pages and the `store.rewrite` audit entry.
set -e
BIN=$1; SOURCE=$2; TAG=$3; PORT=$4; D=/tmp/rw-$TAG
rm -rf $D && mkdir -p $D && cp -a "$SOURCE" $D/data && printf 'data_dir = "%s/data"\n' $D > $D/rapport.toml
KEY=$($BIN keys create --config $D/rapport.toml --name m --role admin --json | python3 -c 'import sys,json;print(json.load(sys.stdin)["secret"])')
$BIN serve --config $D/rapport.toml --listen 127.0.0.1:$PORT > $D/serve.log 2>&1 &
SP=$!
H="Authorization: Bearer $KEY"; B=http://127.0.0.1:$PORT
for i in $(seq 1 300); do curl -sf -H "$H" $B/healthz >/dev/null 2>&1 && break; sleep 1; done
IDS=$(curl -s -H "$H" "$B/v1/search?q=*&filter.customer_kind=person&limit=2&group=customer" | python3 -c 'import sys,json;d=json.load(sys.stdin);print(" ".join(c["customer_id"] for c in d["customers"]))')
set -- $IDS; VICTIM=$1; READER=$2
( while [ ! -f $D/stop ]; do curl -s -o /dev/null -w "%{time_total}\n" -H "$H" $B/v1/customers/$READER >> $D/pages.txt; sleep 0.02; done ) &
RL=$!
sleep 2
T0=$(date +%s.%N)
curl -s -o $D/erase.json -w "erasure %{http_code} %{time_total} s\n" -H "$H" -H "content-type: application/json" -d "{\"customer_id\":\"$VICTIM\",\"reason\":\"bench\"}" $B/v1/erasures
sleep 2; touch $D/stop; wait $RL || true
echo "pages read: $(wc -l < $D/pages.txt); slowest: $(sort -n $D/pages.txt | tail -3 | tr '\n' ' ')"
curl -s -H "$H" "$B/v1/audit?action=store.rewrite" | python3 -c 'import sys,json;[print({k:v for k,v in e.items() if k not in ("prev_hash","hash")}) for e in json.load(sys.stdin)["entries"]]'
grep -E "store file rewritten|resolved|segments" $D/serve.log | tail -4 | cut -c1-300
kill $SP; wait $SP 2>/dev/null || true

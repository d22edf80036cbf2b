#!/usr/bin/env bash
# Robustness of the API server against hostile and broken clients, black-box: one real
# `ckube server` (SQLite in a temporary data dir, a free loopback port), driven by curl
# with the admin client certificate and by tests/tools/robust_client.c (massed and
# misbehaving TLS clients). The bar: malformed bodies, oversized bodies, unknown
# resources, invalid names and values, wrong types, slow or vanishing clients and
# thousands of idle watches each get a clear Status error or are cut off cleanly, never
# a crash, a hang of other clients, a partial write or unbounded memory; SIGTERM in the
# middle of it all exits 0 within seconds; an ASan build logs no sanitizer report.
# Usage: robustness.sh path/to/ckube   (ROBUST_WATCHES overrides the 2000 idle watches)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$(realpath "${1:-build/ckube}")
n_watches=${ROBUST_WATCHES:-2000}

work=$(mktemp -d /tmp/ckube-robust.XXXXXX)
server_pid=
bg_pids=()
cleanup() {
  for p in "${bg_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -9 "$server_pid"; fi
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

pass=0 fail=0
# ASan keeps freed memory in quarantine, so memory checks mean nothing under it.
asan=
nm "$bin" 2>/dev/null | grep __asan_init >/dev/null && asan=1
skip() { echo "SKIP $* (ASan build: freed memory stays in quarantine)"; }
ok() { pass=$((pass + 1)); echo "PASS $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
finish() {
  echo "($((SECONDS / 60))m$((SECONDS % 60))s)"
  echo "robustness: $pass passed, $fail failed"
  [ "$fail" = 0 ]
  exit
}

tool=$work/robust_client
if ! cc -O2 -g -D_GNU_SOURCE "$root/tests/tools/robust_client.c" -o "$tool" -lssl -lcrypto \
  -lpthread; then
  bad "building tests/tools/robust_client.c"
  finish
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
# The API server alone: its threads, descriptors and memory are what this suite measures,
# and the controllers' and scheduler's own connections would blur them.
"$bin" server --data-dir "$work/data" --https-listen-port "$port" --disable-controller-manager \
  --disable-scheduler >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 150); do
  curl -sk -m 2 "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
tls=$work/data/tls
base=https://127.0.0.1:$port
if ! curl -sk -m 2 "$base/readyz" >/dev/null 2>&1 || [ ! -f "$tls/admin.key" ]; then
  bad "server did not start:"
  cat "$work/server.log"
  finish
fi

# ---- helpers ---------------------------------------------------------------------------

cm=/api/v1/namespaces/default/configmaps
resp=$work/resp
# call METHOD PATH CONTENT-TYPE BODYFILE [curl args...]: sets $code and $secs; body in $resp.
call() {
  local method=$1 path=$2 ct=$3 file=$4
  shift 4
  local args=(-sS -m 20 --cacert "$tls/ca.crt" --cert "$tls/admin.crt" --key "$tls/admin.key"
    -o "$resp" -w '%{http_code} %{time_total}' -X "$method")
  [ -n "$ct" ] && args+=(-H "Content-Type: $ct")
  [ -n "$file" ] && args+=(--data-binary "@$file")
  local out
  out=$(curl "${args[@]}" "$@" "$base$path" 2>"$work/curl.err") || true
  code=${out% *}
  secs=${out#* }
  [ -n "$code" ] || code=000
}
# A Status object with this code, or a description of what came back instead.
status_problem() { # CODE [REASON]
  local want=$1 reason=${2:-}
  jq -e --argjson c "$want" --arg r "$reason" \
    '.kind == "Status" and .apiVersion == "v1" and .status == "Failure" and .code == $c and
     (.message | type == "string" and length > 0) and ($r == "" or .reason == $r)' \
    "$resp" >/dev/null 2>&1 && return 1
  echo "HTTP $code in ${secs}s, body: $(head -c 400 "$resp" 2>/dev/null) $(head -c 200 "$work/curl.err")"
}
# expect WHAT CODES [REASON]: the last call answered one of CODES ("400" or "400|422") with
# a matching Status.
expect() {
  local what=$1 codes=$2 reason=${3:-}
  if [[ "|$codes|" == *"|$code|"* ]] && ! status_problem "$code" "$reason" >/dev/null; then
    ok "$what -> $code"
  else
    bad "$what: expected a Status $codes${reason:+ $reason}, got $(status_problem "${codes%%|*}" "$reason" || true)"
  fi
}
healthy() { # WHAT: the server is alive and a GET is answered within 2 s
  if ! kill -0 "$server_pid" 2>/dev/null; then
    bad "$1: the server died"
    tail -40 "$work/server.log"
    finish
  fi
  call GET "$cm/victim" "" ""
  if [ "$code" = 200 ] && awk -v s="$secs" 'BEGIN{exit !(s < 2)}'; then
    ok "$1: server healthy"
  else
    bad "$1: server unhealthy: GET $cm/victim -> $code in ${secs}s"
  fi
}
proc_threads() { awk '/^Threads:/{print $2}' "/proc/$server_pid/status"; }
proc_rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$server_pid/status"; }
proc_fds() { ls "/proc/$server_pid/fd" | wc -l; }
victim_state() { # resourceVersion and data of the victim configmap
  call GET "$cm/victim" "" ""
  jq -c '[.metadata.resourceVersion, .data, .metadata.labels]' "$resp" 2>/dev/null
}
# victim_check WHAT: a rejected write must leave the victim as it was; restores it if not.
victim_changes=0
victim_check() {
  local now
  now=$(victim_state)
  [ "$now" = "$victim0" ] && return 0
  victim_changes=$((victim_changes + 1))
  bad "$1 changed the victim although rejected or invalid: before $victim0, after $now"
  call DELETE "$cm/victim" "" ""
  call POST "$cm" application/json "$work/victim.json"
  victim0=$(victim_state)
}
# start_tool NAME ARGS...: runs robust_client in the background with stdin from a fifo
# (opened on fd given by the caller as $tool_fd) and stdout in $work/NAME.out.
start_tool() {
  local name=$1
  shift
  rm -f "$work/$name.in"
  mkfifo "$work/$name.in"
  timeout 170 "$tool" "$1" "$port" "$tls" "${@:2}" <"$work/$name.in" >"$work/$name.out" 2>&1 &
  bg_pids+=($!)
  tool_pid=$!
}
wait_line() { # FILE REGEX TIMEOUT: waits for a line matching REGEX in FILE
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -Eq "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

gen() { python3 -c "$1" >"$2"; }

# ---- fixtures ---------------------------------------------------------------------------

printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"victim","labels":{"a":"b"}},"data":{"v":"orig"}}' >"$work/victim.json"
call POST "$cm" application/json "$work/victim.json"
[ "$code" = 201 ] || { bad "creating the victim configmap: $code $(head -c 300 "$resp")"; finish; }
victim0=$(victim_state)

# Malformed object bodies: each names its own object "mal-<n>" where the JSON gets that far.
d=$work/bodies
mkdir -p "$d"
printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"mal-1"},"data":{"a":"b"' >"$d/truncated"
printf '[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"mal-2"}}]' >"$d/array"
printf '"a string"' >"$d/string"
printf '42' >"$d/number"
printf 'null' >"$d/null"
printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"mal-3\xff\xfe"}}' >"$d/utf8-name"
printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"mal-4"},"data":{"a":"\xc3\x28\xed\xa0\x80"}}' >"$d/utf8-value"
printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"mal-5"},"data":{"a":"\\ud800"}}' >"$d/lone-surrogate-escape"
printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"mal-6"},"data":{"a":"b\x00c"}}' >"$d/nul-byte"
gen 'print("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"mal-7\"},\"data\":{\"a\":" + "[" * 100000 + "]" * 100000 + "}}", end="")' "$d/deep-array"
gen 'print("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"mal-8\"},\"x\":" + "{\"a\":" * 100000 + "1" + "}" * 100000 + "}", end="")' "$d/deep-object"
gen 'print("[" * 100000, end="")' "$d/deep-unclosed"
printf '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"mal-9"},"spec":{"replicas":1e400}}' >"$d/huge-float"
gen 'print("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"mal-10\"},\"spec\":{\"replicas\":" + "9" * 5000 + "}}", end="")' "$d/huge-integer"
printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"mal-11"}}{"trailing":1}' >"$d/trailing-garbage"
printf '\x00\x01\x02\xff garbage' >"$d/binary"
: >"$d/empty"

for f in truncated array string number null utf8-name utf8-value lone-surrogate-escape nul-byte \
  deep-array deep-object deep-unclosed trailing-garbage binary empty; do
  call POST "$cm" application/json "$d/$f"
  expect "POST configmap, malformed JSON ($f)" 400
  call PUT "$cm/victim" application/json "$d/$f"
  expect "PUT configmap, malformed JSON ($f)" 400
  victim_check "PUT configmap, malformed JSON ($f)"
done
for f in huge-float huge-integer; do
  call POST /apis/apps/v1/namespaces/default/deployments application/json "$d/$f"
  expect "POST deployment, $f" 400
done
leftover=""
for i in 1 2 3 4 5 6 7 8 11; do
  call GET "$cm/mal-$i" "" ""
  [ "$code" = 404 ] || leftover+=" mal-$i($code)"
done
for i in 9 10; do
  call GET "/apis/apps/v1/namespaces/default/deployments/mal-$i" "" ""
  [ "$code" = 404 ] || leftover+=" mal-$i($code)"
done
if [ -z "$leftover" ]; then ok "no object written by a malformed JSON body"; else bad "objects written by malformed bodies:$leftover"; fi
healthy "after malformed JSON"

# YAML bodies. The alias bomb expands to 9^9 strings if aliases are followed blindly.
gen '
print("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mal-yaml-1\nx:")
print("  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]")
prev = "a"
for n in "bcdefghi":
    print("  %s: &%s [%s]" % (n, n, ",".join(["*" + prev] * 9)))
    prev = n
print("data:\n  k: v")' "$d/alias-bomb.yaml"
gen 'print("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mal-yaml-2\nx: " + "[" * 100000 + "]" * 100000)' "$d/deep.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mal-yaml-3\n data: [unclosed\n\t: : :\n' >"$d/broken.yaml"
printf -- '- apiVersion: v1\n- kind: ConfigMap\n' >"$d/list.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mal-yaml-4\n  labels: *undefined\n' >"$d/undefined-alias.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "mal-yaml-5\xff"\n' >"$d/utf8.yaml"
rss_before=$(proc_rss_kb)
for f in alias-bomb deep broken list undefined-alias utf8; do
  call POST "$cm" application/yaml "$d/$f.yaml"
  expect "POST configmap, YAML $f" 400
  if ! awk -v s="$secs" 'BEGIN{exit !(s < 5)}'; then bad "POST YAML $f took ${secs}s"; fi
done
rss_growth=$((($(proc_rss_kb) - rss_before) / 1024))
if [ -n "$asan" ]; then skip "YAML memory check"; elif [ "$rss_growth" -lt 64 ]; then ok "YAML alias bomb and deep YAML: RSS grew ${rss_growth} MiB"; else bad "YAML alias bomb / deep YAML: server RSS grew ${rss_growth} MiB"; fi
leftover=""
for i in 1 2 3 4 5; do
  call GET "$cm/mal-yaml-$i" "" ""
  [ "$code" = 404 ] || leftover+=" mal-yaml-$i($code)"
done
if [ -z "$leftover" ]; then ok "no object written by a malformed YAML body"; else bad "objects written by malformed YAML:$leftover"; fi

# Protobuf bodies: no magic, magic then garbage, a truncated length, an absurd length.
printf 'garbage, not protobuf' >"$d/pb-nomagic"
printf 'k8s\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff' >"$d/pb-garbage"
printf 'k8s\x00\x0a\x80\x80\x80\x80\x08' >"$d/pb-truncated-len"
printf 'k8s\x00\x0a\x0c\x0a\x02v1\x12\x06Config' >"$d/pb-short"
printf 'k8s\x00\x12\xff\xff\xff\xff\x0f\x0a\x00' >"$d/pb-huge-len"
printf 'k8s\x00' >"$d/pb-magic-only"
head -c 65536 /dev/urandom >"$d/pb-random"
for f in pb-nomagic pb-garbage pb-truncated-len pb-short pb-huge-len pb-magic-only pb-random; do
  call POST "$cm" application/vnd.kubernetes.protobuf "$d/$f"
  expect "POST configmap, protobuf $f" 400
  call PUT "$cm/victim" application/vnd.kubernetes.protobuf "$d/$f"
  expect "PUT configmap, protobuf $f" 400
  victim_check "PUT configmap, protobuf $f"
done
healthy "after malformed YAML and protobuf"

# Unsupported media types.
printf '<configmap/>' >"$d/xml"
call POST "$cm" application/xml "$d/xml"
expect "POST with Content-Type application/xml" 415 UnsupportedMediaType
call PUT "$cm/victim" text/plain "$d/xml"
expect "PUT with Content-Type text/plain" 415 UnsupportedMediaType
call PATCH "$cm/victim" application/xml "$d/xml"
expect "PATCH with Content-Type application/xml" 415 UnsupportedMediaType
call PATCH "$cm/victim" application/json "$d/truncated"
expect "PATCH with Content-Type application/json (not a patch type)" 415 UnsupportedMediaType

# Patches: every patch type with garbage. Decoding failures are 400; a well-formed patch
# that cannot apply is 422 (Kubernetes answers either, depending on the stage).
printf '[{"op":"explode","path":"/data/v"}]' >"$d/jp-bad-op"
printf '[{"op":"replace","path":"/no/such/path","value":1}]' >"$d/jp-bad-path"
printf '[{"op":"add"}]' >"$d/jp-missing-path"
printf '{"op":"add","path":"/data/x","value":"y"}' >"$d/jp-object"
printf '[1,2,3]' >"$d/mp-array"
printf '{"metadata":{"name":"victim"},"data":{"v":{"nested":1}}}' >"$d/mp-wrong-type"
printf '{"metadata":{"$patch":"explode"},"data":{"$retainKeys":7}}' >"$d/smp-bad-directive"
printf '{"metadata":{"labels":{"$patch":"replace","bad key!":"x"}}}' >"$d/smp-bad-label"
for ct in application/json-patch+json application/merge-patch+json \
  application/strategic-merge-patch+json application/apply-patch+yaml; do
  short=${ct#application/}
  for f in truncated utf8-value nul-byte deep-array deep-unclosed binary empty; do
    call PATCH "$cm/victim?fieldManager=robust" "$ct" "$d/$f"
    expect "PATCH $short, malformed body ($f)" "400|422"
    victim_check "PATCH $short, malformed body ($f)"
  done
done
for f in jp-bad-op jp-bad-path jp-missing-path jp-object mp-array; do
  call PATCH "$cm/victim" application/json-patch+json "$d/$f"
  expect "PATCH json-patch, $f" "400|422"
  victim_check "PATCH json-patch, $f"
done
printf '{"metadata":{"labels":{"bad key!":"x"}}}' >"$d/mp-bad-label"
printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{},"data":{"v":"nameless"}}' >"$d/put-nameless"
# one_write METHOD CT FILE CODES [REASON] WHAT
one_write() {
  call "$1" "$cm/victim${7:-}" "$2" "$3"
  expect "$6" "$4" "$5"
  victim_check "$6"
}
one_write PATCH application/merge-patch+json "$d/mp-array" "400|422" "" "PATCH merge-patch, top-level array"
one_write PATCH application/merge-patch+json "$d/mp-wrong-type" "400|422" "" "PATCH merge-patch, data value of the wrong type"
one_write PATCH application/merge-patch+json "$d/mp-bad-label" 422 Invalid "PATCH merge-patch, invalid label key"
# Kubernetes answers an unknown $patch directive with a 500 carrying the patch error.
one_write PATCH application/strategic-merge-patch+json "$d/smp-bad-directive" "400|422|500" "" "PATCH strategic-merge-patch, unknown directives"
one_write PATCH application/strategic-merge-patch+json "$d/smp-bad-label" 422 Invalid "PATCH strategic-merge-patch, \$patch:replace of labels with an invalid key"
one_write PATCH application/apply-patch+yaml "$d/alias-bomb.yaml" "400|422" "" "PATCH apply-patch+yaml, alias bomb" "?fieldManager=robust"
one_write PATCH application/apply-patch+yaml "$work/victim.json" "400|422" "" "PATCH apply-patch+yaml without fieldManager"
one_write PATCH application/merge-patch+json "$d/pb-random" "400|422" "" "PATCH merge-patch, random bytes"
one_write PUT application/json "$d/put-nameless" 400 BadRequest "PUT of an object without metadata.name"
[ "$victim_changes" = 0 ] && ok "victim unchanged by every rejected PUT/PATCH"
healthy "after malformed patches"

# Wrong types, unknown kinds and versions in the body, mismatched name/namespace.
body() { printf '%s' "$1" >"$d/tmp.json"; }
body '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"wt-1"},"data":{"a":1}}'
call POST "$cm" application/json "$d/tmp.json"
expect "configmap data value is a number" 400 BadRequest
body '{"apiVersion":"v1","kind":"ConfigMap","metadata":"wt-2"}'
call POST "$cm" application/json "$d/tmp.json"
expect "metadata is a string" 400 BadRequest
body '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"wt-3","labels":["a"]}}'
call POST "$cm" application/json "$d/tmp.json"
expect "labels is an array" 400 BadRequest
body '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"wt-4"},"spec":{"replicas":"three"}}'
call POST /apis/apps/v1/namespaces/default/deployments application/json "$d/tmp.json"
expect "deployment replicas is a string" 400 BadRequest
body '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"wt-5"},"binaryData":{"a":"not base64!"}}'
call POST "$cm" application/json "$d/tmp.json"
expect "binaryData not base64" 400 BadRequest
body '{"apiVersion":"v1","kind":"Bogus","metadata":{"name":"uk-1"}}'
call POST "$cm" application/json "$d/tmp.json"
expect "unknown kind in the body" 400 BadRequest
body '{"apiVersion":"v9","kind":"ConfigMap","metadata":{"name":"uk-2"}}'
call POST "$cm" application/json "$d/tmp.json"
expect "unknown version in the body" 400 BadRequest
body '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"uk-3"}}'
call POST "$cm" application/json "$d/tmp.json"
expect "kind Pod posted to configmaps" 400 BadRequest
body '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"other"},"data":{"v":"x"}}'
call PUT "$cm/victim" application/json "$d/tmp.json"
expect "PUT with a name differing from the URL" 400 BadRequest
body '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"victim","namespace":"kube-system"},"data":{"v":"x"}}'
call PUT "$cm/victim" application/json "$d/tmp.json"
expect "PUT with a namespace differing from the URL" 400 BadRequest
leftover=""
for n in wt-1 wt-2 wt-3 wt-5 uk-1 uk-2 uk-3 other; do
  call GET "$cm/$n" "" ""
  [ "$code" = 404 ] || leftover+=" $n($code)"
done
[ -z "$leftover" ] && ok "no object written by a rejected body" || bad "objects written by rejected bodies:$leftover"

# Unknown resources and versions in the URL.
for p in /api/v1/foos /api/v2/pods /api/v1/namespaces/default/foos /apis/nosuch.example.com/v1/things \
  /apis/apps/v9/deployments /apis/apps/v1/namespaces/default/nosuch /api/v1/namespaces/default/configmaps/victim/nosuchsub; do
  call GET "$p" "" ""
  expect "GET $p" 404 NotFound
done
call POST /api/v1/namespaces/default/foos application/json "$work/victim.json"
expect "POST to an unknown resource" 404 NotFound
call POST /apis/nosuch.example.com/v1/namespaces/default/things application/json "$work/victim.json"
expect "POST to an unknown group" 404 NotFound

# Invalid names and values: 422 Invalid with causes naming the field.
# expect_cause WHAT FIELD: the last answer is 422 Invalid with a cause for FIELD.
expect_cause() {
  if [ "$code" = 422 ] && jq -e --arg f "$2" '.kind == "Status" and .reason == "Invalid" and
      .code == 422 and ([.details.causes[]? | select(.field == $f)] | length > 0)' "$resp" >/dev/null 2>&1; then
    ok "$1 -> 422 with a cause for $2"
  else
    bad "$1: expected 422 Invalid with a cause for $2, got HTTP $code: $(head -c 400 "$resp")"
  fi
}
long=$(printf 'a%.0s' $(seq 1 254))
for n in "Bad_Name!" "-leading-dash" "trailing-dash-" "UPPER" "$long" "a..b"; do
  body "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"$n\"}}"
  call POST "$cm" application/json "$d/tmp.json"
  expect_cause "configmap named '${n:0:20}'" metadata.name
done
body '{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}'
call POST "$cm" application/json "$d/tmp.json"
expect_cause "configmap without a name" metadata.name
body '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bad.dots"}}'
call POST /api/v1/namespaces application/json "$d/tmp.json"
expect_cause "namespace named bad.dots" metadata.name
body '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"neg"},"spec":{"replicas":-1,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}'
call POST /apis/apps/v1/namespaces/default/deployments application/json "$d/tmp.json"
expect_cause "deployment with replicas -1" spec.replicas
body '{"apiVersion":"v1","kind":"Service","metadata":{"name":"badport"},"spec":{"ports":[{"port":70000}]}}'
call POST /api/v1/namespaces/default/services application/json "$d/tmp.json"
expect_cause "service with port 70000" "spec.ports[0].port"
body '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"badlabel","labels":{"bad key!":"v"}}}'
call POST "$cm" application/json "$d/tmp.json"
expect_cause "configmap with label key 'bad key!'" metadata.labels
healthy "after type, kind, name and value errors"

# ---- oversized bodies --------------------------------------------------------------------

gen 'print("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"huge\"},\"data\":{\"a\":\"" + "x" * (4 * 1024 * 1024) + "\"}}", end="")' "$d/4mib.json"
rss_before=$(proc_rss_kb)
slow=""
for i in 1 2 3 4 5 6; do
  call POST "$cm" application/json "$d/4mib.json"
  expect "POST 4 MiB body (#$i)" 413 RequestEntityTooLarge
  awk -v s="$secs" 'BEGIN{exit !(s < 3)}' || slow+=" ${secs}s"
  call PUT "$cm/victim" application/json "$d/4mib.json" -H 'Transfer-Encoding: chunked'
  expect "PUT 4 MiB chunked body without Content-Length (#$i)" 413 RequestEntityTooLarge
  awk -v s="$secs" 'BEGIN{exit !(s < 3)}' || slow+=" ${secs}s"
done
call PATCH "$cm/victim" application/merge-patch+json "$d/4mib.json"
expect "PATCH 4 MiB body" 413 RequestEntityTooLarge
[ -z "$slow" ] && ok "413s answered within 3 s" || bad "413 answers were slow:$slow"
# 8 at once, to see memory does not scale with the bodies sent
posts=()
for i in 1 2 3 4 5 6 7 8; do
  curl -s -m 20 --cacert "$tls/ca.crt" --cert "$tls/admin.crt" --key "$tls/admin.key" -o /dev/null \
    -X POST -H 'Content-Type: application/json' --data-binary "@$d/4mib.json" "$base$cm" &
  posts+=("$!")
done
wait "${posts[@]}"
rss_growth=$((($(proc_rss_kb) - rss_before) / 1024))
if [ -n "$asan" ]; then skip "4 MiB bodies memory check"; elif [ "$rss_growth" -lt 24 ]; then ok "4 MiB bodies: server RSS grew ${rss_growth} MiB"; else bad "4 MiB bodies: server RSS grew ${rss_growth} MiB after 21 refused bodies"; fi
call GET "$cm/huge" "" ""
[ "$code" = 404 ] && ok "no object written by an oversized body" || bad "oversized body wrote an object: GET huge -> $code"
gen 'print("x" * 100000, end="")' "$d/bighdr"
out=$(curl -sS -m 10 --cacert "$tls/ca.crt" --cert "$tls/admin.crt" --key "$tls/admin.key" -o /dev/null \
  -w '%{http_code}' -H "X-Big: $(cat "$d/bighdr")" "$base$cm/victim" 2>&1)
if [[ "$out" =~ ^4[0-9][0-9]$ ]]; then ok "100 kB request header refused ($out)"; else bad "100 kB request header: got '$out', expected a 4xx"; fi
[ "$(victim_state)" = "$victim0" ] && ok "victim unchanged by oversized bodies" || bad "victim changed by oversized bodies: $(victim_state)"
healthy "after oversized bodies"

# ---- slow and vanishing clients ----------------------------------------------------------

# A probe measures other clients' latency while the slow clients are at it.
probe_log=$work/probe.log
: >"$probe_log"
prober() {
  while :; do
    curl -sS -m 10 --cacert "$tls/ca.crt" --cert "$tls/admin.crt" --key "$tls/admin.key" -o /dev/null \
      -w '%{http_code} %{time_total}\n' "$base$cm/victim" >>"$probe_log" 2>/dev/null || echo "000 10" >>"$probe_log"
    sleep 0.2
  done
}
prober &
prober_pid=$!
bg_pids+=("$prober_pid")

# Slow-loris: idle after a partial request line, and dribbling one header byte a second.
# They run for 75 s (the server's idle timeout is 60 s) while the rest goes on.
start_tool loris-idle slowloris 20 0 70
loris_idle_pid=$tool_pid
exec 5>"$work/loris-idle.in"
start_tool loris-drip slowloris 20 1000 70
loris_drip_pid=$tool_pid
exec 6>"$work/loris-drip.in"
wait_line "$work/loris-idle.out" '^connected' 20 && wait_line "$work/loris-drip.out" '^connected' 20
grep -h '^connected' "$work/loris-idle.out" "$work/loris-drip.out" | tr '\n' ' '
echo

# Clients vanishing mid-body (reset right away, and after holding the body 3 s).
"$tool" midbody "$port" "$tls" 5 3 >"$work/midbody-hold.out" 2>&1 &
midbody_hold_pid=$!
bg_pids+=("$midbody_hold_pid")
out=$(timeout 60 "$tool" midbody "$port" "$tls" 50 0 2>&1)
[ "$out" = "midbody 50" ] && ok "50 clients reset mid-body" || bad "midbody: $out"
# ... and mid-stream.
out=$(timeout 60 "$tool" midstream "$port" "$tls" 50 "$cm?watch=1" 2>&1)
[ "$out" = "midstream 50" ] && ok "50 watches reset mid-stream" || bad "midstream: $out"
wait "$midbody_hold_pid"
call GET "$cm/midbody" "" ""
[ "$code" = 404 ] && ok "no object written by a truncated body" || bad "truncated body wrote an object: GET midbody -> $code"

# Watches that never read: the server must cut them off rather than queue without bound.
# 128 KiB values, written 192 times (24 MiB per watcher). A control round without stuck
# watchers first measures what the watch cache's history itself costs.
gen 'print("{\"data\":{\"big\":\"" + "x" * 131072 + "\"}}", end="")' "$d/big-a.json"
gen 'print("{\"data\":{\"big\":\"" + "y" * 131072 + "\"}}", end="")' "$d/big-b.json"
printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big-1"}}' >"$d/big-1.json"
printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big-2"}}' >"$d/big-2.json"
call POST "$cm" application/json "$d/big-1.json"
call POST "$cm" application/json "$d/big-2.json"
big_writes() { # NAME: 192 alternating 128 KiB updates over one connection; prints status counts
  local cfg=$work/writes.cfg i f
  : >"$cfg"
  for i in $(seq 1 192); do
    f=big-a
    [ $((i % 2)) = 0 ] && f=big-b
    printf 'cacert = "%s"\ncert = "%s"\nkey = "%s"\nurl = "%s"\nrequest = "PATCH"\nheader = "Content-Type: application/merge-patch+json"\ndata-binary = "@%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
      "$tls/ca.crt" "$tls/admin.crt" "$tls/admin.key" "$base$cm/$1" "$d/$f.json" >>"$cfg"
    [ "$i" -lt 192 ] && echo next >>"$cfg"
  done
  timeout 120 curl -sS -m 10 -K "$cfg" 2>/dev/null | sort | uniq -c | tr -s ' ' | tr '\n' ' '
}
# The control round has one watcher that reads, so the cache encodes each event as it will
# for the stuck ones.
start_tool reader watch 1 "$cm?watch=1&fieldSelector=metadata.name%3Dbig-1" '"type":"MODIFIED"' 192 60
exec 4>"$work/reader.in"
wait_line "$work/reader.out" '^connected' 20
rss0=$(proc_rss_kb)
out=$(big_writes big-1)
[ "$out" = " 192 200 " ] || bad "control writes: $out"
wait_line "$work/reader.out" '^events' 60
grep -q '^events 1/1' "$work/reader.out" || bad "a reading watcher missed events of the control writes: $(tr '\n' ' ' <"$work/reader.out")"
echo close >&4
exec 4>&-
wait "$tool_pid" 2>/dev/null
sleep 1
rss1=$(proc_rss_kb)
start_tool stuck stuck 3 "$cm?watch=1&fieldSelector=metadata.name%3Dbig-2"
exec 4>"$work/stuck.in"
wait_line "$work/stuck.out" '^connected' 20
out=$(big_writes big-2)
[ "$out" = " 192 200 " ] || bad "writes with stuck watchers: $out"
sleep 1
rss2=$(proc_rss_kb)
echo drain >&4
exec 4>&-
wait_line "$work/stuck.out" '^stream 2 ' 60
cut=$(grep -c 'end=cut' "$work/stuck.out")
if [ "$cut" = 3 ]; then
  ok "3 watches that never read were cut off ($(grep -o 'bytes=[0-9]*' "$work/stuck.out" | tr '\n' ' '))"
else
  bad "watches that never read were not cut off after 24 MiB of events: $(tr '\n' ' ' <"$work/stuck.out")"
fi
extra=$(((rss2 - rss1 - (rss1 - rss0)) / 1024))
if [ -n "$asan" ]; then
  skip "stuck watchers memory check"
elif [ "$extra" -lt 24 ]; then
  ok "stuck watchers cost ${extra} MiB beyond the control round ($(((rss1 - rss0) / 1024)) MiB)"
else
  bad "stuck watchers: server RSS grew $(((rss2 - rss1) / 1024)) MiB vs $(((rss1 - rss0) / 1024)) MiB for the same writes without them (${extra} MiB held for 3 stuck streams)"
fi

# The slow-loris connections: still there for the timeout to act on.
wait "$loris_idle_pid" "$loris_drip_pid" 2>/dev/null
exec 5>&- 6>&-
idle_out=$(grep '^closed' "$work/loris-idle.out")
drip_out=$(grep '^closed' "$work/loris-drip.out")
if [[ "$idle_out" =~ ^closed\ 20/20\ first=[0-9.]+\ last=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -le 70 ]; then
  ok "20 connections idle after a partial request line were closed ($idle_out)"
else
  bad "connections idle after a partial request line were not closed within 70 s: ${idle_out:-$(cat "$work/loris-idle.out")}"
fi
if [[ "$drip_out" =~ ^closed\ 20/20\ first=[0-9.]+\ last=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -le 70 ]; then
  ok "20 slow-loris connections dribbling a header were closed ($drip_out)"
else
  bad "slow-loris connections dribbling one header byte a second were not closed within 70 s (each holds a server thread and a connection slot indefinitely): ${drip_out:-$(cat "$work/loris-drip.out")}"
fi
kill "$prober_pid" 2>/dev/null
wait "$prober_pid" 2>/dev/null
n_probes=$(wc -l <"$probe_log")
slow_probes=$(awk '$1 != 200 || $2 >= 2' "$probe_log" | wc -l)
max_probe=$(awk 'BEGIN{m=0} $2 > m {m=$2} END{print m}' "$probe_log")
if [ "$n_probes" -gt 20 ] && [ "$slow_probes" = 0 ]; then
  ok "$n_probes requests from another client during the slow clients all answered 200 within 2 s (max ${max_probe}s)"
else
  bad "other clients during the slow clients: $slow_probes of $n_probes probes failed or took >= 2 s (max ${max_probe}s): $(awk '$1 != 200 || $2 >= 2' "$probe_log" | head -5 | tr '\n' ';')"
fi
healthy "after slow and vanishing clients"

# ---- thousands of idle watches -----------------------------------------------------------

printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"watched"},"data":{"n":"0"}}' >"$d/watched.json"
call POST "$cm" application/json "$d/watched.json"
# Warm up: the store's reader pool opens its files lazily; let every reader open them.
start_tool warm watch 64 "$cm?watch=1" '"type":"MODIFIED"' 0 5
exec 4>"$work/warm.in"
wait_line "$work/warm.out" '^events' 30
lists=()
for i in $(seq 1 16); do
  curl -s -m 20 --cacert "$tls/ca.crt" --cert "$tls/admin.crt" --key "$tls/admin.key" -o /dev/null \
    "$base$cm?limit=5" &
  lists+=("$!")
done
wait "${lists[@]}"
echo close >&4
exec 4>&-
wait "$tool_pid" 2>/dev/null
sleep 1
threads0=$(proc_threads) fds0=$(proc_fds) rss0=$(proc_rss_kb)
ls -l "/proc/$server_pid/fd" 2>/dev/null | awk '{print $NF}' | sort >"$work/fds0"

watch_round() { # ROUND: n_watches watches get 3 updates each, then all vanish at once
  local round=$1 t0 out i
  t0=$(date +%s)
  start_tool "w$round" watch "$n_watches" "$cm?watch=1&fieldSelector=metadata.name%3Dwatched" '"type":"MODIFIED"' 3 60
  exec 4>"$work/w$round.in"
  if ! wait_line "$work/w$round.out" '^connected' 120; then
    bad "round $round: $n_watches watches did not connect: $(cat "$work/w$round.out")"
  fi
  out=$(grep '^connected' "$work/w$round.out")
  [ "$out" = "connected $n_watches" ] && ok "round $round: $n_watches watches open in $(($(date +%s) - t0)) s (server threads $(proc_threads), fds $(proc_fds), RSS $(($(proc_rss_kb) / 1024)) MiB)" ||
    bad "round $round: only '$out' of $n_watches watches answered 200"
  call GET "$cm/victim" "" ""
  [ "$code" = 200 ] && awk -v s="$secs" 'BEGIN{exit !(s < 2)}' && ok "round $round: GET with $n_watches watches open took ${secs}s" ||
    bad "round $round: GET with $n_watches watches open -> $code in ${secs}s"
  for i in 1 2 3; do
    body "{\"data\":{\"n\":\"$round-$i\"}}"
    call PATCH "$cm/watched" application/merge-patch+json "$d/tmp.json"
    [ "$code" = 200 ] || bad "round $round: update $i -> $code"
  done
  wait_line "$work/w$round.out" '^events' 70
  out=$(grep '^events' "$work/w$round.out")
  [[ "$out" == "events $n_watches/$n_watches "* ]] && ok "round $round: every watcher received the 3 events ($out)" ||
    bad "round $round: not every watcher received the 3 updates: ${out:-no report}"
  peak=$(proc_rss_kb)
  echo close >&4
  exec 4>&-
  wait "$tool_pid" 2>/dev/null
  for i in $(seq 1 100); do
    [ "$(proc_threads)" -le "$threads0" ] && break
    sleep 0.1
  done
  sleep 1
}
watch_round 1
threads1=$(proc_threads) fds1=$(proc_fds) rss1=$(proc_rss_kb) peak1=$peak
[ "$threads1" -le "$threads0" ] && ok "round 1: threads back to $threads1 (baseline $threads0)" ||
  bad "round 1: $threads1 threads 10 s after every watcher left (baseline $threads0)"
if [ "$fds1" -le "$fds0" ]; then
  ok "round 1: open fds back to $fds1 (baseline $fds0)"
else
  bad "round 1: $fds1 open fds after every watcher left (baseline $fds0); new: $(ls -l "/proc/$server_pid/fd" | awk '{print $NF}' | sort | comm -13 "$work/fds0" - | tr '\n' ' ')"
fi
allowed=$(((peak1 - rss0) / 4))
[ "$allowed" -lt 32768 ] && allowed=32768
if [ -n "$asan" ]; then
  skip "round 1 memory check"
elif [ $((rss1 - rss0)) -le "$allowed" ]; then
  ok "round 1: RSS back to $((rss1 / 1024)) MiB (baseline $((rss0 / 1024)), peak $((peak1 / 1024)))"
else
  bad "round 1: RSS $((rss1 / 1024)) MiB after every watcher left: baseline $((rss0 / 1024)) MiB, peak $((peak1 / 1024)) MiB (allowed: baseline + $((allowed / 1024)) MiB)"
fi
n_watches=$((n_watches / 2)) watch_round 2
threads2=$(proc_threads) fds2=$(proc_fds) rss2=$(proc_rss_kb)
[ "$threads2" -le "$threads0" ] && [ "$fds2" -le "$fds0" ] && ok "round 2: threads $threads2, fds $fds2 (baseline $threads0, $fds0)" ||
  bad "round 2: threads $threads2, fds $fds2 after every watcher left (baseline $threads0, $fds0)"
if [ -n "$asan" ]; then
  skip "round 2 memory check"
elif [ $((rss2 - rss1)) -le 16384 ]; then
  ok "round 2: RSS $((rss2 / 1024)) MiB, no growth over round 1 ($((rss1 / 1024)) MiB)"
else
  bad "round 2: RSS grew from $((rss1 / 1024)) to $((rss2 / 1024)) MiB over a second identical round of $n_watches watches: memory is lost per watch"
fi
healthy "after the idle watch rounds"

# ---- SIGTERM in the middle of everything ---------------------------------------------------

start_tool t-watch watch 100 "$cm?watch=1" '"type":"NEVER"' 1 1000
exec 4>"$work/t-watch.in"
start_tool t-stuck stuck 2 "$cm?watch=1"
exec 3>"$work/t-stuck.in"
start_tool t-loris slowloris 10 500 60
exec 5>"$work/t-loris.in"
"$tool" midbody "$port" "$tls" 3 30 >/dev/null 2>&1 &
bg_pids+=($!)
( while :; do call PATCH "$cm/big-2" application/merge-patch+json "$d/big-a.json"; call PATCH "$cm/big-2" application/merge-patch+json "$d/big-b.json"; done ) &
writer_pid=$!
bg_pids+=("$writer_pid")
wait_line "$work/t-watch.out" '^connected' 30
wait_line "$work/t-stuck.out" '^connected' 30
sleep 2
t0=$(date +%s%N)
kill -TERM "$server_pid"
exited=
# LeakSanitizer scans the whole heap at exit, which takes long after the watch rounds.
for _ in $(seq 1 600); do
  if ! kill -0 "$server_pid" 2>/dev/null || [ ! -d "/proc/$server_pid/task/$server_pid" ] ||
    grep -q '^State:.*Z' "/proc/$server_pid/status" 2>/dev/null; then
    exited=1
    break
  fi
  sleep 0.1
done
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
if [ -n "$exited" ]; then
  wait "$server_pid"
  rc=$?
  server_pid=
  [ "$rc" = 0 ] && ok "SIGTERM under load: exit 0 in ${elapsed_ms} ms" || bad "SIGTERM under load: exit status $rc after ${elapsed_ms} ms"
  if [ "$elapsed_ms" -gt 5000 ]; then
    if [ -n "$asan" ]; then echo "NOTE SIGTERM took ${elapsed_ms} ms under ASan (LeakSanitizer's exit scan)"; else bad "SIGTERM under load took ${elapsed_ms} ms (> 5 s)"; fi
  fi
else
  bad "SIGTERM under load: still running after 60 s (watches, stuck streams, slow-loris and half-sent bodies open); threads: $(ls "/proc/$server_pid/task" | wc -l)"
  gdb -batch -p "$server_pid" -ex 'thread apply all bt 8' 2>/dev/null | grep -E '^#|^Thread' | head -60 || true
  kill -9 "$server_pid"
  wait "$server_pid" 2>/dev/null
  server_pid=
fi
kill "$writer_pid" 2>/dev/null
exec 3>&- 4>&- 5>&-
for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
wait "${bg_pids[@]}" 2>/dev/null
bg_pids=()

if grep -Eq 'ERROR: (Address|Leak|Thread|Memory|Undefined)Sanitizer|runtime error:|SUMMARY: ' "$work/server.log"; then
  bad "sanitizer report in the server log:"
  grep -E -A30 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$work/server.log" | head -80
else
  ok "no sanitizer report in the server log"
fi
finish

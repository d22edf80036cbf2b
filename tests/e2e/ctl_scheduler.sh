#!/usr/bin/env bash
# The scheduler as a user sees it through kubectl: one server, twelve hollow nodes in
# groups (three zones of general nodes, a tainted one, a PreferNoSchedule one, small nodes
# for resources, pod count, preemption and priority), one namespace per rule. For each
# rule a pod that fits lands where the rule says (spec.nodeName, the Scheduled event) and
# a pod that cannot fit stays Pending with PodScheduled=False/Unschedulable and a
# FailedScheduling event whose message is kube-scheduler 1.32's text, word for word.
# Phase 1 runs the rules that leave the nodes alone, side by side; phase 2 changes nodes
# (cordon, labels, a new node) one step at a time; the priority-order check runs last,
# on a quiet cluster.
source "$(dirname "$0")/cluster-lib.sh"

# ---- helpers ----

# pod NS NAME [LABELS] [SPEC] [CONTAINER]: creates a pod from JSON fragments merged into
# a one-container busybox pod (terminationGracePeriodSeconds 0 so deletions are quick).
pod() {
  local ns=$1 name=$2 labels=${3:-'{}'} spec=${4:-'{}'} ctr=${5:-'{}'}
  jq -n --arg n "$name" --argjson l "$labels" --argjson s "$spec" --argjson c "$ctr" \
    '{apiVersion: "v1", kind: "Pod", metadata: {name: $n, labels: $l},
      spec: ({terminationGracePeriodSeconds: 0,
              containers: [{name: "c", image: "busybox"} + $c]} + $s)}' |
    k -n "$ns" create -f - >/dev/null
}
# sel K=V: a spec fragment with that nodeSelector.
sel() { jq -cn --arg k "${1%%=*}" --arg v "${1#*=}" '{nodeSelector: {($k): $v}}'; }
node_of() { k -n "$1" get pod "$2" -o jsonpath='{.spec.nodeName}' 2>/dev/null; }
# events NS POD REASON: messages of the pod's events with that reason, one a line.
events() {
  k -n "$1" get events --field-selector "involvedObject.name=$2,reason=$3" \
    -o jsonpath='{range .items[*]}{.message}{"\n"}{end}' 2>/dev/null
}
cond() {
  k -n "$1" get pod "$2" \
    -o jsonpath='{range .status.conditions[?(@.type=="PodScheduled")]}{.status}/{.reason}/{.message}{end}' \
    2>/dev/null
}
# podstate NS POD: "NODE|PodScheduled status/reason/message" in one request (polls are
# kept to one kubectl run each: the suite runs many side by side).
podstate() {
  k -n "$1" get pod "$2" -o jsonpath='{.spec.nodeName}|{range .status.conditions[?(@.type=="PodScheduled")]}{.status}/{.reason}/{.message}{end}' \
    2>/dev/null
}

# check_has WHAT ACTUAL LINE: some line of ACTUAL is exactly LINE.
check_has() { grep -qxF -- "$3" <<<"$2" || check_report "$1" " (one line)" "$3" "$2"; }

# poll SECS CMD...: CMD until it succeeds or SECS pass; its status.
poll() {
  local deadline=$((SECONDS + $1))
  shift
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}

_landed() {
  local n
  n=$(node_of "$1" "$2")
  [[ -n "$n" && "$n" =~ ^($3)$ ]] && poll 10 _scheduled_event "$1" "$2" "$n"
}
_scheduled_event() {
  events "$1" "$2" Scheduled | grep -qxF "Successfully assigned $1/$2 to $3"
}
# expect_scheduled NS POD NODE-REGEX: the pod is bound to a matching node and has the
# Scheduled event naming it.
expect_scheduled() {
  if poll 60 _landed "$@"; then
    echo "ok - $1/$2 scheduled to $(node_of "$1" "$2")"
  else
    check_report "$1/$2 scheduled to a node matching ^($3)\$ with a Scheduled event" "" \
      "node ~ $3; Successfully assigned $1/$2 to <node>" \
      "node=$(node_of "$1" "$2"); events: $(events "$1" "$2" Scheduled)"
    echo "not ok - $1/$2 scheduled"
  fi
}

_unschedulable() {
  [ "$(podstate "$1" "$2")" = "|False/Unschedulable/$3" ] &&
    events "$1" "$2" FailedScheduling | grep -qxF -- "$3"
}
# expect_unschedulable NS POD MESSAGE: the pod stays unbound with PodScheduled=False,
# reason Unschedulable and MESSAGE, and a FailedScheduling event with exactly MESSAGE.
_pending() { [[ "$(podstate "$1" "$2")" == "|False/Unschedulable/"* ]] && [ -n "$(events "$1" "$2" FailedScheduling)" ]; }
expect_unschedulable() {
  # A failing attempt shows within seconds; then the message gets a few seconds to settle.
  if poll 60 _pending "$@" && poll 10 _unschedulable "$@"; then
    echo "ok - $1/$2 unschedulable with kube's message"
  else
    check_report "$1/$2 unschedulable: condition and FailedScheduling event" "" \
      "False/Unschedulable/$3" \
      "condition: $(cond "$1" "$2")
node: $(node_of "$1" "$2")
events:
$(events "$1" "$2" FailedScheduling)"
    echo "not ok - $1/$2 unschedulable with kube's message"
  fi
}

# Tests run as background jobs so their waits overlap; each reports its failed checks in
# its exit status, and its output is printed when it is joined.
bg_pids=()
bg_names=()
bg() {
  local name=$1
  shift
  (
    checks_failed=0
    set -E
    trap 'echo "not ok - $name: command failed at line $LINENO"; exit $((checks_failed + 1))' ERR
    "$@"
    echo "# $name done at ${SECONDS}s"
    exit $((checks_failed > 200 ? 200 : checks_failed))
  ) >"$CLUSTER_DIR/t-$name.out" 2>&1 &
  bg_pids+=($!)
  bg_names+=("$name")
}
join_all() {
  local i rc
  for i in "${!bg_pids[@]}"; do
    rc=0
    wait "${bg_pids[$i]}" || rc=$?
    echo "# ${bg_names[$i]}"
    cat "$CLUSTER_DIR/t-${bg_names[$i]}.out"
    checks_failed=$((checks_failed + rc))
  done
  bg_pids=()
  bg_names=()
}

TAINT="1 node(s) had untolerated taint {dedicated: e2e}"
AFF="node(s) didn't match Pod's node affinity/selector"
NOHELP="Preemption is not helpful for scheduling"
NOVICTIMS="No preemption victims found for incoming pod"
# fit N FILTER-REASONS PREEMPTION-PART: kube's FitError text for N nodes. The preemption
# message is itself a FitError text ending in '.', and the outer FitError appends its
# separator " %v." after it, hence kube's "..".
fit() { printf '0/%s nodes are available: %s. preemption: %s.' "$1" "$2" "$3"; }
prefit() { printf '0/%s nodes are available: %s' "$1" "$2"; }

cluster_up

# ---- no node at all ----
k create namespace sn-none >/dev/null
pod sn-none early '{}' "$(sel tier=gen)"
expect_unschedulable sn-none early "no nodes available to schedule pods"

hollow_up za --count 2 --first-index 0 --node-labels topology.kubernetes.io/zone=za,tier=gen,cores=8
hollow_up zb --count 2 --first-index 2 --node-labels topology.kubernetes.io/zone=zb,tier=gen,cores=4,disk=ssd
hollow_up zc --count 1 --first-index 4 --node-labels topology.kubernetes.io/zone=zc,tier=gen,cores=2
hollow_up ded --count 1 --first-index 5 --node-labels tier=ded --node-taints dedicated=e2e:NoSchedule
hollow_up softt --count 1 --first-index 6 --node-labels tier=soft --node-taints avoid=yes:PreferNoSchedule
hollow_up soft --count 1 --first-index 7 --node-labels tier=soft
hollow_up res --count 1 --first-index 8 --node-labels tier=res --cpu 1 --memory 1Gi
hollow_up few --count 1 --first-index 9 --node-labels tier=few --pods 2
hollow_up pre --count 1 --first-index 10 --node-labels tier=pre --cpu 1
hollow_up prio --count 1 --first-index 11 --node-labels tier=prio --cpu 1
ready_nodes() { [ "$(k get nodes --no-headers 2>/dev/null | awk '$2 == "Ready"' | wc -l)" = "$1" ]; }
wait_for "12 hollow nodes Ready" 60 ready_nodes 12 && echo "ok - 12 nodes Ready at ${SECONDS}s"
N=12

# The pod that found no node schedules once nodes appear.
expect_scheduled sn-none early 'hollow-[0-4]'

k apply -f - >/dev/null <<'YAML'
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: e2e-low}
value: 100
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: e2e-high}
value: 1000
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: e2e-high-never}
value: 1000
preemptionPolicy: Never
YAML
for ns in sn-name sn-res sn-pods sn-ports sn-naff sn-taint sn-ipa sn-spread sn-vol sn-pre \
  sn-cordon sn-label sn-prio; do
  k create namespace "$ns" >/dev/null
done

# ---- NodeName: spec.nodeName bypasses the scheduler ----
t_nodename() {
  pod sn-name pinned '{}' '{"nodeName": "hollow-7"}'
  pod sn-name ghost '{}' '{"nodeName": "ghost"}'
  running() { [ "$(k -n sn-name get pod pinned -o jsonpath='{.status.phase}')" = Running ]; }
  if poll 30 running; then echo "ok - a pod naming its node runs there"; else
    check_report "pod with spec.nodeName runs" "" Running "$(k -n sn-name get pod pinned -o wide)"
  fi
  check_eq "no Scheduled event for a pod that names its node" "$(events sn-name pinned Scheduled)" ""
  check_eq "the pod naming an absent node keeps its nodeName" "$(node_of sn-name ghost)" ghost
  check_eq "... stays Pending" "$(k -n sn-name get pod ghost -o jsonpath='{.status.phase}')" Pending
  check_eq "... without a PodScheduled condition" "$(cond sn-name ghost)" ""
  check_eq "... and without FailedScheduling events" "$(events sn-name ghost FailedScheduling)" ""
  echo "ok - NodeName checks done"
}

# ---- NodeResourcesFit: cpu, memory, an extended resource (hollow-8: 1 cpu, 1Gi) ----
t_resources() {
  local ns=sn-res s
  s=$(sel tier=res)
  pod $ns r1 '{}' "$s" '{"resources": {"requests": {"cpu": "600m", "memory": "100Mi"}}}'
  expect_scheduled $ns r1 hollow-8
  pod $ns r2 '{}' "$s" '{"resources": {"requests": {"cpu": "600m"}}}'
  pod $ns r3 '{}' "$s" '{"resources": {"requests": {"memory": "2Gi"}}}'
  pod $ns r4 '{}' "$s" '{"resources": {"requests": {"cpu": "600m", "memory": "2Gi"}}}'
  local pre="0/$N nodes are available: 1 $NOVICTIMS, $((N - 1)) $NOHELP."
  expect_unschedulable $ns r2 "$(fit $N "1 Insufficient cpu, $TAINT, $((N - 2)) $AFF" "$pre")"
  expect_unschedulable $ns r3 "$(fit $N "1 Insufficient memory, $TAINT, $((N - 2)) $AFF" "$pre")"
  expect_unschedulable $ns r4 \
    "$(fit $N "1 Insufficient cpu, 1 Insufficient memory, $TAINT, $((N - 2)) $AFF" "$pre")"

  # Extended resources are advertised by patching the node's status, as the kube docs
  # describe; a kubelet copies them into allocatable, so both are written here.
  k patch node hollow-8 --subresource=status --type=json -p \
    '[{"op":"add","path":"/status/capacity/example.com~1dongle","value":"2"},
      {"op":"add","path":"/status/allocatable/example.com~1dongle","value":"2"}]' >/dev/null
  local dongle='{"resources": {"requests": {"example.com/dongle": "1"}, "limits": {"example.com/dongle": "1"}}}'
  pod $ns x1 '{}' "$s" "$dongle"
  expect_scheduled $ns x1 hollow-8
  pod $ns x2 '{}' "$s" "${dongle//\"1\"/\"2\"}"
  expect_unschedulable $ns x2 "$(fit $N "1 Insufficient example.com/dongle, $TAINT, $((N - 2)) $AFF" "$pre")"
  check_eq "allocatable keeps the extended resource" \
    "$(k get node hollow-8 -o jsonpath='{.status.allocatable.example\.com/dongle}')" 2

  # Room freed by a deleted pod goes to the pod that fits in it.
  k -n $ns delete pod r1 >/dev/null
  expect_scheduled $ns r2 hollow-8
  check_eq "r4 (needs 2Gi) still waits" "$(node_of $ns r4)" ""
}

# ---- NodeResourcesFit: pod count (hollow-9 takes 2 pods) ----
t_pods() {
  local ns=sn-pods s
  s=$(sel tier=few)
  pod $ns c1 '{}' "$s"
  pod $ns c2 '{}' "$s"
  expect_scheduled $ns c1 hollow-9
  expect_scheduled $ns c2 hollow-9
  pod $ns c3 '{}' "$s"
  expect_unschedulable $ns c3 "$(fit $N "1 Too many pods, $TAINT, $((N - 2)) $AFF" \
    "0/$N nodes are available: 1 $NOVICTIMS, $((N - 1)) $NOHELP.")"
}

# ---- NodePorts ----
t_ports() {
  local ns=sn-ports h7 port='{"ports": [{"containerPort": 80, "hostPort": 8080}]}'
  h7=$(sel kubernetes.io/hostname=hollow-7)
  pod $ns h1 '{}' "$h7" "$port"
  expect_scheduled $ns h1 hollow-7
  pod $ns h2 '{}' "$h7" "$port"
  expect_unschedulable $ns h2 \
    "$(fit $N "1 node(s) didn't have free ports for the requested pod ports, $TAINT, $((N - 2)) $AFF" \
      "0/$N nodes are available: 1 $NOVICTIMS, $((N - 1)) $NOHELP.")"
  pod $ns h3 '{}' "$h7" '{"ports": [{"containerPort": 80, "hostPort": 8080, "protocol": "UDP"}]}'
  expect_scheduled $ns h3 hollow-7
  # Between the two soft nodes only hollow-6 has the port free, PreferNoSchedule or not.
  pod $ns h4 '{}' "$(sel tier=soft)" "$port"
  expect_scheduled $ns h4 hollow-6
}

# ---- NodeAffinity and nodeSelector ----
req_aff() { # KEY OP [VALUES...]: a spec fragment with one required node selector term
  local key=$1 op=$2
  shift 2
  jq -cn --arg k "$key" --arg op "$op" '$ARGS.positional as $v |
    {affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution:
      {nodeSelectorTerms: [{matchExpressions: [{key: $k, operator: $op} +
        (if ($v | length) > 0 then {values: $v} else {} end)]}]}}}}' --args "$@"
}
t_node_affinity() {
  local ns=sn-naff
  pod $ns in '{}' "$(req_aff topology.kubernetes.io/zone In zb)"
  pod $ns notin '{}' "$(jq -cn --argjson a "$(req_aff topology.kubernetes.io/zone NotIn za zb)" \
    '$a + {nodeSelector: {tier: "gen"}}')"
  pod $ns exists '{}' "$(req_aff disk Exists)"
  pod $ns gt '{}' "$(req_aff cores Gt 4)"
  pod $ns lt '{}' "$(req_aff cores Lt 3)"
  pod $ns field '{}' '{"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
    {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In",
    "values": ["hollow-3"]}]}]}}}}'
  pod $ns selector '{}' "$(sel tier=soft)"
  pod $ns preferred '{}' '{"nodeSelector": {"tier": "gen"}, "affinity": {"nodeAffinity":
    {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "preference":
    {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In",
    "values": ["zc"]}]}}]}}}'
  pod $ns nomatch '{}' "$(req_aff topology.kubernetes.io/zone In zz)"
  expect_scheduled $ns in 'hollow-[23]'
  expect_scheduled $ns notin hollow-4
  expect_scheduled $ns exists 'hollow-[23]'
  expect_scheduled $ns gt 'hollow-[01]'
  expect_scheduled $ns lt hollow-4
  expect_scheduled $ns field hollow-3
  expect_scheduled $ns selector 'hollow-[67]'
  expect_scheduled $ns preferred hollow-4
  expect_unschedulable $ns nomatch "$(fit $N "$TAINT, $((N - 1)) $AFF" \
    "0/$N nodes are available: $N $NOHELP.")"
  local wide
  wide=$(k -n $ns get pod lt -o wide --no-headers | awk '{print $1, $7, $8}')
  check_eq "get -o wide shows the node" "$wide" "lt hollow-4 <none>"
}

# ---- TaintToleration ----
t_taints() {
  local ns=sn-taint s i
  s=$(sel tier=ded)
  pod $ns plain '{}' "$s"
  pod $ns equal '{}' "$(jq -cn --argjson s "$s" '$s + {tolerations: [{key: "dedicated",
    operator: "Equal", value: "e2e", effect: "NoSchedule"}]}')"
  pod $ns exists '{}' "$(jq -cn --argjson s "$s" '$s + {tolerations: [{key: "dedicated",
    operator: "Exists"}]}')"
  pod $ns wrongvalue '{}' "$(jq -cn --argjson s "$s" '$s + {tolerations: [{key: "dedicated",
    operator: "Equal", value: "other", effect: "NoSchedule"}]}')"
  expect_scheduled $ns equal hollow-5
  expect_scheduled $ns exists hollow-5
  local msg
  msg=$(fit $N "$TAINT, $((N - 1)) $AFF" "0/$N nodes are available: $N $NOHELP.")
  expect_unschedulable $ns plain "$msg"
  expect_unschedulable $ns wrongvalue "$msg"
  # PreferNoSchedule: hollow-6 is avoided while hollow-7 has room.
  for i in 1 2 3; do pod $ns soft$i '{}' "$(sel tier=soft)"; done
  for i in 1 2 3; do expect_scheduled $ns soft$i hollow-7; done
}

# ---- InterPodAffinity ----
pod_term() { # KIND(podAffinity|podAntiAffinity) APP TOPOLOGY-KEY
  jq -cn --arg kind "$1" --arg app "$2" --arg key "$3" \
    '{affinity: {($kind): {requiredDuringSchedulingIgnoredDuringExecution:
      [{labelSelector: {matchLabels: {app: $app}}, topologyKey: $key}]}}}'
}
t_inter_pod() {
  local ns=sn-ipa i zones
  pod $ns x '{"app": "x"}' "$(sel kubernetes.io/hostname=hollow-1)"
  expect_scheduled $ns x hollow-1
  pod $ns near-host '{}' "$(pod_term podAffinity x kubernetes.io/hostname)"
  pod $ns near-zone '{}' "$(pod_term podAffinity x topology.kubernetes.io/zone)"
  expect_scheduled $ns near-host hollow-1
  expect_scheduled $ns near-zone 'hollow-[01]'

  # Anti-affinity over zones spreads three pods over the three zones; a fourth has none.
  for i in 1 2 3 4; do
    pod $ns spread$i '{"app": "spread"}' "$(jq -cn --argjson a \
      "$(pod_term podAntiAffinity spread topology.kubernetes.io/zone)" '$a + {nodeSelector: {tier: "gen"}}')"
    [ $i = 4 ] || expect_scheduled $ns spread$i 'hollow-[0-4]'
  done
  zones=$(for i in 1 2 3; do
    k get node "$(node_of $ns spread$i)" -o jsonpath='{.metadata.labels.topology\.kubernetes\.io/zone}{"\n"}'
  done | sort | tr '\n' ' ')
  check_eq "anti-affinity puts one pod in each zone" "$zones" "za zb zc "
  expect_unschedulable $ns spread4 \
    "$(fit $N "$TAINT, 5 node(s) didn't match pod anti-affinity rules, $((N - 6)) $AFF" \
      "0/$N nodes are available: 5 $NOVICTIMS, $((N - 5)) $NOHELP.")"

  # An existing pod's anti-affinity repels the pods it names.
  pod $ns guard '{"app": "guard"}' "$(jq -cn --argjson a \
    "$(pod_term podAntiAffinity intruder kubernetes.io/hostname)" \
    '$a + {nodeSelector: {"kubernetes.io/hostname": "hollow-3"}}')"
  expect_scheduled $ns guard hollow-3
  pod $ns intruder '{"app": "intruder"}' "$(sel kubernetes.io/hostname=hollow-3)"
  pod $ns intruder-zb '{"app": "intruder"}' "$(sel topology.kubernetes.io/zone=zb)"
  expect_unschedulable $ns intruder \
    "$(fit $N "1 node(s) didn't satisfy existing pods anti-affinity rules, $TAINT, $((N - 2)) $AFF" \
      "0/$N nodes are available: 1 $NOVICTIMS, $((N - 1)) $NOHELP.")"
  expect_scheduled $ns intruder-zb hollow-2

  # Required affinity to pods that do not exist.
  pod $ns lonely '{}' "$(jq -cn --argjson a "$(pod_term podAffinity nobody kubernetes.io/hostname)" \
    '$a + {nodeSelector: {tier: "gen"}}')"
  expect_unschedulable $ns lonely \
    "$(fit $N "$TAINT, 5 node(s) didn't match pod affinity rules, $((N - 6)) $AFF" \
      "0/$N nodes are available: $N $NOHELP.")"
}

# ---- PodTopologySpread ----
spread_spec() { # KEY APP [NODE-AFFINITY-POLICY] [NODE-SELECTOR-JSON]
  local nodesel=${4:-}
  [ -n "$nodesel" ] || nodesel='{"tier": "gen"}'
  jq -cn --arg k "$1" --arg app "$2" --arg pol "${3:-Honor}" --argjson ns "$nodesel" \
    '{nodeSelector: $ns, topologySpreadConstraints: [{maxSkew: 1, topologyKey: $k,
      whenUnsatisfiable: "DoNotSchedule", nodeAffinityPolicy: $pol,
      labelSelector: {matchLabels: {app: $app}}}]}'
}
t_spread() {
  local ns=sn-spread i zones
  for i in 1 2 3; do
    pod $ns sp$i '{"app": "sp"}' "$(spread_spec topology.kubernetes.io/zone sp)"
  done
  for i in 1 2 3; do expect_scheduled $ns sp$i 'hollow-[0-4]'; done
  zones=$(for i in 1 2 3; do
    k get node "$(node_of $ns sp$i)" -o jsonpath='{.metadata.labels.topology\.kubernetes\.io/zone}{"\n"}'
  done | sort | tr '\n' ' ')
  check_eq "maxSkew 1 over zones spreads evenly" "$zones" "za zb zc "
  # Pinned to za, counting every zone (nodeAffinityPolicy Ignore): one more fits, then
  # za is 2 ahead of the others.
  pod $ns sp4 '{"app": "sp"}' \
    "$(spread_spec topology.kubernetes.io/zone sp Ignore '{"topology.kubernetes.io/zone":"za"}')"
  expect_scheduled $ns sp4 'hollow-[01]'
  pod $ns sp5 '{"app": "sp"}' \
    "$(spread_spec topology.kubernetes.io/zone sp Ignore '{"topology.kubernetes.io/zone":"za"}')"
  expect_unschedulable $ns sp5 \
    "$(fit $N "$TAINT, 2 node(s) didn't match pod topology spread constraints, $((N - 3)) $AFF" \
      "0/$N nodes are available: $((N - 2)) $NOHELP, 2 $NOVICTIMS.")"
  pod $ns rack '{"app": "rack"}' "$(spread_spec rack rack)"
  expect_unschedulable $ns rack \
    "$(fit $N "$TAINT, 5 node(s) didn't match pod topology spread constraints (missing required label), $((N - 6)) $AFF" \
      "0/$N nodes are available: $N $NOHELP.")"
}

# ---- VolumeBinding ----
t_volumes() {
  local ns=sn-vol
  pod $ns claim '{}' '{"nodeSelector": {"tier": "gen"}, "volumes": [{"name": "d",
    "persistentVolumeClaim": {"claimName": "data"}}]}'
  expect_unschedulable $ns claim \
    "$(prefit $N 'persistentvolumeclaim "data" not found'). preemption: 0/$N nodes are available: $N $NOHELP.."
  k -n $ns apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: imm}
spec:
  storageClassName: no-such-class
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
YAML
  pod $ns immediate '{}' '{"nodeSelector": {"tier": "gen"}, "volumes": [{"name": "d",
    "persistentVolumeClaim": {"claimName": "imm"}}]}'
  expect_unschedulable $ns immediate \
    "$(prefit $N 'pod has unbound immediate PersistentVolumeClaims'). preemption: 0/$N nodes are available: $N $NOHELP.."
  # The claim appearing (WaitForFirstConsumer class) lets the waiting pod schedule.
  k -n $ns apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  storageClassName: local-path
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
YAML
  expect_scheduled $ns claim 'hollow-[0-4]'
}

# ---- preemption (hollow-10: 1 cpu) ----
t_preemption() {
  local ns=sn-pre s victim kept uid
  s=$(sel tier=pre)
  pod $ns v1 '{}' "$(jq -cn --argjson s "$s" '$s + {priorityClassName: "e2e-low"}')" \
    '{"resources": {"requests": {"cpu": "400m"}}}'
  pod $ns v2 '{}' "$(jq -cn --argjson s "$s" '$s + {priorityClassName: "e2e-low"}')" \
    '{"resources": {"requests": {"cpu": "400m"}}}'
  expect_scheduled $ns v1 hollow-10
  expect_scheduled $ns v2 hollow-10
  check_eq "priority from the PriorityClass" "$(k -n $ns get pod v1 -o jsonpath='{.spec.priority}')" 100
  local filt="1 Insufficient cpu, $TAINT, $((N - 2)) $AFF"
  # Evicting every lower-priority pod would still not make room.
  pod $ns big '{}' "$(jq -cn --argjson s "$s" '$s + {priorityClassName: "e2e-high"}')" \
    '{"resources": {"requests": {"cpu": "1500m"}}}'
  expect_unschedulable $ns big \
    "$(fit $N "$filt" "0/$N nodes are available: 1 Insufficient cpu, $((N - 1)) $NOHELP.")"
  # preemptionPolicy Never (from its class): waits instead.
  pod $ns never '{}' "$(jq -cn --argjson s "$s" '$s + {priorityClassName: "e2e-high-never"}')" \
    '{"resources": {"requests": {"cpu": "500m"}}}'
  expect_unschedulable $ns never \
    "0/$N nodes are available: $filt. preemption: not eligible due to preemptionPolicy=Never.."
  check_eq "preemptionPolicy from the PriorityClass" \
    "$(k -n $ns get pod never -o jsonpath='{.spec.preemptionPolicy}')" Never
  k -n $ns delete pod big never >/dev/null

  pod $ns hp '{}' "$(jq -cn --argjson s "$s" '$s + {priorityClassName: "e2e-high"}')" \
    '{"resources": {"requests": {"cpu": "500m"}}}'
  uid=$(k -n $ns get pod hp -o jsonpath='{.metadata.uid}')
  one_gone() { [ "$(k -n "$ns" get pods v1 v2 --ignore-not-found --no-headers | wc -l)" = 1 ]; }
  if poll 30 one_gone; then echo "ok - one low-priority pod preempted"; else
    check_report "exactly one victim deleted" "" "1 of v1 v2 left" "$(k -n $ns get pods -o wide)"
  fi
  kept=$(k -n $ns get pods v1 v2 --ignore-not-found -o name | sed 's|pod/||')
  victim=v1
  [ "$kept" != v1 ] || victim=v2
  expect_scheduled $ns hp hollow-10
  check_eq "the other low-priority pod stays" "$(node_of $ns "$kept")" hollow-10
  check_eq "Preempted event on the victim" "$(events $ns $victim Preempted)" \
    "Preempted by pod $uid on node hollow-10"
  # The cycle that preempted reports why the pod did not fit then, with no preemption part.
  check_has "FailedScheduling of the preemptor" "$(events $ns hp FailedScheduling)" \
    "0/$N nodes are available: $filt."
  check_eq "nominatedNodeName" "$(k -n $ns get pod hp -o jsonpath='{.status.nominatedNodeName}')" \
    hollow-10
  check_eq "get -o wide NOMINATED NODE" \
    "$(k -n $ns get pod hp -o wide --no-headers | awk '{print $7, $8}')" "hollow-10 hollow-10"
  echo "ok - preemption checks done"
}

# ---- phase 1: rules that leave the nodes alone, side by side ----
bg nodename t_nodename
bg resources t_resources
bg pods t_pods
bg ports t_ports
bg node-affinity t_node_affinity
bg taints t_taints
bg inter-pod t_inter_pod
bg spread t_spread
bg volumes t_volumes
bg preemption t_preemption
join_all
echo "# phase 1 done at ${SECONDS}s"

out=$(k -n sn-taint describe pod plain)
check_match "describe: PodScheduled False" "$out" '^ +PodScheduled +False *$'
check_match "describe: FailedScheduling event" "$out" \
  "^ +Warning +FailedScheduling +.* +default-scheduler +0/$N nodes are available: 1 node\\(s\\) had untolerated taint"

# ---- phase 2: node changes re-queue pending pods ----
# NodeUnschedulable: cordon, then uncordon.
check_eq "cordon" "$(k cordon hollow-4)" "node/hollow-4 cordoned"
pod sn-cordon c '{}' "$(sel kubernetes.io/hostname=hollow-4)"
expect_unschedulable sn-cordon c \
  "$(fit $N "$TAINT, 1 node(s) were unschedulable, $((N - 2)) $AFF" "0/$N nodes are available: $N $NOHELP.")"
check_eq "uncordon" "$(k uncordon hollow-4)" "node/hollow-4 uncordoned"
expect_scheduled sn-cordon c hollow-4

# A label added to a node, and a new node, let waiting pods schedule.
pod sn-label blue '{}' "$(sel color=blue)"
pod sn-label late '{}' "$(sel tier=late)"
nomatch=$(fit $N "$TAINT, $((N - 1)) $AFF" "0/$N nodes are available: $N $NOHELP.")
expect_unschedulable sn-label blue "$nomatch"
expect_unschedulable sn-label late "$nomatch"
k label node hollow-7 color=blue >/dev/null
expect_scheduled sn-label blue hollow-7
check_eq "late still waits" "$(node_of sn-label late)" ""
hollow_up late --count 1 --first-index 12 --node-labels tier=late
expect_scheduled sn-label late hollow-12
wait_for "13 hollow nodes Ready" 60 ready_nodes 13 && echo "ok - 13 nodes Ready"
N=13

echo "# phase 2 done at ${SECONDS}s"

# ---- priority order (hollow-11: 1 cpu), on a quiet cluster ----
ns=sn-prio
pod $ns filler '{}' '{"nodeSelector": {"tier": "prio"}, "priorityClassName": "e2e-high"}' \
  '{"resources": {"requests": {"cpu": "800m"}}}'
expect_scheduled $ns filler hollow-11
pod $ns low '{}' '{"nodeSelector": {"tier": "prio"}, "priorityClassName": "e2e-low"}' \
  '{"resources": {"requests": {"cpu": "600m"}}}'
filt="1 Insufficient cpu, $TAINT, $((N - 2)) $AFF"
expect_unschedulable $ns low "$(fit $N "$filt" "0/$N nodes are available: 1 $NOVICTIMS, $((N - 1)) $NOHELP.")"
pod $ns high '{}' '{"nodeSelector": {"tier": "prio"}, "priorityClassName": "e2e-high-never"}' \
  '{"resources": {"requests": {"cpu": "600m"}}}'
expect_unschedulable $ns high \
  "0/$N nodes are available: $filt. preemption: not eligible due to preemptionPolicy=Never.."
# Both pods back off after each failed attempt (1 s, doubling up to 10 s, as kube's
# queue does). A cluster event meanwhile (the new node's not-ready taint lifted, say) can
# cost a pod another attempt and a longer back-off, so wait out the longest: once both
# are past it, the freed room goes by priority, not by arrival.
sleep 11
k -n $ns delete pod filler >/dev/null
expect_scheduled $ns high hollow-11
check_eq "the lower-priority pod still waits" "$(node_of $ns low)" ""

finish

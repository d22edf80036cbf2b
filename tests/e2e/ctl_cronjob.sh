#!/usr/bin/env bash
# CronJob controller end to end: a server of its own with hollow nodes, driven by kubectl.
# A "*/1 * * * *" CronJob fires (Job name, scheduled-timestamp annotation, status, events),
# `kubectl create job --from=cronjob/x`, and concurrencyPolicy Forbid, side by side.
source "$(dirname "$0")/cluster-lib.sh"
set +e
work=$CLUSTER_DIR
cluster_up
# Hollow nodes run the pods: Succeeded after hollow.ckube.io/run-seconds, Failed when
# hollow.ckube.io/exit-code is not 0.
hollow_up nodes --count 3

jp() { k get "$@" 2>/dev/null; }

cronjob() { # cronjob NS NAME RUN_SECONDS EXTRA_SPEC_YAML
  k create namespace "$1" >/dev/null
  k apply -n "$1" -f - >/dev/null <<YAML
apiVersion: batch/v1
kind: CronJob
metadata:
  name: $2
spec:
  schedule: "*/1 * * * *"
$4
  jobTemplate:
    spec:
      template:
        metadata:
          annotations:
            hollow.ckube.io/run-seconds: "$3"
        spec:
          restartPolicy: OnFailure
          containers:
          - name: hello
            image: busybox
            command: ["sh", "-c", "date; echo Hello"]
YAML
}
cronjob cj-hello hello 1 "  timeZone: Etc/UTC"
cronjob cj-forbid lock 300 "  concurrencyPolicy: Forbid"

out=$(k create job manual -n cj-hello --from=cronjob/hello)
check "kubectl create job --from=cronjob/hello" [ "$out" = "job.batch/manual created" ]
check "job manual completes" k wait -n cj-hello --for=condition=complete job/manual --timeout=60s
out=$(jp job manual -n cj-hello -o jsonpath='{.metadata.annotations.cronjob\.kubernetes\.io/instantiate} {.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}')
check "job manual is marked manual and owned by the CronJob" [ "$out" = "manual CronJob/hello" ]

# The first scheduled Job comes at the next minute boundary.
jobname() { k get jobs -n "$1" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' | grep -E "^$2-[0-9]+\$" | head -1; }
check "hello fires within 75 s" poll 75 bash -c "[ -n \"\$($KUBECTL get jobs -n cj-hello -o name | grep -E '/hello-[0-9]+\$')\" ]"
name=$(jobname cj-hello hello)
minutes=${name#hello-}
ts=$(jp job "$name" -n cj-hello -o jsonpath='{.metadata.annotations.batch\.kubernetes\.io/cronjob-scheduled-timestamp}')
want=$(date -u -d "@$((${minutes:-0} * 60))" +%Y-%m-%dT%H:%M:%SZ)
check "job $name is named after its schedule time in minutes" [ -n "$minutes" -a "$want" = "$ts" ]
check "job $name completes" k wait -n cj-hello --for=condition=complete "job/$name" --timeout=60s
check "hello records lastSuccessfulTime" poll 30 bash -c \
  "[ -n \"\$($KUBECTL get cronjob hello -n cj-hello -o jsonpath='{.status.lastSuccessfulTime}')\" ]"
out=$(jp cronjob hello -n cj-hello -o jsonpath='{.status.lastScheduleTime}')
check "hello's lastScheduleTime is the scheduled time" [ "$out" = "$ts" ]
out=$(k get events -n cj-hello --field-selector involvedObject.kind=CronJob -o jsonpath='{range .items[*]}{.reason}: {.message}{"\n"}{end}')
check "event: Created job $name" grep -qx "SuccessfulCreate: Created job $name" <<<"$out"
check "event: Saw completed job" grep -qx "SawCompletedJob: Saw completed job: $name, condition: Complete" <<<"$out"
out=$(k get cronjob hello -n cj-hello | mask_age)
check "kubectl get cronjob hello" grep -Eq '^hello \*/1 \* \* \* \* Etc/UTC False 0 <age> <age>$' <<<"$out"

check "lock fires" poll 75 bash -c "[ -n \"\$($KUBECTL get jobs -n cj-forbid -o name)\" ]"
check "lock lists its running job in status.active" poll 20 bash -c \
  "[ \"\$($KUBECTL get cronjob lock -n cj-forbid -o jsonpath='{.status.active[0].kind}')\" = Job ]"
check "Forbid: no second job while the first runs" poll 75 bash -c \
  "$KUBECTL get events -n cj-forbid --field-selector involvedObject.kind=CronJob -o jsonpath='{.items[*].reason}' | grep -q JobAlreadyActive"
check "lock still has one job" [ "$(k get jobs -n cj-forbid --no-headers | wc -l)" = 1 ]

if grep -E 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$work/server.log"; then
  echo "not ok - sanitizer report in the server log"; checks_failed=$((checks_failed + 1))
fi
finish

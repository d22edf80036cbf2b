#!/usr/bin/env bash
# Job controller end to end: a server of its own with hollow nodes, driven by kubectl.
# Completions/parallelism, back-off limit, activeDeadlineSeconds, Indexed completion,
# suspend/resume and ttlSecondsAfterFinished, each in its own namespace, run side by side.
source "$(dirname "$0")/cluster-lib.sh"
set +e
work=$CLUSTER_DIR
cluster_up
# Hollow nodes run the pods: Succeeded after hollow.ckube.io/run-seconds, Failed when
# hollow.ckube.io/exit-code is not 0.
hollow_up nodes --count 3

jp() { k get "$@" 2>/dev/null; }

job() { # job NS NAME RUN_SECONDS EXIT_CODE EXTRA_SPEC_YAML
  k create namespace "$1" >/dev/null
  k apply -n "$1" -f - >/dev/null <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: $2
spec:
$5
  template:
    metadata:
      annotations:
        hollow.ckube.io/run-seconds: "$3"
        hollow.ckube.io/exit-code: "$4"
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox
        command: ["sh", "-c", "echo hi"]
YAML
}

job j-basic pi 1 0 "  completions: 5
  parallelism: 2"
job j-fail bad 0 1 "  backoffLimit: 2"
job j-deadline slow 300 0 "  activeDeadlineSeconds: 3"
job j-indexed idx 1 0 "  completions: 3
  parallelism: 3
  completionMode: Indexed"
job j-suspend later 1 0 "  suspend: true
  completions: 2
  parallelism: 2"
job j-stop long 300 0 "  parallelism: 2
  completions: 2"
job j-ttl short 0 0 "  ttlSecondsAfterFinished: 2"

# Never more than parallelism active pods, while the Job runs.
max_active=0
while :; do
  n=$(k get pods -n j-basic --no-headers 2>/dev/null | grep -cvE 'Completed|Succeeded|Error|Failed')
  [ "$n" -gt "$max_active" ] && max_active=$n
  c=$(jp job pi -n j-basic -o jsonpath='{.status.conditions[?(@.type=="Complete")].status}')
  [ "$c" = True ] && break
  [ $SECONDS -gt 120 ] && break
  sleep 0.3
done
check "job pi never ran more than 2 pods at once (saw $max_active)" [ "$max_active" -le 2 ]
check "kubectl wait --for=condition=complete job/pi" \
  k wait -n j-basic --for=condition=complete job/pi --timeout=60s
out=$(k get job pi -n j-basic | mask_age)
check "kubectl get job pi: Complete 5/5" grep -Eq '^pi Complete 5/5 ' <<<"$out"
out=$(jp pods -n j-basic -o jsonpath='{range .items[*]}{.status.phase} {.metadata.finalizers}{"\n"}{end}')
check "5 pods succeeded" [ "$(grep -c '^Succeeded' <<<"$out")" = 5 ]
check "tracking finalizers removed" bash -c "! grep -q job-tracking <<<'$out'"
out=$(k get events -n j-basic --field-selector involvedObject.name=pi -o jsonpath='{range .items[*]}{.reason}: {.message}{"\n"}{end}')
check "events: Created pod" grep -Eq '^SuccessfulCreate: Created pod: pi-[a-z0-9]{5}$' <<<"$out"
check "events: Job completed" grep -q '^Completed: Job completed$' <<<"$out"
out=$(jp job pi -n j-basic -o jsonpath='{.status.succeeded} {.status.ready} {.status.terminating} {.status.completionTime}')
check "status of pi: succeeded 5, ready 0, terminating 0, completionTime" grep -Eq '^5 0 0 20[0-9-]+T' <<<"$out"
out=$(jp job pi -n j-basic -o jsonpath='{range .status.conditions[*]}{.type}={.status} {end}')
check "conditions SuccessCriteriaMet then Complete" [ "$out" = "SuccessCriteriaMet=True Complete=True " ]

check "kubectl wait --for=condition=failed job/bad" \
  k wait -n j-fail --for=condition=failed job/bad --timeout=100s
out=$(jp job bad -n j-fail -o jsonpath='{.status.conditions[?(@.type=="Failed")].reason}: {.status.conditions[?(@.type=="Failed")].message} failed={.status.failed}')
check "bad failed: BackoffLimitExceeded after 3 failures" \
  [ "$out" = "BackoffLimitExceeded: Job has reached the specified backoff limit failed=3" ]
out=$(k get job bad -n j-fail | mask_age)
check "kubectl get job bad: Failed 0/1" grep -Eq '^bad Failed 0/1 ' <<<"$out"
out=$(k get events -n j-fail --field-selector involvedObject.name=bad,type=Warning -o jsonpath='{range .items[*]}{.reason}: {.message}{"\n"}{end}')
check "event: BackoffLimitExceeded" grep -q '^BackoffLimitExceeded: Job has reached the specified backoff limit$' <<<"$out"
check "a FailureTarget condition precedes Failed" \
  bash -c "[ \"\$($KUBECTL get job bad -n j-fail -o jsonpath='{.status.conditions[*].type}')\" = 'FailureTarget Failed' ]"

check "kubectl wait --for=condition=failed job/slow" \
  k wait -n j-deadline --for=condition=failed job/slow --timeout=60s
out=$(jp job slow -n j-deadline -o jsonpath='{.status.conditions[?(@.type=="Failed")].reason}: {.status.conditions[?(@.type=="Failed")].message}')
check "slow failed: DeadlineExceeded" [ "$out" = "DeadlineExceeded: Job was active longer than specified deadline" ]
check "slow's pod is gone or terminal" poll 30 bash -c \
  "[ -z \"\$($KUBECTL get pods -n j-deadline --no-headers 2>/dev/null | grep -vE 'Completed|Error|Failed')\" ]"

check "kubectl wait --for=condition=complete job/idx" \
  k wait -n j-indexed --for=condition=complete job/idx --timeout=60s
out=$(jp job idx -n j-indexed -o jsonpath='{.status.completedIndexes} {.status.succeeded}')
check "idx completedIndexes 0-2" [ "$out" = "0-2 3" ]
out=$(jp pods -n j-indexed -o jsonpath='{range .items[*]}{.metadata.annotations.batch\.kubernetes\.io/job-completion-index}={.metadata.labels.batch\.kubernetes\.io/job-completion-index} {.spec.hostname} {.metadata.generateName}{"\n"}{end}' | sort)
check "idx pods carry their index" [ "$out" = "0=0 idx-0 idx-0-
1=1 idx-1 idx-1-
2=2 idx-2 idx-2-" ]
out=$(jp pods -n j-indexed -o jsonpath='{.items[0].spec.containers[0].env[0].name}={.items[0].spec.containers[0].env[0].valueFrom.fieldRef.fieldPath}')
check "idx pods get JOB_COMPLETION_INDEX" \
  [ "$out" = "JOB_COMPLETION_INDEX=metadata.labels['batch.kubernetes.io/job-completion-index']" ]

check "suspended job later is Suspended" poll 30 bash -c \
  "[ \"\$($KUBECTL get job later -n j-suspend -o jsonpath='{.status.conditions[?(@.type==\"Suspended\")].reason}')\" = JobSuspended ]"
check "suspended job later has no pods" [ -z "$(k get pods -n j-suspend --no-headers 2>/dev/null)" ]
out=$(k get job later -n j-suspend | mask_age)
check "kubectl get job later: Suspended" grep -Eq '^later Suspended 0/2 ' <<<"$out"
k patch job later -n j-suspend --type=merge -p '{"spec":{"suspend":false}}' >/dev/null
check "resumed job later completes" k wait -n j-suspend --for=condition=complete job/later --timeout=60s
out=$(jp job later -n j-suspend -o jsonpath='{.status.conditions[?(@.type=="Suspended")].status}/{.status.conditions[?(@.type=="Suspended")].reason}')
check "later's Suspended condition is False/JobResumed" [ "$out" = "False/JobResumed" ]
out=$(k get events -n j-suspend --field-selector involvedObject.name=later -o jsonpath='{range .items[*]}{.reason}: {.message}{"\n"}{end}')
check "events: Suspended, Resumed" bash -c "grep -q '^Suspended: Job suspended$' <<<'$out' && grep -q '^Resumed: Job resumed$' <<<'$out'"

check "job long runs 2 pods" poll 30 bash -c \
  "[ \"\$($KUBECTL get job long -n j-stop -o jsonpath='{.status.active}')\" = 2 ]"
k patch job long -n j-stop --type=merge -p '{"spec":{"suspend":true}}' >/dev/null
check "suspending long deletes its pods" poll 30 bash -c \
  "[ -z \"\$($KUBECTL get pods -n j-stop --no-headers 2>/dev/null)\" ] && [ -z \"\$($KUBECTL get job long -n j-stop -o jsonpath='{.status.active}')\" ]"

check "job short is deleted 2s after it finished" poll 60 bash -c \
  "! $KUBECTL get job short -n j-ttl >/dev/null 2>&1"

if grep -E 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$work/server.log"; then
  echo "not ok - sanitizer report in the server log"; checks_failed=$((checks_failed + 1))
fi
finish

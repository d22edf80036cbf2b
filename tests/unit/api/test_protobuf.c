/* Tests for the protobuf request-body decoder. The bodies are built here with a small
 * protobuf encoder, field by field as Kubernetes' Go types marshal them: every
 * non-pointer field is written even when it holds its zero value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/protobuf.h"
#include "api/schema.h"
#include "lib/json.h"

/* ---- a tiny protobuf encoder ------------------------------------------------------- */

struct enc {
  uint8_t *buf;
  size_t len, cap;
};

static struct enc *enc_new(void) { return calloc(1, sizeof(struct enc)); }

static void enc_free(struct enc *e) {
  if (e) {
    free(e->buf);
    free(e);
  }
}

static void put_raw(struct enc *e, const void *p, size_t n) {
  if (e->len + n > e->cap) {
    e->cap = (e->len + n) * 2 + 16;
    e->buf = realloc(e->buf, e->cap);
    assert_non_null(e->buf);
  }
  if (n)
    memcpy(e->buf + e->len, p, n);
  e->len += n;
}

static void put_varint(struct enc *e, uint64_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    if (v)
      b |= 0x80;
    put_raw(e, &b, 1);
  } while (v);
}

static void put_tag(struct enc *e, int field, int wire) {
  put_varint(e, ((uint64_t)field << 3) | (uint64_t)wire);
}

/* Go writes negative int32/int64 values as 64-bit two's complement varints. */
static struct enc *f_int(struct enc *e, int field, int64_t v) {
  put_tag(e, field, 0);
  put_varint(e, (uint64_t)v);
  return e;
}

static struct enc *f_bytes(struct enc *e, int field, const void *p, size_t n) {
  put_tag(e, field, 2);
  put_varint(e, n);
  put_raw(e, p, n);
  return e;
}

static struct enc *f_str(struct enc *e, int field, const char *s) {
  return f_bytes(e, field, s, strlen(s));
}

/* Appends sub as an embedded message and frees it. */
static struct enc *f_msg(struct enc *e, int field, struct enc *sub) {
  f_bytes(e, field, sub->buf, sub->len);
  enc_free(sub);
  return e;
}

static struct enc *f_fixed64(struct enc *e, int field, uint64_t v) {
  put_tag(e, field, 1);
  for (int i = 0; i < 8; i++) {
    uint8_t b = (uint8_t)(v >> (8 * i));
    put_raw(e, &b, 1);
  }
  return e;
}

/* A map<string,string> entry. */
static struct enc *f_entry(struct enc *e, int field, const char *k, const char *v) {
  return f_msg(e, field, f_str(f_str(enc_new(), 1, k), 2, v));
}

/* metav1.ObjectMeta as Go marshals a fresh object: all non-pointer fields, zero time. */
static struct enc *objmeta(const char *name, const char *ns, const char *label_k,
                           const char *label_v) {
  struct enc *m = enc_new();
  f_str(m, 1, name);
  f_str(m, 2, "");
  f_str(m, 3, ns);
  f_str(m, 4, "");
  f_str(m, 5, "");
  f_str(m, 6, "");
  f_int(m, 7, 0);
  f_msg(m, 8, enc_new()); /* creationTimestamp: the zero time is an empty message */
  if (label_k)
    f_entry(m, 11, label_k, label_v);
  return m;
}

/* runtime.Unknown behind the "k8s\0" magic. */
static struct enc *body(const char *api_version, const char *kind, struct enc *raw) {
  struct enc *u = enc_new();
  put_raw(u, "k8s\0", 4);
  f_msg(u, 1, f_str(f_str(enc_new(), 1, api_version), 2, kind));
  f_msg(u, 2, raw);
  f_str(u, 3, "");
  f_str(u, 4, "");
  return u;
}

/* ---- helpers ----------------------------------------------------------------------- */

static struct api_resource resource(const char *group, const char *version, const char *kind) {
  struct api_resource r = {.group = group, .version = version, .kind = kind};
  r.schema = schema_find_gvk(schema_builtin(), group, version, kind);
  assert_non_null(r.schema);
  return r;
}

/* Decodes and compares with the expected JSON; frees the body. */
static void expect_json(const char *group, const char *version, const char *kind, struct enc *b,
                        const char *want) {
  struct api_resource r = resource(group, version, kind);
  struct api_error err = {0};
  json_t *got = NULL;
  int rc = protobuf_decode_object(&r, (const char *)b->buf, b->len, &got, &err);
  enc_free(b);
  if (rc < 0)
    fail_msg("decode failed: %d %s", err.code, err.message);
  json_t *exp = json_loads(want, 0, NULL);
  assert_non_null(exp);
  if (!json_equal(got, exp)) {
    char *g = json_dumps(got, JSON_SORT_KEYS), *w = json_dumps(exp, JSON_SORT_KEYS);
    print_error("got:  %s\nwant: %s\n", g, w);
    free(g);
    free(w);
    fail();
  }
  json_decref(got);
  json_decref(exp);
  api_error_clear(&err);
}

/* Decodes raw bytes expecting an error of the given code whose message contains want. */
static void expect_error_bytes(const struct api_resource *r, const void *p, size_t n, int code,
                               const char *want) {
  struct api_error err = {0};
  json_t *got = (json_t *)0x1;
  int rc = protobuf_decode_object(r, (const char *)p, n, &got, &err);
  assert_true(rc < 0);
  assert_ptr_equal(got, (json_t *)0x1);
  assert_int_equal(err.code, code);
  assert_non_null(err.message);
  if (!strstr(err.message, want))
    fail_msg("message \"%s\" lacks \"%s\"", err.message, want);
  api_error_clear(&err);
}

static void expect_error(const char *group, const char *version, const char *kind, struct enc *b,
                         int code, const char *want) {
  struct api_resource r = resource(group, version, kind);
  expect_error_bytes(&r, b->buf, b->len, code, want);
  enc_free(b);
}

/* ---- the generator kinds ----------------------------------------------------------- */

static void test_configmap(void **state) {
  struct enc *cm = enc_new();
  f_msg(cm, 1, objmeta("cm1", "default", NULL, NULL));
  f_entry(cm, 2, "a", "b");
  f_entry(cm, 2, "empty", "");
  f_msg(cm, 3, f_bytes(f_str(enc_new(), 1, "bin"), 2, "\x00\x01\xff", 3));
  expect_json("", "v1", "ConfigMap", body("v1", "ConfigMap", cm),
              "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
              "\"metadata\":{\"name\":\"cm1\",\"namespace\":\"default\"},"
              "\"data\":{\"a\":\"b\",\"empty\":\"\"},\"binaryData\":{\"bin\":\"AAH/\"}}");
}

static void test_secret(void **state) {
  struct enc *s = enc_new();
  f_msg(s, 1, objmeta("s1", "", "app", "db"));
  f_msg(s, 2, f_bytes(f_str(enc_new(), 1, "password"), 2, "s3cr3t", 6));
  f_msg(s, 2, f_str(enc_new(), 1, "nothing")); /* an entry without a value: empty bytes */
  f_str(s, 3, "Opaque");
  f_int(s, 5, 0); /* immutable is a *bool: an explicit false stays */
  expect_json("", "v1", "Secret", body("v1", "Secret", s),
              "{\"apiVersion\":\"v1\",\"kind\":\"Secret\","
              "\"metadata\":{\"name\":\"s1\",\"labels\":{\"app\":\"db\"}},"
              "\"data\":{\"password\":\"czNjcjN0\",\"nothing\":\"\"},\"type\":\"Opaque\","
              "\"immutable\":false}");
}

static void test_namespace(void **state) {
  struct enc *ns = enc_new();
  f_msg(ns, 1, objmeta("team-a", "", NULL, NULL));
  f_msg(ns, 2, enc_new());               /* spec: no finalizers */
  f_msg(ns, 3, f_str(enc_new(), 1, "")); /* status: empty phase */
  expect_json("", "v1", "Namespace", body("v1", "Namespace", ns),
              "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"team-a\"}}");
}

/* A container as Go marshals it: every non-pointer field present. */
static struct enc *container(const char *name, const char *image, struct enc *extra) {
  struct enc *c = enc_new();
  f_str(c, 1, name);
  f_str(c, 2, image);
  f_str(c, 5, "");
  f_msg(c, 8, enc_new()); /* resources {} */
  f_str(c, 13, "");
  f_str(c, 14, "");
  f_int(c, 16, 0);
  f_int(c, 17, 0);
  f_int(c, 18, 0);
  f_str(c, 20, "");
  if (extra) {
    put_raw(c, extra->buf, extra->len);
    enc_free(extra);
  }
  return c;
}

/* PodSpec with its non-pointer zero fields. */
static struct enc *podspec(struct enc *c, const char *restart) {
  struct enc *p = enc_new();
  f_msg(p, 2, c);
  f_str(p, 3, restart);
  f_str(p, 6, "");
  f_str(p, 8, "");
  f_str(p, 9, "");
  f_str(p, 10, "");
  f_int(p, 11, 0);
  f_int(p, 12, 0);
  f_int(p, 13, 0);
  f_str(p, 16, "");
  f_str(p, 17, "");
  f_str(p, 19, "");
  f_str(p, 24, "");
  return p;
}

static struct enc *template(const char *label_k, const char *label_v, struct enc *spec) {
  struct enc *t = enc_new();
  f_msg(t, 1, objmeta("", "", label_k, label_v));
  f_msg(t, 2, spec);
  return t;
}

static void test_deployment(void **state) {
  struct enc *port = enc_new();
  f_str(port, 1, "");
  f_int(port, 2, 0);
  f_int(port, 3, 80);
  f_str(port, 4, "");
  f_str(port, 5, "");
  struct enc *cextra = f_msg(enc_new(), 6, port);

  struct enc *ru = enc_new();
  f_msg(ru, 1, f_int(f_int(enc_new(), 1, 0), 2, 0));     /* maxUnavailable: 0 */
  f_msg(ru, 2, f_str(f_int(enc_new(), 1, 1), 3, "25%")); /* maxSurge: "25%" */
  struct enc *strategy = f_msg(f_str(enc_new(), 1, "RollingUpdate"), 2, ru);

  struct enc *spec = enc_new();
  f_int(spec, 1, 0); /* replicas is a *int32: --replicas=0 must survive */
  f_msg(spec, 2, f_entry(enc_new(), 1, "app", "web"));
  f_msg(spec, 3, template("app", "web", podspec(container("nginx", "nginx", cextra), "")));
  f_msg(spec, 4, strategy);
  f_int(spec, 5, 0);
  f_int(spec, 7, 0);

  struct enc *status = enc_new();
  for (int i = 1; i <= 5; i++)
    f_int(status, i, 0);
  f_int(status, 7, 0);

  struct enc *d = enc_new();
  f_msg(d, 1, objmeta("web", "prod", "app", "web"));
  f_msg(d, 2, spec);
  f_msg(d, 3, status);
  expect_json("apps", "v1", "Deployment", body("apps/v1", "Deployment", d),
              "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
              "\"metadata\":{\"name\":\"web\",\"namespace\":\"prod\",\"labels\":{\"app\":\"web\"}},"
              "\"spec\":{\"replicas\":0,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
              "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
              "\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx\","
              "\"ports\":[{\"containerPort\":80}]}]}},"
              "\"strategy\":{\"type\":\"RollingUpdate\","
              "\"rollingUpdate\":{\"maxUnavailable\":0,\"maxSurge\":\"25%\"}}}}");
}

static struct enc *service_port(const char *name, int port, struct enc *target) {
  struct enc *p = enc_new();
  f_str(p, 1, name);
  f_str(p, 2, "TCP");
  f_int(p, 3, port);
  f_msg(p, 4, target);
  f_int(p, 5, 0); /* nodePort: a non-pointer zero, left out */
  return p;
}

static void test_service(void **state) {
  struct enc *spec = enc_new();
  f_msg(spec, 1, service_port("80-8080", 80, f_int(f_int(enc_new(), 1, 0), 2, 8080)));
  f_msg(spec, 1, service_port("web", 443, f_str(f_int(f_int(enc_new(), 1, 1), 2, 0), 3, "https")));
  f_entry(spec, 2, "app", "my");
  f_str(spec, 3, "");
  f_str(spec, 4, "ClusterIP");
  f_str(spec, 7, "");
  f_str(spec, 8, "");
  f_str(spec, 10, "");
  f_str(spec, 11, "");
  f_int(spec, 12, 0);
  f_int(spec, 13, 0);
  struct enc *svc = enc_new();
  f_msg(svc, 1, objmeta("my", "", "app", "my"));
  f_msg(svc, 2, spec);
  f_msg(svc, 3, f_msg(enc_new(), 1, enc_new())); /* status.loadBalancer {} */
  expect_json("", "v1", "Service", body("v1", "Service", svc),
              "{\"apiVersion\":\"v1\",\"kind\":\"Service\","
              "\"metadata\":{\"name\":\"my\",\"labels\":{\"app\":\"my\"}},"
              "\"spec\":{\"ports\":[{\"name\":\"80-8080\",\"protocol\":\"TCP\",\"port\":80,"
              "\"targetPort\":8080},{\"name\":\"web\",\"protocol\":\"TCP\",\"port\":443,"
              "\"targetPort\":\"https\"}],\"selector\":{\"app\":\"my\"},\"type\":\"ClusterIP\"}}");
}

static void test_job(void **state) {
  struct enc *cextra = enc_new();
  f_str(cextra, 3, "echo");
  f_str(cextra, 3, "hi");
  struct enc *spec = enc_new();
  f_msg(spec, 6, template(NULL, NULL, podspec(container("j", "busybox", cextra), "Never")));
  f_int(spec, 8, 0);  /* ttlSecondsAfterFinished: *int32, 0 means "delete at once" */
  f_int(spec, 10, 0); /* suspend: *bool */
  f_int(spec, 3, -5); /* activeDeadlineSeconds: a negative int64 decodes as such */
  struct enc *job = enc_new();
  f_msg(job, 1, objmeta("j", "", NULL, NULL));
  f_msg(job, 2, spec);
  f_msg(job, 3, f_int(f_int(f_int(enc_new(), 4, 0), 5, 0), 6, 0));
  expect_json("batch", "v1", "Job", body("batch/v1", "Job", job),
              "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"j\"},"
              "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"j\","
              "\"image\":\"busybox\",\"command\":[\"echo\",\"hi\"]}],\"restartPolicy\":\"Never\"}},"
              "\"ttlSecondsAfterFinished\":0,\"suspend\":false,\"activeDeadlineSeconds\":-5}}");
}

static void test_role(void **state) {
  struct enc *rule = enc_new();
  f_str(rule, 1, "get");
  f_str(rule, 1, "list");
  f_str(rule, 2, ""); /* the core group: an empty list item stays */
  f_str(rule, 3, "pods");
  struct enc *role = enc_new();
  f_msg(role, 1, objmeta("reader", "default", NULL, NULL));
  f_msg(role, 2, rule);
  expect_json("rbac.authorization.k8s.io", "v1", "Role",
              body("rbac.authorization.k8s.io/v1", "Role", role),
              "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"Role\","
              "\"metadata\":{\"name\":\"reader\",\"namespace\":\"default\"},"
              "\"rules\":[{\"verbs\":[\"get\",\"list\"],\"apiGroups\":[\"\"],"
              "\"resources\":[\"pods\"]}]}");
}

static void test_self_subject_access_review(void **state) {
  struct enc *attrs = enc_new();
  f_str(attrs, 1, "default");
  f_str(attrs, 2, "create");
  f_str(attrs, 3, "");
  f_str(attrs, 4, "");
  f_str(attrs, 5, "pods");
  f_str(attrs, 6, "");
  f_str(attrs, 7, "");
  struct enc *status = enc_new();
  f_int(status, 1, 0);
  f_str(status, 2, "");
  f_str(status, 3, "");
  f_int(status, 4, 0);
  struct enc *r = enc_new();
  f_msg(r, 1, objmeta("", "", NULL, NULL));
  f_msg(r, 2, f_msg(enc_new(), 1, attrs));
  f_msg(r, 3, status);
  /* status.allowed has no omitempty in Go (required here), so false stays. */
  expect_json("authorization.k8s.io", "v1", "SelfSubjectAccessReview",
              body("authorization.k8s.io/v1", "SelfSubjectAccessReview", r),
              "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SelfSubjectAccessReview\","
              "\"spec\":{\"resourceAttributes\":{\"namespace\":\"default\",\"verb\":\"create\","
              "\"resource\":\"pods\"}},\"status\":{\"allowed\":false}}");
}

static void test_priority_class_negative_int32(void **state) {
  struct enc *pc = enc_new();
  f_msg(pc, 1, objmeta("low", "", NULL, NULL));
  f_int(pc, 2, -10); /* sign-extended to ten bytes on the wire */
  f_int(pc, 3, 0);
  f_str(pc, 4, "");
  expect_json("scheduling.k8s.io", "v1", "PriorityClass",
              body("scheduling.k8s.io/v1", "PriorityClass", pc),
              "{\"apiVersion\":\"scheduling.k8s.io/v1\",\"kind\":\"PriorityClass\","
              "\"metadata\":{\"name\":\"low\"},\"value\":-10}");
}

static void test_quota_quantities(void **state) {
  struct enc *spec = enc_new();
  f_msg(spec, 1, f_msg(f_str(enc_new(), 1, "cpu"), 2, f_str(enc_new(), 1, "500m")));
  f_msg(spec, 1, f_msg(f_str(enc_new(), 1, "pods"), 2, f_str(enc_new(), 1, "10")));
  struct enc *q = enc_new();
  f_msg(q, 1, objmeta("q", "", NULL, NULL));
  f_msg(q, 2, spec);
  expect_json("", "v1", "ResourceQuota", body("v1", "ResourceQuota", q),
              "{\"apiVersion\":\"v1\",\"kind\":\"ResourceQuota\",\"metadata\":{\"name\":\"q\"},"
              "\"spec\":{\"hard\":{\"cpu\":\"500m\",\"pods\":\"10\"}}}");
}

static void test_pdb_pointer_intstr(void **state) {
  struct enc *spec = enc_new();
  f_msg(spec, 1, f_int(f_int(enc_new(), 1, 0), 2, 0)); /* minAvailable: *IntOrString 0 */
  f_msg(spec, 2, f_entry(enc_new(), 1, "app", "x"));
  struct enc *p = enc_new();
  f_msg(p, 1, objmeta("pdb", "", NULL, NULL));
  f_msg(p, 2, spec);
  expect_json("policy", "v1", "PodDisruptionBudget", body("policy/v1", "PodDisruptionBudget", p),
              "{\"apiVersion\":\"policy/v1\",\"kind\":\"PodDisruptionBudget\","
              "\"metadata\":{\"name\":\"pdb\"},"
              "\"spec\":{\"minAvailable\":0,\"selector\":{\"matchLabels\":{\"app\":\"x\"}}}}");
}

/* IngressRule.http sits in a nested ingressRuleValue message on the wire. */
static void test_ingress_inlined_rule_value(void **state) {
  struct enc *backend = enc_new();
  f_msg(backend, 4, f_msg(f_str(enc_new(), 1, "web"), 2, f_int(f_str(enc_new(), 1, ""), 2, 80)));
  struct enc *path = enc_new();
  f_str(path, 1, "/");
  f_msg(path, 2, backend);
  f_str(path, 3, "Prefix");
  struct enc *rule = enc_new();
  f_str(rule, 1, "example.com");
  f_msg(rule, 2, f_msg(enc_new(), 1, f_msg(enc_new(), 1, path)));
  struct enc *ing = enc_new();
  f_msg(ing, 1, objmeta("ing", "", NULL, NULL));
  f_msg(ing, 2, f_msg(enc_new(), 3, rule));
  expect_json("networking.k8s.io", "v1", "Ingress", body("networking.k8s.io/v1", "Ingress", ing),
              "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"Ingress\","
              "\"metadata\":{\"name\":\"ing\"},\"spec\":{\"rules\":[{\"host\":\"example.com\","
              "\"http\":{\"paths\":[{\"path\":\"/\",\"pathType\":\"Prefix\",\"backend\":"
              "{\"service\":{\"name\":\"web\",\"port\":{\"number\":80}}}}]}}]}}");
}

/* A pod template with a volume and a probe, whose members are nested on the wire. */
static void test_pod_template_volume_probe(void **state) {
  struct enc *vol = enc_new();
  f_str(vol, 1, "scratch");
  f_msg(vol, 2, f_msg(enc_new(), 2, f_str(enc_new(), 1, ""))); /* emptyDir: {} */
  struct enc *probe = enc_new();
  f_msg(probe, 1,
        f_msg(enc_new(), 3,
              f_msg(f_str(enc_new(), 2, ""), 1, f_int(enc_new(), 1, 0)
                    /* port: 0 stays (required) */)));
  f_int(probe, 2, 0);
  f_int(probe, 4, 5);
  struct enc *cextra = f_msg(enc_new(), 10, probe);
  struct enc *ps = podspec(container("c", "img", cextra), "");
  f_msg(ps, 1, vol);
  struct enc *pt = enc_new();
  f_msg(pt, 1, objmeta("tpl", "", NULL, NULL));
  f_msg(pt, 2, template(NULL, NULL, ps));
  expect_json("", "v1", "PodTemplate", body("v1", "PodTemplate", pt),
              "{\"apiVersion\":\"v1\",\"kind\":\"PodTemplate\",\"metadata\":{\"name\":\"tpl\"},"
              "\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"img\","
              "\"livenessProbe\":{\"tcpSocket\":{\"port\":0},\"periodSeconds\":5}}],"
              "\"volumes\":[{\"name\":\"scratch\",\"emptyDir\":{}}]}}}");
}

/* EphemeralContainerCommon is numbered like Container, nested in field 1. */
static void test_ephemeral_container(void **state) {
  struct enc *common = f_str(f_str(f_int(enc_new(), 16, 1), 2, "busybox"), 1, "debugger");
  struct enc *ec = f_str(f_msg(enc_new(), 1, common), 2, "app");
  struct enc *ps = podspec(container("app", "img", NULL), "");
  f_msg(ps, 34, ec);
  struct enc *pod = enc_new();
  f_msg(pod, 1, objmeta("p", "", NULL, NULL));
  f_msg(pod, 2, ps);
  expect_json("", "v1", "Pod", body("v1", "Pod", pod),
              "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
              "\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"img\"}],"
              "\"ephemeralContainers\":[{\"stdin\":true,\"image\":\"busybox\","
              "\"name\":\"debugger\",\"targetContainerName\":\"app\"}]}}");
}

/* NamedRuleWithOperations nests RuleWithOperations, which nests Rule: two levels. */
static void test_admission_rules_two_levels(void **state) {
  struct enc *rule = f_str(f_str(f_str(enc_new(), 1, "apps"), 3, "deployments"), 4, "*");
  struct enc *rwo = f_msg(f_str(enc_new(), 1, "CREATE"), 2, rule);
  struct enc *named = f_msg(f_str(enc_new(), 1, "x"), 2, rwo);
  struct enc *spec = f_msg(enc_new(), 2, f_msg(enc_new(), 3, named));
  struct enc *vap = enc_new();
  f_msg(vap, 1, objmeta("pol", "", NULL, NULL));
  f_msg(vap, 2, spec);
  expect_json("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy",
              body("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", vap),
              "{\"apiVersion\":\"admissionregistration.k8s.io/v1\","
              "\"kind\":\"ValidatingAdmissionPolicy\",\"metadata\":{\"name\":\"pol\"},"
              "\"spec\":{\"matchConstraints\":{\"resourceRules\":[{\"resourceNames\":[\"x\"],"
              "\"operations\":[\"CREATE\"],\"apiGroups\":[\"apps\"],"
              "\"resources\":[\"deployments\"],\"scope\":\"*\"}]}}}");
}

/* Bodies captured from kubectl v1.32 (`--dry-run=server` against a loopback listener). */
static const uint8_t kubectl_configmap[] = {
    0x6b, 0x38, 0x73, 0x00, 0x0a, 0x0f, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x09, 0x43, 0x6f,
    0x6e, 0x66, 0x69, 0x67, 0x4d, 0x61, 0x70, 0x12, 0x1b, 0x0a, 0x11, 0x0a, 0x01, 0x78,
    0x12, 0x00, 0x1a, 0x00, 0x22, 0x00, 0x2a, 0x00, 0x32, 0x00, 0x38, 0x00, 0x42, 0x00,
    0x12, 0x06, 0x0a, 0x01, 0x61, 0x12, 0x01, 0x62, 0x1a, 0x00, 0x22, 0x00,
};
static const uint8_t kubectl_deployment[] = {
    0x6b, 0x38, 0x73, 0x00, 0x0a, 0x15, 0x0a, 0x07, 0x61, 0x70, 0x70, 0x73, 0x2f, 0x76, 0x31, 0x12,
    0x0a, 0x44, 0x65, 0x70, 0x6c, 0x6f, 0x79, 0x6d, 0x65, 0x6e, 0x74, 0x12, 0xb8, 0x01, 0x0a, 0x1f,
    0x0a, 0x03, 0x77, 0x65, 0x62, 0x12, 0x00, 0x1a, 0x00, 0x22, 0x00, 0x2a, 0x00, 0x32, 0x00, 0x38,
    0x00, 0x42, 0x00, 0x5a, 0x0a, 0x0a, 0x03, 0x61, 0x70, 0x70, 0x12, 0x03, 0x77, 0x65, 0x62, 0x12,
    0x86, 0x01, 0x08, 0x00, 0x12, 0x0c, 0x0a, 0x0a, 0x0a, 0x03, 0x61, 0x70, 0x70, 0x12, 0x03, 0x77,
    0x65, 0x62, 0x1a, 0x6c, 0x0a, 0x1c, 0x0a, 0x00, 0x12, 0x00, 0x1a, 0x00, 0x22, 0x00, 0x2a, 0x00,
    0x32, 0x00, 0x38, 0x00, 0x42, 0x00, 0x5a, 0x0a, 0x0a, 0x03, 0x61, 0x70, 0x70, 0x12, 0x03, 0x77,
    0x65, 0x62, 0x12, 0x4c, 0x12, 0x2e, 0x0a, 0x05, 0x6e, 0x67, 0x69, 0x6e, 0x78, 0x12, 0x05, 0x6e,
    0x67, 0x69, 0x6e, 0x78, 0x2a, 0x00, 0x32, 0x0a, 0x0a, 0x00, 0x10, 0x00, 0x18, 0x50, 0x22, 0x00,
    0x2a, 0x00, 0x42, 0x00, 0x6a, 0x00, 0x72, 0x00, 0x80, 0x01, 0x00, 0x88, 0x01, 0x00, 0x90, 0x01,
    0x00, 0xa2, 0x01, 0x00, 0x1a, 0x00, 0x32, 0x00, 0x42, 0x00, 0x4a, 0x00, 0x52, 0x00, 0x58, 0x00,
    0x60, 0x00, 0x68, 0x00, 0x82, 0x01, 0x00, 0x8a, 0x01, 0x00, 0x9a, 0x01, 0x00, 0xc2, 0x01, 0x00,
    0x22, 0x02, 0x0a, 0x00, 0x28, 0x00, 0x38, 0x00, 0x1a, 0x0c, 0x08, 0x00, 0x10, 0x00, 0x18, 0x00,
    0x20, 0x00, 0x28, 0x00, 0x38, 0x00, 0x1a, 0x00, 0x22, 0x00,
};
static const uint8_t kubectl_service[] = {
    0x6b, 0x38, 0x73, 0x00, 0x0a, 0x0d, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x07, 0x53, 0x65, 0x72, 0x76,
    0x69, 0x63, 0x65, 0x12, 0x66, 0x0a, 0x1d, 0x0a, 0x02, 0x6d, 0x79, 0x12, 0x00, 0x1a, 0x00, 0x22,
    0x00, 0x2a, 0x00, 0x32, 0x00, 0x38, 0x00, 0x42, 0x00, 0x5a, 0x09, 0x0a, 0x03, 0x61, 0x70, 0x70,
    0x12, 0x02, 0x6d, 0x79, 0x12, 0x41, 0x0a, 0x1b, 0x0a, 0x07, 0x38, 0x30, 0x2d, 0x38, 0x30, 0x38,
    0x30, 0x12, 0x03, 0x54, 0x43, 0x50, 0x18, 0x50, 0x22, 0x07, 0x08, 0x00, 0x10, 0x90, 0x3f, 0x1a,
    0x00, 0x28, 0x00, 0x12, 0x09, 0x0a, 0x03, 0x61, 0x70, 0x70, 0x12, 0x02, 0x6d, 0x79, 0x1a, 0x00,
    0x22, 0x09, 0x43, 0x6c, 0x75, 0x73, 0x74, 0x65, 0x72, 0x49, 0x50, 0x3a, 0x00, 0x42, 0x00, 0x52,
    0x00, 0x5a, 0x00, 0x60, 0x00, 0x68, 0x00, 0x1a, 0x02, 0x0a, 0x00, 0x1a, 0x00, 0x22, 0x00,
};
static const uint8_t kubectl_ssar[] = {
    0x6b, 0x38, 0x73, 0x00, 0x0a, 0x32, 0x0a, 0x17, 0x61, 0x75, 0x74, 0x68, 0x6f, 0x72, 0x69, 0x7a,
    0x61, 0x74, 0x69, 0x6f, 0x6e, 0x2e, 0x6b, 0x38, 0x73, 0x2e, 0x69, 0x6f, 0x2f, 0x76, 0x31, 0x12,
    0x17, 0x53, 0x65, 0x6c, 0x66, 0x53, 0x75, 0x62, 0x6a, 0x65, 0x63, 0x74, 0x41, 0x63, 0x63, 0x65,
    0x73, 0x73, 0x52, 0x65, 0x76, 0x69, 0x65, 0x77, 0x12, 0x3f, 0x0a, 0x10, 0x0a, 0x00, 0x12, 0x00,
    0x1a, 0x00, 0x22, 0x00, 0x2a, 0x00, 0x32, 0x00, 0x38, 0x00, 0x42, 0x00, 0x12, 0x21, 0x0a, 0x1f,
    0x0a, 0x07, 0x64, 0x65, 0x66, 0x61, 0x75, 0x6c, 0x74, 0x12, 0x06, 0x63, 0x72, 0x65, 0x61, 0x74,
    0x65, 0x1a, 0x00, 0x22, 0x00, 0x2a, 0x04, 0x70, 0x6f, 0x64, 0x73, 0x32, 0x00, 0x3a, 0x00, 0x1a,
    0x08, 0x08, 0x00, 0x12, 0x00, 0x1a, 0x00, 0x20, 0x00, 0x1a, 0x00, 0x22, 0x00,
};

static void expect_captured(const char *group, const char *version, const char *kind,
                            const uint8_t *p, size_t n, const char *want) {
  struct enc *b = enc_new();
  put_raw(b, p, n);
  expect_json(group, version, kind, b, want);
}

static void test_captured_kubectl_bodies(void **state) {
  expect_captured("", "v1", "ConfigMap", kubectl_configmap, sizeof(kubectl_configmap),
                  "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},"
                  "\"data\":{\"a\":\"b\"}}");
  expect_captured("apps", "v1", "Deployment", kubectl_deployment, sizeof(kubectl_deployment),
                  "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
                  "\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"}},"
                  "\"spec\":{\"replicas\":0,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
                  "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
                  "\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx\","
                  "\"ports\":[{\"containerPort\":80}]}]}}}}");
  expect_captured("", "v1", "Service", kubectl_service, sizeof(kubectl_service),
                  "{\"apiVersion\":\"v1\",\"kind\":\"Service\","
                  "\"metadata\":{\"name\":\"my\",\"labels\":{\"app\":\"my\"}},"
                  "\"spec\":{\"ports\":[{\"name\":\"80-8080\",\"protocol\":\"TCP\",\"port\":80,"
                  "\"targetPort\":8080}],\"selector\":{\"app\":\"my\"},\"type\":\"ClusterIP\"}}");
  expect_captured(
      "authorization.k8s.io", "v1", "SelfSubjectAccessReview", kubectl_ssar, sizeof(kubectl_ssar),
      "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SelfSubjectAccessReview\","
      "\"spec\":{\"resourceAttributes\":{\"namespace\":\"default\",\"verb\":\"create\","
      "\"resource\":\"pods\"}},\"status\":{\"allowed\":false}}");
}

/* ---- scalar forms through a schema of their own ------------------------------------ */

static const char test_schema[] = "package io.k8s.apimachinery.pkg.apis.meta.v1\n"
                                  "type Duration scalar=string\n"
                                  "type MicroTime scalar=microtime\n"
                                  "type Time scalar=time\n"
                                  "package example.v1\n"
                                  "type Gadget gvk=example.io/v1/Gadget\n"
                                  "  apiVersion string pb=-\n"
                                  "  kind string pb=-\n"
                                  "  when Time pb=1\n"
                                  "  at MicroTime pb=2\n"
                                  "  wait io.k8s.apimachinery.pkg.apis.meta.v1.Duration pb=3\n"
                                  "  ratio number pb=4\n"
                                  "  raw any pb=5\n"
                                  "  nums []int32 pb=6,packed\n"
                                  "  extra map[[]string] pb=7\n"
                                  "  blob bytes pb=8\n"
                                  "  self Gadget pb=9\n"
                                  "  waits []io.k8s.apimachinery.pkg.apis.meta.v1.Duration pb=10\n"
                                  "  flags []boolean pb=11\n"
                                  "  name string pb=12\n";

static struct schema_set *gadget_set;

static int gadget_setup(void **state) {
  char *err = NULL;
  if (schema_set_parse(test_schema, &gadget_set, &err) < 0) {
    fprintf(stderr, "%s\n", err);
    free(err);
    return -1;
  }
  return 0;
}

static int gadget_teardown(void **state) {
  schema_set_free(gadget_set);
  return 0;
}

static struct api_resource gadget(void) {
  struct api_resource r = {.group = "example.io", .version = "v1", .kind = "Gadget"};
  r.schema = schema_find(gadget_set, "example.v1.Gadget");
  assert_non_null(r.schema);
  return r;
}

static json_t *decode_gadget(struct enc *raw) {
  struct api_resource r = gadget();
  struct enc *b = body("example.io/v1", "Gadget", raw);
  struct api_error err = {0};
  json_t *got = NULL;
  int rc = protobuf_decode_object(&r, (const char *)b->buf, b->len, &got, &err);
  enc_free(b);
  if (rc < 0)
    fail_msg("decode failed: %s", err.message);
  return got;
}

static struct enc *ts(int64_t secs, int64_t nanos) {
  return f_int(f_int(enc_new(), 1, secs), 2, nanos);
}

static void test_times(void **state) {
  json_t *g = decode_gadget(
      f_msg(f_msg(enc_new(), 1, ts(1704207905, 999999999)), 2, ts(1704207905, 123456789)));
  assert_string_equal(json_string_value(json_object_get(g, "when")), "2024-01-02T15:05:05Z");
  assert_string_equal(json_string_value(json_object_get(g, "at")), "2024-01-02T15:05:05.123456Z");
  json_decref(g);

  /* The zero time (empty message or Go's year 1) is null in JSON: left out. */
  g = decode_gadget(f_msg(f_msg(enc_new(), 1, enc_new()), 2, ts(-62135596800LL, 0)));
  assert_null(json_object_get(g, "when"));
  assert_null(json_object_get(g, "at"));
  json_decref(g);

  g = decode_gadget(f_msg(enc_new(), 1, ts(0, 0)));
  assert_string_equal(json_string_value(json_object_get(g, "when")), "1970-01-01T00:00:00Z");
  json_decref(g);
}

static void test_durations(void **state) {
  static const struct {
    int64_t ns;
    const char *want;
  } cases[] = {
      {0, "0s"},
      {1, "1ns"},
      {1500, "1.5\xc2\xb5s"},
      {250000000, "250ms"},
      {1500000000, "1.5s"},
      {60000000000LL, "1m0s"},
      {5400000000000LL, "1h30m0s"},
      {-90000000000LL, "-1m30s"},
      {3661500000000LL, "1h1m1.5s"},
  };
  struct enc *raw = enc_new();
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    f_msg(raw, 10, f_int(enc_new(), 1, cases[i].ns));
  f_msg(raw, 3, f_int(enc_new(), 1, 1000000000));
  json_t *g = decode_gadget(raw);
  assert_string_equal(json_string_value(json_object_get(g, "wait")), "1s");
  json_t *waits = json_object_get(g, "waits");
  assert_int_equal(json_array_size(waits), sizeof(cases) / sizeof(cases[0]));
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    assert_string_equal(json_string_value(json_array_get(waits, i)), cases[i].want);
  json_decref(g);
}

static void test_scalars(void **state) {
  double half = 0.5;
  uint64_t bits;
  memcpy(&bits, &half, sizeof(bits));
  struct enc *raw = enc_new();
  f_fixed64(raw, 4, bits);
  f_msg(raw, 5, f_str(enc_new(), 1, "{\"a\":[1,2]}"));
  /* packed and unpacked occurrences of one repeated field both append */
  struct enc *packed = enc_new();
  put_varint(packed, 1);
  put_varint(packed, (uint64_t)(int64_t)-2);
  put_varint(packed, 300);
  f_bytes(raw, 6, packed->buf, packed->len);
  enc_free(packed);
  f_int(raw, 6, 7);
  f_msg(raw, 7, f_msg(f_str(enc_new(), 1, "groups"), 2, f_str(f_str(enc_new(), 1, "a"), 1, "b")));
  f_bytes(raw, 8, "hi", 2);
  f_msg(raw, 9, f_str(enc_new(), 12, "inner"));
  f_int(raw, 11, 1);
  f_int(raw, 11, 0);
  f_bytes(raw, 12, "ok\xff", 3); /* invalid UTF-8 becomes U+FFFD, as Go's JSON writes it */
  f_int(raw, 99, 5);             /* unknown field numbers are skipped */
  f_str(raw, 98, "x");
  json_t *g = decode_gadget(raw);
  json_t *want = json_loads("{\"apiVersion\":\"example.io/v1\",\"kind\":\"Gadget\",\"ratio\":0.5,"
                            "\"raw\":{\"a\":[1,2]},\"nums\":[1,-2,300,7],"
                            "\"extra\":{\"groups\":[\"a\",\"b\"]},\"blob\":\"aGk=\","
                            "\"self\":{\"name\":\"inner\"},\"flags\":[true,false],"
                            "\"name\":\"ok\xef\xbf\xbd\"}",
                            0, NULL);
  assert_non_null(want);
  if (!json_equal(g, want)) {
    char *s = json_dumps(g, JSON_SORT_KEYS);
    fail_msg("got %s", s);
  }
  json_decref(want);
  json_decref(g);
}

/* A repeated non-repeated message merges; a repeated scalar takes the last value. */
static void test_merge_and_last_wins(void **state) {
  struct enc *raw = enc_new();
  f_msg(raw, 9, f_str(enc_new(), 12, "first"));
  f_msg(raw, 9, f_msg(enc_new(), 9, f_str(enc_new(), 12, "deep")));
  f_str(raw, 12, "a");
  f_str(raw, 12, "b");
  json_t *g = decode_gadget(raw);
  assert_string_equal(json_string_value(json_object_get(g, "name")), "b");
  assert_string_equal(json_string_value(json_path(g, "self.name")), "first");
  assert_string_equal(json_string_value(json_path(g, "self.self.name")), "deep");
  json_decref(g);
}

/* ---- malformed input --------------------------------------------------------------- */

static void test_type_meta_checks(void **state) {
  expect_error("", "v1", "ConfigMap", body("v1", "Secret", enc_new()), 400,
               "Secret in version \"v1\" cannot be handled as a ConfigMap: converting (v1.Secret) "
               "to (core.ConfigMap): unknown conversion");
  expect_error("apps", "v1", "Deployment", body("apps/v1", "Widget", enc_new()), 400,
               "Widget in version \"v1\" cannot be handled as a Deployment: no kind \"Widget\" is "
               "registered for version \"apps/v1\"");
  expect_error("apps", "v1", "Deployment", body("apps/v1beta1", "Deployment", enc_new()), 400,
               "the API version in the data (apps/v1beta1) does not match the expected API "
               "version (apps/v1)");
  expect_error("", "v1", "ConfigMap", body("apps/v1", "ConfigMap", enc_new()), 400,
               "does not match the expected API version (v1)");

  /* An empty typeMeta takes the resource's, as kube-apiserver defaults it. */
  expect_json("", "v1", "ConfigMap", body("", "", f_entry(enc_new(), 2, "k", "v")),
              "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"data\":{\"k\":\"v\"}}");
}

static void test_bad_magic_and_framing(void **state) {
  struct api_resource r = resource("", "v1", "ConfigMap");
  expect_error_bytes(&r, "", 0, 400,
                     "the object provided is unrecognized (must be of type ConfigMap): provided "
                     "data does not appear to be a protobuf message, expected prefix "
                     "[107 56 115 0] (<empty>)");
  expect_error_bytes(&r, "{\"kind\":\"ConfigMap\"}", 20, 400, "(7b226b696e64");
  expect_error_bytes(&r, "k8s", 3, 400, "does not appear to be a protobuf message");

  /* runtime.Unknown itself broken */
  expect_error_bytes(&r, "k8s\0\x0a\x05\x0a", 7, 400,
                     "the object provided is unrecognized (must be of type ConfigMap): "
                     "unexpected EOF (6b38730");
  expect_error_bytes(&r, "k8s\0\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 15, 400,
                     "proto: negative length found during unmarshaling");
  expect_error_bytes(&r, "k8s\0\x08\x01", 6, 400, "proto: wrong wireType = 0 for field TypeMeta");
  expect_error_bytes(&r, "k8s\0\x0b", 5, 400, "proto: illegal wireType 3");
  expect_error_bytes(&r, "k8s\0\x02\x00", 6, 400, "illegal tag 0");
  expect_error_bytes(&r, "k8s\0\x0a", 5, 400, "unexpected EOF");
  expect_error_bytes(&r, "k8s\0\x0a\x80\x80", 7, 400, "unexpected EOF");
  expect_error_bytes(&r, "k8s\0\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 15, 400,
                     "proto: integer overflow");
  expect_error_bytes(&r, "k8s\0\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 16, 400,
                     "proto: integer overflow");
  expect_error_bytes(&r, "k8s\0\x0d\x01\x02", 7, 400, "unexpected EOF"); /* short fixed32 */
}

static void test_bad_object(void **state) {
  /* data is a map: a varint there is the wrong wire type */
  expect_error("", "v1", "ConfigMap", body("v1", "ConfigMap", f_int(enc_new(), 2, 1)), 400,
               "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: proto: wrong "
               "wireType = 0 for field data");
  /* metadata.name as a varint */
  expect_error("", "v1", "ConfigMap",
               body("v1", "ConfigMap", f_msg(enc_new(), 1, f_int(enc_new(), 1, 3))), 400,
               "wrong wireType = 0 for field name");
  /* a length past the end of the embedded message */
  struct enc *raw = enc_new();
  put_raw(raw,
          "\x0a\x05\x0a\x09"
          "abc",
          7);
  expect_error("", "v1", "ConfigMap", body("v1", "ConfigMap", raw), 400,
               "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: unexpected EOF");
  /* a truncated varint inside the object */
  raw = enc_new();
  put_raw(raw, "\x10\x80", 2);
  expect_error("", "v1", "Secret", body("v1", "Secret", raw), 400, "unexpected EOF");
  /* an int32 field sent as a string */
  expect_error("scheduling.k8s.io", "v1", "PriorityClass",
               body("scheduling.k8s.io/v1", "PriorityClass", f_str(enc_new(), 2, "ten")), 400,
               "wrong wireType = 2 for field value");
  /* a replicas field as fixed64 */
  expect_error("apps", "v1", "Deployment",
               body("apps/v1", "Deployment", f_msg(enc_new(), 2, f_fixed64(enc_new(), 1, 1))), 400,
               "wrong wireType = 1 for field replicas");
  /* map entry with a bad value wire type */
  expect_error("", "v1", "ConfigMap",
               body("v1", "ConfigMap", f_msg(enc_new(), 2, f_int(f_str(enc_new(), 1, "k"), 2, 1))),
               400, "wrong wireType = 0 for field data");
  /* a Time with a string for seconds */
  expect_error(
      "", "v1", "ConfigMap",
      body("v1", "ConfigMap", f_msg(enc_new(), 1, f_msg(enc_new(), 8, f_str(enc_new(), 1, "x")))),
      400, "wrong wireType = 2 for field Seconds");
}

static void test_bad_scalars(void **state) {
  struct api_resource r = gadget();
  struct enc *b = body("example.io/v1", "Gadget", f_msg(enc_new(), 5, f_str(enc_new(), 1, "{no")));
  expect_error_bytes(&r, b->buf, b->len, 400, "field raw: raw value is not JSON");
  enc_free(b);
  uint64_t nan_bits = 0x7ff8000000000000ull;
  b = body("example.io/v1", "Gadget", f_fixed64(enc_new(), 4, nan_bits));
  expect_error_bytes(&r, b->buf, b->len, 400, "unsupported value");
  enc_free(b);
  b = body("example.io/v1", "Gadget", f_msg(enc_new(), 1, ts(300000000000LL, 0)));
  expect_error_bytes(&r, b->buf, b->len, 400, "time out of range for field when");
  enc_free(b);
  /* packed run cut short */
  struct enc *raw = enc_new();
  f_bytes(raw, 6, "\x01\x80", 2);
  b = body("example.io/v1", "Gadget", raw);
  expect_error_bytes(&r, b->buf, b->len, 400, "unexpected EOF");
  enc_free(b);
}

static void test_depth_limit(void **state) {
  struct api_resource r = gadget();
  /* 63 levels of self-nesting decode; 70 do not. */
  for (int levels = 62; levels <= 70; levels += 8) {
    struct enc *inner = f_str(enc_new(), 12, "bottom");
    for (int i = 0; i < levels; i++)
      inner = f_msg(enc_new(), 9, inner);
    struct enc *b = body("example.io/v1", "Gadget", inner);
    struct api_error err = {0};
    json_t *got = NULL;
    int rc = protobuf_decode_object(&r, (const char *)b->buf, b->len, &got, &err);
    if (levels < 64) {
      assert_int_equal(rc, 0);
      json_decref(got);
    } else {
      assert_true(rc < 0);
      assert_int_equal(err.code, 400);
      assert_non_null(strstr(err.message, "nested deeper than 64"));
    }
    api_error_clear(&err);
    enc_free(b);
  }
}

static void test_no_protobuf_numbers(void **state) {
  struct schema_set *set = NULL;
  char *msg = NULL;
  assert_int_equal(
      schema_set_parse("package x\ntype Thing gvk=x.io/v1/Thing\n  a string\n", &set, &msg), 0);
  struct api_resource r = {.group = "x.io", .version = "v1", .kind = "Thing"};
  r.schema = schema_find(set, "x.Thing");
  expect_error_bytes(&r, "k8s\0", 4, 415, "the body of the request was in an unknown format");
  schema_set_free(set);
}

/* Every prefix of a valid body is either decoded or rejected cleanly (run under ASan
 * this also shows no read past the end). */
static void test_every_truncation(void **state) {
  struct enc *cm = enc_new();
  f_msg(cm, 1, objmeta("cm1", "default", "k", "v"));
  f_entry(cm, 2, "a", "b");
  struct enc *b = body("v1", "ConfigMap", cm);
  struct api_resource r = resource("", "v1", "ConfigMap");
  for (size_t n = 0; n < b->len; n++) {
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, b->buf, n);
    struct api_error err = {0};
    json_t *got = NULL;
    if (protobuf_decode_object(&r, (const char *)copy, n, &got, &err) < 0)
      assert_int_equal(err.code, 400);
    else
      json_decref(got);
    api_error_clear(&err);
    free(copy);
  }
  enc_free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_configmap),
      cmocka_unit_test(test_secret),
      cmocka_unit_test(test_namespace),
      cmocka_unit_test(test_deployment),
      cmocka_unit_test(test_service),
      cmocka_unit_test(test_job),
      cmocka_unit_test(test_role),
      cmocka_unit_test(test_self_subject_access_review),
      cmocka_unit_test(test_priority_class_negative_int32),
      cmocka_unit_test(test_quota_quantities),
      cmocka_unit_test(test_pdb_pointer_intstr),
      cmocka_unit_test(test_ingress_inlined_rule_value),
      cmocka_unit_test(test_pod_template_volume_probe),
      cmocka_unit_test(test_ephemeral_container),
      cmocka_unit_test(test_captured_kubectl_bodies),
      cmocka_unit_test(test_admission_rules_two_levels),
      cmocka_unit_test_setup_teardown(test_times, gadget_setup, gadget_teardown),
      cmocka_unit_test_setup_teardown(test_durations, gadget_setup, gadget_teardown),
      cmocka_unit_test_setup_teardown(test_scalars, gadget_setup, gadget_teardown),
      cmocka_unit_test_setup_teardown(test_merge_and_last_wins, gadget_setup, gadget_teardown),
      cmocka_unit_test(test_type_meta_checks),
      cmocka_unit_test(test_bad_magic_and_framing),
      cmocka_unit_test(test_bad_object),
      cmocka_unit_test_setup_teardown(test_bad_scalars, gadget_setup, gadget_teardown),
      cmocka_unit_test_setup_teardown(test_depth_limit, gadget_setup, gadget_teardown),
      cmocka_unit_test(test_no_protobuf_numbers),
      cmocka_unit_test(test_every_truncation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

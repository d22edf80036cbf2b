#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "apiserver/request.h"
#include "lib/macro.h"

struct expect {
  const char *method, *path;
  bool watch;
  int rc;
  const char *group, *version, *ns, *resource, *name, *sub, *verb;
};

static const struct expect cases[] = {
    {"GET", "/api/v1/pods", false, 0, "", "v1", NULL, "pods", NULL, NULL, "list"},
    {"GET", "/api/v1/namespaces/default/pods/p1", false, 0, "", "v1", "default", "pods", "p1",
     NULL, "get"},
    {"GET", "/api/v1/namespaces/default/pods", true, 0, "", "v1", "default", "pods", NULL, NULL,
     "watch"},
    {"PUT", "/api/v1/namespaces/default/pods/p1/status", false, 0, "", "v1", "default", "pods",
     "p1", "status", "update"},
    {"GET", "/api/v1/namespaces/kube-system", false, 0, "", "v1", NULL, "namespaces",
     "kube-system", NULL, "get"},
    {"PUT", "/api/v1/namespaces/x/finalize", false, 0, "", "v1", NULL, "namespaces", "x",
     "finalize", "update"},
    {"PATCH", "/apis/apps/v1/namespaces/a/deployments/d/scale", false, 0, "apps", "v1", "a",
     "deployments", "d", "scale", "patch"},
    {"DELETE", "/apis/apps/v1/namespaces/a/deployments", false, 0, "apps", "v1", "a",
     "deployments", NULL, NULL, "deletecollection"},
    {"POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", false, 0,
     "rbac.authorization.k8s.io", "v1", NULL, "clusterroles", NULL, NULL, "create"},
    {"GET", "/apis/apps/v1", false, -ENOENT},
    {"GET", "/api", false, -ENOENT},
    {"GET", "/healthz", false, -ENOENT},
    {"GET", "/api/v1/namespaces/a/pods/p/log/extra", false, -EINVAL},
};

static void check_str(const char *want, const char *got) {
  if (!want)
    assert_null(got);
  else
    assert_string_equal(want, got);
}

static void test_parse(void **state) {
  (void)state;
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    const struct expect *c = &cases[i];
    struct request_info info;
    int rc = request_info_parse(c->method, c->path, c->watch, &info);
    assert_int_equal(rc, c->rc);
    if (rc < 0)
      continue;
    check_str(c->group, info.group);
    check_str(c->version, info.version);
    check_str(c->ns, info.namespace_);
    check_str(c->resource, info.resource);
    check_str(c->name, info.name);
    check_str(c->sub, info.subresource);
    check_str(c->verb, info.verb);
    request_info_clear(&info);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_parse)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

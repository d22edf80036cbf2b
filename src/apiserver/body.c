#include "apiserver/body.h"

#include "api/protobuf.h"
#include "lib/json.h"
#include "lib/yaml.h"

static int decode_json(const char *body, size_t len, json_t **ret, struct api_error *err) {
  _cleanup_free_ char *msg = NULL;
  json_t *v = NULL;
  if (len == 0)
    return api_error_bad_request(err, "the body of the request was empty");
  if (json_decode(body, len, &v, &msg) < 0)
    return api_error_bad_request(err, "error decoding request body: %s", msg ? msg : "invalid JSON");
  if (!json_is_object(v)) {
    json_decref(v);
    return api_error_bad_request(err, "the body of the request was not a JSON object");
  }
  *ret = v;
  return 0;
}

static int decode_yaml(const char *body, size_t len, json_t **ret, struct api_error *err) {
  _cleanup_free_ char *msg = NULL;
  json_t *v = NULL;
  if (yaml_decode_one(body, len, &v, &msg) < 0)
    return api_error_bad_request(err, "error converting YAML to JSON: %s",
                                 msg ? msg : "invalid YAML");
  if (!json_is_object(v)) {
    json_decref(v);
    return api_error_bad_request(err, "the body of the request was not a YAML mapping");
  }
  *ret = v;
  return 0;
}

int body_decode(const struct api_resource *r, const char *content_type, const char *body,
                size_t len, json_t **ret, struct api_error *err) {
  if (!content_type || !*content_type || startswith(content_type, "application/json") ||
      startswith(content_type, "*/*"))
    return decode_json(body, len, ret, err);
  if (startswith(content_type, "application/yaml"))
    return decode_yaml(body, len, ret, err);
  if (startswith(content_type, "application/vnd.kubernetes.protobuf"))
    return protobuf_decode_object(r, body, len, ret, err);
  return api_error_set(err, -EINVAL, 415, "UnsupportedMediaType",
                       "the body of the request was in an unknown format - accepted media types "
                       "include: application/json, application/yaml, "
                       "application/vnd.kubernetes.protobuf");
}

int body_decode_patch(const char *body, size_t len, bool yaml, json_t **ret,
                      struct api_error *err) {
  if (yaml)
    return decode_yaml(body, len, ret, err);
  _cleanup_free_ char *msg = NULL;
  json_t *v = NULL;
  if (len == 0)
    return api_error_bad_request(err, "the body of the request was empty");
  if (json_decode(body, len, &v, &msg) < 0)
    return api_error_bad_request(err, "error decoding patch: %s", msg ? msg : "invalid JSON");
  *ret = v;
  return 0;
}

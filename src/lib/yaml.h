/* yaml.h — YAML manifests to JSON trees and back, on libyaml, with the semantics kubectl
 * and kube-apiserver give YAML (sigs.k8s.io/yaml over go-yaml v2):
 *
 *  - plain scalars resolve as YAML 1.1: null/~/"" → null; true/false/yes/no/on/off/y/n in
 *    go-yaml's spellings → booleans; decimal, 0x, 0o, 0b and leading-0 octal integers with
 *    '_' separators; floats (.inf/.nan are refused: JSON cannot hold them); anything else,
 *    and every quoted or block scalar, is a string; timestamps stay strings;
 *  - explicit tags (!!str, !!int, !!float, !!bool, !!null, !!binary) are honoured;
 *  - anchors, aliases and merge keys (<<) work as in go-yaml v2; alias expansion is capped
 *    the way go-yaml caps it ("document contains excessive aliasing");
 *  - non-string map keys become strings (1 → "1", true → "true", 1.5 → "1.5").
 *
 * Streams are split into documents as kubectl does: at lines beginning with "---"; a stream
 * whose first non-blank character is '{' is read as concatenated JSON values instead.
 * Documents that decode to null (empty, comments only, "~") are skipped.
 *
 * Error messages look like go-yaml's: "yaml: line 3: mapping values are not allowed in this
 * context" (line numbers count from the start of the document, as kubectl's do); callers
 * that report them to users prefix "error converting YAML to JSON: " like kubectl.
 *
 * All functions are reentrant. Nothing here logs. */
#pragma once

#include <stddef.h>

#include "lib/json.h"

/* Decodes every document of a stream into a new JSON array (possibly empty). Returns 0 and
 * the array in *ret_array, or -EINVAL and, if ret_err is set, a malloc'd message. */
int yaml_decode_all(const char *buf, size_t len, json_t **ret_array, char **ret_err);

/* Decodes a stream holding at most one document (JSON input included). Empty input (or a
 * lone null document) gives JSON null. More than one document is an error ("yaml: expected
 * a single document in the stream"). Same return convention as yaml_decode_all. */
int yaml_decode_one(const char *buf, size_t len, json_t **ret, char **ret_err);

/* Flags for yaml_encode_flags(). */
enum {
  /* Sort object keys the way go-yaml does (what `kubectl get -o yaml` prints). Without it,
   * keys keep the object's own order. */
  YAML_ENCODE_SORT_KEYS = 1 << 0,
};

/* Encodes a JSON value as block YAML the way kubectl -o yaml prints it: two-space indent,
 * sequences under a key not indented, strings quoted only when they would otherwise read
 * as something else (double quotes) or cannot be plain (single quotes), multi-line strings
 * as literal blocks, {} and [] for empty containers. Ends with a newline. Never NULL
 * (aborts on OOM); caller frees. */
char *yaml_encode(const json_t *v);
char *yaml_encode_flags(const json_t *v, unsigned flags);

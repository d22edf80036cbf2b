/* selector.h — Kubernetes label selectors and field selectors: the string syntax of
 * `?labelSelector=` / `kubectl -l` (k8s.io/apimachinery/pkg/labels), the LabelSelector
 * object of specs (matchLabels + matchExpressions), and `?fieldSelector=`
 * (k8s.io/apimachinery/pkg/fields). Parse errors carry Kubernetes' own texts.
 *
 * A selector is immutable once built: matching and printing are thread-safe; freeing is
 * not (only the owner frees). Nothing here logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/json.h"

/* ---- label selectors ---- */

typedef enum {
  SELECTOR_OP_EXISTS,        /* key          */
  SELECTOR_OP_DOES_NOT_EXIST, /* !key         */
  SELECTOR_OP_EQUALS,        /* key=v        */
  SELECTOR_OP_DOUBLE_EQUALS, /* key==v       */
  SELECTOR_OP_NOT_EQUALS,    /* key!=v       */
  SELECTOR_OP_IN,            /* key in (a,b) */
  SELECTOR_OP_NOT_IN,        /* key notin (a)*/
  SELECTOR_OP_GT,            /* key>1        */
  SELECTOR_OP_LT,            /* key<1        */
} selector_op_t;

typedef struct selector selector_t;

/* Parses the string syntax ("app=web,tier in (a,b),!legacy"). "" gives the empty selector,
 * which matches everything. Requirements are kept sorted by key, as Kubernetes does.
 * Returns 0 and a new selector in *ret, or -EINVAL and, if ret_err is set, a malloc'd
 * message such as "unable to parse requirement: <nil>: Invalid value: \"b@d\": name part
 * must consist of ..." or "found ')', expected: !, identifier, or 'end of string'". */
int selector_parse(const char *str, selector_t **ret, char **ret_err);

/* Builds a selector from a metav1.LabelSelector JSON object, as LabelSelectorAsSelector
 * does: NULL or JSON null gives the "nothing" selector (matches no object); {} or one with
 * empty matchLabels and matchExpressions gives the empty selector (matches everything).
 * Operators In/NotIn/Exists/DoesNotExist; In/NotIn need values, Exists/DoesNotExist must
 * have none; keys and values must be valid label syntax. Errors as selector_parse (for
 * example "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set
 * can't be empty", or "\"Foo\" is not a valid label selector operator"). */
int selector_from_json(const json_t *label_selector, selector_t **ret, char **ret_err);

/* The empty selector (matches everything) and the nothing selector (matches nothing).
 * Never NULL; caller frees. */
selector_t *selector_everything(void);
selector_t *selector_nothing(void);

void selector_free(selector_t *sel);
DEFINE_TRIVIAL_CLEANUP_FUNC(selector_t *, selector_free);
#define _cleanup_selector_ _cleanup_(selector_freep)

/* Whether the labels object (a JSON object of string values; NULL or non-object = no
 * labels) satisfies every requirement. A NULL selector matches everything. */
bool selector_matches(const selector_t *sel, const json_t *labels);

/* True for the empty selector (no requirements, not "nothing"). */
bool selector_is_empty(const selector_t *sel);
/* True for the "nothing" selector. */
bool selector_is_nothing(const selector_t *sel);

/* Canonical string form, as labels.Selector.String(): requirements sorted by key, In/NotIn
 * values sorted, joined by ','. "" for the empty and the nothing selector. Caller frees. */
char *selector_to_string(const selector_t *sel);

/* If the selector pins `key` to one value (key=v, key==v or key in (v)), returns 1 and the
 * value in *ret_value (borrowed from sel); otherwise 0. For index look-ups. */
int selector_requires_exact(const selector_t *sel, const char *key, const char **ret_value);

/* Introspection: number of requirements, and requirement i's key, operator and values
 * (borrowed; values is a NULL-terminated vector). */
size_t selector_count(const selector_t *sel);
const char *selector_key(const selector_t *sel, size_t i);
selector_op_t selector_op(const selector_t *sel, size_t i);
const char *const *selector_values(const selector_t *sel, size_t i);

/* ---- field selectors ---- */

typedef struct selector_field selector_field_t;

/* Resolves a field name ("metadata.name", "spec.nodeName") of the object in ud to its value.
 * NULL means the field is unknown; matching treats that as "" (as fields.Set does), so
 * callers that must reject unknown fields check selector_field_name() first. */
typedef const char *(*selector_field_getter_t)(void *ud, const char *field);

/* Parses "a=b,c!=d,e==f". Backslash escapes '\\', ',' and '=' in values. "" gives the empty
 * selector. Terms are kept in Kubernetes' order (sorted as strings). Errors (-EINVAL, message
 * in *ret_err): "invalid selector: 'x'; can't understand 'x'", "invalid field selector:
 * invalid escape sequence: \\q", "invalid field selector: unescaped character in value: 61".
 */
int selector_field_parse(const char *str, selector_field_t **ret, char **ret_err);

void selector_field_free(selector_field_t *fs);
DEFINE_TRIVIAL_CLEANUP_FUNC(selector_field_t *, selector_field_free);
#define _cleanup_selector_field_ _cleanup_(selector_field_freep)

/* Whether every term holds for the object seen through get/ud. NULL fs matches all. */
bool selector_field_matches(const selector_field_t *fs, selector_field_getter_t get, void *ud);

/* Canonical string: "a=b,c!=d" with values re-escaped. "" when empty. Caller frees. */
char *selector_field_to_string(const selector_field_t *fs);

bool selector_field_is_empty(const selector_field_t *fs);

/* Terms: count, and term i's field, value (unescaped) and whether it is a "!=" term. All
 * borrowed. Use the field names to reject unsupported ones ("field label not supported:
 * X"). */
size_t selector_field_count(const selector_field_t *fs);
const char *selector_field_name(const selector_field_t *fs, size_t i);
const char *selector_field_value(const selector_field_t *fs, size_t i);
bool selector_field_negated(const selector_field_t *fs, size_t i);

/* If some term is `field=value` (or ==), returns 1 and that value (borrowed); else 0. */
int selector_field_requires_exact(const selector_field_t *fs, const char *field,
                                  const char **ret_value);

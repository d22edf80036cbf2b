/* fieldpath.h — sets of field paths, the ownership records of server-side apply.
 *
 * A field set is a tree: each node lists the path elements that end there ("members")
 * and the path elements that lead further down ("children"). Path elements are:
 *   f:NAME   a struct field or map key
 *   k:{...}  a list-map item, identified by its key fields (a JSON object, keys sorted)
 *   v:VALUE  a set item, identified by its value
 *   i:N      a list index
 * The wire form is metav1.FieldsV1: {"f:metadata":{"f:labels":{".":{},"f:app":{}}}},
 * where "." marks a node that is both a member and has children. Serialisation is
 * byte-identical to kube-apiserver's (structured-merge-diff v4): elements sorted field
 * names first, then keys, values, indices; JSON strings escaped as Go's encoder does.
 *
 * The schema-aware part computes "the field set of an object" as apply does: scalars
 * are leaves, list-map items are identified by key and set items by value (each item
 * is also a member), atomic lists/maps are single leaves, empty maps and nulls are
 * leaves, and map entries (not struct fields) are members.
 *
 * Sets are plain values: not thread-safe for concurrent mutation, but a set nobody
 * mutates may be read from any thread. Nothing here logs.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/schema.h"
#include "lib/macro.h"

enum fieldpath_pe_kind { FIELDPATH_FIELD, FIELDPATH_KEY, FIELDPATH_VALUE, FIELDPATH_INDEX };

/* One path element. Owns its data. */
struct fieldpath_pe {
  enum fieldpath_pe_kind kind;
  char *field;     /* FIELDPATH_FIELD */
  json_t *value;   /* FIELDPATH_KEY: array of [name, value] pairs sorted by name;
                      FIELDPATH_VALUE: the value */
  long long index; /* FIELDPATH_INDEX */
};

void fieldpath_pe_clear(struct fieldpath_pe *pe);
/* Deep copy into *ret (never fails; aborts on OOM). */
void fieldpath_pe_copy(const struct fieldpath_pe *pe, struct fieldpath_pe *ret);
/* Total order of kube's PathElement.Compare: <0, 0, >0. */
int fieldpath_pe_compare(const struct fieldpath_pe *a, const struct fieldpath_pe *b);
/* The human form used in conflict messages: `.name`, `[name="nginx"]`, `[="x"]`, `[3]`.
 * Caller frees. */
char *fieldpath_pe_string(const struct fieldpath_pe *pe);
/* Orders a total JSON value as kube's value.Compare does (numbers, strings, booleans,
 * lists, maps, null). */
int fieldpath_value_compare(const json_t *a, const json_t *b);

/* A path element for a struct field or map key (borrowed name: do not clear). */
static inline struct fieldpath_pe fieldpath_pe_field(const char *name) {
  return (struct fieldpath_pe){.kind = FIELDPATH_FIELD, .field = (char *)name};
}

struct fieldpath_set;

struct fieldpath_set *fieldpath_set_new(void);
void fieldpath_set_free(struct fieldpath_set *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct fieldpath_set *, fieldpath_set_free)
#define _cleanup_fieldpath_set_ _cleanup_(fieldpath_set_freep)

struct fieldpath_set *fieldpath_set_copy(const struct fieldpath_set *s);

/* Adds the path pes[0..n-1] as a member (n == 0 does nothing). Copies the elements. */
void fieldpath_set_insert(struct fieldpath_set *s, const struct fieldpath_pe *pes, size_t n);
/* Whether the path is a member. */
bool fieldpath_set_has(const struct fieldpath_set *s, const struct fieldpath_pe *pes, size_t n);
/* Whether the element is a member of this node. */
bool fieldpath_set_has_member(const struct fieldpath_set *s, const struct fieldpath_pe *pe);
/* The subtree under one element, or NULL. Borrowed. */
const struct fieldpath_set *fieldpath_set_child(const struct fieldpath_set *s,
                                                const struct fieldpath_pe *pe);

/* True when the set holds no member anywhere. */
bool fieldpath_set_empty(const struct fieldpath_set *s);
bool fieldpath_set_equal(const struct fieldpath_set *a, const struct fieldpath_set *b);

/* New sets (caller frees). NULL arguments are empty sets.
 * difference: members of a not members of b, per node (a member of b does not remove
 * a's children there); recursive_difference: a member of b also removes everything of
 * a beneath it. */
struct fieldpath_set *fieldpath_set_union(const struct fieldpath_set *a,
                                          const struct fieldpath_set *b);
struct fieldpath_set *fieldpath_set_intersection(const struct fieldpath_set *a,
                                                 const struct fieldpath_set *b);
struct fieldpath_set *fieldpath_set_difference(const struct fieldpath_set *a,
                                               const struct fieldpath_set *b);
struct fieldpath_set *fieldpath_set_recursive_difference(const struct fieldpath_set *a,
                                                         const struct fieldpath_set *b);

/* Calls fn for every member path, in order (a node's members before its children).
 * The path array is borrowed for the duration of the call. */
void fieldpath_set_iterate(const struct fieldpath_set *s,
                           void (*fn)(const struct fieldpath_pe *pes, size_t n, void *userdata),
                           void *userdata);
/* `.spec.containers[name="nginx"].image`. Caller frees. */
char *fieldpath_path_string(const struct fieldpath_pe *pes, size_t n);

/* Parses a FieldsV1 object. Unknown element prefixes are ignored (as kube does); a
 * malformed element or a non-object value returns -EINVAL. NULL or JSON null give an
 * empty set. */
int fieldpath_set_from_json(const json_t *fields, struct fieldpath_set **ret);
/* The same from text. */
int fieldpath_set_parse(const char *buf, size_t len, struct fieldpath_set **ret);
/* The FieldsV1 bytes exactly as kube-apiserver writes them. Caller frees. */
char *fieldpath_set_serialize(const struct fieldpath_set *s);
/* The FieldsV1 object as a jansson tree with keys in kube's order (new reference). */
json_t *fieldpath_set_to_json(const struct fieldpath_set *s);

/* ---- schema-aware part ---- */

enum fieldpath_type_kind {
  FIELDPATH_T_SCALAR,
  FIELDPATH_T_STRUCT,
  FIELDPATH_T_MAP,
  FIELDPATH_T_LIST,
  FIELDPATH_T_DEDUCED, /* free-form JSON: objects granular, lists atomic */
};

/* How apply treats one position of an object: what a field's schema and options mean
 * for merging. Values; pointers borrow from the immutable schema set. */
struct fieldpath_type {
  enum fieldpath_type_kind kind;
  bool atomic;                   /* LIST/MAP/STRUCT replaced as a whole */
  bool set;                      /* LIST: x-kubernetes-list-type=set */
  bool required;                 /* the declaring field is required: serialised even when empty */
  const char *const *keys;       /* LIST list-map keys (NULL-terminated), or NULL */
  const char *key1;              /* LIST single merge key when keys is NULL, or NULL */
  const struct schema_type *st;  /* STRUCT */
  const struct schema_ref *elem; /* LIST/MAP element */
};

void fieldpath_type_of_struct(const struct schema_type *t, struct fieldpath_type *ret);
void fieldpath_type_of_field(const struct schema_field *f, struct fieldpath_type *ret);
void fieldpath_type_of_ref(const struct schema_ref *r, struct fieldpath_type *ret);
/* The type of the value under key of a STRUCT/MAP/DEDUCED value. Returns true when key
 * is a declared struct field (kube then does not make it a member of its own). */
bool fieldpath_type_child(const struct fieldpath_type *t, const char *key,
                          struct fieldpath_type *ret);
/* Element type of a LIST. */
void fieldpath_type_elem(const struct fieldpath_type *t, struct fieldpath_type *ret);
/* True for a granular list-map or set. */
static inline bool fieldpath_type_associative(const struct fieldpath_type *t) {
  return t->kind == FIELDPATH_T_LIST && !t->atomic && (t->set || t->keys || t->key1);
}

/* The path element naming item of an associative list: k:{keys} (defaults from the
 * schema fill absent key fields) or v:value. -EINVAL with a malloc'd message in
 * *ret_err (if given) when the item cannot be identified, worded as kube words it. */
int fieldpath_item_pe(const struct fieldpath_type *list, const json_t *item,
                      struct fieldpath_pe *ret, char **ret_err);

/* The field set of obj under type t (see the top of this file). Returns -EINVAL with a
 * malloc'd message (`.spec.containers: element 0: associative list with keys has an
 * element that omits key field "name"`, duplicates) when allow_duplicates is false
 * and an associative list repeats an item, or when an item cannot be identified. */
int fieldpath_from_object(const struct fieldpath_type *t, const json_t *obj, bool allow_duplicates,
                          struct fieldpath_set **ret, char **ret_err);

/* A copy of s in which every child that is a declared struct field is also a member
 * (kube's EnsureNamedFieldsAreMembers). */
struct fieldpath_set *fieldpath_set_named_members(const struct fieldpath_set *s,
                                                  const struct fieldpath_type *t);

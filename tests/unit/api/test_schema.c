/* Tests for the schema-language parser and its lookups. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/schema.h"

extern const char ckube_schema_text[];

static const char good_text[] =
    "# a comment\n"
    "package io.k8s.example.v1\n"
    "\n"
    "type Widget gvk=example.io/v1/Widget gvk=example.io/v1beta1/Widget -- A widget.\n"
    "  apiVersion string pb=- -- The version.\n"
    "  metadata Meta pb=1\n"
    "  spec WidgetSpec pb=2 -- What it should be.\n"
    "  status WidgetStatus pb=3 ro\n"
    "type WidgetSpec\n"
    "  replicas int32 default=1 min=0 max=10 pb=1\n"
    "  mode string enum=Fast|Slow default=\"Slow\" pb=2\n"
    "  label string default=\"two words\" format=dns1123label pb=3 -- with a doc\n"
    "  parts []Part merge=name pb=4\n"
    "  ports []Port keys=port,protocol pb=5,packed\n"
    "  tags []string patch=merge list=set pb=6\n"
    "  extra map[[]string] map=atomic pb=7\n"
    "  size other.Size pb=8\n"
    "  raw any pb=9\n"
    "  a string oneof=src\n"
    "  b string oneof=src required\n"
    "  strategy Strategy patch=retainKeys\n"
    "type Strategy\n"
    "  type string\n"
    "type WidgetStatus\n"
    "  ready boolean\n"
    "type Part\n"
    "  name string required\n"
    "type Port\n"
    "  port int32\n"
    "  protocol string\n"
    "type Meta\n"
    "  name string\n"
    "package other\n"
    "type Size scalar=quantity -- A size.\n"
    "type Meta\n"
    "  other string\n";

static struct schema_set *parse_ok(const char *text) {
  struct schema_set *set = NULL;
  char *err = NULL;
  int r = schema_set_parse(text, &set, &err);
  if (r < 0)
    fail_msg("parse failed: %s", err);
  assert_non_null(set);
  return set;
}

static void test_parse_good(void **state) {
  struct schema_set *set = parse_ok(good_text);
  assert_int_equal(schema_count(set), 9);

  const struct schema_type *w = schema_find(set, "io.k8s.example.v1.Widget");
  assert_non_null(w);
  assert_ptr_equal(schema_find(set, "Widget"), w);
  assert_string_equal(w->name, "Widget");
  assert_string_equal(w->doc, "A widget.");
  assert_int_equal(w->scalar, SCHEMA_STRUCT);
  assert_int_equal(w->n_gvks, 2);
  assert_string_equal(w->gvks[0].group, "example.io");
  assert_string_equal(w->gvks[1].version, "v1beta1");
  assert_ptr_equal(schema_find_gvk(set, "example.io", "v1beta1", "Widget"), w);
  assert_null(schema_find_gvk(set, "example.io", "v2", "Widget"));
  assert_int_equal(w->n_fields, 4);
  assert_int_equal(schema_field(w, "apiVersion")->pb, 0);
  assert_string_equal(schema_field(w, "apiVersion")->doc, "The version.");
  assert_true(schema_field(w, "status")->read_only);
  assert_null(schema_field(w, "nope"));

  /* Meta resolves within its own package first, although "Meta" is ambiguous. */
  const struct schema_field *mf = schema_field(w, "metadata");
  assert_int_equal(mf->ref->kind, SCHEMA_STRUCT);
  assert_string_equal(mf->ref->type->full_name, "io.k8s.example.v1.Meta");
  assert_null(schema_find(set, "Meta"));
  assert_non_null(schema_find(set, "other.Meta"));

  const struct schema_type *spec = schema_find(set, "WidgetSpec");
  const struct schema_field *f = schema_field(spec, "replicas");
  assert_int_equal(f->ref->kind, SCHEMA_INT32);
  assert_true(json_is_integer(f->default_value));
  assert_int_equal(json_integer_value(f->default_value), 1);
  assert_true(f->has_min && f->has_max);
  assert_true(f->min == 0 && f->max == 10);
  assert_int_equal(f->pb, 1);

  f = schema_field(spec, "mode");
  assert_string_equal(f->enum_values[0], "Fast");
  assert_string_equal(f->enum_values[1], "Slow");
  assert_null(f->enum_values[2]);
  assert_string_equal(json_string_value(f->default_value), "Slow");

  f = schema_field(spec, "label");
  assert_string_equal(json_string_value(f->default_value), "two words");
  assert_string_equal(f->format, "dns1123label");
  assert_string_equal(f->doc, "with a doc");

  f = schema_field(spec, "parts");
  assert_int_equal(f->ref->kind, SCHEMA_LIST);
  assert_int_equal(f->ref->elem->kind, SCHEMA_STRUCT);
  assert_string_equal(f->ref->elem->type->name, "Part");
  assert_string_equal(f->merge_key, "name");
  assert_int_equal(f->patch_strategy, SCHEMA_PATCH_MERGE);
  assert_int_equal(f->list_type, SCHEMA_LIST_MAP);
  assert_string_equal(f->list_keys[0], "name");
  assert_null(f->list_keys[1]);

  f = schema_field(spec, "ports");
  assert_int_equal(f->list_type, SCHEMA_LIST_MAP);
  assert_string_equal(f->list_keys[1], "protocol");
  assert_null(f->merge_key);
  assert_true(f->pb_packed);

  f = schema_field(spec, "tags");
  assert_int_equal(f->list_type, SCHEMA_LIST_SET);
  assert_int_equal(f->patch_strategy, SCHEMA_PATCH_MERGE);
  assert_null(f->list_keys);

  f = schema_field(spec, "extra");
  assert_int_equal(f->ref->kind, SCHEMA_MAP);
  assert_int_equal(f->ref->elem->kind, SCHEMA_LIST);
  assert_int_equal(f->ref->elem->elem->kind, SCHEMA_STRING);
  assert_true(f->map_atomic);

  f = schema_field(spec, "size");
  assert_int_equal(f->ref->kind, SCHEMA_QUANTITY);
  assert_string_equal(f->ref->type->full_name, "other.Size");

  assert_int_equal(schema_field(spec, "raw")->ref->kind, SCHEMA_ANY);
  assert_string_equal(schema_field(spec, "a")->oneof, "src");
  assert_true(schema_field(spec, "b")->required);
  assert_int_equal(schema_field(spec, "strategy")->patch_strategy, SCHEMA_PATCH_RETAIN_KEYS);

  for (size_t i = 0; i < schema_count(set); i++)
    assert_non_null(schema_at(set, i));
  assert_null(schema_at(set, schema_count(set)));
  schema_set_free(set);
}

static void test_empty_text(void **state) {
  struct schema_set *set = parse_ok("");
  assert_int_equal(schema_count(set), 0);
  assert_null(schema_find(set, "x"));
  schema_set_free(set);
  schema_set_free(NULL);
}

struct bad_case {
  const char *text;
  const char *err;
};

static const struct bad_case bad_cases[] = {
    {"type A\n", "line 1: type before any package line"},
    {"package p\n  x string\n", "line 2: field outside of a type"},
    {"package p\ntype A\n   x string\n", "line 3: fields are indented by exactly two spaces"},
    {"package p\ntype A\n\tx string\n", "line 3: fields are indented by exactly two spaces"},
    {"package p\nfoo\n", "line 2: expected \"package\", \"type\" or an indented field"},
    {"package\n", "line 1: package takes exactly one name"},
    {"package a b\n", "line 1: package takes exactly one name"},
    {"package p\ntype\n", "line 2: expected \"package\", \"type\" or an indented field"},
    {"package p\ntype A-B\n", "line 2: malformed type name \"A-B\""},
    {"package p\ntype string\n", "line 2: type name \"string\" is a built-in scalar"},
    {"package p\ntype A foo\n", "line 2: unknown type option \"foo\""},
    {"package p\ntype A color=red\n", "line 2: unknown type option \"color\""},
    {"package p\ntype A gvk=v1/Pod\n", "line 2: gvk: \"v1/Pod\" is not GROUP/VERSION/KIND"},
    {"package p\ntype A gvk=a//Pod\n", "line 2: gvk: \"a//Pod\" is not GROUP/VERSION/KIND"},
    {"package p\ntype A scalar=float\n", "line 2: scalar: unknown scalar type \"float\""},
    {"package p\ntype A scalar=string scalar=string\n", "line 2: scalar given twice"},
    {"package p\ntype A scalar=string\n  x string\n",
     "line 3: scalar type A cannot have fields"},
    {"package p\ntype A\n  x\n", "line 3: field x: missing type"},
    {"package p\ntype A\n  x string\n  x int32\n", "line 4: duplicate field \"x\" in type A"},
    {"package p\ntype A\n  x Nope\n", "line 3: unknown type Nope"},
    {"package p\ntype A\n  x q.Nope\n", "line 3: unknown type q.Nope"},
    {"package p\ntype A\n  x map[string\n",
     "line 3: malformed map type \"map[string\": expected map[T]"},
    {"package p\ntype A\n  x []\n", "line 3: missing type"},
    {"package p\ntype A\n  x a-b\n", "line 3: malformed type \"a-b\""},
    {"package p\ntype A\n  x string bogus\n", "line 3: unknown field option \"bogus\""},
    {"package p\ntype A\n  x string color=red\n", "line 3: unknown field option \"color\""},
    {"package p\ntype A\n  x string required=yes\n", "line 3: option required takes no value"},
    {"package p\ntype A\n  x string format=\n", "line 3: option format needs a value"},
    {"package p\ntype A\n  x string default=\"a\n", "line 3: default: invalid JSON: "},
    {"package p\ntype A\n  x string default=1x\n",
     "line 3: default: invalid JSON: trailing text after the value"},
    {"package p\ntype A\n  x string default=\"a\" default=\"b\"\n", "line 3: default given twice"},
    {"package p\ntype A\n  x int32 default=\"a\"\n",
     "line 3: field x: default does not match its type"},
    {"package p\ntype A\n  x string enum=a||b\n", "line 3: enum: empty value in \"a||b\""},
    {"package p\ntype A\n  x int32 min=abc\n", "line 3: min: \"abc\" is not a number"},
    {"package p\ntype A\n  x int32 max=1e\n", "line 3: max: \"1e\" is not a number"},
    {"package p\ntype A\n  x []string patch=bogus\n",
     "line 3: patch: unknown strategy \"bogus\""},
    {"package p\ntype A\n  x []string list=tree\n", "line 3: list: unknown list type \"tree\""},
    {"package p\ntype A\n  x []string list=map\n",
     "line 3: field x: list=map needs keys= or merge="},
    {"package p\ntype A\n  x []string list=set keys=a\n", "line 3: field x: keys= needs list=map"},
    {"package p\ntype A\n  x string merge=name\n",
     "line 3: field x: list options on a field that is not a list"},
    {"package p\ntype A\n  x map[string] map=tree\n", "line 3: map: unknown map type \"tree\""},
    {"package p\ntype A\n  x string map=atomic\n",
     "line 3: field x: map= on a field that is not a map or struct"},
    {"package p\ntype A\n  x string pb=abc\n",
     "line 3: pb: \"abc\" is not a protobuf field number"},
    {"package p\ntype A\n  x string pb=0\n", "line 3: pb: \"0\" is not a protobuf field number"},
    {"package p\ntype A\n  x []int32 pb=1,unpacked\n", "line 3: pb: unexpected \",unpacked\""},
    {"package p\ntype A\ntype B\ntype A\n",
     "line 4: duplicate type A in package p (first declared on line 2)"},
    {"package p\ntype A\npackage q\ntype A\npackage r\ntype B\n  x A\n",
     "line 7: type A is ambiguous: name it with its package"},
};

static void test_parse_errors(void **state) {
  for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
    struct schema_set *set = NULL;
    char *err = NULL;
    int r = schema_set_parse(bad_cases[i].text, &set, &err);
    if (r != -EINVAL || !err || strncmp(err, bad_cases[i].err, strlen(bad_cases[i].err)) != 0)
      fail_msg("case %zu: got %d \"%s\", want \"%s\"", i, r, err ? err : "(null)",
               bad_cases[i].err);
    assert_null(set);
    free(err);
  }
}

static void test_forward_reference_and_doc_dashes(void **state) {
  struct schema_set *set = parse_ok("package p\n"
                                    "type A -- doc with -- inside\n"
                                    "  b B --\n"
                                    "type B\n"
                                    "  c string -- x--y\n");
  const struct schema_type *a = schema_find(set, "A");
  assert_string_equal(a->doc, "doc with -- inside");
  assert_ptr_equal(schema_field(a, "b")->ref->type, schema_find(set, "p.B"));
  assert_string_equal(schema_field(a, "b")->doc, "");
  assert_string_equal(schema_field(schema_find(set, "B"), "c")->doc, "x--y");
  schema_set_free(set);
}

static void test_builtin_text_parses(void **state) {
  struct schema_set *set = NULL;
  char *err = NULL;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int r = schema_set_parse(ckube_schema_text, &set, &err);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (r < 0)
    fail_msg("embedded schema text: %s", err);
  double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
  print_message("parsed %zu types in %.2f ms\n", schema_count(set), ms);
  schema_set_free(set);

  const struct schema_set *b = schema_builtin();
  assert_ptr_equal(schema_builtin(), b);
  const struct schema_type *om = schema_find(b, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  assert_non_null(om);
  assert_int_equal(schema_field(om, "labels")->pb, 11);
  assert_int_equal(schema_field(om, "managedFields")->pb, 17);
  assert_non_null(schema_find(b, "io.k8s.apimachinery.pkg.api.resource.Quantity"));
  assert_non_null(schema_find(b, "io.k8s.apimachinery.pkg.util.intstr.IntOrString"));
  assert_non_null(schema_find(b, "io.k8s.apimachinery.pkg.runtime.RawExtension"));
  assert_non_null(schema_find_gvk(b, "", "v1", "Status"));
}

static void test_kind_names(void **state) {
  assert_string_equal(schema_kind_name(SCHEMA_INT32), "int32");
  assert_string_equal(schema_kind_name(SCHEMA_MAP), "map");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_good),
      cmocka_unit_test(test_empty_text),
      cmocka_unit_test(test_parse_errors),
      cmocka_unit_test(test_forward_reference_and_doc_dashes),
      cmocka_unit_test(test_builtin_text_parses),
      cmocka_unit_test(test_kind_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

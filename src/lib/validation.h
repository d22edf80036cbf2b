/* validation.h — the string syntax checks of Kubernetes' apimachinery
 * (k8s.io/apimachinery/pkg/util/validation), with their messages word for word.
 *
 * Every check returns the number of problems found (0 = valid). When ret_msgs is non-NULL
 * it is always written: NULL when the value is valid, otherwise a NULL-terminated,
 * malloc'd vector of malloc'd messages (free it with valid_msgs_free()). Pass NULL when
 * only the verdict matters. Callers turn each message into a field error ("Invalid value:
 * \"x\": <message>"), exactly as kube-apiserver does.
 *
 * All functions are pure and thread-safe. Nothing here logs. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/json.h"
#include "lib/macro.h"

#define VALID_DNS1123_LABEL_MAX 63
#define VALID_DNS1123_SUBDOMAIN_MAX 253
#define VALID_DNS1035_LABEL_MAX 63
#define VALID_QUALIFIED_NAME_MAX 63
#define VALID_LABEL_VALUE_MAX 63
/* Sum of the lengths of every annotation key and value an object may carry. */
#define VALID_ANNOTATIONS_TOTAL_MAX (256 * 1024)

/* Frees a message vector; NULL is fine. */
void valid_msgs_free(char **msgs);
static inline void valid_msgs_freep(char ***p) { valid_msgs_free(*p); }
#define _cleanup_valid_msgs_ _cleanup_(valid_msgs_freep)

/* Number of messages in a vector (0 for NULL). */
size_t valid_msgs_count(char *const *msgs);

/* Joins the messages with sep ("; " is what label selectors use). Never NULL; "" for an
 * empty vector. Caller frees. */
char *valid_msgs_join(char *const *msgs, const char *sep);

/* RFC 1123 label: object names of most namespaced kinds, namespace names. */
int valid_dns1123_label(const char *value, char ***ret_msgs);
/* RFC 1123 subdomain: names of most kinds, the prefix of qualified names. */
int valid_dns1123_subdomain(const char *value, char ***ret_msgs);
/* RFC 1035 label: Service names. */
int valid_dns1035_label(const char *value, char ***ret_msgs);
/* Qualified name: `[prefix/]name`, the syntax of label and annotation keys. Annotation
 * keys are checked after lower-casing (valid_annotation_key does that). */
int valid_qualified_name(const char *value, char ***ret_msgs);
/* Label key (= qualified name) and label value. */
int valid_label_key(const char *value, char ***ret_msgs);
int valid_label_value(const char *value, char ***ret_msgs);
/* Annotation key: qualified name, case-insensitive. */
int valid_annotation_key(const char *value, char ***ret_msgs);
/* Port number 1..65535. */
int valid_port_num(int64_t port, char ***ret_msgs);
/* Port name (IANA_SVC_NAME): at most 15 of [-a-z0-9], a letter, no "--", no edge '-'. */
int valid_port_name(const char *value, char ***ret_msgs);
/* IPv4 (leading zeros tolerated, as Kubernetes' sloppy parser does) or IPv6 address. */
int valid_ip(const char *value, char ***ret_msgs);
/* IPv4 address, read as valid_ip reads it; an IPv4-mapped IPv6 address counts too. */
int valid_ipv4(const char *value, char ***ret_msgs);
/* CIDR "address/prefix" in IPv4 or IPv6. */
int valid_cidr(const char *value, char ***ret_msgs);
/* C identifier [A-Za-z_][A-Za-z0-9_]*. */
int valid_c_identifier(const char *value, char ***ret_msgs);
/* Environment variable name (container env, envFrom prefixes). */
int valid_env_var_name(const char *value, char ***ret_msgs);
/* ConfigMap / Secret data key. */
int valid_config_map_key(const char *value, char ***ret_msgs);

/* Total size of an annotations object: the sum of its key and value lengths (non-string
 * values count their key only; NULL counts 0). kube-apiserver rejects more than
 * VALID_ANNOTATIONS_TOTAL_MAX as field.TooLong("metadata.annotations", that limit). */
size_t valid_annotations_size(const json_t *annotations);

/* authn.h — who is making a request, as kube-apiserver decides it: a verified x509 client
 * certificate (CN is the user name, each O a group), else a bearer token from a static
 * token file, else the anonymous user. A presented but bad credential (certificate that
 * does not verify, unknown bearer token) is an error, never anonymous: the caller answers
 * 401 Unauthorized. Which paths anonymous users may reach (/healthz, /livez, /readyz,
 * /version) is the caller's policy.
 *
 * Authenticated users get the group "system:authenticated" appended, as kube does; the
 * anonymous user is "system:anonymous" in group "system:unauthenticated".
 * Nothing here logs. A parsed token table is immutable and may be shared by threads. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "apiserver/httpd.h"
#include "lib/macro.h"

#define AUTHN_ANONYMOUS "system:anonymous"
#define AUTHN_GROUP_AUTHENTICATED "system:authenticated"
#define AUTHN_GROUP_UNAUTHENTICATED "system:unauthenticated"

struct authn_user {
  char *name;
  char *uid; /* "" when none */
  char **groups;
  size_t n_groups;
};

/* Frees a user and its strings. Accepts NULL. */
void authn_user_free(struct authn_user *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct authn_user *, authn_user_free)
#define _cleanup_authn_user_ _cleanup_(authn_user_freep)

/* A deep copy. */
struct authn_user *authn_user_dup(const struct authn_user *u);

bool authn_user_is_anonymous(const struct authn_user *u);

struct authn_tokens;

/* Parses kube's static token file: CSV lines `token,user,uid[,"group1,group2"[,...]]`
 * read as Go's encoding/csv reads them (quoted fields, "" escapes, multi-line quoted
 * fields, blank lines skipped, CRLF accepted). Lines with an empty token are skipped;
 * a repeated token keeps its last line; a 4th column is split on ',' into groups.
 * `source` names the file in messages. -EINVAL on malformed input, with *ret_err (if
 * non-NULL) a malloc'd message naming the line. */
int authn_tokens_parse(const char *buf, size_t len, const char *source, struct authn_tokens **ret,
                       char **ret_err);

/* Reads and parses the file at `path`. -errno when unreadable. */
int authn_tokens_load(const char *path, struct authn_tokens **ret, char **ret_err);

void authn_tokens_free(struct authn_tokens *t);

size_t authn_tokens_count(const struct authn_tokens *t);

/* The user a token maps to (without system:authenticated); borrowed, valid as long as
 * the table. -ENOENT when the token is unknown. */
int authn_tokens_lookup(const struct authn_tokens *t, const char *token,
                        const struct authn_user **ret);

/* Authenticates `req`. `tokens` may be NULL (no token file). Returns 0 with *ret_user
 * (caller frees) for an authenticated or anonymous user; -EACCES when a credential was
 * presented and rejected, with *ret_err (if non-NULL) saying why. Call from the handler
 * only (it reads the request). */
int authn_request(const struct authn_tokens *tokens, struct httpd_req *req,
                  struct authn_user **ret_user, char **ret_err);
